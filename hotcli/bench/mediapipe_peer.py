"""MediaPipe Pose on a video, the peer hot-pose is compared with: run by MediaPipe's own Python.

MediaPipe needs ``numpy<2``, which the rest of hot-pose cannot use, so it lives in its own
environment and this file imports nothing from hot-pose (the standard library, OpenCV and
MediaPipe only)::

    python -m venv ~/venv-mediapipe
    ~/venv-mediapipe/bin/pip install mediapipe==0.10.14 'numpy<2' opencv-python-headless==4.10.0.84
    ~/venv-mediapipe/bin/python hotcli/bench/mediapipe_peer.py VIDEO

BlazePose "full" (``model_complexity=1``) in video mode (it tracks the person between
frames, as MediaPipe's demos do), with its 3D world landmarks. Prints one JSON line:
frames, frames with a pose, seconds loading the model and seconds processing the frames.
"""

from __future__ import annotations

import json
import sys
import time


def main(video: str) -> int:
    start = time.perf_counter()
    import cv2
    import mediapipe as mp

    t = time.perf_counter()
    pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                  enable_segmentation=False, smooth_landmarks=True)  # fmt: skip
    load = time.perf_counter() - t
    cap = cv2.VideoCapture(video)
    frames = found = 0
    t = time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        frames += 1
        found += result.pose_world_landmarks is not None
    seconds = time.perf_counter() - t
    cap.release()
    pose.close()
    print(json.dumps({"frames": frames, "frames_with_pose": found, "load_s": load,
                      "process_s": seconds, "total_s": time.perf_counter() - start}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
