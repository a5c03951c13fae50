"""The Human3.6M-17 skeleton the lifter uses: joints, bones, mirroring, one length per bone.

Human3.6M-17 (the order used by VideoPose3D, MixSTE and HoT)::

    0 pelvis      1 right hip   2 right knee   3 right ankle   4 left hip
    5 left knee   6 left ankle  7 spine        8 thorax        9 neck/nose
    10 head       11 l shoulder 12 l elbow     13 l wrist      14 r shoulder
    15 r elbow    16 r wrist

Other layouts (COCO-17, MPII-16) are converted to it in :mod:`hotcli.pose2d.layouts`.
"""

from __future__ import annotations

import numpy as np

H36M_JOINTS: tuple[str, ...] = (
    "pelvis",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "spine",
    "thorax",
    "neck_nose",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
)
H36M_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
H36M_LEFT: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
H36M_RIGHT: tuple[int, ...] = (1, 2, 3, 14, 15, 16)
#: Bones as (parent, child) pairs.
H36M_BONES: tuple[tuple[int, int], ...] = tuple(
    (p, c) for c, p in enumerate(H36M_PARENTS) if p >= 0
)


def flip_permutation() -> np.ndarray:
    """Index array that swaps left and right joints (used with a mirrored x axis)."""
    perm = np.arange(len(H36M_JOINTS))
    perm[list(H36M_LEFT)] = H36M_RIGHT
    perm[list(H36M_RIGHT)] = H36M_LEFT
    return perm


def _bone_mirror() -> np.ndarray:
    """For each bone, the index of its mirror twin (itself for bones on the midline)."""
    swap = flip_permutation()
    return np.array([H36M_BONES.index((int(swap[p]), int(swap[c]))) for p, c in H36M_BONES])


_BONE_MIRROR = _bone_mirror()


def flip_pose(pose: np.ndarray) -> np.ndarray:
    """Mirror x and swap left and right joints of poses (..., 17, D): 2D or camera-axis 3D.

    Used for flip augmentation in training and flip test-time augmentation when lifting.
    """
    out = pose[..., flip_permutation(), :]  # fancy indexing: a copy
    out[..., 0] *= -1
    return out


def bone_lengths(poses: np.ndarray) -> np.ndarray:
    """Lengths (..., 16) of the bones of poses (..., 17, 3), in :data:`H36M_BONES` order."""
    parents, children = zip(*H36M_BONES, strict=True)
    return np.linalg.norm(poses[..., children, :] - poses[..., parents, :], axis=-1)


#: The percentile of each bone's predicted lengths that :func:`kept_bone_lengths` keeps: the
#: median. With the size fixed it only sets the proportions; on Human3.6M's held-out S8 (the
#: twin lifter, one camera per sequence, run at 50 Hz) the 50th, 60th and 75th give MPJPE
#: 39.1, 39.5 and 40.6 mm on ground-truth 2D and 64.0, 64.2 and 64.7 mm on detections.
BONE_LENGTH_PERCENTILE = 50.0
#: The summed length of the 16 bones (metres) every fixed skeleton is scaled to: the mean
#: over Human3.6M's subjects S1, S5, S6 and S7 (4.00–4.35 m each; held-out S8: 4.23 m).
REFERENCE_SKELETON_M = 4.145


def kept_bone_lengths(
    lengths: np.ndarray,
    percentile: float = BONE_LENGTH_PERCENTILE,
    size: float | None = REFERENCE_SKELETON_M,
) -> np.ndarray:
    """One length per bone (16,) from a sequence's predicted lengths (T, 16), metres.

    The kept length is a percentile of the predicted ones (:data:`BONE_LENGTH_PERCENTILE`);
    left and right get their mean. With ``size`` the lengths are then
    scaled so that they sum to it: the proportions are the lifter's, the size is an average
    adult's. A person's size cannot be seen in 2D (a tall person far away looks like a short
    one nearby), and the lifter's guess follows how large the person looks: on Human3.6M's
    held-out S8 its skeleton comes out up to 5 % too large from the near cameras and up to
    5 % too small from the far one, which is what puts the pelvis off in depth (5 % at 5 m
    is 25 cm). ``None`` keeps the lifter's own size.
    """
    kept = symmetric_bones(np.percentile(np.asarray(lengths, np.float64), percentile, axis=0))
    if size is not None:
        total = kept.sum()
        if total > 1e-9:
            kept = kept * (size / total)
    return kept


#: Standing height minus the distance from the ankle joints to the head joint, metres:
#: the ankle joints about 7 cm above the floor and the top of the head about 3 cm above
#: the head joint (adult averages; the skeleton has neither feet nor a crown).
HEAD_TOP_AND_ANKLES_M = 0.10
#: The least upright a person's most upright pose may be taken to be: the head joint's
#: distance from the midpoint of the ankles over the ankle-to-head chain of bones (shin,
#: thigh, pelvis to spine, spine to thorax, thorax to neck, neck to head) when standing.
#: Human3.6M's S1, S5, S6 and S7 reach 0.95 to 0.97 over all their sequences, 0.90 to 0.97
#: within single ones (their 99th percentiles).
MIN_STANDING_STRAIGHTNESS = 0.93
#: The percentile of a clip's head-to-ankles distances taken as the person standing upright.
STANDING_PERCENTILE = 99.0
_CHAIN = [H36M_BONES.index(b) for b in ((2, 3), (1, 2), (0, 7), (7, 8), (8, 9), (9, 10))]


def standing_extent(poses: np.ndarray) -> float:
    """The distance from the midpoint of the ankles to the head joint when the skeleton of
    poses (T, 17, 3) with fixed bone lengths stands upright, metres.

    Taken from the clip itself (:data:`STANDING_PERCENTILE` of the per-frame distances), as
    the posture is the network's and a person straightens their knees and back to their own
    degree; a clip in which nobody stands up (seated throughout) would give too short a
    distance, so it is at least :data:`MIN_STANDING_STRAIGHTNESS` of the chain of bones.
    """
    poses = np.asarray(poses, dtype=np.float64)
    reach = np.linalg.norm(poses[:, 10] - poses[:, (3, 6)].mean(axis=1), axis=-1)
    reach = reach[np.isfinite(reach)]
    if not len(reach):
        return float("nan")
    chain = float(np.nanmedian(bone_lengths(poses)[:, _CHAIN].sum(axis=1)))
    return max(float(np.percentile(reach, STANDING_PERCENTILE)), MIN_STANDING_STRAIGHTNESS * chain)


def standing_height(poses: np.ndarray) -> float:
    """The standing height (metres, to the top of the head) of the person whose skeleton
    moves through poses (T, 17, 3): :func:`standing_extent` + :data:`HEAD_TOP_AND_ANKLES_M`.
    What ``--person-height`` sets, and what an average adult's skeleton implies without it."""
    return standing_extent(poses) + HEAD_TOP_AND_ANKLES_M


def scale_to_height(poses: np.ndarray, height: float) -> np.ndarray:
    """Root-relative poses (T, 17, 3) with fixed bone lengths, scaled about the root so that
    a person of standing ``height`` metres (to the top of the head) has their size.

    Depth comes from size (a tall person far away looks like a short one nearby), so a
    known height puts the person at the right distance: on Human3.6M's held-out S8 (the
    twin, ground-truth 2D, real focal length) the pelvis is off by 76 mm given S8's height
    against 92 mm at the average size (README "Motion in the world"; from detections that
    sit differently from the skeleton's joints it can be worse). The standing extent is
    height − :data:`HEAD_TOP_AND_ANKLES_M`.
    """
    poses = np.asarray(poses, dtype=np.float64)
    extent = standing_extent(poses)
    if not (np.isfinite(extent) and extent > 1e-6):
        return poses.copy()
    return poses * ((height - HEAD_TOP_AND_ANKLES_M) / extent)


def fix_bone_lengths(
    poses: np.ndarray,
    percentile: float = BONE_LENGTH_PERCENTILE,
    size: float | None = REFERENCE_SKELETON_M,
) -> np.ndarray:
    """Give each bone one length over the whole sequence, keeping its direction per frame.

    A person's bones do not change length, but a lifter's guesses do: it cannot see depth,
    and it tends to shorten a limb that points towards the camera (short in 2D). The
    lengths are :func:`kept_bone_lengths` (the lifter's proportions at an average adult's
    size unless ``size`` is None); the pose is rebuilt from the root outwards, each joint
    placed at its parent plus the predicted bone direction times the kept length.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if len(poses) == 0:
        return poses.copy()
    return with_bone_lengths(poses, kept_bone_lengths(bone_lengths(poses), percentile, size))


def with_bone_lengths(poses: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Poses (..., 17, 3) rebuilt from the root outwards with the given bone lengths.

    ``lengths`` is (16,) in :data:`H36M_BONES` order, or (..., 16) per pose. Each joint
    goes to its parent plus the bone's own direction times its new length; the root stays.
    """
    poses = np.asarray(poses, dtype=np.float64)
    lengths = np.broadcast_to(
        np.asarray(lengths, dtype=np.float64), poses.shape[:-2] + (len(H36M_BONES),)
    )
    out = poses.copy()
    for i, (parent, child) in enumerate(H36M_BONES):  # parents come before their children
        bone = poses[..., child, :] - poses[..., parent, :]
        norm = np.linalg.norm(bone, axis=-1, keepdims=True)
        direction = np.divide(bone, norm, out=np.zeros_like(bone), where=norm > 1e-9)
        out[..., child, :] = out[..., parent, :] + direction * lengths[..., i, None]
    return out


def symmetric_bones(values: np.ndarray) -> np.ndarray:
    """Per-bone values (..., 16) with each left bone and its right twin given their mean."""
    values = np.asarray(values, dtype=np.float64)
    return (values + values[..., _BONE_MIRROR]) / 2


def bone_side(parent: int, child: int) -> str:
    """'left', 'right' or 'centre' for drawing limbs in different colours."""
    if child in H36M_LEFT:
        return "left"
    if child in H36M_RIGHT:
        return "right"
    return "centre"
