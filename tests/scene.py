"""Synthetic scenes with a known camera for the world-placement tests: walkers whose feet
really stay put while down (planted footprints, legs by two-bone IK), filmed by a pinhole
camera at a known height and tilt."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hotcli.bench.synthetic import STANDING_POSE
from hotcli.scene.camera import look_at_camera
from hotcli.scene.feet import two_bone_ik

HIP_HEIGHT = 0.88  # pelvis height while walking (knees slightly bent), metres
ANKLE_HEIGHT = 0.09  # the ankle joint of a foot flat on the floor
UPPER = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]


def _facing(direction: np.ndarray) -> np.ndarray:
    """Rotation about z turning STANDING_POSE (facing −y) to face ``direction`` (xy)."""
    heading = math.atan2(direction[1], direction[0]) - math.atan2(-1.0, 0.0)
    c, s = math.cos(heading), math.sin(heading)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def walker(frames: int, fps: float, start, end, period_s: float = 1.1) -> np.ndarray:
    """World poses (T, 17, 3), z up, of a person walking in a straight line start → end (xy).

    Each foot is planted (fixed) for 60 % of a gait cycle and swings to the next footprint
    for the rest; the two feet are half a cycle apart.
    """
    start, end = np.asarray(start, float), np.asarray(end, float)
    t = np.arange(frames) / fps
    duration = max(t[-1], 1e-6)
    direction = (end - start) / max(np.linalg.norm(end - start), 1e-9)
    velocity = (end - start) / duration
    rot = _facing(direction)
    body = (STANDING_POSE - STANDING_POSE[0]) @ rot.T
    pelvis = np.zeros((frames, 3))
    pelvis[:, :2] = start + velocity[None] * t[:, None]
    pelvis[:, 2] = HIP_HEIGHT + 0.015 * np.cos(4 * math.pi * t / period_s)
    poses = np.repeat(body[None], frames, axis=0) + pelvis[:, None]
    lateral = np.array([-direction[1], direction[0]])  # to the walker's left
    for hip, knee, ankle, phase in ((4, 5, 6, 0.0), (1, 2, 3, 0.5)):
        side = 1.0 if hip == 4 else -1.0
        feet = np.zeros((frames, 3))
        for i, ti in enumerate(t):
            cycle = (ti / period_s + phase) % 1.0
            k = math.floor(ti / period_s + phase)
            touch = (k - phase) * period_s  # when this cycle's stance began
            step = velocity * period_s
            foot = start + velocity * touch + velocity * 0.3 * period_s + side * 0.1 * lateral
            z = ANKLE_HEIGHT
            if cycle >= 0.6:  # swing towards the next footprint
                frac = (cycle - 0.6) / 0.4
                foot = foot + frac * step
                z += 0.12 * math.sin(math.pi * frac)
            feet[i] = (*foot, z)
        bent = poses[:, knee] + 0.05 * np.array([*direction, 0.0])  # knees bend forward
        new_knee, new_ankle = two_bone_ik(poses[:, hip], bent, poses[:, ankle], feet)
        poses[:, knee], poses[:, ankle] = new_knee, new_ankle
    return poses


@dataclass
class Scene:
    """What a camera at ``eye`` looking at ``target`` sees of world poses."""

    width: int = 1280
    height: int = 720
    focal: float = 1000.0
    eye: tuple[float, float, float] = (0.0, 0.0, 1.6)
    target: tuple[float, float, float] = (0.0, 6.0, 0.8)

    @property
    def rotation(self) -> np.ndarray:
        return look_at_camera(np.asarray(self.eye), np.asarray(self.target))

    @property
    def centre(self) -> np.ndarray:
        return np.array([self.width / 2, self.height / 2])

    def to_camera(self, world: np.ndarray) -> np.ndarray:
        return (np.asarray(world) - np.asarray(self.eye)) @ self.rotation.T

    def project(self, camera: np.ndarray) -> np.ndarray:
        return self.focal * camera[..., :2] / camera[..., 2:3] + self.centre

    @property
    def tilt_degrees(self) -> float:
        forward = np.asarray(self.target) - np.asarray(self.eye)
        return math.degrees(math.atan2(-forward[2], np.linalg.norm(forward[:2])))


def observe(scene: Scene, world: np.ndarray, rng: np.random.Generator, noise_m: float = 0.01,
            noise_px: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(true camera poses, noisy root-relative 3D as a lifter gives it, noisy pixels)."""
    cam = scene.to_camera(world)
    rel = cam - cam[:, :1]
    rel_noisy = rel + rng.normal(scale=noise_m, size=rel.shape)
    rel_noisy[:, 0] = 0.0
    pixels = scene.project(cam) + rng.normal(scale=noise_px, size=cam.shape[:2] + (2,))
    return cam, rel_noisy, pixels
