"""Joining fragments of one person's track that the tracker split (after tracking).

A pedestrian hidden for a moment behind a post, or missed for a few frames, often comes
back under a new tracker id, so one walk becomes several short tracks. Two tracks are
joined when the second begins soon after the first ends (at most
:data:`MAX_JOIN_SECONDS`), never overlapping it, where the first one's motion says it
should be: the first track's box centre, carried on at its last velocity over the gap,
lands within :data:`MAX_JOIN_DISTANCE` of its box height from the second's first box
centre, and the boxes are of similar size. Joins are made greedily, best (nearest) first,
and each track end joins at most one start, so a track can grow through several joins.
"""

from __future__ import annotations

import math

import numpy as np

from hotcli.pose2d.tracking import Track

#: Longest gap between two fragments that may still be joined (seconds).
MAX_JOIN_SECONDS = 2.0
#: How far (in box heights) the second fragment may start from where the first was heading.
MAX_JOIN_DISTANCE = 0.6
#: Box heights of the two fragments may differ by at most this factor.
MAX_HEIGHT_RATIO = 1.4
#: Detections at a fragment's end used to estimate its velocity.
VELOCITY_FRAMES = 5


def _centre_height(box: np.ndarray) -> tuple[np.ndarray, float]:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]), float(box[3] - box[1])


def _end_motion(track: Track) -> tuple[int, np.ndarray, float, np.ndarray]:
    """Last detected frame, its box centre (2,) and height, and velocity (2,) px per frame."""
    frames, boxes = track.frames, track.det_boxes
    last = int(frames[-1])
    centre, height = _centre_height(boxes[-1])
    recent = frames[-VELOCITY_FRAMES:]
    velocity = np.zeros(2)
    if len(recent) >= 2 and recent[-1] > recent[0]:
        first, _ = _centre_height(boxes[-len(recent)])
        velocity = (centre - first) / (recent[-1] - recent[0])
    return last, centre, height, velocity


def join_cost(earlier: Track, later: Track, max_gap: int) -> float:
    """How far ``later`` starts from where ``earlier`` was heading (box heights); inf if never.

    Infinite when ``later`` starts before ``earlier`` ends, or more than ``max_gap`` frames
    after, or with a box of another size.
    """
    if not earlier.detected_frames or not later.detected_frames:
        return math.inf
    last, centre, height, velocity = _end_motion(earlier)
    first = int(later.frames[0])
    gap = first - last
    if gap < 1 or gap > max_gap:
        return math.inf
    start, start_height = _centre_height(later.det_boxes[0])
    if min(height, start_height) <= 0:
        return math.inf
    ratio = max(height, start_height) / min(height, start_height)
    if ratio > MAX_HEIGHT_RATIO:
        return math.inf
    cost = float(np.linalg.norm(start - (centre + velocity * gap)) / height)
    return cost if cost <= MAX_JOIN_DISTANCE else math.inf


def merge(earlier: Track, later: Track) -> Track:
    """One track (the earlier one's id) with the detections of both, gaps filled as usual.

    Where both saw a frame, ``later``'s detection is kept (joined fragments never overlap).
    """
    parts = (earlier, later)
    frames = np.concatenate([t.frames for t in parts])
    order = np.argsort(frames, kind="stable")
    ordered = frames[order]
    order = order[np.append(ordered[1:] != ordered[:-1], True)]  # the last of equal frames
    return Track.from_detections(
        earlier.track_id,
        frames[order],
        np.concatenate([t.det_keypoints for t in parts])[order],
        np.concatenate([t.det_scores for t in parts])[order],
        np.concatenate([t.det_boxes for t in parts])[order],
        earlier.n_frames,
    )


def _candidates(tracks: list[Track], max_gap: int) -> list[tuple[Track, Track]]:
    """The (earlier, later) pairs whose gap is 1 to ``max_gap`` frames, in the order of
    ``tracks`` (earlier first, then later): the only pairs :func:`join_cost` may accept.

    Found by sorting on the first frame, so a long video with many tracks is not every pair.
    """
    seen = [t for t in tracks if t.detected_frames]
    order = {id(t): i for i, t in enumerate(seen)}
    by_start = sorted(seen, key=lambda t: int(t.frames[0]))
    starts = np.array([int(t.frames[0]) for t in by_start], dtype=np.int64)
    pairs = []
    for a in seen:
        last = int(a.frames[-1])
        lo = np.searchsorted(starts, last + 1, side="left")
        hi = np.searchsorted(starts, last + max_gap, side="right")
        later = sorted(by_start[lo:hi], key=lambda t: order[id(t)])
        pairs += [(a, b) for b in later if b is not a]
    return pairs


def join_fragments(tracks: list[Track], fps: float) -> tuple[list[Track], int]:
    """Tracks with split fragments joined (see the module docstring), and how many joins.

    Returned longest first, like :func:`hotcli.pose2d.tracking.track_people`.
    """
    max_gap = max(1, int(round(MAX_JOIN_SECONDS * fps))) if fps > 0 else 1
    current = {t.track_id: t for t in tracks}
    joins = 0
    while True:
        best = (math.inf, None, None)
        for a, b in _candidates(list(current.values()), max_gap):
            if a.track_id != b.track_id:
                cost = join_cost(a, b, max_gap)
                if cost < best[0]:
                    best = (cost, a.track_id, b.track_id)
        cost, a_id, b_id = best
        if a_id is None:
            break
        current[a_id] = merge(current[a_id], current.pop(b_id))
        joins += 1
    joined = sorted(current.values(), key=lambda t: (-t.detected_frames, t.track_id))
    return joined, joins
