"""Camera maths, normalisation, augmentations and the Human3.6M clip pipeline."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from hotcli.lifting.skeleton import (
    BONE_LENGTH_PERCENTILE,
    H36M_BONES,
    H36M_LEFT,
    H36M_RIGHT,
    REFERENCE_SKELETON_M,
    bone_lengths,
    fix_bone_lengths,
    flip_permutation,
    symmetric_bones,
    with_bone_lengths,
)
from hotcli.scene.camera import (
    camera_to_world,
    denormalize_2d,
    normalize_2d,
    project,
    world_to_camera,
)
from hotcli.training.data import (
    Augment,
    Camera,
    ClipSampler,
    action_of,
    camera_view,
    corrupt_2d,
    flip_pose,
    load_sequences,
    other_body,
    virtual_camera,
)
from tests.conftest import require


def test_projection_of_hand_checked_points():
    f, c = np.array([1000.0, 1000.0]), np.array([500.0, 500.0])
    point = np.array([0.1, -0.2, 2.0])
    assert np.allclose(project(point, f, c), [550.0, 400.0])
    # Radial only: x=0.05, y=-0.1, r²=0.0125, d=1+0.1·r²=1.00125.
    k, p = np.array([0.1, 0.0, 0.0]), np.zeros(2)
    assert np.allclose(project(point, f, c, k, p), [550.0625, 399.875])
    # Tangential only: d = 1 + p0·y + p1·x = 1; x' = x + p1·r², y' = y + p0·r².
    k, p = np.zeros(3), np.array([0.01, 0.02])
    assert np.allclose(project(point, f, c, k, p), [550.25, 400.125])


def test_world_camera_round_trip():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    T = np.array([1.0, 2.0, 3.0])
    world = rng.normal(size=(5, 17, 3))
    cam = world_to_camera(world, q, T)
    assert np.allclose(camera_to_world(cam, q, T), world)
    assert np.allclose(world_to_camera(T, np.eye(3), T), 0)


def test_normalisation_round_trip_and_range():
    w, h = 1000, 1002
    px = np.array([[0.0, 0.0], [1000.0, 1002.0], [500.0, 501.0]])
    norm = normalize_2d(px, w, h)
    assert np.allclose(norm[0], [-1, -h / w]) and np.allclose(norm[2], [0, 0])
    assert np.allclose(denormalize_2d(norm, w, h), px, atol=1e-3)


def test_flip_swaps_sides_and_is_an_involution():
    perm = flip_permutation()
    assert list(perm[list(H36M_LEFT)]) == list(H36M_RIGHT)
    pose = np.random.default_rng(1).normal(size=(4, 17, 3))
    assert np.allclose(flip_pose(flip_pose(pose)), pose)
    assert np.allclose(flip_pose(pose)[:, 4, 0], -pose[:, 1, 0])


def test_fixed_bone_lengths_leave_a_rigid_skeleton_alone_but_for_its_size():
    pose = upright_person()
    np.testing.assert_allclose(fix_bone_lengths(pose, size=None), pose, atol=1e-6)
    assert fix_bone_lengths(pose[:0]).shape == (0, 17, 3)
    scale = REFERENCE_SKELETON_M / bone_lengths(pose[0]).sum()
    root = pose[:, :1]
    np.testing.assert_allclose(fix_bone_lengths(pose), root + scale * (pose - root), atol=1e-6)


def test_fixed_bone_lengths_give_every_person_the_reference_size():
    pose = upright_person(5).astype(np.float64)
    for factor in (0.5, 1.0, 1.3):
        fixed = fix_bone_lengths(pose * factor)
        np.testing.assert_allclose(bone_lengths(fixed).sum(axis=1), REFERENCE_SKELETON_M)


def test_fixed_bone_lengths_keep_directions_and_the_percentile_proportions():
    rng = np.random.default_rng(3)
    pose = upright_person(40).astype(np.float64)
    squeezed = pose.copy()  # every bone shortened by its own random factor in each frame
    for parent, child in H36M_BONES:
        scale = rng.uniform(0.6, 1.0, size=(len(pose), 1))
        squeezed[:, child] = squeezed[:, parent] + scale * (pose[:, child] - pose[:, parent])
    fixed = fix_bone_lengths(squeezed)
    lengths = bone_lengths(fixed)
    np.testing.assert_allclose(lengths[0].sum(), REFERENCE_SKELETON_M)
    assert lengths.std(axis=0).max() < 1e-9  # one length per bone
    left = [i for i, (_, c) in enumerate(H36M_BONES) if c in H36M_LEFT]
    right = [i for i, (_, c) in enumerate(H36M_BONES) if c in H36M_RIGHT]
    np.testing.assert_allclose(lengths[0, left], lengths[0, right])
    spine = [i for i, (_, c) in enumerate(H36M_BONES) if c in (7, 8, 9, 10)]
    kept = symmetric_bones(np.percentile(bone_lengths(squeezed), BONE_LENGTH_PERCENTILE, axis=0))
    expected = kept[spine] * REFERENCE_SKELETON_M / kept.sum()
    np.testing.assert_allclose(lengths[0, spine], expected)
    for parent, child in H36M_BONES:
        a = fixed[:, child] - fixed[:, parent]
        b = squeezed[:, child] - squeezed[:, parent]
        cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
        np.testing.assert_allclose(cos, 1.0, atol=1e-9)
    np.testing.assert_array_equal(fixed[:, 0], squeezed[:, 0])


def test_action_names_merge_takes():
    assert action_of("S1/Walking 1") == "Walking" and action_of("S9/SittingDown") == "SittingDown"


def upright_person(frames=30):
    """A crude standing skeleton (world metres, z up) swaying in x."""
    base = np.array(
        [
            [0, 0, 0.9],
            [-0.12, 0, 0.9],
            [-0.12, 0, 0.5],
            [-0.12, 0, 0.08],
            [0.12, 0, 0.9],
            [0.12, 0, 0.5],
            [0.12, 0, 0.08],
            [0, 0, 1.15],
            [0, 0, 1.4],
            [0, -0.05, 1.5],
            [0, 0, 1.65],
            [0.18, 0, 1.4],
            [0.2, 0, 1.15],
            [0.2, 0, 0.9],
            [-0.18, 0, 1.4],
            [-0.2, 0, 1.15],
            [-0.2, 0, 0.9],
        ]
    )
    t = np.arange(frames)[:, None, None]
    return (base[None] + np.array([0.1, 0, 0]) * np.sin(t / 5)).astype(np.float32)


def test_virtual_cameras_see_the_person_upright_and_in_front():
    world = upright_person()
    rng = np.random.default_rng(0)
    for _ in range(50):
        cam = virtual_camera(world, rng)
        xyz = cam.to_camera(world)
        assert (xyz[..., 2] > 1.0).all()  # in front of the camera
        uv = cam.to_pixels(xyz)
        assert (uv[:, 10, 1] < uv[:, 3, 1]).all()  # head above ankle in the image
        assert (uv > -0.5 * max(cam.width, cam.height)).all()


def test_new_bone_lengths_keep_root_and_directions():
    pose = upright_person(5).astype(np.float64)
    lengths = np.linspace(0.1, 0.5, 16)
    out = with_bone_lengths(pose, lengths)
    np.testing.assert_allclose(bone_lengths(out), np.broadcast_to(lengths, (5, 16)))
    np.testing.assert_array_equal(out[:, 0], pose[:, 0])
    for i, (parent, child) in enumerate(H36M_BONES):
        before = pose[:, child] - pose[:, parent]
        after = out[:, child] - out[:, parent]
        np.testing.assert_allclose(
            after * np.linalg.norm(before, axis=-1, keepdims=True), before * lengths[i], atol=1e-12
        )


def test_symmetric_bones_average_left_and_right_twins():
    values = np.arange(16.0)
    out = symmetric_bones(values)
    index = {child: i for i, (_, child) in enumerate(H36M_BONES)}
    for left, right in zip(H36M_LEFT, H36M_RIGHT, strict=True):
        assert out[index[left]] == out[index[right]] == (index[left] + index[right]) / 2
    assert out[index[10]] == index[10]  # the head is on the midline: unchanged


def test_other_body_scales_bones_within_the_spread_and_keeps_the_motion():
    pose = upright_person(30)
    pose[:, :, 0] += np.linspace(0, 1, 30)[:, None]  # walking along x
    out = other_body(pose, 0.1, np.random.default_rng(0))
    ratio = bone_lengths(out) / bone_lengths(pose)
    assert ratio.std(axis=0).max() < 1e-5  # one factor per bone for the whole clip
    assert 0.81 - 1e-5 <= ratio.min() and ratio.max() <= 1.21 + 1e-5
    assert ratio[0].std() > 0.01  # bones scaled differently
    np.testing.assert_allclose(ratio[0], symmetric_bones(ratio[0]), atol=1e-5)
    np.testing.assert_allclose(out[:, 0], pose[:, 0], atol=1e-6)  # same pelvis path


def test_corruption_keeps_shape_and_stays_near():
    pose2d = np.random.default_rng(0).normal(size=(27, 17, 2)).astype(np.float32) * 0.1
    out = corrupt_2d(pose2d, Augment(), np.random.default_rng(1))
    assert out.shape == pose2d.shape and out.dtype == np.float32
    assert np.median(np.abs(out - pose2d)) < 0.1
    assert np.array_equal(corrupt_2d(pose2d, Augment.none(), np.random.default_rng(1)), pose2d)


def write_fake_dataset(folder: Path, frames=200) -> tuple[Path, Path]:
    """A tiny file in the shared layout: two subjects, one camera each."""
    world = upright_person(frames)
    np.savez(folder / "poses.npz", **{"S1/Walking 1": world, "S2/Walking": world[::-1].copy()})
    cam = {
        "id": "x",
        "R": [[1, 0, 0], [0, 0, -1], [0, 1, 0]],
        "T": [0, -4, 1],
        "f": [1000, 1000],
        "c": [500, 500],
        "k": [0, 0, 0],
        "p": [0, 0],
        "res_w": 1000,
        "res_h": 1000,
    }
    (folder / "cameras.json").write_text(json.dumps({"S1": [cam], "S2": [cam]}))
    return folder / "poses.npz", folder / "cameras.json"


def test_clip_sampler_on_a_file_of_the_shared_layout(tmp_path):
    poses, cams = write_fake_dataset(tmp_path)
    seqs = load_sequences(poses, cams, ["S1"])
    assert [s.key for s in seqs] == ["S1/Walking 1"]
    sampler = ClipSampler(seqs, frames=27, stride=50, aug=Augment())
    assert len(sampler) == 4
    x, y = next(sampler.batches(2, (0, 0)))
    assert x.shape == (2, 27, 17, 2) and y.shape == (2, 27, 17, 3)
    assert np.allclose(y[:, :, 0], 0)  # root-relative
    assert np.isfinite(x).all()


def test_worker_processes_make_the_same_batches(tmp_path):
    poses, cams = write_fake_dataset(tmp_path)
    sampler = ClipSampler(load_sequences(poses, cams, ["S1"]), frames=27, stride=10, aug=Augment())
    here = list(sampler.batches(3, (7, 1)))
    there = list(sampler.batches(3, (7, 1), workers=2))
    assert len(here) == len(there) == len(sampler) // 3 > 2
    for (x0, y0), (x1, y1) in zip(here, there, strict=True):
        assert np.array_equal(x0, x1) and np.array_equal(y0, y1)
    assert not np.array_equal(here[0][0], next(sampler.batches(3, (7, 2)))[0])


def test_real_cameras_project_the_real_subject_into_the_image(shared_data):
    h36m = require(shared_data / "h36m" / "h36m_3d.npz", "Human3.6M").parent
    seqs = load_sequences(h36m / "h36m_3d.npz", h36m / "cameras.json", ["S1"])
    seq = seqs[0]
    for cam in seq.cameras:
        assert isinstance(cam, Camera)
        uv = cam.to_pixels(cam.to_camera(seq.world[::50]))
        assert (uv[..., 0] > 0).all() and (uv[..., 0] < cam.width).all()
        assert (uv[..., 1] > 0).all() and (uv[..., 1] < cam.height).all()
        pose2d, pose3d = camera_view(seq.world[:10], cam)
        assert np.abs(pose2d).max() < 1.1
        # Head (10) is above the pelvis (0) in the image and in camera axes (y down).
        assert (pose2d[:, 10, 1] < pose2d[:, 0, 1]).all() and (pose3d[:, 10, 1] < 0).all()


def walking_clip(frames=60) -> np.ndarray:
    """A 2D clip (F, 17, 2) of the synthetic person standing still but for the right wrist."""
    pose = np.repeat(upright_person(1)[..., [0, 2]], frames, 0).astype(np.float32)
    pose[..., 1] *= -1  # image y points down
    pose[:, 16, 0] += 0.3 * np.sin(np.linspace(0, 6 * np.pi, frames))
    return pose


def only(**fields) -> Augment:
    return replace(Augment.none(), **fields)


def test_joint_offsets_hold_still_over_the_clip():
    clip = walking_clip()
    moved = corrupt_2d(clip, only(offsets=0.05), np.random.default_rng(0)) - clip
    assert np.abs(moved).max() > 1e-3
    np.testing.assert_allclose(moved, np.broadcast_to(moved[:1], moved.shape), atol=1e-6)


def test_a_swap_exchanges_left_and_right_of_one_limb_for_a_while():
    clip = walking_clip()
    out = corrupt_2d(clip, only(swaps=1.0), np.random.default_rng(3))
    changed = np.any(np.abs(out - clip) > 1e-6, axis=-1)  # (F, 17)
    frames = np.flatnonzero(changed.any(1))
    assert 0 < len(frames) < len(clip) and np.all(np.diff(frames) == 1)  # one run of frames
    joints = np.flatnonzero(changed.any(0))
    assert set(joints) <= set(H36M_LEFT) | set(H36M_RIGHT)
    f = frames[0]
    np.testing.assert_allclose(out[f, joints], clip[f, flip_permutation()[joints]], atol=1e-6)


def test_a_jump_puts_a_hand_or_foot_on_its_twin_for_a_few_frames():
    clip = walking_clip()
    out = corrupt_2d(clip, only(jumps=1.0), np.random.default_rng(5))
    changed = np.any(np.abs(out - clip) > 1e-6, axis=-1)
    (joint,) = np.flatnonzero(changed.any(0))
    frames = np.flatnonzero(changed[:, joint])
    assert 1 <= len(frames) <= 10
    twin = flip_permutation()[joint]
    np.testing.assert_allclose(out[frames, joint], clip[frames, twin], atol=1e-6)


def test_fast_limbs_get_the_larger_errors():
    clip = walking_clip(200)
    errors = np.linalg.norm(
        corrupt_2d(clip, only(fast_limbs=1.0), np.random.default_rng(1)) - clip, axis=-1
    )
    assert errors[:, 16].mean() > 5 * errors[:, 13].mean()  # the swinging wrist, a still one


def test_occlusion_blurs_only_joints_behind_the_body():
    clip = walking_clip()
    depth = np.zeros((len(clip), 17))
    depth[:, 13] = 0.3  # the left wrist 30 cm behind the pelvis
    out = corrupt_2d(clip, only(occlusion=0.05), np.random.default_rng(2), depth=depth)
    errors = np.linalg.norm(out - clip, axis=-1)
    assert errors[:, 13].mean() > 1e-3
    assert np.all(np.delete(errors, 13, axis=1) < 1e-6)


def test_the_reference_skeleton_is_the_mean_of_the_twins_training_subjects(shared_data):
    poses = np.load(require(shared_data / "h36m" / "h36m_3d.npz", "Human3.6M 3D poses"))
    sizes: dict[str, list[float]] = {}
    for key in poses.files:
        subject = key.split("/")[0]
        if subject in ("S1", "S5", "S6", "S7"):
            sizes.setdefault(subject, []).append(bone_lengths(poses[key]).sum(axis=1).mean())
    assert len(sizes) == 4
    mean = np.mean([np.mean(v) for v in sizes.values()])
    assert abs(mean - REFERENCE_SKELETON_M) < 0.005
