"""Scores of motion in the world (for ``hot-pose eval``), on synthetic scenes with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from hotcli.scene.camera import focal_from_fov
from hotcli.training.world_metrics import (
    ViewScores,
    abs_mpjpe,
    root_error,
    scene_scale,
    score_view,
    summarise_world,
)
from tests.scene import Scene, observe, walker

FPS = 50.0


def test_root_error_and_absolute_mpjpe_are_plain_distances():
    gt = np.zeros((2, 17, 3))
    pred = gt.copy()
    pred[0] += [0.3, 0.4, 0.0]  # the whole pose 0.5 m off
    pred[1, 5] += [0.0, 0.0, 1.7]  # one joint of 17 off by 1.7 m
    np.testing.assert_allclose(root_error(pred[:, 0], gt[:, 0]), [0.5, 0.0])
    np.testing.assert_allclose(abs_mpjpe(pred, gt), [0.5, 0.1])


def test_a_scene_placed_too_near_is_off_by_its_scale_and_right_at_the_true_scale():
    rng = np.random.default_rng(1)
    gt = rng.uniform([-1.0, -0.5, 4.0], [1.0, 0.5, 6.0], (50, 3))  # pelvis paths, metres
    pred = gt / 1.02  # a person 2 % too small, so 2 % too near
    assert scene_scale(pred, gt) == pytest.approx(1.02)
    assert root_error(pred, gt).mean() > 0.08
    np.testing.assert_allclose(root_error(scene_scale(pred, gt) * pred, gt), 0.0, atol=1e-12)
    pred[:5] = np.nan  # frames without a placement do not count
    assert scene_scale(pred, gt) == pytest.approx(1.02)
    assert np.isnan(scene_scale(np.full((3, 3), np.nan), gt[:3]))


def test_a_view_scored_with_the_true_pose_has_small_errors_and_a_wrong_fov_large_ones():
    scene, rng = Scene(width=1000, height=1000, focal=1150.0), np.random.default_rng(0)
    world = walker(200, FPS, (-1.5, 4.0), (1.5, 6.0))
    cam, rel, pix = observe(scene, world, rng, noise_m=0.0, noise_px=0.0)
    scores = score_view(rel, pix, cam, world, scene.focal, scene.centre, scene.width, FPS)
    assert scores.root_error.shape == (200,) and scores.abs_mpjpe.shape == (200,)
    assert scores.root_error.mean() < 0.01 and scores.abs_mpjpe.mean() < 0.015
    assert scores.scale == pytest.approx(1.0, abs=0.005)
    assert scores.root_error_true_scale.mean() < 0.01
    # 60° over 1000 px is an 866 px lens instead of 1150: depth about 25 % short.
    expected = (1 - focal_from_fov(1000, 60.0) / 1150.0) * cam[:, 0, 2].mean()
    assert scores.root_error_default_fov.mean() == pytest.approx(expected, rel=0.1)
    # The walker's planted feet do not move; the placement keeps them within a millimetre.
    assert scores.skate_gt.size > 50 and scores.skate_gt.max() < 1e-9
    assert scores.skate_pred.size == scores.skate_gt.size and scores.skate_pred.mean() < 1e-3


def test_scores_are_pooled_per_action_then_averaged_over_actions():
    def view(value: float, frames: int, skate: float) -> ViewScores:
        per_frame = np.full(frames, value)
        return ViewScores(per_frame, 10 * per_frame, per_frame / 2, 1 + value, 2 * per_frame,
                          np.full(3, skate), np.full(3, skate / 2))  # fmt: skip

    result = summarise_world({"Walk": [view(0.1, 10, 0.004), view(0.2, 30, 0.002)],
                              "Sit": [view(0.05, 5, np.nan)]})  # fmt: skip
    walk = result["per_action"]["Walk"]
    assert walk["root_error_mm"] == pytest.approx(175.0)  # frames pooled: (10·100 + 30·200)/40
    assert walk["root_error_default_fov_mm"] == pytest.approx(1750.0)
    assert walk["abs_mpjpe_mm"] == pytest.approx(350.0)
    assert walk["root_error_true_scale_mm"] == pytest.approx(87.5)
    assert walk["scene_scale"] == pytest.approx(1.15)  # views' factors averaged: (1.1 + 1.2) / 2
    assert walk["foot_skate_mm"] == pytest.approx({"prediction": 3.0, "ground_truth": 1.5})
    assert result["root_error_mm"] == pytest.approx((175.0 + 50.0) / 2)
    assert result["foot_skate_mm"]["prediction"] == pytest.approx(3.0)  # Sit has no contacts
