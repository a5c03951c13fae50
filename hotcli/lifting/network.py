"""The lifter network as a function of numpy arrays: PyTorch, or OpenVINO on a CPU.

:class:`~hotcli.lifting.lifter.Lifter` windows a video and calls a :class:`LifterNetwork`
on batches of windows, (B, F, 17, 2) normalised 2D → (B, F or 1, 17, 3) metres. On a CPU
the shipped checkpoint runs through OpenVINO: exported once per checkpoint (its hash names
the copy, :func:`hotcli.pose2d.export.find_copy`; a wheel built by
``scripts/build_wheel.py`` carries it), then loaded without torch, which
importing costs about 2 s of every run on the 2-core CPU. The export is compiled at float32
(OpenVINO would use bf16 on a CPU that has it, which moved the example clip's joints by
6 mm on average and up to 5 cm); the float32 copy gives the PyTorch model's 3D within
0.002 mm on the example clip, in about 0.7 of PyTorch's time. Everything else (a GPU, a
model in memory, no OpenVINO) runs in PyTorch.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotcli.errors import HotPoseError, first_line
from hotcli.options import BACKENDS

#: The export's files: the network, and what the run needs from the checkpoint.
MODEL_XML, INFO_JSON = "lifter.xml", "lifter.json"


@dataclass
class LifterNetwork:
    """A loaded lifter: ``net(windows)`` maps (B, F, 17, 2) float32 → (B, F or 1, 17, 3)."""

    run: Callable[[np.ndarray], np.ndarray]  # float32 windows in, 3D out
    frames: int  # F, the window the network sees
    seq2frame: bool  # one output frame (the window's centre) instead of F
    name: str  # config name, for reports
    meta: dict  # the checkpoint's metadata (its "fps" among others)
    path: Path | None  # the checkpoint, None for a model given in memory
    backend: str  # "openvino" or "pytorch"

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        return self.run(np.ascontiguousarray(windows, dtype=np.float32))


class TorchRun:
    """A torch module on a device, called on numpy arrays."""

    def __init__(self, model, device: str) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            y = self.model(self.torch.from_numpy(windows).to(self.device))
        return y.float().cpu().numpy()


class OpenVinoRun:
    """An exported lifter compiled for the CPU at float32 (compiled form cached by OpenVINO).

    It compiles in a thread of its own, started here, and the first call waits for it (and
    raises what the compile raised): a run first calls it after its 2D stage, so reading
    the compiled form (0.1-0.2 s on the 2-core CPU) overlaps loading the pose network,
    probing the video and its first frames instead of coming before them.
    """

    def __init__(self, xml: Path, cache: Path) -> None:
        from hotcli.device import import_openvino

        import_openvino()  # here: two threads importing one package can deadlock
        self._xml, self._cache = xml, cache
        self._error: HotPoseError | None = None
        self._compiling = threading.Thread(target=self._compile, name="lifter-compile")
        self._compiling.start()

    def _compile(self) -> None:
        from hotcli.device import compile_on_cpu

        try:
            self.model = compile_on_cpu(self._xml, self._cache, INFERENCE_PRECISION_HINT="f32")
            self.request = self.model.create_infer_request()
        except Exception as exc:  # noqa: BLE001 - a damaged cache: say where it is
            self._error = HotPoseError(
                f"cannot load the lifter's OpenVINO copy {self._xml.parent} "
                f"({first_line(exc)}); delete it to export again"
            )

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        self._compiling.join()
        if self._error is not None:
            raise self._error
        return self.request.infer([windows])[self.model.output(0)].copy()


def load_network(
    weights: str | os.PathLike | None = None,
    device: str = "cpu",
    backend: str = "auto",
    model=None,
) -> LifterNetwork:
    """The lifter for ``weights`` (a shipped name or a path; None: the default) or for a
    ``model`` already built (tests, evaluation: always PyTorch).

    ``backend``: ``auto`` is OpenVINO on a CPU when it is installed, else PyTorch;
    ``openvino`` insists (an error on a GPU or without OpenVINO); ``pytorch`` never exports.
    Every failure to find or load the weights is one line (:class:`HotPoseError`).
    """
    if backend not in BACKENDS:
        raise HotPoseError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if model is not None:
        return _torch_network(model, {}, None, device)
    path = weights_path(weights)
    has_openvino = importlib.util.find_spec("openvino") is not None
    if backend == "openvino" and not (device == "cpu" and has_openvino):
        raise HotPoseError("--backend openvino needs `pip install openvino` and --device cpu")
    if backend == "pytorch" or device != "cpu" or not has_openvino:
        return _torch_network(*_load_checkpoint(path), path, device)
    from hotcli.pose2d.export import compiled_cache, find_copy

    folder = find_copy(path, "lifter_openvino", INFO_JSON)
    if not (folder / INFO_JSON).is_file():
        model, meta = _load_checkpoint(path)
        try:
            export_openvino(model, meta, folder)
        except HotPoseError as exc:
            if backend == "openvino":
                raise
            warnings.warn(f"lifting with PyTorch: {exc}", RuntimeWarning, stacklevel=2)
            return _torch_network(model, meta, path, device)
    info = json.loads((folder / INFO_JSON).read_text())
    run = OpenVinoRun(folder / MODEL_XML, compiled_cache())
    return LifterNetwork(run, info["frames"], info["seq2frame"], info["name"], info["meta"],
                         path, "openvino")  # fmt: skip


def _torch_network(model, meta: dict, path: Path | None, device: str) -> LifterNetwork:
    cfg = model.cfg
    return LifterNetwork(TorchRun(model, device), int(cfg.frames), _seq2frame(cfg),
                         str(getattr(cfg, "name", type(model).__name__)), meta, path,
                         "pytorch")  # fmt: skip


def weights_path(weights: str | os.PathLike | None) -> Path:
    """The checkpoint file for a shipped name or a path (None: the default)."""
    from models.files import default_weights, resolve_weights, weights_dir

    try:
        return default_weights() if weights is None else resolve_weights(weights)
    except FileNotFoundError:
        what = "the default lifter weights" if weights is None else f"lifter weights {weights!r}"
        raise HotPoseError(
            f"cannot find {what} (looked in {weights_dir()}); pass --weights NAME_OR_PATH "
            "or train them with `hot-pose train`"
        ) from None


def load_weights(weights: str | os.PathLike | None):
    """The torch model, metadata and file of a shipped name or a path (None: the default):
    what ``hot-pose eval`` and ``hot-pose VIDEO`` load; every failure is one line."""
    path = weights_path(weights)
    return (*_load_checkpoint(path), path)


def _load_checkpoint(path: Path):
    """Model and metadata of a checkpoint file; a truncated or foreign file is one line."""
    from models.checkpoint import load_checkpoint

    try:
        return load_checkpoint(path, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any failure is about the user's file
        raise HotPoseError(f"cannot load lifter weights {path}: {first_line(exc)}") from None


def _seq2frame(cfg) -> bool:
    return getattr(cfg, "output", "seq2seq") == "seq2frame"


def export_openvino(model, meta: dict, target: Path) -> Path:
    """Convert ``model`` (any batch size) into the folder ``target`` with what a run reads of
    its checkpoint; the folder appears complete or not at all
    (:func:`hotcli.atomic.atomic_path`), and of workers racing to export, the first to
    finish is kept."""
    from hotcli.atomic import atomic_path

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            _write_openvino(model, meta, tmp)
    except OSError as exc:
        if (target / INFO_JSON).is_file():
            return target  # another worker's export landed first
        raise HotPoseError(f"cannot write the lifter's OpenVINO copy in {target.parent}: "
                           f"{exc.strerror or first_line(exc)}") from None  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - the converter's many failure modes, one line
        raise HotPoseError(f"exporting the lifter to OpenVINO failed: {first_line(exc)}") from None
    return target


def _write_openvino(model, meta: dict, folder: Path) -> None:
    """Convert ``model`` (any batch size) and write it with what a run reads of its config."""
    import torch

    from hotcli.device import import_openvino

    ov = import_openvino()
    cfg = model.cfg
    example = torch.zeros(2, cfg.frames, cfg.joints, cfg.in_dim)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shapes taken as constants
        # Traced here without the tracer's check (a second run compared with the first):
        # the converter would trace with it, 1.4 s of a first run's 4 s export.
        traced = torch.jit.trace(model.eval(), example, check_trace=False)
        converted = ov.convert_model(traced, example_input=example)
    folder.mkdir(parents=True)
    ov.save_model(converted, str(folder / MODEL_XML), compress_to_fp16=False)
    info = {"frames": int(cfg.frames), "seq2frame": _seq2frame(cfg), "name": cfg.name,
            "meta": json.loads(json.dumps(meta, default=str))}  # fmt: skip
    (folder / INFO_JSON).write_text(json.dumps(info, indent=1))
