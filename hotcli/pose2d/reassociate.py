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

from hotcli.pose2d.tracking import Track, build_track

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
    frames = np.flatnonzero(~track.interpolated)
    last = int(frames[-1])
    centre, height = _centre_height(track.boxes[last])
    recent = frames[-VELOCITY_FRAMES:]
    velocity = np.zeros(2)
    if len(recent) >= 2 and recent[-1] > recent[0]:
        first, _ = _centre_height(track.boxes[recent[0]])
        velocity = (centre - first) / (recent[-1] - recent[0])
    return last, centre, height, velocity


def join_cost(earlier: Track, later: Track, max_gap: int) -> float:
    """How far ``later`` starts from where ``earlier`` was heading (box heights); inf if never.

    Infinite when ``later`` starts before ``earlier`` ends, or more than ``max_gap`` frames
    after, or with a box of another size.
    """
    if not (~earlier.interpolated).any() or not (~later.interpolated).any():
        return math.inf
    last, centre, height, velocity = _end_motion(earlier)
    first = int(np.flatnonzero(~later.interpolated)[0])
    gap = first - last
    if gap < 1 or gap > max_gap:
        return math.inf
    start, start_height = _centre_height(later.boxes[first])
    if min(height, start_height) <= 0:
        return math.inf
    ratio = max(height, start_height) / min(height, start_height)
    if ratio > MAX_HEIGHT_RATIO:
        return math.inf
    cost = float(np.linalg.norm(start - (centre + velocity * gap)) / height)
    return cost if cost <= MAX_JOIN_DISTANCE else math.inf


def merge(earlier: Track, later: Track) -> Track:
    """One track (the earlier one's id) with the detections of both, gaps filled as usual."""
    n = len(earlier.interpolated)
    detections = {}
    for track in (earlier, later):
        for i in np.flatnonzero(~track.interpolated):
            detections[int(i)] = (track.keypoints[i], track.scores[i], track.boxes[i])
    return build_track(earlier.track_id, detections, n)


def join_fragments(tracks: list[Track], fps: float) -> tuple[list[Track], int]:
    """Tracks with split fragments joined (see the module docstring), and how many joins.

    Returned longest first, like :func:`hotcli.pose2d.tracking.track_people`.
    """
    max_gap = max(1, int(round(MAX_JOIN_SECONDS * fps))) if fps > 0 else 1
    current = {t.track_id: t for t in tracks}
    joins = 0
    while True:
        best = (math.inf, None, None)
        for a in current.values():
            for b in current.values():
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
