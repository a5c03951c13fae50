"""ByteTrack in numpy: the same ids as Ultralytics' tracker, and what tracking must do."""

import numpy as np
import pytest

from hotcli.pose2d.bytetrack import BUFFER, ByteTracker, box_iou


def box(x: float, y: float, w: float = 40, h: float = 100) -> list[float]:
    return [x - w / 2, y - h / 2, x + w / 2, y + h / 2]


def step(tracker: ByteTracker, boxes: list, scores: list) -> dict[int, int]:
    """{detection index: track id} for one frame."""
    found = tracker.update(np.array(boxes, np.float32).reshape(-1, 4),
                           np.array(scores, np.float32))  # fmt: skip
    return {i: tid for tid, i in found}


def street(seed: int, frames: int = 200, people: int = 8):
    """Detections of people walking with jitter, misses, weak scores, in shuffled order."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 600, (people, 2))
    vel = rng.normal(0, 3, (people, 2))
    size = rng.uniform(40, 200, people)[:, None]
    for _ in range(frames):
        pos += vel + rng.normal(0, 1, pos.shape)
        seen = rng.random(people) > 0.15
        boxes = np.concatenate([pos - size * [0.2, 0.5], pos + size * [0.2, 0.5]], 1)[seen]
        boxes = (boxes + rng.normal(0, 2, boxes.shape)).astype(np.float32)
        scores = rng.uniform(0.05, 0.95, len(boxes)).astype(np.float32)
        order = rng.permutation(len(boxes))
        yield boxes[order], scores[order]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ids_and_followed_boxes_equal_ultralytics_bytetrack_on_a_busy_street(seed):
    from hotcli.pose2d.tracking import UltralyticsTracker

    ours, theirs = ByteTracker(), UltralyticsTracker("bytetrack.yaml")
    ids = set()
    for boxes, scores in street(seed):
        mine = sorted(ours.update(boxes, scores))
        assert mine == sorted(theirs.update(boxes, scores))
        ids |= {tid for tid, _ in mine}
        followed = [np.reshape(t.followed_boxes, (-1, 4)) for t in (ours, theirs)]
        np.testing.assert_allclose(*followed, atol=1e-3)
    assert len(ids) >= 8  # the street really had its people come and go


def test_a_new_person_is_confirmed_by_a_second_detection():
    tracker = ByteTracker()
    assert step(tracker, [box(100, 100)], [0.9]) == {0: 1}  # the first frame confirms at once
    assert step(tracker, [box(102, 100), box(400, 100)], [0.9, 0.9]) == {0: 1}
    assert step(tracker, [box(104, 100), box(401, 100)], [0.9, 0.9]) == {0: 1, 1: 2}


def test_two_people_walking_past_each_other_keep_their_ids():
    tracker = ByteTracker()
    for t in range(40):
        a, b = box(100 + 10 * t, 200), box(500 - 10 * t, 250)  # one a few steps behind
        found = step(tracker, [b, a] if t % 2 else [a, b], [0.9, 0.8])
        left_walker = found[1] if t % 2 else found[0]
        assert left_walker == 1


def test_a_half_hidden_person_keeps_the_id_through_weak_detections():
    tracker = ByteTracker()
    for t in range(5):
        step(tracker, [box(100 + 5 * t, 100)], [0.9])
    assert step(tracker, [box(125, 100)], [0.15]) == {0: 1}  # weak, yet the same person


def test_a_lost_person_is_found_again_within_the_buffer_and_forgotten_after():
    tracker = ByteTracker()
    for _ in range(3):
        step(tracker, [box(100, 100)], [0.9])
    for _ in range(BUFFER - 5):
        step(tracker, [], [])
    assert step(tracker, [box(100, 100)], [0.9]) == {0: 1}
    for _ in range(BUFFER + 3):
        step(tracker, [], [])
    assert not tracker.lost and not tracker.tracked
    step(tracker, [box(100, 100)], [0.9])
    assert step(tracker, [box(100, 100)], [0.9]) == {0: 2}


def test_weak_and_empty_detections_start_no_track():
    tracker = ByteTracker()
    assert step(tracker, [box(100, 100), [5, 5, 5, 50]], [0.2, 0.9]) == {}
    assert not tracker.tracked


def test_box_overlap_is_intersection_over_union():
    iou = box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_allclose(iou, [[50 / 150, 0, 1]], atol=1e-6)


def test_botsort_through_ultralytics_follows_a_walker_under_the_same_interface():
    from hotcli.pose2d.tracking import make_tracker

    tracker = make_tracker("botsort.yaml")
    frame = np.zeros((240, 320, 3), np.uint8)
    ids = set()
    for t in range(6):
        found = tracker.update(np.array([box(100 + 3 * t, 120)], np.float32),
                               np.array([0.9], np.float32), frame)  # fmt: skip
        ids |= {tid for tid, _ in found}
        assert len(tracker.followed_boxes) == 1
    assert ids == {1}
