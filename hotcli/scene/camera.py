"""Camera maths: world→camera, projection with lens distortion, 2D normalisation, intrinsics.

Conventions follow ``../shared/data/README.md``: ``X_cam = R · (X_world − T)``,
camera looks along +z with x right and y down; distortion is Brown–Conrady with
three radial (k) and two tangential (p) coefficients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hotcli.errors import HotPoseError


def world_to_camera(points: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """World points (..., 3) to camera axes: R rotates world into camera, T is its centre."""
    return (np.asarray(points) - np.asarray(T)) @ np.asarray(R).T


def look_at_camera(eye: np.ndarray, target: np.ndarray, roll_degrees: float = 0.0) -> np.ndarray:
    """Rotation R (world → camera axes, x right, y down, z forward) of a camera at ``eye``
    aimed at ``target``, in a z-up world: level unless rolled by ``roll_degrees``, the way
    a camera is set up to film people (virtual training views, synthetic test scenes)."""
    forward = np.asarray(target, float) - np.asarray(eye, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    r = math.radians(roll_degrees)
    c, s = math.cos(r), math.sin(r)
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, forward])


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


#: Horizontal field of view assumed when neither ``--focal-length`` nor ``--fov`` is given:
#: a typical phone or action camera's main lens filming landscape.
DEFAULT_FOV_DEGREES = 60.0


@dataclass(frozen=True)
class Intrinsics:
    """One static pinhole camera for a whole video: focal length and principal point, pixels.

    ``source`` says where the focal length came from (``"--focal-length"``, ``"--fov"`` or
    ``"default"``), so ``summary.json`` can report it; ``width`` is the image width the
    field of view refers to.
    """

    focal_px: float
    cx: float
    cy: float
    width: int
    source: str = "default"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.focal_px) and self.focal_px > 0):
            raise HotPoseError(f"the focal length must be positive pixels, got {self.focal_px}")
        if self.width < 1:
            raise HotPoseError(f"the image width must be at least 1 px, got {self.width}")

    @property
    def centre(self) -> np.ndarray:
        """The principal point (2,) in pixels."""
        return np.array([self.cx, self.cy], dtype=np.float64)

    @property
    def fov_degrees(self) -> float:
        """The horizontal field of view this focal length gives over ``width`` pixels."""
        return math.degrees(2.0 * math.atan(self.width / (2.0 * self.focal_px)))


def focal_from_fov(width: float, fov_degrees: float) -> float:
    """Focal length in pixels of a pinhole camera ``width`` px wide seeing ``fov_degrees``."""
    if not 1.0 <= fov_degrees <= 179.0:
        raise HotPoseError(f"--fov must be between 1 and 179 degrees, got {fov_degrees:g}")
    return float(width) / (2.0 * math.tan(math.radians(fov_degrees) / 2.0))


def video_intrinsics(
    width: int, height: int, focal_length: float | None = None, fov: float | None = None
) -> Intrinsics:
    """The camera of a ``width`` × ``height`` video: principal point at the image centre.

    The focal length is ``focal_length`` pixels when given, else derived from the
    horizontal ``fov`` in degrees, else from :data:`DEFAULT_FOV_DEGREES`.
    """
    if focal_length is not None and fov is not None:
        raise HotPoseError("give either --focal-length or --fov, not both")
    if focal_length is not None:
        focal, source = float(focal_length), "--focal-length"
    elif fov is not None:
        focal, source = focal_from_fov(width, fov), "--fov"
    else:
        focal, source = focal_from_fov(width, DEFAULT_FOV_DEGREES), "default"
    return Intrinsics(focal, width / 2.0, height / 2.0, int(width), source)
