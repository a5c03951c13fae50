"""Every person of a video in one scene: camera coordinates, the ground, world poses, feet.

The steps, each in its own module:

1. :func:`hotcli.scene.trajectory.solve_root` places each frame's lifted pose where it projects
   onto its 2D keypoints, and :func:`hotcli.scene.trajectory.smooth_root` smooths that path
   without lag and bridges the short gaps inside a track.
2. :func:`hotcli.scene.ground.fit_ground` fits one floor under all persons' feet, which gives
   the camera's height and tilt and the world frame (z up, ground at z = 0).
3. :func:`hotcli.scene.feet.foot_contact` finds when each foot is down, and
   :func:`hotcli.scene.feet.lock_feet` pins it there (unless the lock is off).
4. Any frame that still dips below the ground is raised onto it.

The camera coordinates written out are those of the final world poses, so
``keypoints_3d_camera``, ``root_camera``, ``keypoints_3d`` and ``keypoints_3d_world`` all
describe the same motion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from hotcli.scene.camera import Intrinsics
from hotcli.scene.feet import ContactOptions, foot_contact, foot_skate, lock_feet
from hotcli.scene.ground import Ground, fit_ground, focal_scale, lift_above_ground
from hotcli.scene.trajectory import SMOOTH_SECONDS, smooth_root, solve_root


@dataclass(frozen=True)
class WorldOptions:
    """How persons are placed in the scene: foot lock on or off, and the smoothing length."""

    foot_lock: bool = True
    smooth_seconds: float = SMOOTH_SECONDS
    contact: ContactOptions = ContactOptions()

    def __post_init__(self) -> None:
        if not self.smooth_seconds > 0:
            raise ValueError(f"smooth_seconds must be positive, got {self.smooth_seconds}")


@dataclass(frozen=True)
class PlacedPerson:
    """One person in the scene; T frames, NaN where the person is not present.

    ``root_camera`` (T, 3) pelvis in camera coordinates (m); ``keypoints_3d_camera``
    (T, 17, 3) absolute camera coordinates; ``keypoints_3d`` (T, 17, 3) the same minus the
    pelvis; ``keypoints_3d_world`` (T, 17, 3) world frame; ``foot_contact`` (T, 2) bool
    (left, right); ``skate_before_mm`` / ``skate_after_mm`` foot skate before and after the
    lock (mm per frame; NaN without contacts).
    """

    root_camera: np.ndarray
    keypoints_3d_camera: np.ndarray
    keypoints_3d: np.ndarray
    keypoints_3d_world: np.ndarray
    foot_contact: np.ndarray
    skate_before_mm: float
    skate_after_mm: float


def _camera_poses(relative, keypoints_2d, scores, detected, present, camera, fps, seconds):
    """Each person's smoothed absolute camera poses (T, 17, 3) under ``camera``."""
    cams = []
    for rel, kp, sc, det, pres in zip(relative, keypoints_2d, scores, detected, present,
                                      strict=True):  # fmt: skip
        rel = np.asarray(rel, dtype=np.float64)
        det = np.asarray(det, bool) & np.asarray(pres, bool)
        weights = np.where(det[:, None], np.asarray(sc, dtype=np.float64), 0.0)
        raw = solve_root(rel, kp, weights, camera.focal_px, camera.centre)
        root = smooth_root(raw, det & np.isfinite(raw).all(1), pres, fps, seconds)
        cams.append(rel + root[:, None, :])
    return cams


def estimate_focal(
    relative: Sequence[np.ndarray],
    keypoints_2d: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    detected: Sequence[np.ndarray],
    present: Sequence[np.ndarray],
    camera: Intrinsics,
    fps: float,
    rounds: int = 4,
) -> Intrinsics | None:
    """The camera with a focal length found from the video itself (``--fov auto``), or None.

    Starting from ``camera``, persons are placed, :func:`hotcli.scene.ground.focal_scale` says
    by how much the focal length is off, and that is repeated a few times (placement is
    not exactly proportional to the focal length). None when the scene cannot tell (feet
    on a line or a spot, a level camera) or the answer leaves 10°–150° of view.
    """
    focal = camera.focal_px
    for _ in range(rounds):
        trial = replace(camera, focal_px=focal)
        cams = _camera_poses(relative, keypoints_2d, scores, detected, present, trial, fps,
                             SMOOTH_SECONDS)  # fmt: skip
        scale = focal_scale(cams, relative)
        if scale is None or not np.isfinite(scale):
            return None
        focal *= scale
        if abs(scale - 1.0) < 0.01:
            break
    found = replace(camera, focal_px=focal, source="--fov auto")
    return found if 10.0 <= found.fov_degrees <= 150.0 else None


def place_persons(
    relative: Sequence[np.ndarray],
    keypoints_2d: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    detected: Sequence[np.ndarray],
    present: Sequence[np.ndarray],
    camera: Intrinsics,
    fps: float,
    options: WorldOptions | None = None,
) -> tuple[list[PlacedPerson], Ground]:
    """Place each person (lists of per-person arrays) in one world; see the module docstring.

    ``relative`` (T, 17, 3) root-relative lifted poses in camera axes (metres, NaN outside
    ``present``), ``keypoints_2d`` (T, 17, 2) pixels, ``scores`` (T, 17), ``detected`` (T,)
    frames with a real detection (only those are measurements), ``present`` (T,).
    """
    options = options or WorldOptions()
    cams = _camera_poses(relative, keypoints_2d, scores, detected, present, camera, fps,
                         options.smooth_seconds)  # fmt: skip
    ground = fit_ground(cams, [np.asarray(r, dtype=np.float64) for r in relative])
    placed = []
    for cam in cams:
        world = lift_above_ground(ground.to_world(cam))
        contact = foot_contact(world, fps, options.contact)
        before = foot_skate(world, contact)
        if options.foot_lock:
            world = lift_above_ground(lock_feet(world, contact, fps))
        after = foot_skate(world, contact)
        final_cam = ground.to_camera(world)
        root_cam = final_cam[:, 0].copy()
        placed.append(
            PlacedPerson(
                root_camera=root_cam,
                keypoints_3d_camera=final_cam,
                keypoints_3d=final_cam - root_cam[:, None, :],
                keypoints_3d_world=world,
                foot_contact=contact,
                skate_before_mm=before,
                skate_after_mm=after,
            )
        )
    return placed, ground
