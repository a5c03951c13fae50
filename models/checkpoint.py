"""Checkpoints that carry their config, so loading one needs nothing else."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch

from hotcli.atomic import atomic_path
from models.config import LifterConfig
from models.mixste import MixSTE

#: The weights hot-pose uses unless told otherwise (a file in ``weights/``).
DEFAULT_WEIGHTS = "hot_mixste_xs_h36m"


def weights_dir() -> Path:
    """``$HOT_POSE_WEIGHTS_DIR``, else the shipped checkpoints' folder.

    They are package data (``models.weights``, the folder ``weights/`` of the source tree),
    so a wheel finds them where pip put them and an editable install in the checkout.
    """
    env = os.environ.get("HOT_POSE_WEIGHTS_DIR")
    return Path(env) if env else Path(str(resources.files("models.weights")))


def resolve_weights(name_or_path: str | os.PathLike) -> Path:
    """A checkpoint path from a path or a name of a file in :func:`weights_dir`."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    for candidate in (weights_dir() / path, weights_dir() / f"{path.name}.pt"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no lifter weights {str(name_or_path)!r} (looked for a file and in {weights_dir()})"
    )


def default_weights() -> Path:
    return resolve_weights(DEFAULT_WEIGHTS)


def save_checkpoint(path: str | os.PathLike, model: MixSTE, meta: dict | None = None) -> None:
    """Write weights, config and metadata atomically (:func:`hotcli.atomic.atomic_path`).

    The tensors are saved on the CPU, so weights trained on a GPU load anywhere.
    """
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"config": model.cfg.to_dict(), "state_dict": state, "meta": meta or {}}, tmp)


def load_checkpoint(
    name_or_path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> tuple[MixSTE, dict]:
    """Rebuild the model a checkpoint describes; returns it in eval mode with its metadata."""
    ckpt = torch.load(resolve_weights(name_or_path), map_location=map_location, weights_only=True)
    model = MixSTE(LifterConfig.from_dict(ckpt["config"]))
    model.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
    return model.eval(), ckpt.get("meta", {})
