"""The lifter networks: MixSTE with the Hourglass Tokenizer's pruning and recovering."""

from models.checkpoint import (
    DEFAULT_WEIGHTS,
    default_weights,
    load_checkpoint,
    resolve_weights,
    save_checkpoint,
    weights_dir,
)
from models.config import LifterConfig
from models.mixste import MixSTE
from models.registry import create_model, get_config, list_models, unpruned_twin

__all__ = [
    "DEFAULT_WEIGHTS",
    "LifterConfig",
    "MixSTE",
    "create_model",
    "default_weights",
    "get_config",
    "list_models",
    "load_checkpoint",
    "resolve_weights",
    "save_checkpoint",
    "unpruned_twin",
    "weights_dir",
]
