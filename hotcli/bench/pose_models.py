"""Exported pose models against the PyTorch weights: speed and keypoint shift.

What ``hot-pose export --bench VIDEO`` prints after an export: frames/s of 2D pose and
tracking for each model, and how far its keypoints move from the first model's.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import numpy as np


def bench_pose_models(
    video: Path, models: dict[str, str | os.PathLike], imgsz: int, n_frames: int = 100
) -> dict[str, tuple[float, float]]:
    """Speed and agreement of pose models on ``video``: ``{label: (frames/s, shift px)}``.

    Frames are decoded first, so only detection + tracking (:func:`track_people`) is timed;
    each model runs three frames before timing starts (loading, first-call set-up). The
    shift is the mean distance of the main person's keypoints from the first model's, over
    the frames where both saw them.
    """
    from hotcli.formats.video import iter_frames, probe
    from hotcli.pose2d.tracking import load_pose_model, select_tracks, track_people

    info = probe(video)
    frames = list(itertools.islice(iter_frames(video, info), n_frames))
    results, reference = {}, None
    for label, path in models.items():
        yolo = load_pose_model(path)
        track_people(frames[:3], 3, yolo, imgsz=imgsz, progress=False)
        start = time.perf_counter()
        tracks = track_people(frames, len(frames), yolo, imgsz=imgsz, progress=False)
        fps = len(frames) / (time.perf_counter() - start)
        main = select_tracks(tracks, min_frames=1)[0]
        if reference is None:
            reference = main
        seen = ~main.interpolated & ~reference.interpolated
        shift = np.linalg.norm(main.keypoints[seen] - reference.keypoints[seen], axis=-1)
        results[label] = (fps, float(shift.mean()) if shift.size else float("nan"))
    return results
