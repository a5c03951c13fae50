import numpy as np
import pytest

from hotcli.training.metrics import accel_error, mpjpe, mpjve, p_mpjpe, procrustes_align


def random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def test_identical_poses_score_zero():
    pose = np.random.default_rng(0).normal(size=(5, 17, 3))
    assert np.allclose(mpjpe(pose, pose), 0)
    assert np.allclose(p_mpjpe(pose, pose), 0, atol=1e-9)
    assert np.allclose(mpjve(pose, pose), 0)


def test_mpjpe_known_offset():
    gt = np.zeros((2, 17, 3))
    pred = gt + np.array([0.03, 0.04, 0.0])  # 5 cm off on every joint
    assert np.allclose(mpjpe(pred, gt), 0.05)


def test_p_mpjpe_ignores_similarity_transform():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(4, 17, 3))
    noisy = gt + rng.normal(scale=0.05, size=gt.shape)
    moved = 2.5 * noisy @ random_rotation(rng).T + np.array([1.0, -2.0, 0.5])
    assert np.allclose(p_mpjpe(moved, gt), p_mpjpe(noisy, gt), atol=1e-9)
    assert np.all(p_mpjpe(noisy, gt) <= mpjpe(noisy, gt) + 1e-12)


def test_procrustes_never_reflects():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(1, 17, 3))
    mirrored = gt * np.array([-1, 1, 1])  # a mirror image cannot be fitted by a rotation
    aligned = procrustes_align(mirrored, gt)
    assert p_mpjpe(mirrored, gt)[0] > 0.1
    assert aligned.shape == gt.shape


@pytest.mark.parametrize("shape", [(17, 3), (3, 17, 3)])
def test_mpjpe_shapes(shape):
    a = np.ones(shape)
    assert mpjpe(a, a).shape == shape[:-2]


def test_a_constant_offset_moves_positions_but_not_velocity_or_acceleration():
    gt = np.random.default_rng(2).normal(size=(20, 17, 3))
    shifted = gt + np.array([0.1, 0.0, 0.0])
    assert np.allclose(mpjpe(shifted, gt), 0.1)
    assert np.allclose(mpjve(shifted, gt), 0, atol=1e-12)
    assert np.allclose(accel_error(shifted, gt), 0, atol=1e-12)


def test_one_frame_of_jitter_shows_as_acceleration_error_on_three_frames():
    gt = np.zeros((10, 17, 3))
    pred = gt.copy()
    pred[5, :, 0] = 0.01  # every joint 1 cm off in frame 5 alone
    err = accel_error(pred, gt)
    assert err.shape == (8,)
    # second differences at frames 4, 5, 6 are 1, -2, 1 cm
    np.testing.assert_allclose(err, [0, 0, 0, 0.01, 0.02, 0.01, 0, 0], atol=1e-12)
