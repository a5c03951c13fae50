"""BVH export: rotations from positions, the file, the commands, and Blender's importer.

Synthetic motions are made by forward kinematics through the BVH skeleton itself (known
joint angles in, positions out). The example clip runs once (module fixture) with --bvh;
the file is read back by bvhio (an independent reader) and by Blender (bpy, in its own
process), each compared with the result's keypoints_3d_world.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hotcli.formats import bvh, outputs
from hotcli.lifting.lifter import PersonMotion
from tests.conftest import EXAMPLE_VIDEO, need_clip, run_cli, shipped_lifter_weights

#: Bone lengths (cm) in H36M_BONES order, about those of the example clip's dancer.
LENGTHS_CM = np.array([9.4, 42.7, 49.9, 9.4, 42.7, 49.9, 26.9, 27.7, 18.6, 9.3,
                       13.6, 30.0, 27.6, 13.6, 30.0, 27.6])  # fmt: skip
T = 60


def forward_kinematics(root_cm: np.ndarray, angles: np.ndarray, lengths=LENGTHS_CM) -> np.ndarray:
    """World keypoints (T, 17, 3) metres from root positions (T, 3) in BVH cm and local
    Z, X, Y angles (T, 21, 3) degrees of the BVH skeleton."""
    offsets = bvh.rest_offsets(lengths)
    globals_, heads = [], []
    for i, joint in enumerate(bvh.JOINTS):
        local = Rotation.from_euler(bvh.EULER_ORDER, angles[:, i], degrees=True)
        if joint.parent < 0:
            globals_.append(local)
            heads.append(root_cm)
        else:
            parent = globals_[joint.parent]
            globals_.append(parent * local)
            heads.append(heads[joint.parent] + parent.apply(offsets[i]))
    points = np.stack([heads[j] for j in bvh.H36M_TO_JOINT], axis=1)
    return bvh.bvh_to_world(points / 100)


def joint(name: str) -> int:
    return next(i for i, j in enumerate(bvh.JOINTS) if j.name == name)


def read_motion(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """Root positions (T, 3), angles (T, 21, 3) and the frame time of a written file."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Frame Time:"))
    values = np.loadtxt(lines[start + 1 :], ndmin=2)
    return values[:, :3], values[:, 3:].reshape(len(values), -1, 3), float(lines[start][11:])


def offsets_of(path: Path) -> np.ndarray:
    return np.array([[float(v) for v in line.split()[1:]]
                     for line in path.read_text().splitlines() if "OFFSET" in line])  # fmt: skip


def known_motion() -> tuple[np.ndarray, np.ndarray]:
    """A walk forward while turning 450°, twisting the spine, moving one arm and one leg
    (elbow and knee always bent, so every twist is defined); the other limbs straight."""
    s = np.sin(np.linspace(0, 2 * np.pi, T))
    angles = np.zeros((T, len(bvh.JOINTS), 3))  # Z, X, Y
    angles[:, joint("Hips")] = np.stack([np.zeros(T), 8 + 0 * s, np.linspace(0, 450, T)], -1)
    angles[:, joint("Spine"), 2] = angles[:, joint("Thorax"), 2] = 15 * s
    angles[:, joint("LeftArm")] = np.stack([20 + 30 * s, 10 + 0 * s, -30 + 10 * s], -1)
    angles[:, joint("LeftForeArm"), 2] = -(70 + 50 * s)
    angles[:, joint("RightUpLeg")] = np.stack([5 + 0 * s, -(30 + 20 * s), 10 + 0 * s], -1)
    angles[:, joint("RightLeg"), 1] = 40 + 20 * s
    root = np.stack([np.linspace(0, 120, T), 90 + 2 * s, np.zeros(T)], -1)
    return root, angles


def test_a_synthetic_motion_comes_back_with_its_joint_angles(tmp_path):
    root, angles = known_motion()
    path = bvh.write_bvh(tmp_path / "known.bvh", forward_kinematics(root, angles), fps=30.0)
    got_root, got, frame_time = read_motion(path)
    np.testing.assert_allclose(got, angles, atol=2e-3)  # the yaw goes on to 450°, unwrapped
    np.testing.assert_allclose(got_root, root, atol=1e-4)  # the trajectory, in cm
    assert frame_time == pytest.approx(1 / 30)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_a_straight_arm_keeps_its_elbow_twist(tmp_path):
    bend = np.concatenate([np.linspace(60, 0, 20), np.zeros(20), np.linspace(0, 60, 20)])
    angles = np.zeros((T, len(bvh.JOINTS), 3))
    angles[:, joint("LeftArm")] = [10.0, 20.0, -40.0]  # a twisted upper arm
    angles[:, joint("LeftForeArm"), 2] = -bend
    root = np.tile([0.0, 90.0, 0.0], (T, 1))
    world = forward_kinematics(root, angles)
    wrist_noise = np.random.default_rng(0).normal(scale=2e-5, size=(20, 3))  # 0.02 mm
    world[20:40, 13] += wrist_noise  # a straight arm is never exactly straight
    _, got, _ = read_motion(bvh.write_bvh(tmp_path / "stretch.bvh", world, fps=25.0))
    upper, fore = got[:, joint("LeftArm")], got[:, joint("LeftForeArm")]
    np.testing.assert_allclose(upper, angles[:, joint("LeftArm")], atol=0.5)
    assert np.abs(np.diff(upper, axis=0)).max() < 0.5
    np.testing.assert_allclose(fore[:, :2], 0.0, atol=0.5)  # a pure hinge throughout
    np.testing.assert_allclose(fore[:, 2], -bend, atol=0.5)


def test_a_result_without_a_trajectory_exports_on_the_spot(tmp_path):
    root, angles = known_motion()
    root[:, [0, 2]] = 0.0
    world = forward_kinematics(root, angles)
    got_root, _, _ = read_motion(bvh.write_bvh(tmp_path / "spot.bvh", world, fps=25.0))
    assert np.abs(got_root[:, [0, 2]]).max() < 1e-4
    np.testing.assert_allclose(got_root[:, 1], 100 * world[:, 0, 2], atol=1e-4)


def test_bvh_scale_changes_the_units(tmp_path):
    root, angles = known_motion()
    world = forward_kinematics(root, angles)
    cm = bvh.write_bvh(tmp_path / "cm.bvh", world, 25.0)
    m = bvh.write_bvh(tmp_path / "m.bvh", world, 25.0, scale=1.0)
    np.testing.assert_allclose(offsets_of(m) * 100, offsets_of(cm), atol=1e-4)
    np.testing.assert_allclose(read_motion(m)[1], read_motion(cm)[1], atol=1e-4)


def person(track_id: int, world: np.ndarray) -> PersonMotion:
    t = len(world)
    return PersonMotion(track_id, np.zeros((t, 17, 2)), np.ones((t, 17)), np.zeros(t, bool),
                        world - world[:, :1], world)  # fmt: skip


def test_two_persons_give_two_files_with_their_own_skeletons(tmp_path):
    root, angles = known_motion()
    big = forward_kinematics(root, angles)
    small = forward_kinematics(root, angles, LENGTHS_CM * 0.8)
    outputs.write_poses(tmp_path, [person(3, big), person(7, small)], 25.0, 64, 48)
    outputs.write_summary(tmp_path, {"video": "clips/duo.mp4",
                                     "persons": [{"track_id": 3}, {"track_id": 7}]})  # fmt: skip
    code, stdout, stderr = run_cli(["bvh", str(tmp_path)])
    assert code == 0, stderr
    assert sorted(p.name for p in tmp_path.glob("*.bvh")) == [
        "duo.bvh", "duo_track3.bvh", "duo_track7.bvh"]  # fmt: skip
    assert (tmp_path / "duo.bvh").read_bytes() == (tmp_path / "duo_track3.bvh").read_bytes()
    small_offsets, big_offsets = (offsets_of(tmp_path / f"duo_track{i}.bvh") for i in (7, 3))
    np.testing.assert_allclose(small_offsets, 0.8 * big_offsets, atol=2e-4)


@pytest.mark.parametrize("problem", ["missing", "no keys", "not npz", "incomplete folder"])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, problem):
    target = tmp_path / "poses.npz"
    if problem == "no keys":
        np.savez(target, fps=25.0)
    elif problem == "not npz":
        target.write_text("hello")
    elif problem == "incomplete folder":
        np.savez(target, fps=25.0, keypoints_3d_world=np.zeros((3, 17, 3)))
        target = tmp_path
    code, _, stderr = run_cli(["bvh", str(target), "-o", str(tmp_path / "out")])
    assert code == 2 and stderr.startswith("hot-pose: error: ") and stderr.count("\n") == 1
    assert not list(tmp_path.rglob("*.bvh"))


def test_poses_with_missing_joints_are_refused(tmp_path):
    world = forward_kinematics(*known_motion())
    world[5, 3] = np.nan
    np.savez(tmp_path / "poses.npz", fps=25.0, keypoints_3d_world=world)
    code, _, stderr = run_cli(["bvh", str(tmp_path / "poses.npz")])
    assert code == 2 and "missing 3D joints" in stderr
    assert not list(tmp_path.glob("*.bvh"))


# ------------------------------------------------------------------ the example clip


@pytest.fixture(scope="module")
def dancer(tmp_path_factory):
    """The example clip run with --bvh (the shipped lifter: random weights make no body)."""
    need_clip()
    weights = shipped_lifter_weights()
    if weights is None:
        pytest.skip("no shipped lifter checkpoint in weights/")
    out = tmp_path_factory.mktemp("bvh") / "dancer"
    code, _, stderr = run_cli(
        [str(EXAMPLE_VIDEO), "-o", str(out), "--no-render", "--bvh", "--quiet"]
    )
    assert code == 0, stderr[-2000:]
    with np.load(out / "poses.npz") as npz:
        world, fps = npz["keypoints_3d_world"].astype(np.float64), float(npz["fps"])
    return {"out": out, "bvh": out / "dancer.bvh", "world": world, "fps": fps}


def test_the_run_lists_the_bvh_and_hot_pose_bvh_writes_the_same_file(dancer, tmp_path):
    summary = json.loads((dancer["out"] / "summary.json").read_text())
    assert "dancer.bvh" in summary["files"] and "dancer.bvh" in summary["persons"][0]["files"]
    code, _, stderr = run_cli(["bvh", str(dancer["out"]), "-o", str(tmp_path), "-q"])
    assert code == 0, stderr
    assert (tmp_path / "dancer.bvh").read_bytes() == dancer["bvh"].read_bytes()


def test_the_example_clip_reads_back_within_a_millimetre(dancer):
    bvhio = pytest.importorskip("bvhio", reason="bvhio (the test extra) is not installed")
    root = bvhio.readAsHierarchy(str(dancer["bvh"]))
    joints = {j.Name: j for j, _, _ in root.layout()}
    world = dancer["world"]
    got = np.zeros_like(world)
    for frame in range(len(world)):
        root.loadPose(frame)
        for h, index in enumerate(bvh.H36M_TO_JOINT):
            got[frame, h] = np.asarray(joints[bvh.JOINTS[index].name].PositionWorld)
    error_mm = 1000 * np.linalg.norm(bvh.bvh_to_world(got / 100) - world, axis=-1)
    print(f"bvhio round trip: max {error_mm.max():.5f} mm over {error_mm.size} joints")
    assert error_mm.max() <= 1.0


def test_blender_imports_the_example_clip_within_a_centimetre(dancer, tmp_path):
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("Blender's bpy module is not installed (pip install --no-deps bpy==5.0.1)")
    world, frames = dancer["world"], [0, 37, 74, 111, len(dancer["world"]) - 1]
    report, png = tmp_path / "joints.json", tmp_path / "strip.png"
    subprocess.run([sys.executable, "-m", "hotcli.formats.blender", str(dancer["bvh"]),
                    "--joints", str(report), "--joint-frames", ",".join(map(str, frames)),
                    "--render", str(png), "--render-frames", "0,75", "--size", "200x100"],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    got = json.loads(report.read_text())
    assert got["fps"] == pytest.approx(dancer["fps"], rel=1e-6)
    start, end = got["action_frame_range"]
    assert end - start + 1 == len(world)
    error_cm = max(
        100 * np.linalg.norm(np.asarray(got["heads"][str(f)][bvh.JOINTS[j].name]) - world[f, h])
        for f in frames
        for h, j in enumerate(bvh.H36M_TO_JOINT)
    )
    print(f"Blender import: max {error_cm:.5f} cm")
    assert error_cm <= 1.0
    import imageio.v3 as iio

    picture = iio.imread(png)
    assert picture.shape[:2] == (100, 200) and picture.std() > 5  # drawn, not blank


def test_a_person_in_view_for_part_of_the_video_exports_only_that_span():
    from hotcli.formats.bvh import present_span

    poses = np.arange(10 * 17 * 3, dtype=float).reshape(10, 17, 3)
    poses[:2] = np.nan  # enters at frame 2
    poses[5:7] = np.nan  # a long gap inside
    poses[9] = np.nan  # leaves after frame 8
    span = present_span(poses)
    assert len(span) == 7 and np.isfinite(span).all()
    np.testing.assert_array_equal(span[0], poses[2])
    np.testing.assert_array_equal(span[3], span[4])  # frame 5 holds frame 4's pose
    np.testing.assert_array_equal(span[-1], poses[8])
