"""Named lifter configurations, timm-style: ``create_model("hot_mixste_s")``."""

from __future__ import annotations

from models.config import LifterConfig
from models.mixste import MixSTE

PAPER = dict(frames=243, width=512, depth=8, heads=8)
SMALL = dict(frames=243, width=128, depth=8, heads=8)
MEDIUM = dict(frames=243, width=256, depth=8, heads=8)
#: Trainable on a laptop CPU: 81 frames (1.6 s at 50 Hz), small random position embeddings.
XS = dict(frames=81, width=128, depth=6, heads=8, drop_path=0.0, init_std=0.02)
#: HoT at the paper's operating point: 81 of 243 frame tokens kept after block 3.
HOT = dict(schedule=((3, 81),))
#: H2OT pyramid: 243 → 121 → 81 → 27 frame tokens after blocks 1, 3 and 5.
H2OT = dict(schedule=((1, 121), (3, 81), (5, 27)))

_CONFIGS: dict[str, dict] = {
    "mixste": PAPER,
    "hot_mixste": {**PAPER, **HOT},
    "h2ot_mixste": {**PAPER, **H2OT},
    "hot_mixste_frame": {**PAPER, **HOT, "output": "seq2frame"},
    "mixste_m": MEDIUM,
    "hot_mixste_m": {**MEDIUM, **HOT},
    "mixste_s": SMALL,
    "hot_mixste_s": {**SMALL, **HOT},
    "h2ot_mixste_s": {**SMALL, **H2OT},
    "hot_mixste_s_interp": {**SMALL, **HOT, "recover": "linear"},
    "mixste_xs": XS,
    "hot_mixste_xs": {**XS, "schedule": ((2, 27),)},
    # For tests and smoke runs only.
    "hot_mixste_tiny": dict(
        frames=27, width=32, depth=3, heads=4, drop_path=0.0, init_std=0.02, schedule=((1, 9),)
    ),
    "hot_mixste_s_frame": {**SMALL, **HOT, "output": "seq2frame"},
}


def list_models() -> list[str]:
    return list(_CONFIGS)


def get_config(name: str, **overrides) -> LifterConfig:
    """The named configuration, with any field overridden (e.g. ``prune="motion"``)."""
    if name not in _CONFIGS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(_CONFIGS)}")
    return LifterConfig(name=name, **{**_CONFIGS[name], **overrides})


def unpruned_twin(name: str) -> str | None:
    """The registered seq2seq config of the same size without pruning (pruning's baseline)."""
    cfg = get_config(name)
    size = (cfg.frames, cfg.width, cfg.depth, cfg.heads)
    for other in _CONFIGS:
        o = get_config(other)
        if other != name and not o.pruned and (o.frames, o.width, o.depth, o.heads) == size:
            return other
    return None


def create_model(name_or_cfg: str | LifterConfig, **overrides) -> MixSTE:
    cfg = name_or_cfg if isinstance(name_or_cfg, LifterConfig) else get_config(name_or_cfg)
    if overrides:
        cfg = cfg.replace(**overrides)
    return MixSTE(cfg)
