"""Result files of one video: ``poses.npz``, ``poses.json`` and ``summary.json``.

Every file is written under a temporary name in the same folder and renamed when it
is complete, so a crash or Ctrl-C never leaves a truncated file under a final name.
``summary.json`` is written last: its presence marks a complete result (see
:func:`is_complete`); a run deletes a stale one before it starts.

Arrays in ``poses.npz`` (T = the video's frame count; joints in Human3.6M-17 order):

- ``keypoints_2d`` (T, 17, 2) float32 pixels; ``scores`` (T, 17) float32 in [0, 1]
- ``keypoints_3d`` (T, 17, 3) float32 metres, root-relative (pelvis = 0), camera axes
  (x right, y down, z away from the camera)
- ``keypoints_3d_world`` (T, 17, 3) float32 metres in the video's one world frame: z up,
  ground at z = 0, origin on the ground under the camera, y along the camera's view; the
  person moves over the ground and all persons share it (:mod:`hotcli.scene.ground`)
- ``keypoints_3d_camera`` (T, 17, 3) float32 metres, absolute camera coordinates;
  ``root_camera`` (T, 3) its pelvis
- ``present`` (T,) bool: the person is in view (detected, or a bridged short gap); every
  position array is NaN where it is False
- ``foot_contact`` (T, 2) bool: left and right foot down
- ``camera`` (5,) float64: focal length (px), principal point x, y (px), camera height
  (m) and tilt below the horizon (degrees), named by ``camera_keys``; in JSON an object
- ``interpolated`` (T,) bool: the person was not detected and the frame was filled in
- ``fps`` (), ``width`` (), ``height`` (), ``track_id`` (), ``joint_names`` (17,),
  ``joint_parents`` (17,) (−1 for the pelvis)

``poses.json`` holds the same keys as nested lists (NaN as ``null``), rounded to 0.01 px,
0.001 score and 0.1 mm. ``poses.*`` are the main person (the first in ``summary.json``);
when several persons are lifted, each also gets ``poses_track<ID>.npz/.json``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from hotcli.atomic import write_atomic
from hotcli.errors import HotPoseError
from hotcli.lifting.lifter import PersonMotion
from hotcli.lifting.skeleton import H36M_JOINTS, H36M_PARENTS

SUMMARY_NAME = "summary.json"
POSES_STEM = "poses"


@contextmanager
def result_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """The folder a result is written into: prepared before (:func:`prepare_output_dir`)
    and, when the work inside fails and left it empty, removed again if it was made here."""
    out_dir = Path(folder)
    created = prepare_output_dir(out_dir)
    try:
        yield out_dir
    except BaseException:
        if created and out_dir.is_dir() and not any(out_dir.iterdir()):
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def is_complete(out_dir: str | os.PathLike) -> bool:
    """True when ``out_dir`` holds a finished result (``summary.json`` is written last)."""
    return (Path(out_dir) / SUMMARY_NAME).is_file()


def prepare_output_dir(out_dir: Path) -> bool:
    """Create ``out_dir`` if needed, prove it is writable, and remove an earlier result.

    An earlier run's files would otherwise stay beside the new ones and pass for part of
    them (a video rendered before, now run with ``--no-render``; a person's file from a run
    that found more people): the files its ``summary.json`` lists go, then the summary, and
    any per-person poses file of a run that stopped before writing one. Other files in the
    folder are left alone. Returns whether the folder was created here (so a failed run
    can remove it again).
    """
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".hot-pose-write-test."):
            pass
        for path in earlier_result(out_dir):
            path.unlink(missing_ok=True)
        (out_dir / SUMMARY_NAME).unlink(missing_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HotPoseError(f"cannot write to the output folder {out_dir}: {reason}") from None
    return created


def earlier_result(out_dir: Path) -> list[Path]:
    """The files of an earlier result in ``out_dir``: those its summary lists (names inside
    the folder only) and ``poses_track*.npz`` / ``.json``."""
    listed: list[str] = []
    try:
        listed = json.loads((out_dir / SUMMARY_NAME).read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        pass  # no summary, or not ours
    names = {n for n in listed if isinstance(n, str) and n and Path(n).name == n}
    paths = {out_dir / n for n in names}
    paths |= {p for ext in ("npz", "json") for p in out_dir.glob(f"{POSES_STEM}_track*.{ext}")}
    return sorted(p for p in paths if p.is_file())


def write_json(path: Path, obj: Any) -> Path:
    text = json.dumps(obj, indent=None, separators=(",", ":"), allow_nan=False)
    return write_atomic(path, lambda f: f.write(text.encode() + b"\n"))


#: The entries of the ``camera`` array in ``poses.npz`` (``camera_keys`` names them too).
CAMERA_KEYS = ("focal_length_px", "cx", "cy", "height_m", "tilt_degrees")


def camera_array(facts: dict) -> np.ndarray:
    """The camera facts of ``summary.json`` as the (5,) ``camera`` array of ``poses.npz``."""
    cx, cy = facts["principal_point_px"]
    values = {**facts, "cx": cx, "cy": cy}
    return np.array([values[k] for k in CAMERA_KEYS], dtype=np.float64)


def person_arrays(
    person: PersonMotion, fps: float, width: int, height: int, camera: dict | None = None
) -> dict:
    """The arrays of one person's ``poses.npz`` (see the module docstring)."""
    arrays = {
        "keypoints_2d": np.asarray(person.keypoints_2d, dtype=np.float32),
        "scores": np.asarray(person.scores, dtype=np.float32),
        "keypoints_3d": np.asarray(person.keypoints_3d, dtype=np.float32),
        "keypoints_3d_world": np.asarray(person.keypoints_3d_world, dtype=np.float32),
        "interpolated": np.asarray(person.interpolated, dtype=bool),
        "fps": np.float64(fps),
        "width": np.int64(width),
        "height": np.int64(height),
        "track_id": np.int64(person.track_id),
        "joint_names": np.asarray(H36M_JOINTS),
        "joint_parents": np.asarray(H36M_PARENTS, dtype=np.int64),
    }
    placed = {
        "present": (person.present, bool),
        "root_camera": (person.root_camera, np.float32),
        "keypoints_3d_camera": (person.keypoints_3d_camera, np.float32),
        "foot_contact": (person.foot_contact, bool),
    }
    for name, (value, dtype) in placed.items():
        if value is not None:
            arrays[name] = np.asarray(value, dtype=dtype)
    if camera is not None:
        arrays["camera"] = camera_array(camera)
        arrays["camera_keys"] = np.asarray(CAMERA_KEYS)
    return arrays


_DECIMALS = {"keypoints_2d": 2, "scores": 3, "keypoints_3d": 4, "keypoints_3d_world": 4,
             "root_camera": 4, "keypoints_3d_camera": 4}  # fmt: skip


def _to_json(name: str, value: np.ndarray) -> Any:
    if name in _DECIMALS:
        rounded = np.round(value.astype(np.float64), _DECIMALS[name])
        return _nan_to_none(rounded.tolist())
    if value.dtype.kind == "f":
        return _nan_to_none(value.tolist())
    return value.tolist()


def _nan_to_none(x: Any) -> Any:
    if isinstance(x, list):
        return [_nan_to_none(v) for v in x]
    return None if isinstance(x, float) and not math.isfinite(x) else x


#: Frames converted to JSON at a time: ``poses.json`` is written piece by piece, so
#: writing it needs memory for this many frames, not for the whole video.
JSON_CHUNK_FRAMES = 2048
_SEPARATORS = (",", ":")


def _json_value(f: IO[bytes], name: str, value: np.ndarray) -> None:
    """Write one array as JSON (the text ``json.dumps`` gives), ``JSON_CHUNK_FRAMES`` rows at
    a time: NaN as ``null``, rounded as :data:`_DECIMALS` says."""
    if value.ndim == 0:
        f.write(json.dumps(_to_json(name, value), allow_nan=False).encode())
        return
    f.write(b"[")
    for start in range(0, len(value), JSON_CHUNK_FRAMES):
        rows = json.dumps(_to_json(name, value[start : start + JSON_CHUNK_FRAMES]),
                          separators=_SEPARATORS, allow_nan=False)  # fmt: skip
        f.write((b"," if start else b"") + rows[1:-1].encode())
    f.write(b"]")


def write_person_json(path: Path, arrays: dict) -> Path:
    """``poses.json`` for one person: the arrays of :func:`person_arrays` as one object,
    the camera as an object, and ``frames``; one line, written piece by piece."""
    names = [n for n in arrays if n != "camera_keys"]

    def write(f: IO[bytes]) -> None:
        f.write(b"{")
        for i, name in enumerate(names):
            f.write((b"," if i else b"") + json.dumps(name).encode() + b":")
            if name == "camera" and "camera_keys" in arrays:  # in JSON the camera is one object
                keys = np.asarray(arrays["camera_keys"]).tolist()
                values = _to_json(name, np.asarray(arrays[name]))
                camera = dict(zip(keys, values, strict=True))
                f.write(json.dumps(camera, separators=_SEPARATORS, allow_nan=False).encode())
            else:
                _json_value(f, name, np.asarray(arrays[name]))
        f.write(b',"frames":' + str(len(arrays["keypoints_2d"])).encode() + b"}\n")

    return write_atomic(path, write)


def write_person(out_dir: Path, stem: str, arrays: dict) -> list[Path]:
    """``<stem>.npz`` and ``<stem>.json`` for one person."""
    npz = write_atomic(out_dir / f"{stem}.npz", lambda f: np.savez_compressed(f, **arrays))
    return [npz, write_person_json(out_dir / f"{stem}.json", arrays)]


def write_poses(
    out_dir: Path, persons: Sequence[PersonMotion], fps: float, width: int, height: int,
    camera: dict | None = None,
) -> dict[int, list[str]]:  # fmt: skip
    """Write the pose files; returns each track id's file names (relative to ``out_dir``).

    ``camera`` is the camera facts of ``summary.json`` (one camera for every person).
    """
    files: dict[int, list[str]] = {}
    for i, person in enumerate(persons):
        arrays = person_arrays(person, fps, width, height, camera)
        names: list[str] = []
        if i == 0:
            names += [p.name for p in write_person(out_dir, POSES_STEM, arrays)]
        if len(persons) > 1:
            stem = f"{POSES_STEM}_track{person.track_id}"
            names += [p.name for p in write_person(out_dir, stem, arrays)]
        files[person.track_id] = names
    return files


def write_summary(out_dir: Path, summary: dict) -> Path:
    """Write ``summary.json`` (pretty, it is read by people too); call this last."""
    text = json.dumps(summary, indent=2, allow_nan=False)
    return write_atomic(Path(out_dir) / SUMMARY_NAME, lambda f: f.write(text.encode() + b"\n"))
