"""Camera maths: world→camera, projection with lens distortion, and 2D normalisation.

Conventions follow ``../shared/data/README.md``: ``X_cam = R · (X_world − T)``,
camera looks along +z with x right and y down; distortion is Brown–Conrady with
three radial (k) and two tangential (p) coefficients.
"""

from __future__ import annotations

import numpy as np


def world_to_camera(points: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """World points (..., 3) to camera axes: R rotates world into camera, T is its centre."""
    return (np.asarray(points) - np.asarray(T)) @ np.asarray(R).T


def camera_to_world(points: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Inverse of :func:`world_to_camera`."""
    return np.asarray(points) @ np.asarray(R) + np.asarray(T)


def project(
    points: np.ndarray,
    f: np.ndarray,
    c: np.ndarray,
    k: np.ndarray | None = None,
    p: np.ndarray | None = None,
) -> np.ndarray:
    """Camera-space points (..., 3) to pixels (..., 2), with optional distortion."""
    points = np.asarray(points, dtype=np.float64)
    xy = points[..., :2] / points[..., 2:3]
    if k is not None and p is not None:
        x, y = xy[..., 0], xy[..., 1]
        r2 = x * x + y * y
        radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
        d = radial + p[0] * y + p[1] * x
        xy = np.stack([x * d + p[1] * r2, y * d + p[0] * r2], axis=-1)
    return xy * np.asarray(f) + np.asarray(c)


def normalize_2d(pixels: np.ndarray, width: float, height: float) -> np.ndarray:
    """Pixels to the lifter's input range: x/w·2−1, y/w·2−h/w (keeps the aspect ratio)."""
    pixels = np.asarray(pixels, dtype=np.float32)
    return pixels / width * 2 - np.array([1, height / width], dtype=np.float32)


def denormalize_2d(coords: np.ndarray, width: float, height: float) -> np.ndarray:
    """Inverse of :func:`normalize_2d`."""
    coords = np.asarray(coords, dtype=np.float32)
    return (coords + np.array([1, height / width], dtype=np.float32)) * width / 2
