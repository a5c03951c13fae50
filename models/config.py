"""The lifter's configuration: everything needed to rebuild a network from a checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

PRUNE_STRATEGIES = ("cluster", "uniform", "attention", "motion")
RECOVER_STRATEGIES = ("attention", "nearest", "linear")
OUTPUT_MODES = ("seq2seq", "seq2frame")


@dataclass(frozen=True)
class LifterConfig:
    """A MixSTE lifter, optionally with the Hourglass Tokenizer.

    ``schedule`` is a tuple of ``(after_block, tokens_kept)`` stages: after block
    ``after_block`` (1-based) only ``tokens_kept`` frame tokens go on. One stage is
    HoT, several are the hierarchical H2OT pyramid, none is plain MixSTE.
    """

    name: str = "mixste"
    frames: int = 243
    joints: int = 17
    in_dim: int = 2
    out_dim: int = 3
    width: int = 512
    depth: int = 8
    heads: int = 8
    mlp_ratio: float = 2.0
    drop_path: float = 0.1
    schedule: tuple[tuple[int, int], ...] = ()
    prune: str = "cluster"
    recover: str = "attention"
    output: str = "seq2seq"
    knn: int = 2
    #: Std of the normal initialisation of position embeddings and recovery queries.
    #: 0 follows the papers (zeros); a small value converges much faster on few steps.
    init_std: float = 0.0

    def __post_init__(self) -> None:
        if self.prune not in PRUNE_STRATEGIES:
            raise ValueError(f"prune must be one of {PRUNE_STRATEGIES}, not {self.prune!r}")
        if self.recover not in RECOVER_STRATEGIES:
            raise ValueError(f"recover must be one of {RECOVER_STRATEGIES}, not {self.recover!r}")
        if self.output not in OUTPUT_MODES:
            raise ValueError(f"output must be one of {OUTPUT_MODES}, not {self.output!r}")
        if self.width % self.heads:
            raise ValueError("width must be divisible by heads")
        object.__setattr__(self, "schedule", tuple(tuple(s) for s in self.schedule))
        last_block, last_kept = 0, self.frames
        for block, kept in self.schedule:
            if not (last_block < block < self.depth):
                raise ValueError(f"stage blocks must increase within 1..{self.depth - 1}")
            if not (0 < kept < last_kept):
                raise ValueError("tokens kept must decrease and stay positive")
            last_block, last_kept = block, kept

    @property
    def pruned(self) -> bool:
        return bool(self.schedule)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["schedule"] = [list(s) for s in self.schedule]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> LifterConfig:
        """The config a checkpoint stored; keys this version does not know are ignored, so
        older checkpoints still load (theirs may carry ``extra``, a field since removed)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def replace(self, **changes) -> LifterConfig:
        return LifterConfig.from_dict({**self.to_dict(), **changes})
