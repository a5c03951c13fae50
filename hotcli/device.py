"""Choosing the torch device from ``--device auto|cpu|cuda``."""

from __future__ import annotations

import os

import torch

from hotcli.errors import HotPoseError


def pick_device(name: str) -> torch.device:
    """``auto`` → CUDA when present, else CPU; a clear error for unknown or absent devices."""
    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise HotPoseError(
                "CUDA was requested (--device cuda) but no CUDA GPU is available; "
                "use --device cpu or auto"
            )
        return torch.device(name)
    raise HotPoseError(f"unknown device {name!r}: use auto, cpu or cuda")


def usable_cpus() -> int:
    """CPUs this process may run on (respects ``taskset`` and container CPU sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
