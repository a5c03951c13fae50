"""Feet on the ground: when each foot is in contact, locking it there, and how much it skates.

The skeleton has no toes, so the foot is the ankle joint. A foot is in contact when it is
near the floor and hardly moving (:func:`foot_contact`); during a contact it should stay
put, but a lifted pose placed frame by frame slides a little (``foot skate``).
:func:`lock_feet` pins each contact's ankle to one spot, the mean of where it was over
the contact, which is the fixed spot that moves it least (least squares), and bends the
leg to reach it by two-bone inverse kinematics: the hip stays, the knee turns in the
leg's own plane, and the thigh and shin keep their lengths exactly. Around each contact
the correction fades in and out over a few frames so the foot never jumps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hotcli.pose2d.presence import runs

#: (hip, knee, ankle) joints of the left and right legs, in ``foot_contact``'s column order.
LEGS: tuple[tuple[int, int, int], ...] = ((4, 5, 6), (1, 2, 3))
ANKLES: tuple[int, ...] = (6, 3)


@dataclass(frozen=True)
class ContactOptions:
    """When a foot counts as in contact: near the floor and slow.

    ``height_m``: ankle height above the person's own floor level (the 5th percentile of
    their lower ankle's height over the clip, so a slightly misfitted plane still works);
    ``speed_m_s``: the ankle's horizontal speed; ``min_frames``: shorter contacts are
    dropped and shorter breaks inside a contact closed.
    """

    height_m: float = 0.06
    speed_m_s: float = 0.35
    min_frames: int = 3

    def __post_init__(self) -> None:
        if not (self.height_m > 0 and self.speed_m_s > 0):
            raise ValueError("contact thresholds must be positive")
        if self.min_frames < 1:
            raise ValueError(f"min_frames must be at least 1, got {self.min_frames}")


def horizontal_speed(world: np.ndarray, fps: float) -> np.ndarray:
    """Horizontal speed (T, J) in m/s of (T, J, 3) world points, central differences (NaN kept)."""
    xy = np.asarray(world, dtype=np.float64)[..., :2]
    if len(xy) < 2:
        return np.zeros(xy.shape[:-1])
    grad = np.gradient(xy, axis=0)
    return np.linalg.norm(grad, axis=-1) * fps


def foot_contact(
    world: np.ndarray, fps: float, options: ContactOptions | None = None
) -> np.ndarray:
    """(T, 2) bool, (left, right): each ankle near the floor and slow, in (T, 17, 3) world poses.

    Frames with NaN joints are never in contact.
    """
    options = options or ContactOptions()
    w = np.asarray(world, dtype=np.float64)
    ankles = w[:, list(ANKLES)]  # (T, 2, 3)
    finite = np.isfinite(ankles).all(-1)
    if not finite.any():
        return np.zeros((len(w), 2), bool)
    lower = np.fmin.reduce(np.where(finite, ankles[..., 2], np.nan), axis=1)
    floor = float(np.percentile(lower[np.isfinite(lower)], 5))
    near = (ankles[..., 2] - floor) < options.height_m
    speed = horizontal_speed(ankles, fps)
    contact = finite & near & (speed < options.speed_m_s)
    if options.min_frames > 1:
        k = options.min_frames
        contact = erode_in_time(dilate_in_time(contact, k), k) & finite  # close short gaps
        contact = dilate_in_time(erode_in_time(contact, k), k)  # drop short contacts
    return contact


def erode_in_time(mask: np.ndarray, k: int) -> np.ndarray:
    """True where all of the ``k`` frames around are (T, ...) bool; outside the clip is False.

    With :func:`dilate_in_time`, ``scipy.ndimage``'s binary erosion and dilation along the
    first axis with a structure of ``k`` ones (a test checks they agree), without importing
    ``scipy.ndimage`` (0.15 s of every run).
    """
    c = k // 2
    padded = np.pad(mask, [(c, k - 1 - c)] + [(0, 0)] * (mask.ndim - 1))
    return sliding_window_view(padded, k, axis=0).all(-1)


def dilate_in_time(mask: np.ndarray, k: int) -> np.ndarray:
    """True where any of the ``k`` frames around is (T, ...) bool (the mirror of
    :func:`erode_in_time`'s window, as a dilation is)."""
    c = k // 2
    padded = np.pad(mask, [(k - 1 - c, c)] + [(0, 0)] * (mask.ndim - 1))
    return sliding_window_view(padded, k, axis=0).any(-1)


def skate_steps(world: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Horizontal distances (K,) in metres each ankle moves between two frames in contact.

    ``world`` (T, 17, 3) metres, z up; ``contact`` (T, 2) as from :func:`foot_contact`.
    Only steps between consecutive frames with that foot down in both count. Kept as the
    steps themselves so that several clips can be pooled before averaging.
    """
    w = np.asarray(world, dtype=np.float64)
    c = np.asarray(contact, dtype=bool)
    steps = []
    for side, ankle in enumerate(ANKLES):
        both = c[1:, side] & c[:-1, side]
        step = np.linalg.norm(np.diff(w[:, ankle, :2], axis=0), axis=-1)
        steps.append(step[both & np.isfinite(step)])
    return np.concatenate(steps)


def foot_skate(world: np.ndarray, contact: np.ndarray) -> float:
    """Mean horizontal distance (mm per frame) an ankle moves while down; NaN without contacts.

    See :func:`skate_steps` for the arguments.
    """
    moved = skate_steps(world, contact)
    return float(moved.mean() * 1000.0) if moved.size else float("nan")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def two_bone_ik(
    hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """New (knee, ankle) (N, 3) that reach ``target`` with the hip fixed and bone lengths kept.

    The knee stays in the plane of the hip, the target and the old knee (the leg bends the
    way it did); a target out of reach is approached as near as the leg allows.
    """
    thigh = np.linalg.norm(knee - hip, axis=-1, keepdims=True)
    shin = np.linalg.norm(ankle - knee, axis=-1, keepdims=True)
    to_target = target - hip
    reach = np.linalg.norm(to_target, axis=-1, keepdims=True)
    direction = _unit(to_target)
    d = np.clip(reach, np.abs(thigh - shin) + 1e-6, thigh + shin - 1e-6)
    # Knee: a along the hip→target line, r off it, towards where the knee was.
    a = (thigh**2 - shin**2 + d**2) / (2 * d)
    r = np.sqrt(np.maximum(thigh**2 - a**2, 0.0))
    old = knee - hip
    off = old - np.sum(old * direction, axis=-1, keepdims=True) * direction
    fallback = np.cross(direction, np.array([0.0, 0.0, 1.0]))  # a straight leg: any side
    weak = np.linalg.norm(off, axis=-1, keepdims=True) < 1e-6
    off = _unit(np.where(weak, fallback, off))
    new_knee = hip + a * direction + r * off
    new_ankle = new_knee + shin * _unit(hip + d * direction - new_knee)
    return new_knee, new_ankle


def lock_targets(
    ankle: np.ndarray, contact: np.ndarray, fade: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where one ankle (T, 3) should be, and (T,) which frames the lock moves.

    During each contact run the target is the run's mean position; for ``fade`` frames on
    either side the offset at the run's edge fades out linearly. Where fades of two runs
    overlap the nearer run wins.
    """
    ankle = np.asarray(ankle, dtype=np.float64)
    t = len(ankle)
    offset = np.zeros((t, 3))
    weight = np.zeros(t)
    for start, stop in runs(contact):
        anchor = np.nanmean(ankle[start:stop], axis=0)
        offset[start:stop] = anchor - ankle[start:stop]
        weight[start:stop] = 1.0
        for edge, step, end in ((start, -1, -1), (stop - 1, 1, t)):
            for k in range(1, fade + 1):
                i = edge + step * k
                if i == end or not np.isfinite(ankle[i]).all():
                    break
                share = 1.0 - k / (fade + 1)
                if share > weight[i]:
                    offset[i] = share * (anchor - ankle[edge])
                    weight[i] = share
    moved = weight > 0
    target = ankle + offset
    return target, moved


def lock_feet(
    world: np.ndarray, contact: np.ndarray, fps: float, fade_seconds: float = 0.1
) -> np.ndarray:
    """(T, 17, 3) world poses with each ankle pinned during its contacts (see the module doc).

    Only knees and ankles move, and only in contact frames and the fades around them.
    """
    w = np.array(world, dtype=np.float64)
    c = np.asarray(contact, dtype=bool)
    fade = max(1, int(round(fade_seconds * fps)))
    for side, (hip, knee, ankle) in enumerate(LEGS):
        target, moved = lock_targets(w[:, ankle], c[:, side], fade)
        moved &= np.isfinite(w[:, [hip, knee, ankle]]).all(axis=(1, 2))
        if not moved.any():
            continue
        new_knee, new_ankle = two_bone_ik(w[moved, hip], w[moved, knee], w[moved, ankle],
                                          target[moved])  # fmt: skip
        w[moved, knee] = new_knee
        w[moved, ankle] = new_ankle
    return w
