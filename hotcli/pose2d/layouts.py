"""2D keypoint layouts and their conversion to the lifter's Human3.6M-17 joints.

The lifter reads the 17 Human3.6M joints (:data:`hotcli.lifting.skeleton.H36M_JOINTS`). Detectors
give other joints: YOLO the 17 COCO keypoints, MPII-trained detectors (Stacked Hourglass)
16 MPII joints. Each Human3.6M joint is a fixed weighted sum of the layout's joints
(weights sum to 1), so one matrix product converts a whole track, and a derived joint's
confidence is the lowest confidence of the joints it is made from. This module is the one
place that does it: the tool for its own detector, ``hot-pose eval`` and ``hot-pose train``
for given detections.

COCO-17 → Human3.6M-17: hips, knees, ankles, shoulders, elbows and wrists map one to
one; pelvis is the mid-hip, thorax the mid-shoulder, spine the midpoint of pelvis and
thorax, neck/nose the nose, head the nose plus three times the nose-to-mid-eye offset
(Human3.6M's head joint is ~11 cm above the nose).

MPII-16 → Human3.6M-17: the two skeletons place their joints differently (MPII's
hips sit narrower and lower, its ankles higher, its thorax lower, its shoulders wider; it
has no nose), so each Human3.6M joint is a fitted combination of the MPII joints around
it: a hip from both hips, the pelvis and the thorax; an ankle extrapolated 10 % of the
shin down from MPII's; a shoulder pulled 29 % of the way to the thorax; thorax, nose and
head from the thorax, upper neck, head top and shoulders. The weights are robust
(L1) least-squares fits on the training subjects S1, S5, S6 and S7 (Stacked Hourglass
detections against the mocap joints projected through the same cameras), made left/right
symmetric and rounded to two decimals; ``python scripts/fit_mpii16.py`` refits and scores
them. On held-out S8 the median joint error is 1.83 % of the person's height (one-to-one
limbs with only the head line fitted: 2.11 %); a lifter trained on ground-truth 2D only
scored about 5 mm better on those detections through it than through the one-to-one
conversion.
"""

from __future__ import annotations

from functools import cache

import numpy as np

COCO_JOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle",
)  # fmt: skip
MPII_JOINTS: tuple[str, ...] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "pelvis", "thorax", "upper_neck", "head_top", "right_wrist", "right_elbow",
    "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
)  # fmt: skip

# Each Human3.6M joint as a weighted sum of a layout's joints (weights sum to 1).
# fmt: off
_COCO_WEIGHTS: tuple[dict[int, float], ...] = (
    {11: 0.5, 12: 0.5},                      # 0 pelvis: mid-hip
    {12: 1}, {14: 1}, {16: 1},               # 1-3 right hip, knee, ankle
    {11: 1}, {13: 1}, {15: 1},               # 4-6 left hip, knee, ankle
    {11: 0.25, 12: 0.25, 5: 0.25, 6: 0.25},  # 7 spine: mid-hip/mid-shoulder midpoint
    {5: 0.5, 6: 0.5},                        # 8 thorax: mid-shoulder
    {0: 1},                                  # 9 neck/nose
    {0: -2.0, 1: 1.5, 2: 1.5},               # 10 head: nose + 3 (mid-eye - nose)
    {5: 1}, {7: 1}, {9: 1},                  # 11-13 left shoulder, elbow, wrist
    {6: 1}, {8: 1}, {10: 1},                 # 14-16 right shoulder, elbow, wrist
)
_MPII_WEIGHTS: tuple[dict[int, float], ...] = (
    {2: 0.31, 3: 0.31, 6: 0.31, 7: 0.07},                      # 0 pelvis
    {2: 0.96, 3: -0.33, 6: 0.31, 7: 0.06},                     # 1 right hip
    {1: 0.97, 2: 0.03}, {0: 1.1, 1: -0.1},                     # 2-3 right knee, ankle
    {3: 0.96, 2: -0.33, 6: 0.31, 7: 0.06},                     # 4 left hip
    {4: 0.97, 3: 0.03}, {5: 1.1, 4: -0.1},                     # 5-6 left knee, ankle
    {2: 0.13, 3: 0.13, 6: 0.16, 7: 0.27, 8: -0.09, 12: 0.2, 13: 0.2},  # 7 spine
    {7: 0.15, 8: 0.31, 9: 0.14, 12: 0.2, 13: 0.2},             # 8 thorax
    {8: 0.72, 9: 0.28},                                        # 9 neck/nose
    {7: -0.11, 8: 0.53, 9: 0.58},                              # 10 head
    {13: 0.76, 12: -0.05, 7: 0.29}, {14: 1.02, 15: -0.02}, {15: 1.0},  # 11-13 left arm
    {12: 0.76, 13: -0.05, 7: 0.29}, {11: 1.02, 10: -0.02}, {10: 1.0},  # 14-16 right arm
)
# fmt: on
_H36M_WEIGHTS: tuple[dict[int, float], ...] = tuple({j: 1.0} for j in range(17))

#: Layout name → (its joint count, each Human3.6M joint's weights).
KEYPOINT_LAYOUTS: dict[str, tuple[int, tuple[dict[int, float], ...]]] = {
    "coco17": (len(COCO_JOINTS), _COCO_WEIGHTS),
    "mpii16": (len(MPII_JOINTS), _MPII_WEIGHTS),
    "h36m17": (len(_H36M_WEIGHTS), _H36M_WEIGHTS),
}


@cache
def conversion_matrix(layout: str) -> np.ndarray:
    """(17, J) matrix taking a layout's J joints to Human3.6M-17 (rows sum to 1).

    Built once per layout (the tool converts every frame); read-only, as it is shared.
    """
    joints, weights = _layout(layout)
    matrix = np.zeros((17, joints), np.float32)
    for h, row in enumerate(weights):
        for j, w in row.items():
            matrix[h, j] = w
    matrix.setflags(write=False)
    return matrix


def to_h36m(
    keypoints: np.ndarray, scores: np.ndarray | None = None, layout: str = "coco17"
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (..., J, 2) and scores (..., J) of ``layout`` → Human3.6M-17 (..., 17, 2/17).

    Without scores every joint counts as fully confident (1.0).
    """
    joints, weights = _layout(layout)
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.shape[-2] != joints:
        raise ValueError(f"{layout} has {joints} joints, got keypoints {keypoints.shape}")
    if scores is None:
        scores = np.ones(keypoints.shape[:-1], np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    out_k = np.einsum("hc,...cd->...hd", conversion_matrix(layout), keypoints)
    out_s = np.stack([scores[..., list(w)].min(axis=-1) for w in weights], axis=-1)
    return out_k, out_s


def _layout(layout: str) -> tuple[int, tuple[dict[int, float], ...]]:
    if layout not in KEYPOINT_LAYOUTS:
        known = ", ".join(KEYPOINT_LAYOUTS)
        raise ValueError(f"unknown keypoint layout {layout!r}; known: {known}")
    return KEYPOINT_LAYOUTS[layout]
