"""Joint layouts: the Human3.6M-17 skeleton the lifter uses and the COCO-17 one YOLO gives.

Human3.6M-17 (the order used by VideoPose3D, MixSTE and HoT)::

    0 pelvis      1 right hip   2 right knee   3 right ankle   4 left hip
    5 left knee   6 left ankle  7 spine        8 thorax        9 neck/nose
    10 head       11 l shoulder 12 l elbow     13 l wrist      14 r shoulder
    15 r elbow    16 r wrist

COCO-17 → Human3.6M-17 (:func:`coco_to_h36m`): hips, knees, ankles, shoulders,
elbows and wrists map one to one; pelvis is the mid-hip, thorax the mid-shoulder,
spine the midpoint of pelvis and thorax, neck/nose the nose, head the mid-eye
point. A derived joint's confidence is the smallest confidence of its sources.
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


def bone_side(parent: int, child: int) -> str:
    """'left', 'right' or 'centre' for drawing limbs in different colours."""
    if child in H36M_LEFT:
        return "left"
    if child in H36M_RIGHT:
        return "right"
    return "centre"


COCO_JOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

# H36M joint -> COCO joints averaged to make it.
_COCO_SOURCES: tuple[tuple[int, ...], ...] = (
    (11, 12),  # pelvis
    (12,),
    (14,),
    (16,),  # right hip, knee, ankle
    (11,),
    (13,),
    (15,),  # left hip, knee, ankle
    (11, 12, 5, 6),  # spine: midpoint of mid-hip and mid-shoulder
    (5, 6),  # thorax
    (0,),  # neck/nose
    (1, 2),  # head
    (5,),
    (7,),
    (9,),  # left shoulder, elbow, wrist
    (6,),
    (8,),
    (10,),  # right shoulder, elbow, wrist
)


def coco_to_h36m(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert COCO-17 keypoints (..., 17, 2) and scores (..., 17) to Human3.6M-17."""
    keypoints = np.asarray(keypoints, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    out_k = np.stack([keypoints[..., list(src), :].mean(axis=-2) for src in _COCO_SOURCES], axis=-2)
    out_s = np.stack([scores[..., list(src)].min(axis=-1) for src in _COCO_SOURCES], axis=-1)
    return out_k, out_s
