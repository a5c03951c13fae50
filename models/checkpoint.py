"""Checkpoints that carry their config, so loading one needs nothing else."""

from __future__ import annotations

import os

import torch

from hotcli.atomic import atomic_path
from models.config import LifterConfig
from models.files import resolve_weights
from models.mixste import MixSTE


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
