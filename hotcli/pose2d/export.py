"""The 2D pose model exported to OpenVINO or ONNX, and the cached OpenVINO copy CPU runs use.

Uses Ultralytics' own exporter. Without ``imgsz`` the model accepts any input size (wide
videos keep their shape instead of being padded square); with it the input is fixed to
that square size. On a 2-core CPU OpenVINO ran the pose model about twice as fast as
PyTorch; ONNX Runtime was no faster than PyTorch there, which is why every CPU run uses
an OpenVINO copy of the weights, exported once into :func:`cache_dir`
(:func:`openvino_pose_model`; a wheel built by ``scripts/build_wheel.py`` carries it).
``int8`` quantises the OpenVINO model with NNCF, calibrated on frames of videos like the
ones it will see: faster again, at some cost in keypoint precision (see
:func:`quantize_openvino`). Needs the optional packages: `pip install onnx onnxruntime` for
ONNX, `pip install nncf` for int8.

Every export is assembled in a temporary folder beside its target and moved into place
when complete (:func:`hotcli.atomic.atomic_path`), so the source weights' folder (possibly
read-only, inside site-packages) is never written to and a failed export leaves nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from hotcli.atomic import atomic_path
from hotcli.errors import HotPoseError, first_line
from hotcli.options import DEFAULT_POSE_MODEL
from hotcli.pose2d.tracking import is_exported, quiet_ultralytics, resolve_pose_model

FORMATS = {"openvino": ("openvino",), "onnx": ("onnx", "onnxruntime")}
#: Calibrates an INT8 export when no other videos are named: the example clip, relative to
#: the current folder (a source checkout's root; an installed package carries no videos).
DEFAULT_CALIBRATION = Path("examples") / "dancer.mp4"


def _check_packages(fmt: str) -> None:
    missing = [m for m in FORMATS[fmt] if importlib.util.find_spec(m) is None]
    if missing:
        raise HotPoseError(
            f"exporting to {fmt} needs `pip install {' '.join(missing)}` "
            "(or `pip install hot-pose[export]`)"
        )


def _check_calibration(videos: Sequence[Path]) -> None:
    """Fail before the export when a calibration video is missing (the default is relative to
    the current folder, so it is missing wherever the example clip is not)."""
    if not videos:
        raise HotPoseError("--int8 needs calibration videos: name some with --calibration VIDEO")
    for video in map(Path, videos):
        if not video.is_file():
            default = video == DEFAULT_CALIBRATION
            where = " (the default, relative to the current folder)" if default else ""
            raise HotPoseError(
                f"calibration video {video} not found{where}: name videos like yours with "
                "--calibration VIDEO"
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
    calibration: Sequence[Path] = (DEFAULT_CALIBRATION,),
    calibration_size: int = 300,
) -> Path:
    """Export PyTorch pose weights with Ultralytics' exporter; the path of the new model.

    The export runs in a temporary folder inside ``out_dir`` and is moved into place when
    complete (replacing an older export of the same name), so the source weights' folder
    (possibly read-only, inside site-packages) is never written to. With ``int8`` the
    OpenVINO export is then quantised, calibrated on ``calibration_size`` frames drawn from
    the videos ``calibration`` (default: the example clip, :data:`DEFAULT_CALIBRATION`).
    """
    if fmt not in FORMATS:
        raise HotPoseError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    if imgsz is not None and (imgsz < 32 or imgsz % 32):
        raise HotPoseError(f"--imgsz must be a positive multiple of 32, not {imgsz}")
    if int8 and fmt != "openvino":
        raise HotPoseError("--int8 works with --format openvino only")
    if int8:
        _check_calibration(calibration)
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


def calibration_frames(videos: Sequence[Path], n: int) -> list[np.ndarray]:
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
    from hotcli.device import import_openvino

    ov = import_openvino()  # before NNCF imports it
    import nncf
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
        if fmt == "openvino":
            from hotcli.device import import_openvino

            import_openvino()  # before Ultralytics imports it, with its telemetry
        with _work_dir(target) as work, atomic_path(target) as tmp:
            weights = work / f"{target.stem if fmt == 'onnx' else source.stem}.pt"
            shutil.copy2(source, weights)
            options = {"format": fmt, "imgsz": imgsz or 640, "dynamic": imgsz is None}
            if fmt == "onnx":  # simplifying needs onnxslim; without it Ultralytics would pip it
                options["simplify"] = importlib.util.find_spec("onnxslim") is not None
            with quiet_ultralytics():
                from ultralytics import YOLO

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


#: Exports of the default networks built into the package (``python scripts/build_wheel.py``),
#: looked up before the cache: the first run after installing such a wheel exports nothing.
#: Git ignores the folder; a plain checkout has none, and exports on its first run.
PREBUILT = Path(__file__).resolve().parents[1] / "prebuilt"


def cache_dir() -> Path:
    """Where automatic exports are kept: ``$HOT_POSE_CACHE`` or ``~/.cache/hot-pose``."""
    env = os.environ.get("HOT_POSE_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hot-pose"


def find_copy(weights: Path, kind: str, marker: str, cache: Path | None = None) -> Path:
    """Where the ``kind`` of export made from the file ``weights`` is, or is to be made.

    Its name carries a hash of the file, so changed weights are exported again. A copy built
    into the package (:data:`PREBUILT`) is used when it holds the file ``marker`` (it is
    complete); otherwise the copy's place in the cache (:func:`cache_dir` unless ``cache``
    is given, and then nothing prebuilt is looked at). The pose model's OpenVINO copy and
    the lifter's are found so.
    """
    digest = hashlib.sha256(Path(weights).read_bytes()).hexdigest()[:12]
    name = f"{Path(weights).stem}-{digest}_{kind}"
    if cache is None and (PREBUILT / name / marker).is_file():
        return PREBUILT / name
    return (cache or cache_dir()) / name


def compiled_cache() -> Path:
    """Where OpenVINO keeps the networks it compiled (``CACHE_DIR``), so that a warm start
    reads them instead of compiling again."""
    return cache_dir() / "openvino-compiled"


def openvino_pose_model(weights: str | os.PathLike, cache: Path | None = None) -> Path | None:
    """An OpenVINO copy of PyTorch pose ``weights`` (any input size), exported once and cached.

    About twice as fast as PyTorch on a CPU at the same image size, with the same keypoints
    (within about 1 px on the example clip). ``None`` when ``openvino`` is not installed, the
    weights are not a ``.pt`` file or the export fails (a warning says why), so callers fall
    back to the weights themselves. Meant for CPU runs. Found or kept at :func:`find_copy`;
    workers racing to export keep one copy.
    """
    weights = Path(weights)
    if weights.suffix != ".pt" or not weights.is_file():
        return None
    if importlib.util.find_spec("openvino") is None:
        return None
    target = find_copy(weights, "openvino_model", "metadata.yaml", cache)
    if (target / "metadata.yaml").is_file():
        return target
    try:
        return _export(weights, "openvino", None, target, replace=False)
    except HotPoseError as exc:
        warnings.warn(f"using PyTorch for 2D pose: {exc}", RuntimeWarning, stacklevel=2)
        return None
