"""When a person is in view: the ``present`` mask, and which gaps in a track are bridged.

The tracker reports a person only in the frames it detected them. Between two
detections a short gap (a missed frame, a brief occlusion) is bridged: the person is
still there and their motion is interpolated, flagged as ``interpolated``. A longer gap
means the person left the view or the evidence is gone, so nothing is invented there.
Before the first and after the last detection the person is not in view at all.
"""

from __future__ import annotations

import math

import numpy as np

#: Gaps inside a track up to this long are bridged (seconds); longer ones stay empty.
MAX_GAP_SECONDS = 0.5


def max_gap_frames(fps: float, seconds: float = MAX_GAP_SECONDS) -> int:
    """The longest bridged gap in frames at ``fps`` (at least 1 frame)."""
    if not (math.isfinite(fps) and fps > 0):
        return 1
    return max(1, int(math.floor(seconds * fps + 1e-9)))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the runs of True in a (T,) mask (``stop`` exclusive)."""
    m = np.asarray(mask, dtype=np.int8)
    edges = np.diff(np.concatenate([[0], m, [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def present_mask(detected: np.ndarray, max_gap: int) -> np.ndarray:
    """(T,) bool: frames where the person is in view, from (T,) ``detected``.

    True on every detected frame and on the frames of gaps of at most ``max_gap`` frames
    between two detections; False before the first detection, after the last, and over
    longer gaps.
    """
    detected = np.asarray(detected, dtype=bool)
    present = detected.copy()
    for start, stop in runs(~detected):
        inside = start > 0 and stop < len(detected)
        if inside and stop - start <= max_gap:
            present[start:stop] = True
    return present
