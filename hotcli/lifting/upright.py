"""Turn lifted poses (camera axes) into an upright world frame: z up, feet on the ground.

This is the frame of root-relative motion alone, one person at a time. ``hot-pose VIDEO``
places everyone in the video's one world instead (:mod:`hotcli.scene.ground`, which uses
:func:`estimate_up` and :func:`rotation_to_world` from here), where people move.

The lifter answers in the filming camera's axes (x right, y down, z forward), so a
tilted or rolled camera gives a tilted body. A fixed rotation (the published demo's
studio-camera quaternion) only fits cameras mounted like Human3.6M's, so the body's own
up direction is estimated from the skeleton over the whole clip instead.

World frame chosen here (right-handed):

- +z is the body's up, estimated robustly over the whole clip from the skeleton
  (:func:`estimate_up`: torso and straight legs vertical, hip and shoulder lines
  horizontal), so one crouch does not tilt the clip.
- +y is the filming camera's viewing direction projected on the ground: the camera
  stands on the −y side looking towards +y, so x is roughly the image's right.
  The camera's viewing direction in world axes is ``R @ [0, 0, 1]``.
- Each frame's pelvis is over the origin (x = y = 0) and each frame's lowest joint is
  on z = 0. The lifter's poses are root-relative (they carry no vertical trajectory), so
  per-frame grounding keeps the feet planted through squats, kneeling and one-leg
  stances; a clip-wide ground would make feet float whenever the knees bend. The price:
  a jump shows as legs tucking on the ground rather than a rise.
"""

from __future__ import annotations

import numpy as np

PELVIS, RIGHT_HIP, RIGHT_KNEE, RIGHT_ANKLE, LEFT_HIP, LEFT_KNEE, LEFT_ANKLE = 0, 1, 2, 3, 4, 5, 6
THORAX, LEFT_SHOULDER, RIGHT_SHOULDER = 8, 11, 14

#: Up in camera axes for a camera held level (image up).
CAMERA_UP = np.array([0.0, -1.0, 0.0])
#: Votes further than this from the consensus are ignored in the robust mean.
_INLIER_DEGREES = 25.0
#: A leg votes only in frames where it is straight (knee bent less than this).
_STRAIGHT_KNEE_DEGREES = 25.0
#: Weight of "hip and shoulder lines are horizontal" against "torso and legs are vertical".
_LATERAL_WEIGHT = 10.0
#: A skeleton up further than this from the image's up means the person lies or sits on the
#: floor for most of the clip (or the footage is rolled, which is rarer): trust the camera.
_MAX_DEGREES_FROM_CAMERA_UP = 50.0


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the last axis and a mask of those that were usable."""
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    ok = np.isfinite(norm[..., 0]) & (norm[..., 0] > 1e-6)
    return np.where(ok[..., None], v / np.where(ok[..., None], norm, 1.0), 0.0), ok


def _vertical_votes(k: np.ndarray) -> np.ndarray:
    """Directions that point up when a person stands: the torso, and each straight leg."""
    votes = [_unit(k[:, THORAX] - k[:, PELVIS])]
    for hip, knee, ankle in (
        (RIGHT_HIP, RIGHT_KNEE, RIGHT_ANKLE),
        (LEFT_HIP, LEFT_KNEE, LEFT_ANKLE),
    ):
        thigh, _ = _unit(k[:, knee] - k[:, hip])
        shin, _ = _unit(k[:, ankle] - k[:, knee])
        straight = np.sum(thigh * shin, axis=-1) > np.cos(np.radians(_STRAIGHT_KNEE_DEGREES))
        leg, ok = _unit(k[:, hip] - k[:, ankle])
        votes.append((leg, ok & straight))
    return np.concatenate([v[ok] for v, ok in votes])


def estimate_up(keypoints_3d: np.ndarray) -> np.ndarray:
    """The body's up direction (unit, camera axes) over a clip of (T, 17, 3) poses.

    Three cues, all from the skeleton: the torso and straight legs point up (a robust
    mean keeps votes within 25° of the consensus, so bending or sitting frames drop out);
    the hip and shoulder lines are horizontal in nearly every pose (as the person turns,
    they pin the up direction from every side). The answer maximises agreement with the
    vertical votes minus disagreement with the horizontal lines. Only when the result is
    more than 50° from the image's up (someone lying on the floor most of the clip; a
    root-relative pose cannot tell that from a camera rolled on its side) is the camera's
    up used instead. Measured on Human3.6M (all training clips × 4 cameras): median error
    2.1°, 95th percentile 10°; sitting-on-the-floor clips are the hard ones.
    """
    k = np.asarray(keypoints_3d, dtype=np.float64)
    votes = _vertical_votes(k)
    if len(votes) == 0:
        return CAMERA_UP.copy()
    up, _ = _unit(votes.mean(axis=0))
    if not np.any(up):
        return CAMERA_UP.copy()
    cos_limit = np.cos(np.radians(_INLIER_DEGREES))
    inliers = votes
    for _ in range(4):
        kept = votes[votes @ up >= cos_limit]
        if len(kept) < max(1, len(votes) // 5):
            break
        inliers = kept
        up, _ = _unit(kept.mean(axis=0))
    lateral, ok = _unit(
        np.concatenate(
            [k[:, LEFT_HIP] - k[:, RIGHT_HIP], k[:, LEFT_SHOULDER] - k[:, RIGHT_SHOULDER]]
        )
    )
    lateral = lateral[ok]
    scatter = inliers.T @ inliers / len(inliers)
    if len(lateral):
        scatter -= _LATERAL_WEIGHT * (lateral.T @ lateral) / len(lateral)
    best = np.linalg.eigh(scatter)[1][:, -1]
    up = best if best @ up >= 0 else -best
    if up @ CAMERA_UP < np.cos(np.radians(_MAX_DEGREES_FROM_CAMERA_UP)):
        return CAMERA_UP.copy()
    return up


def rotation_to_world(up: np.ndarray) -> np.ndarray:
    """Rotation R (rows = world x, y, z in camera axes) with up → +z, camera forward → +y."""
    z_axis, _ = _unit(np.asarray(up, dtype=np.float64))
    forward = np.array([0.0, 0.0, 1.0])
    y_axis, _ = _unit(forward - (forward @ z_axis) * z_axis)
    if not np.any(y_axis):  # camera looks straight along the body's axis: use the image's up
        image_up = CAMERA_UP - (CAMERA_UP @ z_axis) * z_axis
        y_axis, _ = _unit(image_up)
    x_axis = np.cross(y_axis, z_axis)
    return np.stack([x_axis, y_axis, z_axis])


def upright(keypoints_3d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-axis poses (T, 17, 3) → (world poses (T, 17, 3), rotation R (3, 3)).

    ``world = cam @ R.T + offset`` where the per-frame offset puts the pelvis over the
    origin and the lowest joint on z = 0 (see the module docstring for why per frame).
    """
    k = np.asarray(keypoints_3d, dtype=np.float64)
    if k.ndim != 3 or k.shape[1:] != (17, 3):
        raise ValueError(f"expected (T, 17, 3) keypoints, got {k.shape}")
    R = rotation_to_world(estimate_up(k))
    world = k @ R.T
    world[..., :2] -= world[:, PELVIS : PELVIS + 1, :2]
    if len(k):
        lowest = np.fmin.reduce(world[..., 2], axis=1, keepdims=True)  # ignores NaN joints
        world[..., 2] -= np.where(np.isfinite(lowest), lowest, 0.0)
    return world.astype(np.float32), R
