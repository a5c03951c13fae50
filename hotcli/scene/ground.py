"""One world frame per video: the ground plane under everyone's feet, and the camera above it.

With every person placed in camera coordinates (:mod:`hotcli.scene.trajectory`), the lowest
foot of each person in each frame is, most of the time, on the floor. The floor is the
plane that fits those points best, found by robust total least squares:

- The normal is the eigenvector of the points' scatter with the least spread, pulled
  towards the bodies' own up direction (:func:`hotcli.lifting.upright.estimate_up`, from the
  skeletons). When the points cover an area (people walking about) the points decide;
  when they lie along a line (one person walking straight) or in a blob (one person on
  the spot) the plane's tilt about that line is not observable and the skeleton's up
  decides it. The pull is a penalty ``λ·(1 − (n·up)²)`` with λ of (10 cm)², so it only
  matters where the points leave a direction undetermined.
- A lifted foot or a bad frame lies above the floor, so points are reweighted by how far
  they are from the plane (Cauchy weights, 3 cm scale) and the plane refitted.

The world frame keeps the axes ``keypoints_3d_world`` has always had: z up (the plane's
normal), y the camera's viewing direction along the ground, x to the image's right;
metres. Its origin is the point of the ground under the camera, so the camera stands at
(0, 0, height), and every person of the video shares it.

``z = 0`` is the plane of the ankle joints of a standing person (the skeleton has no
toes), as it was before: the floor itself is some 8 cm lower.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hotcli.lifting.upright import CAMERA_UP, estimate_up, rotation_to_world

LEFT_ANKLE, RIGHT_ANKLE = 6, 3
#: Strength of the pull towards the skeletons' up direction, m² (see the module docstring).
PRIOR_M2 = 0.1**2
#: Scale of the Cauchy weights that discount points off the plane (metres).
ROBUST_SCALE_M = 0.03
#: Reweighting rounds of the plane fit.
ITERATIONS = 8


@dataclass(frozen=True)
class Ground:
    """The floor seen from the camera, and the world frame it defines.

    ``up`` (3,) unit normal in camera axes; ``height`` the camera's distance above the
    plane in metres; ``rotation`` (3, 3) rows are the world's x, y, z axes in camera axes.
    """

    up: np.ndarray
    height: float
    rotation: np.ndarray

    def __post_init__(self) -> None:
        if not math.isfinite(self.height):
            raise ValueError(f"the camera height must be finite, got {self.height}")
        if not np.allclose(self.rotation @ self.rotation.T, np.eye(3), atol=1e-6):
            raise ValueError("the world rotation must be orthonormal")

    @property
    def tilt_degrees(self) -> float:
        """How far the camera looks below the horizon (negative: above it)."""
        return math.degrees(math.asin(float(np.clip(-self.up[2], -1.0, 1.0))))

    @property
    def roll_degrees(self) -> float:
        """The camera's roll: the image's x axis against the horizon (positive: clockwise)."""
        return math.degrees(math.asin(float(np.clip(self.up[0], -1.0, 1.0))))

    def to_world(self, camera_points: np.ndarray) -> np.ndarray:
        """Camera coordinates (..., 3) → world (..., 3): z up, origin under the camera."""
        world = np.asarray(camera_points, dtype=np.float64) @ self.rotation.T
        world[..., 2] += self.height
        return world

    def to_camera(self, world_points: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_world`."""
        w = np.array(world_points, dtype=np.float64)
        w[..., 2] -= self.height
        return w @ self.rotation


def lowest_feet(camera_poses: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The lower ankle (along ``up``) of each frame of (T, 17, 3) poses → (K, 3), finite only."""
    k = np.asarray(camera_poses, dtype=np.float64)
    ankles = k[:, [LEFT_ANKLE, RIGHT_ANKLE]]  # (T, 2, 3)
    heights = np.where(np.isfinite(ankles).all(-1), ankles @ up, np.inf)
    lower = ankles[np.arange(len(k)), np.argmin(heights, axis=1)]
    return lower[np.isfinite(lower).all(axis=1)]


def fit_plane(
    points: np.ndarray, prior_up: np.ndarray, prior: float = PRIOR_M2
) -> tuple[np.ndarray, float]:
    """Robust plane ``n·p + h = 0`` through (K, 3) points, ``n`` unit and near ``prior_up``.

    Returns ``(n, h)``: ``n`` points to the side ``prior_up`` is on, and ``h`` is then the
    height of the origin (the camera) above the plane.
    """
    p = np.asarray(points, dtype=np.float64)
    n = np.asarray(prior_up, dtype=np.float64) / np.linalg.norm(prior_up)
    if len(p) == 0:
        raise ValueError("no foot points to fit a ground plane to")
    w = np.ones(len(p))
    h = -float(np.median(p @ n))
    for _ in range(ITERATIONS):
        mean = (w[:, None] * p).sum(0) / w.sum()
        centred = p - mean
        scatter = (w[:, None] * centred).T @ centred / w.sum()
        vals, vecs = np.linalg.eigh(scatter - prior * np.outer(prior_up, prior_up))
        n = vecs[:, 0] if vecs[:, 0] @ prior_up >= 0 else -vecs[:, 0]
        h = -float(mean @ n)
        r = p @ n + h
        w = 1.0 / (1.0 + (r / ROBUST_SCALE_M) ** 2)
    return n, h


def fit_ground(camera_poses: Sequence[np.ndarray], relative_poses: Sequence[np.ndarray]) -> Ground:
    """The ground and world frame of a video from every person's poses.

    ``camera_poses`` per person (T, 17, 3) absolute camera coordinates (NaN where absent);
    ``relative_poses`` the same persons root-relative, for the skeletons' up direction.
    Raises ``ValueError`` when no person has a finite foot anywhere.
    """
    rel = [np.asarray(r, dtype=np.float64) for r in relative_poses]
    rel = [r[np.isfinite(r).all(axis=(1, 2))] for r in rel]
    rel_all = np.concatenate(rel) if rel else np.zeros((0, 17, 3))
    prior_up = estimate_up(rel_all) if len(rel_all) else CAMERA_UP.copy()
    feet = [lowest_feet(c, prior_up) for c in camera_poses]
    points = np.concatenate(feet) if feet else np.zeros((0, 3))
    if len(points) == 0:
        raise ValueError("no person with a finite foot position to fit the ground to")
    up, height = fit_plane(points, prior_up)
    return Ground(up=up, height=height, rotation=rotation_to_world(up))


def lift_above_ground(world: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Poses (T, 17, 3) with any frame whose lowest joint is below z = 0 raised onto it.

    The whole pose moves up (no bone changes), only in frames that go below the ground by
    more than ``tolerance`` metres; NaN frames stay NaN.
    """
    w = np.array(world, dtype=np.float64)
    with np.errstate(all="ignore"):
        lowest = np.fmin.reduce(w[..., 2], axis=1)
    below = np.isfinite(lowest) & (lowest < -tolerance)
    w[below, :, 2] -= lowest[below, None]
    return w


#: ``--fov auto`` needs the foot points to spread at least this far (m, std) both ways.
MIN_SPREAD_M = 0.5
#: ... and a camera tilted at least this much, or the tilt cannot tell the focal length.
MIN_TILT_DEGREES = 6.0


def focal_scale(
    camera_poses: Sequence[np.ndarray], relative_poses: Sequence[np.ndarray]
) -> float | None:
    """How much larger the true focal length is than the one the poses were placed with.

    Placing people with a focal length ``s`` times too small puts them ``s`` times too
    near, so the floor their feet trace is squeezed along the camera's axis and looks
    tilted less than it is. The skeletons' up direction (from the lifter, independent of
    the focal length) says how tilted the camera really is. The ratio of the two tilts'
    tangents is the factor. None when the feet do not cover an area of floor or the camera
    looks nearly level, where the answer would be noise.
    """
    rel = [np.asarray(r, dtype=np.float64) for r in relative_poses]
    rel = [r[np.isfinite(r).all(axis=(1, 2))] for r in rel]
    rel_all = np.concatenate(rel) if rel else np.zeros((0, 17, 3))
    if not len(rel_all):
        return None
    skeleton_up = estimate_up(rel_all)
    feet = [lowest_feet(c, skeleton_up) for c in camera_poses]
    points = np.concatenate(feet) if feet else np.zeros((0, 3))
    if len(points) < 20:
        return None
    plane_up, _ = fit_plane(points, skeleton_up, prior=0.0)
    spread = np.linalg.eigvalsh(np.cov((points - points.mean(0)).T))
    if spread[1] < MIN_SPREAD_M**2:
        return None
    # The tilt seen in the (y, z) plane of the camera: z/y components of the up vectors.
    tan_skeleton = skeleton_up[2] / max(abs(skeleton_up[1]), 1e-9)
    tan_plane = plane_up[2] / max(abs(plane_up[1]), 1e-9)
    if (
        abs(math.degrees(math.atan(tan_skeleton))) < MIN_TILT_DEGREES
        or tan_plane * tan_skeleton <= 0
    ):
        return None
    return float(tan_plane / tan_skeleton)
