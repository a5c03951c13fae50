"""Joining fragments of one person's walk that the tracker split into several tracks."""

from __future__ import annotations

import numpy as np

from hotcli.pose2d.reassociate import join_fragments
from hotcli.pose2d.tracking import build_track

T = 100


def fragment(track_id: int, frames: range, start_x: float, speed: float, height: float = 120.0):
    """A track of a person walking right at ``speed`` px/frame, seen in ``frames``."""
    detections = {}
    for i in frames:
        x = start_x + speed * i
        box = np.array([x - 25, 200.0, x + 25, 200.0 + height])
        keypoints = np.tile([x, 260.0], (17, 1))
        detections[i] = (keypoints, np.full(17, 0.8), box)
    return build_track(track_id, detections, T)


def test_two_fragments_of_one_walk_become_one_track():
    first = fragment(3, range(0, 40), 100.0, 4.0)
    second = fragment(9, range(52, 90), 100.0, 4.0)  # hidden 12 frames, same pace
    joined, joins = join_fragments([first, second], fps=10.0)
    assert joins == 1 and len(joined) == 1
    track = joined[0]
    assert track.track_id == 3 and track.detected_frames == 78
    np.testing.assert_allclose(track.keypoints[46, 0, 0], 100.0 + 4.0 * 46)  # gap bridged


def test_someone_else_appearing_elsewhere_is_not_joined():
    leaving = fragment(1, range(0, 40), 100.0, 4.0)
    far_away = fragment(2, range(45, 90), 700.0, -4.0)  # another person, walking left
    other_size = fragment(3, range(45, 90), 100.0 + 4.0 * 45, 4.0, height=60.0)
    too_late = fragment(4, range(70, 90), 100.0, 4.0)  # 30 frames later: 3 s at 10 fps
    joined, joins = join_fragments([leaving, far_away, other_size, too_late], fps=10.0)
    assert joins == 0 and len(joined) == 4


def test_tracks_that_overlap_in_time_are_two_people():
    a = fragment(1, range(0, 50), 100.0, 4.0)
    b = fragment(2, range(45, 90), 100.0, 4.0)  # same place, but seen together with a
    joined, joins = join_fragments([a, b], fps=10.0)
    assert joins == 0 and {t.track_id for t in joined} == {1, 2}
