"""Keypoint layouts converted to the lifter's Human3.6M-17 joints, on hand-made keypoints."""

import numpy as np
import pytest

from hotcli.pose2d.layouts import KEYPOINT_LAYOUTS, conversion_matrix, to_h36m


def test_every_layout_converts_with_weights_that_sum_to_one():
    for layout in KEYPOINT_LAYOUTS:
        matrix = conversion_matrix(layout)
        assert matrix.shape[0] == 17
        np.testing.assert_allclose(matrix.sum(1), 1.0, atol=1e-6)


def test_coco_gives_midpoints_an_extrapolated_head_and_the_weakest_confidence():
    kp = np.zeros((17, 2))
    kp[11], kp[12] = [10, 100], [30, 100]  # left, right hip
    kp[5], kp[6] = [10, 40], [30, 40]  # shoulders
    kp[0], kp[1], kp[2] = [20, 30], [18, 27], [22, 27]  # nose, eyes
    scores = np.ones(17)
    scores[12] = 0.2
    out, conf = to_h36m(kp, scores, "coco17")
    assert np.allclose(out[10], [20, 21]) and np.allclose(out[9], [20, 30])
    assert np.allclose(out[0], [20, 100]) and np.allclose(out[8], [20, 40])
    assert np.allclose(out[7], [20, 70]) and np.allclose(out[1], [30, 100])
    assert conf[0] == pytest.approx(0.2) and conf[4] == 1.0


def _mpii_standing() -> np.ndarray:
    """A front-facing MPII-16 body, symmetric about x = 20 (image y down)."""
    kp = np.zeros((16, 2))
    kp[0], kp[1], kp[2] = [30, 200], [30, 150], [30, 100]  # right ankle, knee, hip
    kp[3], kp[4], kp[5] = [10, 100], [10, 150], [10, 200]  # left hip, knee, ankle
    kp[6], kp[7], kp[8], kp[9] = [20, 100], [20, 40], [20, 30], [20, 0]  # pelvis .. head top
    kp[10], kp[11], kp[12] = [40, 90], [40, 70], [30, 40]  # right wrist, elbow, shoulder
    kp[13], kp[14], kp[15] = [10, 40], [0, 70], [0, 90]  # left shoulder, elbow, wrist
    return kp


def test_mpii_moves_joints_where_human36m_puts_them():
    out, conf = to_h36m(_mpii_standing(), None, "mpii16")
    assert np.allclose(out[[13, 16]], [[0, 90], [40, 90]])  # wrists one to one
    assert out[3, 1] > 200 and out[6, 1] > 200  # ankles below MPII's, down the shin
    assert out[1, 0] > 30 and out[4, 0] < 10 and out[1, 1] < 100  # hips wider, higher
    assert 20 < out[14, 0] < 30 and 10 < out[11, 0] < 20  # shoulders pulled in
    assert out[8, 1] > out[9, 1] > out[10, 1] > 0  # thorax, nose, head going up
    assert np.allclose(out[[0, 7, 8, 9, 10], 0], 20)  # the midline stays the midline
    assert np.all(conf == 1.0)


def test_mpii_conversion_is_left_right_symmetric():
    kp = _mpii_standing() + np.random.default_rng(1).normal(0, 5, (16, 2))
    mirror_mpii = [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]
    mirror_h36m = [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13]
    mirrored = kp[mirror_mpii] * [-1, 1]
    out, _ = to_h36m(kp, None, "mpii16")
    out_mirrored, _ = to_h36m(mirrored, None, "mpii16")
    np.testing.assert_allclose(out_mirrored, out[mirror_h36m] * [-1, 1], atol=1e-4)


def test_h36m_layout_is_the_identity_and_a_wrong_joint_count_is_refused():
    kp = np.random.default_rng(0).normal(size=(5, 17, 2))
    out, _ = to_h36m(kp, None, "h36m17")
    np.testing.assert_allclose(out, kp, atol=1e-6)
    with pytest.raises(ValueError, match="16 joints"):
        to_h36m(kp, None, "mpii16")
    with pytest.raises(ValueError, match="unknown keypoint layout"):
        to_h36m(kp, None, "openpose25")
