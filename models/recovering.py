"""Token recovering: from the kept frame tokens back to one token per frame (seq2seq)."""

from __future__ import annotations

import torch
from torch import nn

from models.attention import attend


class AttentionRecovery(nn.Module):
    """Token Recovering Attention: one learnable query per output frame attends to the kept tokens.

    The kept tokens carry their frame identity (the temporal position embedding was
    added before pruning), so a query learns which kept frames describe its frame.
    """

    def __init__(self, frames: int, dim: int, heads: int, init_std: float = 0.0) -> None:
        super().__init__()
        self.queries = nn.Parameter(torch.zeros(frames, dim))
        if init_std > 0:
            nn.init.normal_(self.queries, std=init_std)
        self.norm_kv = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.heads = heads

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """x (B, k, J, C) kept tokens → (B, F, J, C); ``positions`` unused: attention finds them."""
        b, k, j, c = x.shape
        h = self.heads
        kv = self.kv(self.norm_kv(x.permute(0, 2, 1, 3).reshape(b * j, k, c)))
        key, value = kv.view(b * j, k, 2, h, c // h).permute(2, 0, 3, 1, 4)
        q = self.q(self.queries).view(1, -1, h, c // h).transpose(1, 2)
        q = q.expand(b * j, -1, -1, -1)
        out, _ = attend(q, key, value)  # (B*J, H, F, C/H)
        out = self.proj(out.transpose(1, 2).reshape(b * j, -1, c))
        out = out + self.queries
        return out.view(b, j, -1, c).permute(0, 2, 1, 3)


def interpolate_frames(
    x: torch.Tensor, positions: torch.Tensor, frames: int, mode: str = "linear"
) -> torch.Tensor:
    """Nearest or linear interpolation in time from kept tokens at ``positions``.

    x (B, k, J, C) tokens at ascending frame indices ``positions`` (B, k) → (B, frames, J, C).
    Frames before the first or after the last kept frame take the edge token.
    """
    b, k = positions.shape
    t = torch.arange(frames, device=x.device).expand(b, frames).contiguous()
    hi = torch.searchsorted(positions.contiguous(), t).clamp(max=k - 1)
    lo = (hi - 1).clamp(min=0)
    p_lo, p_hi = positions.gather(1, lo), positions.gather(1, hi)
    span = (p_hi - p_lo).clamp(min=1)
    w = ((t - p_lo).float() / span).clamp(0, 1)
    w = torch.where(t >= p_hi, torch.ones_like(w), w)  # at or past the upper kept frame
    if mode == "nearest":
        w = (w >= 0.5).float()
    w = w[:, :, None, None].to(x.dtype)

    def take(i: torch.Tensor) -> torch.Tensor:
        return x.gather(1, i[:, :, None, None].expand(b, frames, *x.shape[2:]))

    return take(lo) * (1 - w) + take(hi) * w
