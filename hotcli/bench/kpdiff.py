"""How far one 2D stage's keypoints are from a reference's, frame by frame and person by person.

Used by ``hot-pose bench --keypoints VIDEO`` to measure every speed change against the
float, whole-frame, 640-px model. People are paired per frame by their boxes
(:func:`pair_people`), so the two stages' track ids need not agree. Distances are in
percent of the person's height (the reference box's height), over the joints the
reference is sure of; a frame's left and right are "swapped" when the candidate's
left/right joints lie nearer to the reference's mirrored partners than to their own.
"""

from __future__ import annotations

import numpy as np

from hotcli.lifting.skeleton import H36M_LEFT, H36M_RIGHT, flip_permutation
from hotcli.pose2d.crops import iou

SURE = 0.5  # reference joints at least this confident are compared


def pair_people(ref_boxes: np.ndarray, got_boxes: np.ndarray,
                min_iou: float = 0.5) -> list[tuple[int, int]]:  # fmt: skip
    """Pairs (i, j) of reference box i (N, 4) and candidate box j (M, 4), greedily by IoU."""
    if not len(ref_boxes) or not len(got_boxes):
        return []
    overlaps = iou(ref_boxes, got_boxes)
    pairs, used_i, used_j = [], set(), set()
    for flat in np.argsort(-overlaps, axis=None):
        i, j = np.unravel_index(flat, overlaps.shape)
        if overlaps[i, j] < min_iou:
            break
        if i not in used_i and j not in used_j:
            pairs.append((int(i), int(j)))
            used_i.add(i)
            used_j.add(j)
    return pairs


def joint_errors(ref: np.ndarray, got: np.ndarray, ref_scores: np.ndarray,
                 heights: np.ndarray) -> np.ndarray:  # fmt: skip
    """Distances (K,) in % of height of every sure joint of P paired people.

    ``ref``, ``got`` (P, 17, 2) pixels, ``ref_scores`` (P, 17), ``heights`` (P,) pixels.
    """
    d = np.linalg.norm(got - ref, axis=-1) / np.maximum(heights, 1e-6)[:, None] * 100
    return d[ref_scores >= SURE]


def swapped(ref: np.ndarray, got: np.ndarray) -> np.ndarray:
    """(P,) bool: the candidate's left and right (P, 17, 2) are the reference's mirrored."""
    sides = list(H36M_LEFT) + list(H36M_RIGHT)
    own = np.linalg.norm(got[:, sides] - ref[:, sides], axis=-1).mean(-1)
    mirrored = np.linalg.norm(got[:, sides] - ref[:, flip_permutation()[sides]], axis=-1).mean(-1)
    return mirrored < own


def summarise(errors: list[np.ndarray], swaps: list[np.ndarray]) -> dict[str, float]:
    """Median and 95th percentile (% of height) and the swap rate over everything collected."""
    e = np.concatenate(errors) if errors else np.zeros(0)
    s = np.concatenate(swaps) if swaps else np.zeros(0, bool)
    if not len(e):
        return {"median_pct": float("nan"), "p95_pct": float("nan"), "swap_rate": float("nan")}
    return {
        "median_pct": float(np.median(e)),
        "p95_pct": float(np.percentile(e, 95)),
        "swap_rate": float(s.mean()) if len(s) else float("nan"),
    }
