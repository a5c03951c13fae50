"""Export the 2D pose model to ONNX or OpenVINO for faster CPU inference.

    hot-pose export                              # yolo11n-pose.pt -> ./yolo11n-pose_openvino_model
    hot-pose export --format onnx --imgsz 416    # fixed 416x416 input -> ./yolo11n-pose-416.onnx
    hot-pose export --int8 --calibration my.mp4  # 8-bit -> ./yolo11n-pose_int8_openvino_model
    hot-pose VIDEO --pose-model ./yolo11n-pose_openvino_model

Uses Ultralytics' own exporter. Without --imgsz the model accepts any input size (wide videos
keep their shape instead of being padded square, and --imgsz still works when running); with
--imgsz it is fixed to that square size. On a 2-core CPU OpenVINO ran the pose model about
twice as fast as PyTorch; ONNX Runtime was no faster than PyTorch there. ``--int8`` quantises
the OpenVINO model with NNCF, calibrated on frames of videos like the ones it will see: faster
again, at some cost in keypoint precision (see :func:`quantize_openvino`). Needs the optional
packages: `pip install onnx onnxruntime` for ONNX, `pip install nncf` for --int8.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from hotcli.atomic import atomic_path
from hotcli.errors import HotPoseError, first_line
from hotcli.pose2d.tracking import (
    DEFAULT_POSE_MODEL,
    is_exported,
    quiet_ultralytics,
    resolve_pose_model,
)

FORMATS = {"openvino": ("openvino",), "onnx": ("onnx", "onnxruntime")}
#: Calibrates ``--int8`` when no --calibration is given (present in a source checkout).
EXAMPLE_VIDEO = Path(__file__).resolve().parents[2] / "examples" / "dancer.mp4"


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
        "--int8",
        action="store_true",
        help="quantise to 8-bit integers (OpenVINO only, needs `pip install nncf`): "
        "faster, keypoints a few pixels less precise",
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        nargs="+",
        metavar="VIDEO",
        default=None,
        help="videos whose frames calibrate --int8; use footage like yours "
        f"(default: the bundled {EXAMPLE_VIDEO.name})",
    )
    parser.add_argument(
        "--calibration-frames",
        type=int,
        default=300,
        metavar="N",
        help="frames drawn evenly from the calibration videos (default %(default)s)",
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
        help="afterwards, time PyTorch (and the float OpenVINO model, with --int8) against "
        "the export on VIDEO's first frames, and say how far its keypoints move",
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


def export_name(source: Path, fmt: str, imgsz: int | None, int8: bool = False) -> str:
    """``yolo11n-pose.onnx``, ``yolo11n-pose-416.onnx``, ``yolo11n-pose_int8_openvino_model``..."""
    stem = source.stem if imgsz is None else f"{source.stem}-{imgsz}"
    if fmt == "onnx":
        return f"{stem}.onnx"
    return f"{stem}_int8_openvino_model" if int8 else f"{stem}_openvino_model"


def export_pose_model(
    pose_model: str | os.PathLike = DEFAULT_POSE_MODEL,
    fmt: str = "openvino",
    imgsz: int | None = None,
    out_dir: str | os.PathLike = ".",
    int8: bool = False,
    calibration: list[Path] | None = None,
    calibration_size: int = 300,
) -> Path:
    """Export PyTorch pose weights with Ultralytics' exporter; the path of the new model.

    The export runs in a temporary folder inside ``out_dir`` and is moved into place when
    complete (replacing an older export of the same name), so the source weights' folder
    (possibly read-only, inside site-packages) is never written to. With ``int8`` the
    OpenVINO export is then quantised, calibrated on ``calibration_size`` frames drawn from
    the videos ``calibration`` (default: the example clip, when present).
    """
    if fmt not in FORMATS:
        raise HotPoseError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    if imgsz is not None and (imgsz < 32 or imgsz % 32):
        raise HotPoseError(f"--imgsz must be a positive multiple of 32, not {imgsz}")
    if int8 and fmt != "openvino":
        raise HotPoseError("--int8 works with --format openvino only")
    if calibration and not int8:
        raise HotPoseError("--calibration only matters with --int8")
    if int8 and not calibration:
        if not EXAMPLE_VIDEO.is_file():
            raise HotPoseError("--int8 needs --calibration VIDEO (the example clip is not here)")
        calibration = [EXAMPLE_VIDEO]
    source = resolve_pose_model(pose_model)
    if is_exported(source) or source.suffix != ".pt":
        raise HotPoseError(f"{source} is not PyTorch weights (.pt); only those can be exported")
    _check_packages(fmt)
    if int8 and importlib.util.find_spec("nncf") is None:
        raise HotPoseError("--int8 needs `pip install nncf`")
    target = Path(out_dir) / export_name(source, fmt, imgsz, int8)
    if not int8:
        return _export(source, fmt, imgsz, target, replace=True)
    frames = calibration_frames(calibration, calibration_size)
    with _work_dir(target) as work, atomic_path(target) as tmp:
        float_model = _export(source, fmt, imgsz, work / "float_openvino_model", replace=True)
        try:
            quantize_openvino(float_model, frames, tmp, imgsz)
        except Exception as exc:  # noqa: BLE001 - NNCF's and OpenVINO's failures, one line
            reason = first_line(exc)
            raise HotPoseError(f"quantising {source} to int8 failed: {reason}") from None
        _remove_folder(target)
    return target


@contextmanager
def _work_dir(target: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``target`` where an export is assembled; removed after."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=target.parent, prefix=".hot-pose-export-"))
    except OSError as exc:
        raise HotPoseError(f"cannot write to {target.parent}: {exc.strerror or exc}") from None
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _remove_folder(path: Path) -> None:
    """Make way for a new export of the same name (a file is simply replaced by the rename)."""
    if path.is_dir():
        shutil.rmtree(path)


def calibration_frames(videos: list[Path], n: int) -> list[np.ndarray]:
    """About ``n`` BGR frames spread evenly over ``videos``, to calibrate an INT8 export."""
    from hotcli.formats.video import iter_frames, probe

    if n < 1:
        raise HotPoseError(f"--calibration-frames must be at least 1, not {n}")
    frames = []
    per_video = -(-n // len(videos))
    for video in videos:
        info = probe(video)
        keep = set(np.linspace(0, info.frames - 1, min(per_video, info.frames)).round().astype(int))
        frames += [f for i, f in enumerate(iter_frames(video, info)) if i in keep]
    return frames[:n]


def quantize_openvino(
    model_dir: Path, frames: list[np.ndarray], out_dir: Path, imgsz: int | None = None
) -> Path:
    """Quantise the OpenVINO pose model in ``model_dir`` to INT8 into ``out_dir``.

    NNCF's post-training quantisation, with activation ranges measured on ``frames``,
    letterboxed as Ultralytics does at inference. The convolutions of the pose head stay in
    floating point. On the example clip (calibrated on another video) quantising them too,
    as Ultralytics' own ``int8=True`` export does, was faster (about 2x the float model
    against 1.3x) but moved the keypoints 6.2 px on average, against 4.2 px, and the lifted
    3D 37 mm, against 18 mm.
    """
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)  # nncf imports it
    import nncf
    import openvino as ov
    from ultralytics.data.augment import LetterBox

    xml = next(model_dir.glob("*.xml"))
    model = ov.Core().read_model(xml)
    layer = re.compile(r"__module\.model\.(\d+)\.")  # Ultralytics' layers; the head is last
    head = max(int(m[1]) for op in model.get_ops() if (m := layer.match(op.get_friendly_name())))
    letterbox = LetterBox(new_shape=(imgsz or 640,) * 2, auto=imgsz is None, stride=32)

    def to_input(frame: np.ndarray) -> np.ndarray:
        image = letterbox(image=frame)[..., ::-1].transpose(2, 0, 1)[None]
        return np.ascontiguousarray(image, dtype=np.float32) / 255

    with quiet_ultralytics(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nncf.set_log_level(40)  # errors only
        quantized = nncf.quantize(
            model,
            nncf.Dataset(frames, to_input),
            subset_size=len(frames),
            preset=nncf.QuantizationPreset.MIXED,
            ignored_scope=nncf.IgnoredScope(
                patterns=[rf"__module\.model\.{head}\..*/aten::_convolution/.*"]
            ),
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(out_dir / xml.name))
    shutil.copy2(model_dir / "metadata.yaml", out_dir / "metadata.yaml")
    return out_dir


def _export(source: Path, fmt: str, imgsz: int | None, target: Path, replace: bool) -> Path:
    """Export into a temporary folder beside ``target``, then move it into place.

    With ``replace=False`` an export that appeared meanwhile (another worker) is kept.
    """
    try:
        from ultralytics import YOLO

        with _work_dir(target) as work, atomic_path(target) as tmp:
            weights = work / f"{target.stem if fmt == 'onnx' else source.stem}.pt"
            shutil.copy2(source, weights)
            options = {"format": fmt, "imgsz": imgsz or 640, "dynamic": imgsz is None}
            if fmt == "onnx":  # simplifying needs onnxslim; without it Ultralytics would pip it
                options["simplify"] = importlib.util.find_spec("onnxslim") is not None
            with quiet_ultralytics():
                made = YOLO(str(weights), task="pose").export(**options, verbose=False)
            os.replace(made, tmp)
            if replace:
                _remove_folder(target)
    except HotPoseError:
        raise
    except Exception as exc:  # noqa: BLE001 - the exporter's many failure modes, one line
        if isinstance(exc, OSError) and not replace and target.exists():
            return target  # another worker's export landed first: keep that one
        reason = first_line(exc)
        raise HotPoseError(f"exporting {source} to {fmt} failed: {reason}") from None
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


def main(args: argparse.Namespace) -> int:
    path = export_pose_model(
        args.pose_model,
        args.format,
        args.imgsz,
        args.output_dir,
        args.int8,
        args.calibration,
        args.calibration_frames,
    )
    print(f"wrote {path}")
    print(f"use it with: hot-pose VIDEO --pose-model {path}")
    if args.bench is not None:
        imgsz = args.imgsz or 640
        source = resolve_pose_model(args.pose_model)
        models = {"pytorch": source}
        if args.int8 and args.imgsz is None:
            models["openvino"] = openvino_pose_model(source) or source
        models[f"{args.format} int8" if args.int8 else args.format] = path
        results = bench_pose_models(args.bench, models, imgsz, args.bench_frames)
        for label, (fps, shift) in results.items():
            print(
                f"{label:>13}: {fps:5.1f} frames/s, keypoints {shift:4.1f} px from pytorch's "
                f"(2D pose + tracking, imgsz {imgsz}, {args.bench_frames} frames)"
            )
    return 0
