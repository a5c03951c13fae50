"""The world placement: camera, root trajectory, ground, feet, presence; synthetic scenes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hotcli.errors import HotPoseError
from hotcli.lifting.skeleton import bone_lengths
from hotcli.pose2d.presence import max_gap_frames, present_mask, runs
from hotcli.scene.camera import DEFAULT_FOV_DEGREES, focal_from_fov, video_intrinsics
from hotcli.scene.feet import (
    dilate_in_time,
    erode_in_time,
    foot_contact,
    foot_skate,
    lock_feet,
    two_bone_ik,
)
from hotcli.scene.ground import fit_ground, lift_above_ground
from hotcli.scene.trajectory import median_in_time, savgol, smooth_root, solve_root
from hotcli.scene.world import WorldOptions, estimate_focal, place_persons
from tests.scene import ANKLE_HEIGHT, Scene, observe, walker

FPS = 25.0
PELVIS, L_ANKLE, R_ANKLE = 0, 6, 3


def place(scene, worlds, rng, present=None, focal=None, **options):
    """Run :func:`place_persons` on what ``scene``'s camera sees of ``worlds``."""
    rels, pixels, cams = [], [], []
    for w in worlds:
        cam, rel, pix = observe(scene, w, rng)
        cams.append(cam)
        rels.append(rel)
        pixels.append(pix)
    t = len(worlds[0])
    present = present or [np.ones(t, bool) for _ in worlds]
    rels = [np.where(p[:, None, None], r, np.nan) for r, p in zip(rels, present, strict=True)]
    camera = video_intrinsics(scene.width, scene.height, focal_length=focal or scene.focal)
    placed, ground = place_persons(
        rels, pixels, [np.full((t, 17), 0.9) for _ in worlds], present, present, camera, FPS,
        WorldOptions(**options),
    )  # fmt: skip
    return placed, ground, cams


# --- camera -------------------------------------------------------------------------------


def test_the_focal_length_comes_from_the_option_the_fov_or_the_default():
    assert video_intrinsics(1000, 600, focal_length=1145.0).focal_px == 1145.0
    assert video_intrinsics(1000, 600, focal_length=1145.0).source == "--focal-length"
    by_fov = video_intrinsics(1000, 600, fov=90.0)
    assert by_fov.focal_px == pytest.approx(500.0) and by_fov.source == "--fov"
    default = video_intrinsics(1000, 600)
    assert default.source == "default"
    assert default.fov_degrees == pytest.approx(DEFAULT_FOV_DEGREES)
    assert (default.cx, default.cy) == (500.0, 300.0)
    assert focal_from_fov(1000, 60.0) == pytest.approx(500 / math.tan(math.radians(30)))


@pytest.mark.parametrize("kwargs", [{"focal_length": 1.0, "fov": 60.0}, {"fov": 0.0},
                                    {"fov": 180.0}, {"focal_length": -5.0}])  # fmt: skip
def test_bad_camera_options_are_one_line_errors(kwargs):
    with pytest.raises(HotPoseError):
        video_intrinsics(640, 480, **kwargs)


# --- root trajectory ----------------------------------------------------------------------


def test_a_person_walking_across_and_away_is_recovered_within_a_few_centimetres():
    scene, rng = Scene(), np.random.default_rng(1)
    world = walker(150, FPS, (-2.5, 4.0), (2.0, 10.0))  # 7.5 m, across and away
    cam, rel, pix = observe(scene, world, rng)
    raw = solve_root(rel, pix, np.full((150, 17), 0.9), scene.focal, scene.centre)
    smooth = smooth_root(raw, np.ones(150, bool), np.ones(150, bool), FPS)
    error = np.linalg.norm(smooth - cam[:, PELVIS], axis=1)
    # 1 cm of noise per joint makes ~9 cm of depth noise per frame at 10 m; the last
    # frames, far away and smoothed from one side only, are the worst.
    assert error.mean() < 0.03 and np.percentile(error, 90) < 0.06 and error.max() < 0.15
    raw_error = np.linalg.norm(raw - cam[:, PELVIS], axis=1)
    assert error.mean() < raw_error.mean()  # smoothing helps
    # No lag: the smoothed path is not behind the truth along the walk.
    along = np.diff(cam[[0, -1], PELVIS], axis=0)[0]
    lag = (smooth - cam[:, PELVIS]) @ (along / np.linalg.norm(along))
    assert abs(np.mean(lag[10:-10])) < 0.01


def test_a_few_wrong_joints_pull_the_root_little():
    scene, rng = Scene(), np.random.default_rng(2)
    world = walker(60, FPS, (-1.0, 5.0), (1.0, 6.0))
    cam, rel, pix = observe(scene, world, rng)
    bad = pix.copy()
    bad[:, [13, 16]] += 60.0  # both wrists 85 px off in every frame
    weights = np.full((60, 17), 0.9)
    clean = solve_root(rel, pix, weights, scene.focal, scene.centre)
    robust = solve_root(rel, bad, weights, scene.focal, scene.centre)
    plain = solve_root(rel, bad, weights, scene.focal, scene.centre, iterations=1)
    error = np.linalg.norm(robust - cam[:, PELVIS], axis=1).mean()
    assert error < 0.05
    assert error < 0.5 * np.linalg.norm(plain - cam[:, PELVIS], axis=1).mean()
    assert np.linalg.norm(clean - cam[:, PELVIS], axis=1).mean() < 0.05


def test_frames_with_too_few_joints_have_no_root():
    scene, rng = Scene(), np.random.default_rng(3)
    cam, rel, pix = observe(scene, walker(10, FPS, (0, 5), (1, 5)), rng)
    weights = np.full((10, 17), 0.9)
    weights[4, 2:] = 0.0  # two joints left
    rel[6] = np.nan
    root = solve_root(rel, pix, weights, scene.focal, scene.centre)
    assert np.isnan(root[[4, 6]]).all() and np.isfinite(np.delete(root, [4, 6], 0)).all()


def test_a_wrong_focal_length_scales_the_path_but_keeps_its_shape():
    scene, rng = Scene(), np.random.default_rng(4)
    world = walker(100, FPS, (-2.0, 4.0), (2.0, 8.0))
    cam, rel, pix = observe(scene, world, rng, noise_m=0.0, noise_px=0.0)
    weights = np.full((100, 17), 0.9)
    right = solve_root(rel, pix, weights, scene.focal, scene.centre)
    wide = solve_root(rel, pix, weights, 1.5 * scene.focal, scene.centre)
    # Same rays through the image (x/z, y/z), depth scaled by about the focal ratio.
    np.testing.assert_allclose(wide[:, :2] / wide[:, 2:], right[:, :2] / right[:, 2:] / 1.5,
                               atol=2e-3)  # fmt: skip
    ratio = wide[:, 2] / right[:, 2]
    assert np.all(np.abs(ratio - 1.5) < 0.15) and ratio.std() < 0.05
    np.testing.assert_allclose(right, cam[:, PELVIS], atol=0.01)


# --- presence and gaps --------------------------------------------------------------------


def test_short_gaps_are_bridged_and_long_ones_left_empty():
    detected = np.zeros(40, bool)
    detected[5:12] = detected[14:20] = detected[32:38] = True  # gaps of 2 and 12 frames
    present = present_mask(detected, max_gap=max_gap_frames(10.0))  # 5 frames at 10 fps
    assert runs(present) == [(5, 20), (32, 38)]
    root = np.where(detected[:, None], np.linspace([0, 0, 5], [4, 0, 9], 40), np.nan)
    smooth = smooth_root(root, detected, present, 10.0)
    assert np.isfinite(smooth[5:20]).all() and np.isfinite(smooth[32:38]).all()
    assert np.isnan(smooth[~present]).all()
    np.testing.assert_allclose(smooth[12:14], np.linspace([0, 0, 5], [4, 0, 9], 40)[12:14],
                               atol=1e-6)  # a straight line is bridged straight  # fmt: skip


def test_the_gap_limit_is_half_a_second():
    assert max_gap_frames(10.0) == 5 and max_gap_frames(25.0) == 12
    assert max_gap_frames(0.0) == 1


def test_a_person_entering_late_and_leaving_early_has_nan_outside_their_span():
    scene, rng = Scene(), np.random.default_rng(5)
    t = 120
    early = walker(t, FPS, (-2.0, 5.0), (2.0, 5.0))
    late = walker(t, FPS, (2.0, 7.0), (-2.0, 7.0))
    spans = [np.ones(t, bool), np.zeros(t, bool)]
    spans[1][30:90] = True
    placed, _, cams = place(scene, [early, late], rng, present=spans)
    person = placed[1]
    for key in ("root_camera", "keypoints_3d_camera", "keypoints_3d", "keypoints_3d_world"):
        values = getattr(person, key)
        assert np.isnan(values[~spans[1]]).all(), key
        assert np.isfinite(values[spans[1]]).all(), key
    assert not person.foot_contact[~spans[1]].any()
    error = np.linalg.norm(person.root_camera[30:90] - cams[1][30:90, PELVIS], axis=1)
    assert error.mean() < 0.05


# --- one world ----------------------------------------------------------------------------


def test_the_ground_gives_the_camera_height_and_tilt():
    scene, rng = Scene(eye=(0.5, 0.0, 2.2), target=(0.0, 6.0, 0.5)), np.random.default_rng(6)
    worlds = [walker(150, FPS, (-2.5, 4.0), (2.0, 9.0)), walker(150, FPS, (2.0, 8.0), (0, 4))]
    placed, ground, _ = place(scene, worlds, rng)
    # z = 0 is the plane of the ankles of a foot on the floor.
    assert ground.height == pytest.approx(scene.eye[2] - ANKLE_HEIGHT, abs=0.05)
    assert ground.tilt_degrees == pytest.approx(scene.tilt_degrees, abs=1.5)
    assert abs(ground.roll_degrees) < 1.5
    for person in placed:
        z = person.keypoints_3d_world[..., 2]
        assert np.nanmin(z) >= 0.0  # never below the ground
        down = person.foot_contact
        ankles = person.keypoints_3d_world[:, [L_ANKLE, R_ANKLE], 2]
        assert down.mean() > 0.3 and np.abs(ankles[down]).mean() < 0.03  # feet at z ≈ 0


def test_two_persons_at_a_known_distance_keep_it():
    scene, rng = Scene(), np.random.default_rng(7)
    a = walker(125, FPS, (-2.0, 5.0), (1.0, 8.0))
    b = a + np.array([1.2, -0.9, 0.0])  # 1.5 m to the side, walking alongside
    placed, _, _ = place(scene, [a, b], rng)
    gap = placed[1].keypoints_3d_world[:, PELVIS, :2] - placed[0].keypoints_3d_world[:, PELVIS, :2]
    distance = np.linalg.norm(gap, axis=1)
    assert np.abs(distance - 1.5).mean() < 0.06


def test_the_world_frame_moves_with_the_person_and_matches_the_truth():
    scene, rng = Scene(), np.random.default_rng(8)
    world = walker(150, FPS, (-2.5, 4.0), (2.0, 10.0))
    placed, ground, _ = place(scene, [world], rng)
    got = placed[0].keypoints_3d_world[:, PELVIS]
    # The truth in the same frame: origin under the camera, y along its view, z up.
    truth = world[:, PELVIS] - np.array([scene.eye[0], scene.eye[1], ANKLE_HEIGHT])
    forward = np.asarray(scene.target[:2]) - np.asarray(scene.eye[:2])
    heading = math.atan2(forward[0], forward[1])
    c, s = math.cos(heading), math.sin(heading)
    truth[:, :2] = truth[:, :2] @ np.array([[c, -s], [s, c]]).T
    walked = np.linalg.norm(got[-1, :2] - got[0, :2])
    assert walked == pytest.approx(np.linalg.norm([4.5, 6.0]), rel=0.03)
    assert np.linalg.norm(got - truth, axis=1).mean() < 0.06
    # Camera coordinates and world coordinates are the same motion.
    np.testing.assert_allclose(ground.to_world(placed[0].keypoints_3d_camera),
                               placed[0].keypoints_3d_world, atol=1e-9)  # fmt: skip


def test_a_single_straight_walk_takes_its_tilt_about_the_path_from_the_skeleton():
    scene, rng = Scene(), np.random.default_rng(9)
    world = walker(100, FPS, (0.0, 4.0), (0.0, 9.0))  # straight away: feet on one line
    _, ground, _ = place(scene, [world], rng)
    assert ground.tilt_degrees == pytest.approx(scene.tilt_degrees, abs=3.0)
    assert abs(ground.roll_degrees) < 3.0


def test_a_frame_below_the_ground_is_raised_onto_it_and_nothing_else_moves():
    w = np.repeat(walker(25, FPS, (0, 0), (0, 1))[:1] - [0, 0, ANKLE_HEIGHT], 3, axis=0)
    w[1] -= [0, 0, 0.05]
    w[2, :] = np.nan
    out = lift_above_ground(w)
    np.testing.assert_allclose(out[1], w[0], atol=1e-12)
    np.testing.assert_array_equal(out[0], w[0])
    assert np.isnan(out[2]).all()


def test_fit_ground_without_any_foot_is_an_error():
    nothing = np.full((5, 17, 3), np.nan)
    with pytest.raises(ValueError):
        fit_ground([nothing], [nothing])


# --- feet ---------------------------------------------------------------------------------


def test_feet_in_contact_stay_put_and_no_bone_changes_length():
    scene, rng = Scene(), np.random.default_rng(10)
    world = walker(150, FPS, (-2.0, 5.0), (2.0, 7.0))
    free, _, _ = place(scene, [world], rng, foot_lock=False)
    locked, _, _ = place(scene, [world], np.random.default_rng(10))
    before, after = free[0], locked[0]
    assert before.skate_before_mm == pytest.approx(after.skate_before_mm)
    assert after.skate_before_mm > 3.0  # noisy lifting slides the feet ...
    assert after.skate_after_mm < 0.5  # ... the lock holds them
    assert foot_skate(after.keypoints_3d_world, after.foot_contact) == after.skate_after_mm
    lengths = bone_lengths(after.keypoints_3d_world)
    np.testing.assert_allclose(lengths, bone_lengths(before.keypoints_3d_world), atol=1e-6)
    # Only knees and ankles move against the body (a frame may be raised whole, if the
    # lock pushed a foot below the ground), and they move little.
    change = after.keypoints_3d - before.keypoints_3d
    moved = np.abs(change).max(axis=(0, 2))
    assert moved[[0, 1, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]].max() < 1e-9
    assert np.linalg.norm(change, axis=-1).max() < 0.1
    lift = after.keypoints_3d_world[:, PELVIS] - before.keypoints_3d_world[:, PELVIS]
    assert np.abs(lift[:, :2]).max() < 1e-9 and lift[:, 2].min() > -1e-9


def test_contacts_are_found_where_the_feet_are_planted():
    world = walker(150, FPS, (0.0, 0.0), (4.0, 0.0)) - np.array([0, 0, ANKLE_HEIGHT])
    contact = foot_contact(world, FPS)
    speed = np.linalg.norm(np.gradient(world[:, [L_ANKLE, R_ANKLE], :2], axis=0), axis=-1)
    planted = speed < 1e-9
    agree = (contact == planted).mean()
    assert agree > 0.9 and contact.mean() > 0.4
    assert not (contact[:, 0] & contact[:, 1]).all()  # not both feet down all the time


def test_lock_feet_holds_a_jittering_standing_foot_on_one_spot():
    world = walker(50, FPS, (0, 0), (0, 0.001)) - np.array([0, 0, ANKLE_HEIGHT])
    rng = np.random.default_rng(11)
    jitter = world + rng.normal(scale=0.004, size=(50, 1, 3)) * [1, 1, 0]
    contact = np.ones((50, 2), bool)
    locked = lock_feet(jitter, contact, FPS)
    assert foot_skate(jitter, contact) > 3.0
    assert foot_skate(locked, contact) < 1e-6
    np.testing.assert_allclose(locked[:, L_ANKLE, :2].mean(0), jitter[:, L_ANKLE, :2].mean(0),
                               atol=1e-6)  # the mean spot moves the foot least  # fmt: skip


def test_two_bone_ik_reaches_the_target_and_keeps_both_lengths():
    hip = np.array([[0.0, 0.0, 0.9]])
    knee = np.array([[0.0, -0.05, 0.5]])
    ankle = np.array([[0.0, 0.0, 0.1]])
    for target in ([[0.1, 0.1, 0.1]], [[0.0, 0.3, 0.2]], [[0.0, 0.0, -1.0]]):
        new_knee, new_ankle = two_bone_ik(hip, knee, ankle, np.asarray(target))
        assert np.linalg.norm(new_knee - hip) == pytest.approx(np.linalg.norm(knee - hip))
        assert np.linalg.norm(new_ankle - new_knee) == pytest.approx(np.linalg.norm(ankle - knee))
        if np.linalg.norm(np.asarray(target) - hip) < 0.8:
            np.testing.assert_allclose(new_ankle, target, atol=1e-9)
        assert new_knee[0, 1] < 0.05  # bends the way it did (towards −y)


# --- --fov auto ---------------------------------------------------------------------------


def _scene_inputs(scene, worlds, rng):
    rels, pixels = [], []
    for w in worlds:
        _, rel, pix = observe(scene, w, rng)
        rels.append(rel)
        pixels.append(pix)
    t = len(worlds[0])
    ones = [np.ones(t, bool) for _ in worlds]
    return rels, pixels, [np.full((t, 17), 0.9) for _ in worlds], ones, ones


@pytest.mark.parametrize(("focal", "eye_height"), [(700.0, 4.0), (1500.0, 2.5)])
def test_the_focal_length_is_found_from_people_walking_about_under_a_tilted_camera(
    focal, eye_height
):
    scene = Scene(focal=focal, eye=(0.0, 0.0, eye_height), target=(0.0, 6.0, 0.5))
    worlds = [walker(150, FPS, (-2.5, 4.0), (2.0, 9.0)), walker(150, FPS, (2.0, 8.0), (-1, 4)),
              walker(150, FPS, (-3.0, 7.0), (3.0, 6.0))]  # fmt: skip
    inputs = _scene_inputs(scene, worlds, np.random.default_rng(12))
    start = video_intrinsics(scene.width, scene.height)  # the default 60°: 1109 px
    found = estimate_focal(*inputs, start, FPS)
    assert found is not None and found.source == "--fov auto"
    assert found.focal_px == pytest.approx(focal, rel=0.05)


def test_fov_auto_gives_up_when_the_feet_trace_a_line():
    scene = Scene(eye=(0.0, 0.0, 3.0), target=(0.0, 6.0, 0.5))
    inputs = _scene_inputs(scene, [walker(150, FPS, (0.0, 4.0), (0.0, 9.0))],
                           np.random.default_rng(13))  # fmt: skip
    assert estimate_focal(*inputs, video_intrinsics(scene.width, scene.height), FPS) is None


@pytest.mark.parametrize(("frames", "window", "order"), [(100, 25, 2), (25, 25, 2), (7, 5, 3)])
def test_savitzky_golay_smoothing_gives_scipys_numbers(frames, window, order):
    from scipy.signal import savgol_filter

    path = np.random.default_rng(frames).normal(size=(frames, 3)).cumsum(axis=0)
    expected = savgol_filter(path, window, order, axis=0, mode="interp")
    assert np.allclose(savgol(path, window, order), expected, atol=1e-9)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_contact_masks_close_and_open_in_time_as_scipy_does(k):
    from scipy.ndimage import binary_dilation, binary_erosion

    rng = np.random.default_rng(k)
    structure = np.ones((k, 1), bool)
    for frames in (1, k, 40):
        mask = rng.random((frames, 2)) < 0.6
        assert np.array_equal(erode_in_time(mask, k), binary_erosion(mask, structure))
        assert np.array_equal(dilate_in_time(mask, k), binary_dilation(mask, structure))


def test_the_running_median_gives_scipys_numbers():
    from scipy.ndimage import median_filter

    values = np.random.default_rng(3).normal(size=(30, 3))
    for k in (3, 5):
        expected = median_filter(values, size=(k, 1), mode="nearest")
        assert np.allclose(median_in_time(values, k), expected)
