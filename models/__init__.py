"""The lifter networks: MixSTE with the Hourglass Tokenizer's pruning and recovering.

The names below load their module on first use (PEP 562), so finding a checkpoint
(``models.files``) does not import torch: a run whose lifter is a cached OpenVINO export
never needs it.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "DEFAULT_WEIGHTS": "models.files",
    "default_weights": "models.files",
    "resolve_weights": "models.files",
    "weights_dir": "models.files",
    "load_checkpoint": "models.checkpoint",
    "save_checkpoint": "models.checkpoint",
    "LifterConfig": "models.config",
    "MixSTE": "models.mixste",
    "create_model": "models.registry",
    "get_config": "models.registry",
    "list_models": "models.registry",
    "unpruned_twin": "models.registry",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
