"""Token pruning: choose which frame tokens go on through the remaining blocks.

Every strategy turns the frame tokens ``x`` (B, F, J, C) into one score per frame
and keeps the ``k`` best frames in temporal order. Scores are computed per sample
(so a sample's choice never depends on the rest of the batch) and ties are broken
by frame index (so evaluation is deterministic).
"""

from __future__ import annotations

import torch


def pairwise_distances(tokens: torch.Tensor) -> torch.Tensor:
    """Euclidean distances (B, F, F) between frame tokens (B, F, C), scaled by √C.

    Written with a matrix product (not ``cdist``) so FLOP counters see the work.
    """
    sq = (tokens * tokens).sum(-1)
    d2 = sq[:, :, None] + sq[:, None, :] - 2 * tokens @ tokens.transpose(1, 2)
    return d2.clamp_min(0).sqrt() / tokens.shape[-1] ** 0.5


def cluster_scores(tokens: torch.Tensor, knn: int) -> torch.Tensor:
    """Density-peaks clustering with k nearest neighbours (the HoT Token Pruning Cluster).

    A frame scores high when it is dense (close to its k nearest neighbours) and far
    from every denser frame: the product ``density × delta`` picks cluster centres.
    """
    dist = pairwise_distances(tokens.float())
    n = dist.shape[-1]
    k = min(knn + 1, n)  # +1: the nearest neighbour of a token is itself
    nearest = dist.topk(k, dim=-1, largest=False).values[..., 1:]
    density = torch.exp(-(nearest**2).mean(-1)) if k > 1 else torch.ones_like(dist[..., 0])
    # j outranks i if it is denser, or equally dense and earlier: a total, deterministic order.
    idx = torch.arange(n, device=tokens.device)
    denser = (density[:, None, :] > density[:, :, None]) | (
        (density[:, None, :] == density[:, :, None]) & (idx[None, :] < idx[:, None])
    )
    far = dist.flatten(1).max(-1).values[:, None, None].expand_as(dist)
    delta = torch.where(denser, dist, far).min(-1).values
    return density * delta


def motion_scores(tokens: torch.Tensor) -> torch.Tensor:
    """Largest change of a frame token to its neighbours: keeps the frames where motion happens."""
    step = (tokens[:, 1:] - tokens[:, :-1]).float().norm(dim=-1)  # (B, F-1)
    if step.shape[1] == 0:
        return torch.zeros(tokens.shape[:2], device=tokens.device)
    before = torch.cat([step[:, :1], step], dim=1)
    after = torch.cat([step, step[:, -1:]], dim=1)
    return torch.maximum(before, after)


def uniform_scores(batch: int, frames: int, k: int, device: torch.device) -> torch.Tensor:
    """1 on ``k`` evenly spaced frames, 0 elsewhere."""
    scores = torch.zeros(batch, frames, device=device)
    picks = torch.linspace(0, frames - 1, k, device=device).round().long()
    scores[:, picks] = 1.0
    return scores


def select_frames(
    x: torch.Tensor,
    k: int,
    strategy: str,
    knn: int = 2,
    attention: torch.Tensor | None = None,
    must_keep: torch.Tensor | None = None,
) -> torch.Tensor:
    """Indices (B, k), ascending, of the frames of ``x`` (B, F, J, C) to keep.

    ``attention`` (B, F) is the attention each frame received in the previous block
    (needed by the ``attention`` strategy); ``must_keep`` (B, F) bool forces frames in
    (the centre frame of a seq2frame model).
    """
    batch, frames = x.shape[:2]
    if strategy == "uniform":
        scores = uniform_scores(batch, frames, k, x.device)
    elif strategy == "attention":
        if attention is None:
            raise ValueError("the attention strategy needs the previous block's attention")
        scores = attention.float()
    else:
        pooled = x.mean(dim=2)  # one token per frame: average over joints
        scores = cluster_scores(pooled, knn) if strategy == "cluster" else motion_scores(pooled)
    if must_keep is not None:
        scores = scores.masked_fill(must_keep, float("inf"))
    order = torch.sort(scores.detach(), dim=1, descending=True, stable=True).indices
    return order[:, :k].sort(dim=1).values


def gather_frames(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x (B, F, ...) at frame indices idx (B, k) → (B, k, ...)."""
    shape = idx.shape + (1,) * (x.dim() - 2)
    return x.gather(1, idx.view(shape).expand(idx.shape + x.shape[2:]))
