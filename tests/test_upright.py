"""upright(): lifted poses in camera axes → z-up world with feet on the ground."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hotcli.bench.synthetic import STANDING_POSE, synthetic_person
from hotcli.lifting.upright import estimate_up, upright
from hotcli.scene.camera import look_at_camera

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HEAD, PELVIS, R_ANKLE, L_ANKLE, THORAX = 10, 0, 3, 6, 8


def camera_view(world: np.ndarray, eye, target, roll: float) -> tuple[np.ndarray, np.ndarray]:
    """Root-relative camera-axis poses of ``world`` (z up) and the camera's rotation."""
    R = look_at_camera(np.asarray(eye, float), np.asarray(target, float), roll_degrees=roll)
    cam = (world - np.asarray(eye, float)) @ R.T
    return cam - cam[:, :1], R


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return math.degrees(math.acos(np.clip(cos, -1, 1)))


@pytest.mark.parametrize(
    ("eye", "roll"),
    [
        ((0.0, -4.0, 1.0), 0.0),  # level camera at hip height
        ((1.5, -3.5, 3.0), 8.0),  # high, looking down ~25°, rolled
        ((-2.0, 2.5, 0.3), -15.0),  # low, behind-left, rolled the other way
        ((0.0, -2.5, 3.0), 0.0),  # steep: looking down 40°
    ],
)
def test_known_camera_tilt_and_roll_give_an_upright_body(eye, roll) -> None:
    world_truth = synthetic_person(60, 640, 480).keypoints_3d_world.astype(np.float64)
    cam, R_cam = camera_view(world_truth, eye, (0.0, 0.0, 0.9), roll)
    world, R = upright(cam)

    true_up_cam = R_cam @ np.array([0.0, 0.0, 1.0])  # world z seen in camera axes
    assert angle_deg(R @ true_up_cam, np.array([0.0, 0.0, 1.0])) < 3.0
    assert np.all(world[:, HEAD, 2] > world[:, PELVIS, 2])
    assert np.all(world[:, PELVIS, 2] > world[:, [R_ANKLE, L_ANKLE], 2].max(axis=1))
    np.testing.assert_allclose(world[..., 2].min(axis=1), 0.0, atol=1e-5)  # feet on the ground
    np.testing.assert_allclose(world[:, PELVIS, :2], 0.0, atol=1e-5)  # root over the origin
    # The camera looks along +y (seen from above), in the direction it really faces.
    view = R @ np.array([0.0, 0.0, 1.0])
    assert abs(view[0]) < 1e-6 and view[1] > 0
    assert np.isclose(np.linalg.det(R), 1.0) and np.allclose(R @ R.T, np.eye(3), atol=1e-9)
    # world = cam @ R.T + per-frame offset: bone vectors are exactly rotated.
    np.testing.assert_allclose(world - world[:, :1], (cam @ R.T) - (cam @ R.T)[:, :1], atol=1e-5)


def test_up_is_from_the_skeleton_not_a_fixed_rotation() -> None:
    world_truth = np.repeat(STANDING_POSE[None], 10, axis=0)
    level, _ = camera_view(world_truth, (0, -4, 1.0), (0, 0, 1.0), 0.0)
    tilted, _ = camera_view(world_truth, (0, -4, 1.0), (0, 0, 1.0), 30.0)
    up_level, up_tilted = estimate_up(level), estimate_up(tilted)
    assert angle_deg(up_level, up_tilted) > 25.0  # different in camera axes ...
    heights = STANDING_POSE[:, 2] - STANDING_POSE[:, 2].min()
    z_level, z_tilted = upright(level)[0][0, :, 2], upright(tilted)[0][0, :, 2]
    np.testing.assert_allclose(z_level, z_tilted, atol=1e-4)  # ... same heights in the world
    np.testing.assert_allclose(z_level, heights, atol=5e-3)  # (the pose leans ~1°)


def test_bent_over_frames_do_not_tilt_the_clip() -> None:
    world_truth = synthetic_person(100, 640, 480).keypoints_3d_world.astype(np.float64)
    bent = world_truth.copy()
    # A third of the clip bent forward: the upper body rotated 80° about the hips' axis.
    c, s = math.cos(math.radians(80)), math.sin(math.radians(80))
    rot = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    upper = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    pivot = bent[:70, :1]
    bent[:70, upper] = (bent[:70, upper] - pivot) @ rot.T + pivot
    cam, R_cam = camera_view(bent, (0.5, -4.0, 2.0), (0, 0, 0.9), 5.0)
    _, R = upright(cam)
    assert angle_deg(R @ (R_cam @ np.array([0, 0, 1.0])), np.array([0, 0, 1.0])) < 5.0


def test_a_person_lying_all_clip_falls_back_to_the_image_up() -> None:
    # Lying on the back, head towards the image's right: the skeleton's "up" is sideways.
    x, y, z = STANDING_POSE.T
    lying = np.stack([z - 0.9, x, 0.1 - y], axis=-1)
    world_truth = np.repeat(lying[None], 10, axis=0)
    cam, R_cam = camera_view(world_truth, (0.0, -4.0, 1.2), (0.0, 0.0, 0.5), 0.0)
    world, R = upright(cam)
    assert angle_deg(R @ (R_cam @ np.array([0, 0, 1.0])), np.array([0, 0, 1.0])) < 15.0
    assert np.ptp(world[0, :, 2]) < 0.5  # drawn lying down, not stood up


def test_degenerate_input_stays_finite() -> None:
    world, R = upright(np.zeros((5, 17, 3), np.float32))
    assert np.isfinite(world).all() and np.isfinite(R).all()
    nan_frame = synthetic_person(4, 64, 64).keypoints_3d.copy()
    nan_frame[1] = np.nan
    world, _ = upright(nan_frame)
    assert np.isfinite(world[[0, 2, 3]]).all()
    assert upright(np.zeros((0, 17, 3)))[0].shape == (0, 17, 3)
    with pytest.raises(ValueError):
        upright(np.zeros((5, 16, 3)))


def test_human36m_cameras_give_the_dataset_up() -> None:
    npz, cams = DATA / "h36m" / "h36m_3d.npz", DATA / "h36m" / "cameras.json"
    if not (npz.exists() and cams.exists()):
        pytest.skip(f"Human3.6M data not found under {DATA / 'h36m'}")
    with np.load(npz) as data:
        world_truth = data["S1/Walking 1"][:500:5].astype(np.float64)  # world z is up
    for camera in json.loads(cams.read_text())["S1"]:
        R_cam, T = np.array(camera["R"]), np.array(camera["T"])
        cam = (world_truth - T) @ R_cam.T
        world, R = upright(cam - cam[:, :1])
        assert angle_deg(R @ (R_cam @ np.array([0, 0, 1.0])), np.array([0, 0, 1.0])) < 5.0
        assert np.all(world[:, HEAD, 2] > world[:, PELVIS, 2])
