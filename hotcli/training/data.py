"""Human3.6M for training and evaluation: sequences, cameras, clips and augmentations.

The data set itself never enters the repository: it is read from a ``.npz`` of world
poses (key ``"<subject>/<action>"``, (T, 17, 3) metres at 50 Hz) and a ``cameras.json``,
the layout described in ``../shared/data/README.md``.

A training sample is a clip of 2D keypoints, normalised the way the field does it
(:func:`hotcli.scene.camera.normalize_2d`), and the matching root-relative 3D pose in the
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

from hotcli.errors import HotPoseError
from hotcli.lifting.skeleton import (
    H36M_BONES,
    H36M_PARENTS,
    bone_lengths,
    flip_permutation,
    flip_pose,
    symmetric_bones,
    with_bone_lengths,
)
from hotcli.pose2d.layouts import to_h36m
from hotcli.scene.camera import look_at_camera, normalize_2d, project, world_to_camera


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
    #: A detector's 2D by camera id: Human3.6M-17 pixels (T, 17, 2), frame-aligned with world.
    detections: dict[str, np.ndarray] = field(default_factory=dict)

    def detected_views(self) -> list[Camera]:
        """The cameras of this sequence whose view has detections."""
        return [c for c in self.cameras if c.id in self.detections]


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
    poses: str | Path,
    cameras: str | Path,
    subjects: list[str] | None = None,
    keypoints_2d: str | Path | None = None,
    layout: str | None = None,
) -> list[Sequence]:
    """Every sequence of the chosen subjects that has cameras, in file order.

    With ``keypoints_2d`` (see :func:`load_detections`) each sequence also carries the
    detections of those of its views the file has.
    """
    cams = load_cameras(cameras)
    detections = load_detections(keypoints_2d, layout) if keypoints_2d else {}
    try:
        data = np.load(poses)
    except (OSError, ValueError) as exc:
        raise HotPoseError(f"cannot read poses from {poses}: {exc}") from None
    seqs = []
    for key in data.files:
        subject = key.split("/", 1)[0]
        if (subjects is None or subject in subjects) and subject in cams:
            world = np.asarray(data[key], np.float32)
            seq = Sequence(subject, action_of(key), key, world, cams[subject])
            for cam in seq.cameras:
                found = detections.get(f"{key}/{cam.id}")
                if found is None:
                    continue
                if len(found) != len(world):
                    raise HotPoseError(
                        f"{keypoints_2d}: {key}/{cam.id} has {len(found)} frames of 2D "
                        f"but {len(world)} of 3D; detections must be frame-aligned"
                    )
                seq.detections[cam.id] = found
            seqs.append(seq)
    if not seqs:
        raise HotPoseError(f"no sequences for subjects {subjects} in {poses}")
    return seqs


def load_detections(path: str | Path, layout: str | None) -> dict[str, np.ndarray]:
    """A detections file → ``{"<subject>/<action>/<camera id>": (N, 17, 2) H36M pixels}``.

    The file is an ``.npz`` of (N, J, 2) pixel arrays, or (N, J, 3) with confidences (kept
    out: the lifter reads positions only), in ``layout``
    (:data:`hotcli.pose2d.layouts.KEYPOINT_LAYOUTS`), converted to Human3.6M-17 as the tool
    converts its own detector's keypoints.
    """
    if layout is None:
        raise HotPoseError("--keypoints-2d needs --layout (mpii16, coco17 or h36m17)")
    try:
        data = np.load(path)
        arrays = {key: np.asarray(data[key], np.float32) for key in data.files}
    except (OSError, ValueError, KeyError) as exc:
        raise HotPoseError(f"cannot read 2D keypoints from {path}: {exc}") from None
    out = {}
    for key, arr in arrays.items():
        if arr.ndim != 3 or arr.shape[-1] not in (2, 3) or key.count("/") != 2:
            raise HotPoseError(
                f"{path}: {key!r} must be 'subject/action/camera' with (N, J, 2|3) keypoints, "
                f"got shape {arr.shape}"
            )
        try:
            out[key] = to_h36m(arr[..., :2], None, layout)[0]
        except ValueError as exc:
            raise HotPoseError(f"{path}: {key}: {exc}") from None
    return out


def camera_view(world: np.ndarray, cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    """World poses (..., 17, 3) → (2D normalised (..., 17, 2), root-relative 3D (..., 17, 3))."""
    xyz = cam.to_camera(world)
    uv = cam.to_pixels(xyz)
    return normalize_2d(uv, cam.width, cam.height), (xyz - xyz[..., :1, :]).astype(np.float32)


@dataclass(frozen=True)
class Augment:
    """Training augmentations; each can be switched off (scripts/reproduce_weights.sh: those used).

    Shares and probabilities are in [0, 1]; 2D error sizes are shares of the person's
    height in the image. ``detections`` is the share of clips taken from a view that has
    a real detector's 2D (``--keypoints-2d``) that use it instead of the projected 3D;
    such clips get only the zoom and shift and the flip, as their errors are real.
    """

    flip: bool = True
    virtual_cameras: float = 0.5  # share of clips seen through a random virtual camera
    noise: float = 0.01  # per-joint Gaussian 2D noise, std as a share of the person's height
    jitter: float = 0.005  # slow drift of each joint (share of height), correlated in time
    bad_joints: float = 0.01  # probability per joint and frame of a dropped or wrong joint
    scale_shift: float = 0.05  # random 2D zoom and shift around the person
    strides: tuple[int, ...] = (1, 1, 1, 2, 3)  # temporal strides drawn per clip (frame rates)
    bone_scale: float = 0.1  # other body proportions: each bone's length × 1±S, the body × 1±S
    # Detector-like corruptions, off by default: at the sizes tried they cost ground-truth 2D
    # more than they gave on held-out detections (the model card gives the runs).
    offsets: float = 0.0  # per-joint offset held over the clip (a detector's joint definition)
    swaps: float = 0.0  # probability per clip of a limb's left and right swapped for a while
    jumps: float = 0.0  # probability per clip of a hand or foot jumping onto the other limb
    fast_limbs: float = 0.0  # extra noise per unit of joint speed (motion blur)
    occlusion: float = 0.0  # extra noise on joints behind the body, at 20 cm behind the pelvis
    detections: float = 0.0  # share of clips from detected views that use the real detections

    @classmethod
    def none(cls) -> Augment:
        return cls(False, 0.0, 0.0, 0.0, 0.0, 0.0, (1,), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


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
    R = look_at_camera(position, target)
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


def zoom_and_shift(pose2d: np.ndarray, spread: float, rng: np.random.Generator) -> np.ndarray:
    """A 2D clip (F, 17, 2) zoomed by 1±spread about its centre and shifted by ±spread·height."""
    if spread <= 0:
        return pose2d
    height = person_height(pose2d)
    centre = pose2d.reshape(-1, 2).mean(0)
    zoom = 1 + rng.uniform(-spread, spread)
    return (pose2d - centre) * zoom + centre + rng.uniform(-1, 1, 2) * spread * height


def person_height(pose2d: np.ndarray) -> float:
    """Mean vertical extent of a 2D clip (F, 17, 2): the unit of the 2D error sizes."""
    return float(np.ptp(pose2d[..., 1], axis=1).mean() + 1e-6)


#: Joint groups whose left and right a detector confuses: arms, legs, lower arms, lower legs.
_SWAP_GROUPS: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((11, 12, 13), (14, 15, 16)),
    ((4, 5, 6), (1, 2, 3)),
    ((12, 13), (15, 16)),
    ((5, 6), (2, 3)),
)
#: Hands and feet with their twins on the other side, for jumps to the wrong limb.
_EXTREMITIES = np.array([13, 16, 6, 3, 12, 15, 5, 2])
_MIRROR = flip_permutation()


def _span(frames: int, rng: np.random.Generator, longest: int) -> slice:
    """A random run of 2..longest frames inside a clip of ``frames``."""
    length = int(rng.integers(2, max(3, min(longest, frames) + 1)))
    start = int(rng.integers(0, max(1, frames - length + 1)))
    return slice(start, start + length)


def corrupt_2d(
    pose2d: np.ndarray,
    aug: Augment,
    rng: np.random.Generator,
    depth: np.ndarray | None = None,
    step: int = 1,
) -> np.ndarray:
    """Detector-like errors on a normalised 2D clip (F, 17, 2).

    ``depth`` (F, 17) is each joint's root-relative distance from the camera in metres
    (for occlusion); ``step`` the clip's frame stride (joint speed per 50 Hz frame).
    A real detector's errors are structured, not white noise: each kind here is one
    structure seen in Stacked Hourglass detections of Human3.6M (see the model card).
    """
    f, j, _ = pose2d.shape
    height = person_height(pose2d)
    out = zoom_and_shift(pose2d.copy(), aug.scale_shift, rng)
    if aug.offsets > 0:  # the detector's idea of where a joint is differs, for the whole clip
        out = out + rng.normal(0, rng.uniform(0, aug.offsets) * height, (1, j, 2))
    if aug.jitter > 0:  # a slow random walk per joint, smoothed over ~10 frames
        steps = rng.normal(0, 1, (f + 9, j, 2))
        walk = np.cumsum(steps, 0)
        walk = (walk[9:] - walk[:-9]) / 3.0
        out = out + aug.jitter * height * walk
    if aug.fast_limbs > 0 and f > 1:  # motion blur: fast joints are found less precisely
        speed = np.linalg.norm(np.gradient(pose2d, axis=0), axis=-1, keepdims=True) / step
        out = out + rng.normal(0, 1, out.shape) * aug.fast_limbs * speed
    if aug.occlusion > 0 and depth is not None:  # joints behind the body are guessed
        behind = np.clip((depth - 0.05) / 0.15, 0, None)[..., None]  # 1 at 20 cm behind
        out = out + rng.normal(0, 1, out.shape) * aug.occlusion * height * behind
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
    if aug.swaps > 0 and rng.random() < aug.swaps:  # left and right of a limb confused
        left, right = _SWAP_GROUPS[rng.integers(len(_SWAP_GROUPS))]
        span = _span(f, rng, f // 3)
        out[span, left + right] = out[span, right + left]
    if aug.jumps > 0 and rng.random() < aug.jumps:  # a hand or foot found on the other limb
        joint = int(_EXTREMITIES[rng.integers(len(_EXTREMITIES))])
        span = _span(f, rng, 10)
        out[span, joint] = out[span, _MIRROR[joint]]
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
        t = np.clip(start + stride * (np.arange(self.frames) - self.frames // 2), 0,
                    len(seq.world) - 1)  # fmt: skip
        world = seq.world[t]
        detected = seq.detected_views()
        if detected and rng.random() < self.aug.detections:
            # The real detector's 2D of the real person: no virtual body or camera.
            cam = detected[rng.integers(len(detected))]
            pose3d = camera_view(world, cam)[1]
            pose2d = normalize_2d(seq.detections[cam.id][t], cam.width, cam.height)
            pose2d = zoom_and_shift(pose2d, self.aug.scale_shift, rng).astype(np.float32)
        else:
            if self.aug.bone_scale > 0:
                world = other_body(world, self.aug.bone_scale, rng)
            if rng.random() < self.aug.virtual_cameras:
                cam = virtual_camera(world, rng)
            else:
                cam = seq.cameras[rng.integers(len(seq.cameras))]
            pose2d, pose3d = camera_view(world, cam)
            pose2d = corrupt_2d(pose2d, self.aug, rng, depth=pose3d[..., 2], step=stride)
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
