"""Keypoint layouts converted to the lifter's Human3.6M-17 joints, on hand-made keypoints."""

import numpy as np
import pytest

from hotcli.layouts import LAYOUTS, conversion_matrix, to_h36m


def test_every_layout_converts_with_weights_that_sum_to_one():
    for layout in LAYOUTS:
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


def test_mpii_limbs_map_one_to_one_and_the_head_lies_on_the_neck_line():
    kp = np.zeros((16, 2))
    kp[0], kp[1], kp[2] = [30, 200], [30, 150], [30, 100]  # right ankle, knee, hip
    kp[3], kp[4], kp[5] = [10, 100], [10, 150], [10, 200]  # left hip, knee, ankle
    kp[6], kp[7], kp[8], kp[9] = [20, 100], [20, 40], [20, 30], [20, 0]  # pelvis .. head top
    kp[10], kp[11], kp[12] = [40, 90], [40, 70], [30, 40]  # right wrist, elbow, shoulder
    kp[13], kp[14], kp[15] = [10, 40], [0, 70], [0, 90]  # left shoulder, elbow, wrist
    out, conf = to_h36m(kp, None, "mpii16")
    assert np.allclose(out[3], [30, 200]) and np.allclose(out[6], [10, 200])
    assert np.allclose(out[13], [0, 90]) and np.allclose(out[16], [40, 90])
    assert np.allclose(out[0], [20, 100])
    # thorax, nose and head go up the line thorax → upper neck → head top, in that order
    assert out[8, 1] > out[9, 1] > out[10, 1] > 0
    assert np.allclose(out[[7, 8, 9, 10], 0], 20)
    assert np.all(conf == 1.0)


def test_h36m_layout_is_the_identity_and_a_wrong_joint_count_is_refused():
    kp = np.random.default_rng(0).normal(size=(5, 17, 2))
    out, _ = to_h36m(kp, None, "h36m17")
    np.testing.assert_allclose(out, kp, atol=1e-6)
    with pytest.raises(ValueError, match="16 joints"):
        to_h36m(kp, None, "mpii16")
    with pytest.raises(ValueError, match="unknown keypoint layout"):
        to_h36m(kp, None, "openpose25")
