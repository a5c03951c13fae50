"""Made-up input for benchmarks and tests: a person moving in place, and textured frames.

Known motion seen by a known camera, so a test can check what the tool draws or recovers
against the truth, and a benchmark can run without a video or a network.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np

from hotcli.lifting.lifter import PersonMotion
from hotcli.lifting.upright import upright
from hotcli.scene.camera import look_at_camera

#: A person standing, facing the camera (world −y), z up, metres; Human3.6M joint order.
STANDING_POSE = np.array(
    [
        [0.00, 0.00, 0.95], [-0.13, 0.00, 0.93], [-0.14, 0.00, 0.51], [-0.15, 0.03, 0.09],
        [0.13, 0.00, 0.93], [0.14, 0.00, 0.51], [0.15, 0.03, 0.09], [0.00, 0.01, 1.20],
        [0.00, 0.00, 1.44], [0.00, -0.08, 1.55], [0.00, -0.02, 1.68], [0.18, 0.00, 1.42],
        [0.22, 0.00, 1.14], [0.24, -0.05, 0.89], [-0.18, 0.00, 1.42], [-0.22, 0.00, 1.14],
        [-0.24, -0.05, 0.89],
    ]
)  # fmt: skip


def _rotate_x(points: np.ndarray, pivot: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    return (points - pivot) @ rot.T + pivot


def synthetic_person(
    frames: int, width: int, height: int, track_id: int = 1, x_offset: float = 0.0
) -> PersonMotion:
    """A person swinging arms and legs in place, seen by a tilted, slightly rolled camera."""
    t = np.arange(frames)
    phase = 2 * math.pi * t / 40.0
    world = np.repeat(STANDING_POSE[None], frames, axis=0).copy()
    for i, ph in enumerate(phase):
        pose = world[i]
        swing = 0.6 * math.sin(ph)
        pose[[12, 13]] = _rotate_x(pose[[12, 13]], pose[11], swing)
        pose[[15, 16]] = _rotate_x(pose[[15, 16]], pose[14], -swing)
        pose[[2, 3]] = _rotate_x(pose[[2, 3]], pose[1], 0.4 * swing)
        pose[[5, 6]] = _rotate_x(pose[[5, 6]], pose[4], -0.4 * swing)
    world[..., 0] += x_offset
    R = look_at_camera(np.array([0.4, -4.5, 1.6]), np.array([0.0, 0.0, 0.9]), roll_degrees=4.0)
    cam = (world - np.array([0.4, -4.5, 1.6])) @ R.T
    focal = 1.1 * max(width, height)
    pixels = cam[..., :2] / cam[..., 2:3] * focal + np.array([width / 2, height / 2])
    rel = cam - cam[:, :1]
    scores = np.full((frames, 17), 0.9, np.float32)
    scores[:, 13] = np.where(t % 10 < 3, 0.1, 0.9)  # a flickering left wrist
    interpolated = (t % 20) >= 17  # a short gap the tracker filled in
    return PersonMotion(
        track_id, pixels.astype(np.float32), scores, interpolated, rel.astype(np.float32),
        upright(rel)[0],
    )  # fmt: skip


def synthetic_frames(frames: int, width: int, height: int) -> Iterable[np.ndarray]:
    """Textured frames (a moving gradient with boxes), so the encoder has real work."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack(
        [(xx * 255 // max(1, width)), (yy * 255 // max(1, height)), (xx + yy) % 256], -1
    )
    base = base.astype(np.uint8)
    for i in range(frames):
        frame = np.roll(base, 4 * i, axis=1)
        cv2.rectangle(
            frame, (40 + 5 * i % width, 60), (140 + 5 * i % width, 160), (40, 200, 90), -1
        )
        yield frame
