"""Pose errors: MPJPE (protocol 1), P-MPJPE (protocol 2), velocity and acceleration errors.

Inputs are arrays (..., J, 3) in the same unit; results are per-frame arrays so callers
can average per action and then over actions, the way Human3.6M results are reported.
"""

from __future__ import annotations

import numpy as np


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean per-joint position error of each frame (...,)."""
    return np.linalg.norm(pred - gt, axis=-1).mean(-1)


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``pred`` (N, J, 3) after the rotation, scale and translation that best fit it to ``gt``."""
    mu_p, mu_g = pred.mean(-2, keepdims=True), gt.mean(-2, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    norm_p = np.linalg.norm(p, axis=(-2, -1), keepdims=True) + 1e-12
    norm_g = np.linalg.norm(g, axis=(-2, -1), keepdims=True) + 1e-12
    p, g = p / norm_p, g / norm_g
    u, s, vt = np.linalg.svd(np.swapaxes(p, -1, -2) @ g)
    # Fix a reflection into a proper rotation.
    sign = np.sign(np.linalg.det(u @ vt))
    u[..., :, -1] *= sign[..., None]
    s[..., -1] *= sign
    rot = u @ vt
    scale = s.sum(-1)[..., None, None] * norm_g / norm_p
    return scale * (pred - mu_p) @ rot + mu_g


def p_mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """MPJPE after Procrustes alignment with scale, per frame."""
    return mpjpe(procrustes_align(pred, gt), gt)


def mpjve(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean per-joint velocity error between consecutive frames (T-1,) of (T, J, 3) sequences."""
    return mpjpe(np.diff(pred, axis=0), np.diff(gt, axis=0))


def accel_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean per-joint acceleration error (T-2,) of (T, J, 3) sequences, per frame squared.

    The second difference of each sequence compared: jitter a lifter adds shows here even
    when its positions are close on average.
    """
    return mpjpe(np.diff(pred, n=2, axis=0), np.diff(gt, n=2, axis=0))
