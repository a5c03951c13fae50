"""MixSTE with the Hourglass Tokenizer (HoT, CVPR 2024) and its hierarchy (H2OT).

MixSTE alternates a *spatial* transformer layer (attention across the 17 joints of
one frame) and a *temporal* one (attention across the frames of one joint). With a
pruning schedule, after chosen blocks only a few representative frame tokens go on
(``pruning.select_frames``), which cuts the cost of every later block; a seq2seq model
then recovers one token per frame (``recovering``) before the regression head.
"""

from __future__ import annotations

import torch
from torch import nn

from models.attention import attend
from models.config import LifterConfig
from models.pruning import gather_frames, select_frames
from models.recovering import AttentionRecovery, interpolate_frames


class DropPath(nn.Module):
    """Stochastic depth: drop a residual branch for whole samples while training."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape[0], *(1,) * (x.dim() - 1), device=x.device) >= self.p
        return x * keep.to(x.dtype) / (1 - self.p)


class Attention(nn.Module):
    """Multi-head self-attention that can also report how much attention each token received."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self, x: torch.Tensor, want_scores: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out, attn = attend(q, k, v)
        received = attn.mean(dim=(1, 2)) if want_scores else None  # (b, n): over heads, queries
        return self.proj(out.transpose(1, 2).reshape(b, n, c)), received


class Layer(nn.Module):
    """Pre-norm transformer layer: attention then MLP, each residual."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, drop_path: float) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.drop_path = DropPath(drop_path)

    def forward(
        self, x: torch.Tensor, want_scores: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        y, received = self.attn(self.norm1(x), want_scores)
        x = x + self.drop_path(y)
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x, received


class MixSTE(nn.Module):
    """Input (B, F, J, 2) normalised 2D → output (B, F, J, 3) root-relative 3D in metres.

    A seq2frame model returns (B, 1, J, 3), the centre frame. ``cfg.frames`` is fixed:
    the temporal position embedding (and recovery queries) have one entry per frame.
    """

    def __init__(self, cfg: LifterConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.width
        self.embed = nn.Linear(cfg.in_dim, c)
        self.spatial_pos = nn.Parameter(torch.zeros(1, 1, cfg.joints, c))
        self.temporal_pos = nn.Parameter(torch.zeros(1, cfg.frames, 1, c))
        rates = torch.linspace(0, cfg.drop_path, cfg.depth).tolist()
        self.spatial = nn.ModuleList(Layer(c, cfg.heads, cfg.mlp_ratio, r) for r in rates)
        self.temporal = nn.ModuleList(Layer(c, cfg.heads, cfg.mlp_ratio, r) for r in rates)
        self.norm = nn.LayerNorm(c)
        self.recovery = None
        if cfg.pruned and cfg.output == "seq2seq" and cfg.recover == "attention":
            self.recovery = AttentionRecovery(cfg.frames, c, cfg.heads, cfg.init_std)
        self.head = nn.Linear(c, cfg.out_dim)
        self.stages = dict(cfg.schedule)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.cfg.init_std > 0:
            nn.init.normal_(self.spatial_pos, std=self.cfg.init_std)
            nn.init.normal_(self.temporal_pos, std=self.cfg.init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        b, f, j, _ = x.shape
        if f != cfg.frames or j != cfg.joints:
            raise ValueError(f"expected (B, {cfg.frames}, {cfg.joints}, 2), got {tuple(x.shape)}")
        x = self.embed(x) + self.spatial_pos
        positions = torch.arange(f, device=x.device).expand(b, f)  # original frame of each token
        centre = f // 2
        for i, (spatial, temporal) in enumerate(zip(self.spatial, self.temporal, strict=True)):
            n = x.shape[1]
            x = spatial(x.reshape(b * n, j, -1))[0].view(b, n, j, -1)
            if i == 0:
                x = x + self.temporal_pos
            kept = self.stages.get(i + 1)
            want = kept is not None and cfg.prune == "attention"
            xt, received = temporal(x.transpose(1, 2).reshape(b * j, n, -1), want)
            x = xt.view(b, j, n, -1).transpose(1, 2)
            if kept is not None:
                attention = None if received is None else received.view(b, j, n).mean(1)
                must = positions == centre if cfg.output == "seq2frame" else None
                idx = select_frames(x, kept, cfg.prune, cfg.knn, attention, must)
                x = gather_frames(x, idx)
                positions = positions.gather(1, idx)
        x = self.norm(x)
        if cfg.output == "seq2frame":
            at = (positions == centre).float().argmax(1)
            x = gather_frames(x, at[:, None])
        elif cfg.pruned:
            if self.recovery is not None:
                x = self.recovery(x, positions)
            else:
                x = interpolate_frames(x, positions, f, cfg.recover)
        return self.head(x)
