"""Where the lifter checkpoints are: shipped names and paths (no torch needed to find one)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

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
