"""Choosing the device from ``--device auto|cpu|cuda``, how many CPU threads to use, and
OpenVINO on the CPU (imported quietly, networks compiled)."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path

from hotcli.errors import HotPoseError


def pick_device_name(name: str) -> str:
    """``auto`` → ``cuda`` when present, else ``cpu``; a clear error for unknown or absent
    devices. Torch is imported only where CUDA could be there (an NVIDIA driver is
    installed, or torch is loaded already): a CPU-only run does not pay for it."""
    name = (name or "auto").lower()
    if name == "cpu":
        return name
    if name not in ("auto", "cuda") and not name.startswith("cuda:"):
        raise HotPoseError(f"unknown device {name!r}: use auto, cpu or cuda")
    if _cuda_available():
        return "cuda" if name == "auto" else name
    if name == "auto":
        return "cpu"
    raise HotPoseError(
        "CUDA was requested (--device cuda) but no CUDA GPU is available; use --device cpu or auto"
    )


def pick_device(name: str):
    """:func:`pick_device_name` as a ``torch.device`` (training, evaluation, benchmarks)."""
    import torch

    return torch.device(pick_device_name(name))


def _cuda_available() -> bool:
    driver = Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi")
    if not driver and "torch" not in sys.modules:
        return False
    import torch

    return torch.cuda.is_available()


def usable_cpus() -> int:
    """CPUs this process may run on (respects ``taskset`` and container CPU sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_threads: int | None = None


def set_cpu_threads(threads: int) -> None:
    """Limit this process's CPU work to ``threads`` (a batch worker's share of the cores):
    torch (now, or when imported later), OpenCV, and the OpenVINO networks compiled after
    this call (:func:`compile_on_cpu`), which otherwise each use every core."""
    global _threads
    _threads = max(1, int(threads))
    os.environ["OMP_NUM_THREADS"] = str(_threads)  # torch reads it when first imported
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(_threads)
    import cv2

    cv2.setNumThreads(_threads)


def parallel_requests() -> int:
    """How many network requests to keep in flight on the CPU: two where this process may
    use two threads or more (:func:`set_cpu_threads`, else the usable CPUs), else one."""
    threads = usable_cpus() if _threads is None else _threads
    return 2 if threads >= 2 else 1


def import_openvino():
    """The ``openvino`` module, imported with its usage telemetry off: hot-pose sends nothing.

    Unless its consent file (``~/intel/openvino_telemetry``) says no, ``import openvino``
    sends a usage event to Intel's analytics from a forked process, without asking, on
    every run, and the interpreter waits for that child at exit: about 0.1 s of a 4 s run
    on the example clip. OpenVINO's converter imports ``openvino_telemetry`` inside a
    ``try`` and uses its own silent stand-in when that fails, which is what this makes it
    do; the entry is removed again after the import, so nothing else in the process is
    changed.
    """
    quiet = "openvino" not in sys.modules and "openvino_telemetry" not in sys.modules
    if quiet:
        sys.modules["openvino_telemetry"] = None  # makes `import openvino_telemetry` fail
    try:
        return importlib.import_module("openvino")
    finally:
        if quiet:
            del sys.modules["openvino_telemetry"]


#: The most the compiled-form cache of :func:`compile_on_cpu` may hold (about ten pairs of
#: the default networks' forms, 12 + 7 MB).
COMPILED_CACHE_BYTES = 200 * 2**20


def compile_on_cpu(xml: Path, cache: Path | None, streams: int = 1, **config: str):
    """The OpenVINO model ``xml`` compiled for this CPU, within the thread limit
    :func:`set_cpu_threads` set (if any); ``config`` adds settings.

    One stream (``LATENCY``) gives every thread to one request at a time. ``streams`` > 1
    splits the threads between that many requests in flight (``THROUGHPUT``): on the 2-core
    CPU two crops side by side, a thread each, run about 15 % faster than one after the
    other on both threads, but one request alone then runs on its stream's share.

    With ``cache`` OpenVINO keeps the compiled form there and a warm start reads it instead
    of compiling; a cache that cannot be made is skipped (compiled each run), and one that
    has grown past :data:`COMPILED_CACHE_BYTES` is pruned (:func:`prune_cache`). What
    OpenVINO raises, callers turn into one line about their network.
    """
    core = import_openvino().Core()
    if cache is not None:
        try:
            cache.mkdir(parents=True, exist_ok=True)
            core.set_property({"CACHE_DIR": str(cache)})
        except OSError:
            cache = None
    threads = {} if _threads is None else {"INFERENCE_NUM_THREADS": _threads}
    hint = ({"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": str(streams)} if streams > 1
            else {"PERFORMANCE_HINT": "LATENCY"})  # fmt: skip
    model = core.compile_model(str(xml), "CPU", {**hint, **config, **threads})
    if cache is not None:
        prune_cache(cache, COMPILED_CACHE_BYTES)
    return model


def prune_cache(cache: Path, limit: int) -> None:
    """Remove the oldest compiled forms (``*.blob``) in ``cache`` until it holds at most
    ``limit`` bytes of them.

    OpenVINO writes a form for every network file and setting it compiles (each export,
    each installed copy of the package) and never removes one. A network whose form is
    removed while still in use is compiled again on its next start (under a second) and
    its new form is then the newest.
    """
    blobs = []
    for path in cache.glob("*.blob"):
        try:
            stat = path.stat()
        except OSError:
            continue
        blobs.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in blobs)
    for _, size, path in sorted(blobs):
        if total <= limit:
            break
        try:
            path.unlink(missing_ok=True)
        except OSError:  # not ours to remove
            continue
        total -= size
