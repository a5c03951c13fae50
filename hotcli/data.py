"""Human3.6M for training and evaluation: sequences, cameras, clips and augmentations.

The data set itself never enters the repository: it is read from a ``.npz`` of world
poses (key ``"<subject>/<action>"``, (T, 17, 3) metres at 50 Hz) and a ``cameras.json``,
the layout described in ``../shared/data/README.md``.

A training sample is a clip of 2D keypoints, normalised the way the field does it
(:func:`hotcli.camera.normalize_2d`), and the matching root-relative 3D pose in the
camera's axes, in metres. The 2D comes from projecting the 3D through a real studio
camera (with its lens distortion) or through a *virtual* camera placed anywhere
around the subject, so the lifter is not tied to four fixed viewpoints.
"""

from __future__ import annotations

import json
import multiprocessing
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hotcli.camera import normalize_2d, project, world_to_camera
from hotcli.errors import HotPoseError
from hotcli.skeleton import (
    H36M_BONES,
    H36M_PARENTS,
    bone_lengths,
    flip_pose,
    symmetric_bones,
    with_bone_lengths,
)

FPS = 50.0  # Human3.6M's capture rate, the rate the lifter is trained at


@dataclass(frozen=True)
class Camera:
    """A calibrated camera: ``X_cam = R · (X_world − T)``; pixels through f, c and distortion."""

    R: np.ndarray
    T: np.ndarray
    f: np.ndarray
    c: np.ndarray
    k: np.ndarray
    p: np.ndarray
    width: int
    height: int
    id: str = ""

    def to_camera(self, world: np.ndarray) -> np.ndarray:
        return world_to_camera(world, self.R, self.T)

    def to_pixels(self, cam: np.ndarray) -> np.ndarray:
        return project(cam, self.f, self.c, self.k, self.p)


@dataclass
class Sequence:
    subject: str
    action: str  # without the take number: "Walking 1" → "Walking"
    key: str
    world: np.ndarray  # (T, 17, 3) metres, z up
    cameras: list[Camera] = field(default_factory=list)


def action_of(key: str) -> str:
    """``"S1/Walking 1"`` → ``"Walking"`` (takes of one action are scored together)."""
    return re.sub(r"\s*\d+$", "", key.split("/", 1)[1])


def load_cameras(path: str | Path) -> dict[str, list[Camera]]:
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise HotPoseError(f"cannot read cameras from {path}: {exc}") from None
    return {
        subject: [
            Camera(
                R=np.asarray(c["R"], np.float64),
                T=np.asarray(c["T"], np.float64),
                f=np.asarray(c["f"], np.float64),
                c=np.asarray(c["c"], np.float64),
                k=np.asarray(c["k"], np.float64),
                p=np.asarray(c["p"], np.float64),
                width=int(c["res_w"]),
                height=int(c["res_h"]),
                id=str(c.get("id", "")),
            )
            for c in cams
        ]
        for subject, cams in raw.items()
    }


def load_sequences(
    poses: str | Path, cameras: str | Path, subjects: list[str] | None = None
) -> list[Sequence]:
    """Every sequence of the chosen subjects that has cameras, in file order."""
    cams = load_cameras(cameras)
    try:
        data = np.load(poses)
    except (OSError, ValueError) as exc:
        raise HotPoseError(f"cannot read poses from {poses}: {exc}") from None
    seqs = []
    for key in data.files:
        subject = key.split("/", 1)[0]
        if (subjects is None or subject in subjects) and subject in cams:
            world = np.asarray(data[key], np.float32)
            seqs.append(Sequence(subject, action_of(key), key, world, cams[subject]))
    if not seqs:
        raise HotPoseError(f"no sequences for subjects {subjects} in {poses}")
    return seqs


def camera_view(world: np.ndarray, cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    """World poses (..., 17, 3) → (2D normalised (..., 17, 2), root-relative 3D (..., 17, 3))."""
    xyz = cam.to_camera(world)
    uv = cam.to_pixels(xyz)
    return normalize_2d(uv, cam.width, cam.height), (xyz - xyz[..., :1, :]).astype(np.float32)


@dataclass(frozen=True)
class Augment:
    """Training augmentations; each can be switched off (the model card lists those used)."""

    flip: bool = True
    virtual_cameras: float = 0.5  # share of clips seen through a random virtual camera
    noise: float = 0.01  # per-joint Gaussian 2D noise, std as a share of the person's height
    jitter: float = 0.005  # slow drift of each joint (share of height), correlated in time
    bad_joints: float = 0.01  # probability per joint and frame of a dropped or wrong joint
    scale_shift: float = 0.05  # random 2D zoom and shift around the person
    strides: tuple[int, ...] = (1, 1, 1, 2, 3)  # temporal strides drawn per clip (frame rates)
    bone_scale: float = 0.1  # other body proportions: each bone's length × 1±S, the body × 1±S

    @classmethod
    def none(cls) -> Augment:
        return cls(False, 0.0, 0.0, 0.0, 0.0, 0.0, (1,), 0.0)


def other_body(world_clip: np.ndarray, spread: float, rng: np.random.Generator) -> np.ndarray:
    """The clip's motion performed by a person of other proportions (world poses, metres).

    A few training subjects are a few skeletons; a lifter that has seen only those learns
    their bone lengths instead of reading them from the 2D. Each bone's length is scaled
    by a random factor in 1±spread (left and right alike), and the whole body by one more;
    the pelvis path and every bone's direction are kept.
    """
    scales = symmetric_bones(rng.uniform(1 - spread, 1 + spread, len(H36M_BONES)))
    scales *= rng.uniform(1 - spread, 1 + spread)
    lengths = bone_lengths(world_clip) * scales
    return with_bone_lengths(world_clip, lengths).astype(np.float32)


def virtual_camera(world_clip: np.ndarray, rng: np.random.Generator) -> Camera:
    """A pinhole camera at a random azimuth, elevation and distance, aimed near the subject.

    The image size is drawn from common video shapes (landscape and portrait), the
    focal length so the person fills a realistic share of it, and the aim is offset so
    the person is not always centred.
    """
    width, height = [(1920, 1080), (1280, 720), (1080, 1920), (1000, 1000), (720, 1280)][
        rng.integers(5)
    ]
    centre = world_clip[:, 0].mean(0)
    azimuth = rng.uniform(0, 2 * np.pi)
    elevation = np.deg2rad(rng.uniform(-10, 40))
    distance = rng.uniform(2.5, 8.0)
    target = centre + np.array([0.0, 0.0, rng.uniform(-0.3, 0.3)])
    direction = np.array(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ]
    )
    position = target + distance * direction
    forward = target - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    R = np.stack([right, down, forward])
    # Person height ≈ 1.7 m should span 25–90 % of the shorter side.
    share = rng.uniform(0.25, 0.9)
    focal = share * min(width, height) * distance / 1.7
    offset = rng.uniform(-0.25, 0.25, size=2) * np.array([width, height])
    return Camera(
        R=R,
        T=position,
        f=np.array([focal, focal]),
        c=np.array([width / 2, height / 2]) + offset,
        k=np.zeros(3),
        p=np.zeros(2),
        width=width,
        height=height,
        id="virtual",
    )


def corrupt_2d(pose2d: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    """Detector-like errors on a normalised 2D clip (F, 17, 2)."""
    f, j, _ = pose2d.shape
    height = np.ptp(pose2d[..., 1], axis=1).mean() + 1e-6
    out = pose2d.copy()
    if aug.scale_shift > 0:
        centre = out.reshape(-1, 2).mean(0)
        zoom = 1 + rng.uniform(-aug.scale_shift, aug.scale_shift)
        out = (out - centre) * zoom + centre + rng.uniform(-1, 1, 2) * aug.scale_shift * height
    if aug.jitter > 0:  # a slow random walk per joint, smoothed over ~10 frames
        steps = rng.normal(0, 1, (f + 9, j, 2))
        walk = np.cumsum(steps, 0)
        walk = (walk[9:] - walk[:-9]) / 3.0
        out = out + aug.jitter * height * walk
    if aug.noise > 0:
        out = out + rng.normal(0, rng.uniform(0, aug.noise) * height, out.shape)
    if aug.bad_joints > 0:
        bad = rng.random((f, j)) < aug.bad_joints
        if bad.any():
            wrong = out + rng.normal(0, 0.15 * height, out.shape)
            parents = np.maximum(np.array(H36M_PARENTS), 0)
            dropped = out[:, parents]
            pick_wrong = rng.random((f, j)) < 0.5
            replacement = np.where(pick_wrong[..., None], wrong, dropped)
            out = np.where(bad[..., None], replacement, out)
    return out.astype(np.float32)


class ClipSampler:
    """Random training clips: each epoch visits every clip start once (every ``stride`` frames)."""

    def __init__(self, sequences: list[Sequence], frames: int, stride: int, aug: Augment) -> None:
        self.seqs, self.frames, self.aug = sequences, frames, aug
        self.starts = [
            (i, s) for i, seq in enumerate(sequences) for s in range(0, len(seq.world), stride)
        ]

    def __len__(self) -> int:
        return len(self.starts)

    def clip(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One (2D (F,17,2), 3D (F,17,3)) sample; sequence ends are padded by repetition."""
        seq_i, start = self.starts[index]
        seq = self.seqs[seq_i]
        stride = int(rng.choice(self.aug.strides))
        t = start + stride * (np.arange(self.frames) - self.frames // 2)
        world = seq.world[np.clip(t, 0, len(seq.world) - 1)]
        if self.aug.bone_scale > 0:
            world = other_body(world, self.aug.bone_scale, rng)
        if rng.random() < self.aug.virtual_cameras:
            cam = virtual_camera(world, rng)
        else:
            cam = seq.cameras[rng.integers(len(seq.cameras))]
        pose2d, pose3d = camera_view(world, cam)
        pose2d = corrupt_2d(pose2d, self.aug, rng)
        if self.aug.flip and rng.random() < 0.5:
            pose2d, pose3d = flip_pose(pose2d), flip_pose(pose3d)
        return pose2d, pose3d

    def batch(self, indices: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(2D (B,F,17,2), 3D (B,F,17,3)) float32 for these clip starts."""
        pairs = [self.clip(int(i), rng) for i in indices]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

    def batches(self, batch: int, seed: tuple[int, ...], workers: int = 0):
        """Yield the batches of one shuffled epoch.

        Batch ``k`` draws its clips and augmentations from ``seed + (k,)`` alone, so the
        stream is the same whether it is made here or by ``workers`` processes (a GPU
        outruns one CPU making clips). At most ``2·workers`` batches wait in memory.
        """
        order = np.random.default_rng(seed).permutation(len(self.starts))
        jobs = [
            (order[i : i + batch], (*seed, k))
            for k, i in enumerate(range(0, len(order) - batch + 1, batch))
        ]
        if workers <= 0:
            for indices, job_seed in jobs:
                yield self.batch(indices, np.random.default_rng(job_seed))
            return
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_worker_init, initargs=(self,)) as pool:
            waiting: deque = deque()
            for job in jobs:
                if len(waiting) == 2 * workers:
                    yield waiting.popleft().get()
                waiting.append(pool.apply_async(_worker_batch, (job,)))
            while waiting:
                yield waiting.popleft().get()


_WORKER_SAMPLER: ClipSampler | None = None


def _worker_init(sampler: ClipSampler) -> None:
    global _WORKER_SAMPLER
    _WORKER_SAMPLER = sampler


def _worker_batch(job: tuple[np.ndarray, tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    indices, seed = job
    return _WORKER_SAMPLER.batch(indices, np.random.default_rng(seed))
