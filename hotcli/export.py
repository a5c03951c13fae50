"""Export the 2D pose model to ONNX or OpenVINO for faster CPU inference.

    hot-pose export                              # yolo11n-pose.pt -> ./yolo11n-pose_openvino_model
    hot-pose export --format onnx --imgsz 416    # fixed 416x416 input -> ./yolo11n-pose-416.onnx
    hot-pose VIDEO --pose-model ./yolo11n-pose_openvino_model

Uses Ultralytics' own exporter. Without --imgsz the model accepts any input size (wide videos
keep their shape instead of being padded square, and --imgsz still works when running); with
--imgsz it is fixed to that square size. On a 2-core CPU OpenVINO ran the pose model about
twice as fast as PyTorch; ONNX Runtime was no faster than PyTorch there. Needs the optional
packages: `pip install openvino` or `pip install onnx onnxruntime`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from hotcli.errors import HotPoseError
from hotcli.pose2d import DEFAULT_POSE_MODEL, is_exported, quiet_ultralytics, resolve_pose_model

FORMATS = {"openvino": ("openvino",), "onnx": ("onnx", "onnxruntime")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pose-model",
        default=DEFAULT_POSE_MODEL,
        help="PyTorch pose weights to export: a name or a .pt path "
        "(default %(default)s, found offline)",
    )
    parser.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="openvino",
        help="export format (default %(default)s, the fastest on CPU)",
    )
    parser.add_argument(
        "--imgsz",
        type=int,
        default=None,
        metavar="N",
        help="fix the input to N x N pixels (multiple of 32); default: any size",
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("."),
        help="folder to write the exported model to (default: current folder)",
    )
    parser.add_argument(
        "--bench",
        type=Path,
        metavar="VIDEO",
        default=None,
        help="afterwards, time PyTorch against the export on VIDEO's first frames",
    )
    parser.add_argument(
        "--bench-frames",
        type=int,
        default=100,
        metavar="N",
        help="frames timed by --bench (default %(default)s)",
    )


def _check_packages(fmt: str) -> None:
    missing = [m for m in FORMATS[fmt] if importlib.util.find_spec(m) is None]
    if missing:
        raise HotPoseError(
            f"exporting to {fmt} needs `pip install {' '.join(missing)}` "
            "(or `pip install hot-pose[export]`)"
        )


def export_name(source: Path, fmt: str, imgsz: int | None) -> str:
    """``yolo11n-pose.onnx``, ``yolo11n-pose-416.onnx``, ``yolo11n-pose_openvino_model``..."""
    stem = source.stem if imgsz is None else f"{source.stem}-{imgsz}"
    return f"{stem}.onnx" if fmt == "onnx" else f"{stem}_openvino_model"


def export_pose_model(
    pose_model: str | os.PathLike = DEFAULT_POSE_MODEL,
    fmt: str = "openvino",
    imgsz: int | None = None,
    out_dir: str | os.PathLike = ".",
) -> Path:
    """Export PyTorch pose weights with Ultralytics' exporter; the path of the new model.

    The export runs in a temporary folder inside ``out_dir`` and is moved into place when
    complete (replacing an older export of the same name), so the source weights' folder
    (possibly read-only, inside site-packages) is never written to.
    """
    if fmt not in FORMATS:
        raise HotPoseError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    if imgsz is not None and (imgsz < 32 or imgsz % 32):
        raise HotPoseError(f"--imgsz must be a positive multiple of 32, not {imgsz}")
    source = resolve_pose_model(pose_model)
    if is_exported(source) or source.suffix != ".pt":
        raise HotPoseError(f"{source} is not PyTorch weights (.pt); only those can be exported")
    _check_packages(fmt)
    target = Path(out_dir) / export_name(source, fmt, imgsz)
    return _export(source, fmt, imgsz, target, replace=True)


def _export(source: Path, fmt: str, imgsz: int | None, target: Path, replace: bool) -> Path:
    """Export into a temporary folder beside ``target``, then move it into place.

    With ``replace=False`` an export that appeared meanwhile (another worker) is kept.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=target.parent, prefix=".hot-pose-export-"))
    except OSError as exc:
        raise HotPoseError(f"cannot write to {target.parent}: {exc.strerror or exc}") from None
    try:
        from ultralytics import YOLO

        weights = work / f"{target.stem if fmt == 'onnx' else source.stem}.pt"
        shutil.copy2(source, weights)
        options = {"format": fmt, "imgsz": imgsz or 640, "dynamic": imgsz is None}
        if fmt == "onnx":  # simplifying needs onnxslim; without it Ultralytics would pip it
            options["simplify"] = importlib.util.find_spec("onnxslim") is not None
        with quiet_ultralytics():
            made = YOLO(str(weights), task="pose").export(**options, verbose=False)
        made = Path(made)
        if replace and target.is_dir():
            shutil.rmtree(target)
        try:
            os.rename(made, target)  # atomic; fails on an existing folder (or any, on Windows)
        except OSError:
            if not replace and target.exists():
                return target
            os.replace(made, target)
    except HotPoseError:
        raise
    except Exception as exc:  # noqa: BLE001 - the exporter's many failure modes, one line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HotPoseError(f"exporting {source} to {fmt} failed: {reason}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def cache_dir() -> Path:
    """Where automatic exports are kept: ``$HOT_POSE_CACHE`` or ``~/.cache/hot-pose``."""
    env = os.environ.get("HOT_POSE_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hot-pose"


def openvino_pose_model(weights: str | os.PathLike, cache: Path | None = None) -> Path | None:
    """An OpenVINO copy of PyTorch pose ``weights`` (any input size), exported once and cached.

    About twice as fast as PyTorch on a CPU at the same image size, with the same keypoints
    (within about 1 px on the example clip). ``None`` when ``openvino`` is not installed, the
    weights are not a ``.pt`` file or the export fails (a warning says why), so callers fall
    back to the weights themselves. Meant for CPU runs. The cache name carries a hash of the
    weights, so changed weights are exported again; workers racing to export keep one copy.
    """
    weights = Path(weights)
    if weights.suffix != ".pt" or not weights.is_file():
        return None
    if importlib.util.find_spec("openvino") is None:
        return None
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    target = (cache or cache_dir()) / f"{weights.stem}-{digest}_openvino_model"
    if (target / "metadata.yaml").is_file():
        return target
    try:
        return _export(weights, "openvino", None, target, replace=False)
    except HotPoseError as exc:
        warnings.warn(f"using PyTorch for 2D pose: {exc}", RuntimeWarning, stacklevel=2)
        return None


def bench_pose_models(
    video: Path, models: dict[str, str | os.PathLike], imgsz: int, n_frames: int = 100
) -> dict[str, float]:
    """Frames per second of :func:`hotcli.pose2d.track_people` for each model on ``video``.

    Frames are decoded first, so only detection + tracking is timed; each model runs three
    frames before timing starts (loading, first-call set-up).
    """
    from hotcli.pose2d import load_pose_model, track_people
    from hotcli.video import iter_frames, probe

    info = probe(video)
    frames = list(itertools.islice(iter_frames(video, info), n_frames))
    speeds = {}
    for label, path in models.items():
        yolo = load_pose_model(path)
        track_people(frames[:3], 3, yolo, imgsz=imgsz, progress=False)
        start = time.perf_counter()
        track_people(frames, len(frames), yolo, imgsz=imgsz, progress=False)
        speeds[label] = len(frames) / (time.perf_counter() - start)
    return speeds


def main(args: argparse.Namespace) -> int:
    path = export_pose_model(args.pose_model, args.format, args.imgsz, args.output_dir)
    print(f"wrote {path}")
    print(f"use it with: hot-pose VIDEO --pose-model {path}")
    if args.bench is not None:
        imgsz = args.imgsz or 640
        source = resolve_pose_model(args.pose_model)
        speeds = bench_pose_models(
            args.bench, {"pytorch": source, args.format: path}, imgsz, args.bench_frames
        )
        for label, fps in speeds.items():
            print(f"{label:>9}: {fps:6.1f} frames/s (2D pose + tracking, imgsz {imgsz})")
    return 0
