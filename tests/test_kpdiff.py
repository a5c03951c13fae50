"""The keypoint-difference metric that guards every speed change."""

from __future__ import annotations

import numpy as np

from hotcli.bench.kpdiff import joint_errors, pair_people, summarise, swapped
from hotcli.lifting.skeleton import flip_permutation
from hotcli.pose2d.posenet import decode, nms


def person(rng, x=100.0) -> np.ndarray:
    pose = rng.uniform(0, 100, (17, 2))
    pose[:, 0] += x
    return pose


def test_people_are_paired_by_their_boxes_whatever_their_order():
    ref = np.array([[0, 0, 10, 20], [50, 0, 60, 20]], float)
    got = np.array([[51, 0, 61, 21], [300, 0, 310, 20], [1, 1, 10, 20]], float)
    assert sorted(pair_people(ref, got)) == [(0, 2), (1, 0)]
    assert pair_people(ref, np.zeros((0, 4))) == []


def test_errors_are_percent_of_height_over_the_sure_joints():
    rng = np.random.default_rng(0)
    ref = person(rng)[None]
    got = ref + np.array([3.0, 4.0])  # 5 px everywhere
    scores = np.full((1, 17), 0.9)
    scores[0, 0] = 0.1  # an unsure joint is not compared
    errors = joint_errors(ref, got, scores, np.array([200.0]))
    assert errors.shape == (16,) and np.allclose(errors, 2.5)


def test_a_mirrored_left_and_right_counts_as_a_swap_and_a_small_shift_does_not():
    rng = np.random.default_rng(1)
    ref = np.stack([person(rng), person(rng)])
    got = ref.copy()
    got[1] = ref[1][flip_permutation()]
    got[0] += 1.0
    assert swapped(ref, got).tolist() == [False, True]


def test_the_summary_gives_median_p95_and_swap_rate():
    out = summarise([np.arange(101.0)], [np.array([True, False, False, False])])
    assert out["median_pct"] == 50 and np.isclose(out["p95_pct"], 95) and out["swap_rate"] == 0.25


def test_overlapping_boxes_are_suppressed_keeping_the_best():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    assert nms(boxes, np.array([0.5, 0.9, 0.7]), 0.5).tolist() == [1, 2]


def test_the_pose_head_output_decodes_to_boxes_and_keypoints_in_pixels():
    raw = np.zeros((56, 3), np.float32)
    raw[:5, 0] = [50, 60, 20, 40, 0.9]  # centre (50, 60), 20 x 40, score 0.9
    raw[5:, 0] = np.tile([50, 60, 0.8], 17)
    raw[:5, 1] = [51, 61, 20, 40, 0.5]  # the same person, weaker: suppressed
    raw[4, 2] = 0.05  # below the score threshold
    d = decode(raw)
    assert len(d) == 1 and np.allclose(d.boxes[0], [40, 40, 60, 80]) and d.scores[0] == 0.9
    assert d.keypoints.shape == (1, 17, 2) and np.allclose(d.keypoint_scores, 0.8)
