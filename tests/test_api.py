"""The library: ``HotPose`` on the example clip gives what the command line writes.

One ``HotPose`` and one prediction per module (the real YOLO pose model and the shipped
lifter); the command line's run of the same clip comes from ``tests/test_run.py``'s way of
calling it. Skips without the example clip or the pose weights.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hotcli.errors import HotPoseError
from hotcli.formats.outputs import SUMMARY_NAME
from hotcli.options import SaveOptions
from tests.conftest import EXAMPLE_VIDEO as CLIP
from tests.conftest import need_clip, run_cli, shipped_lifter_weights

ARRAYS = ("keypoints_2d", "scores", "keypoints_3d", "keypoints_3d_world", "keypoints_3d_camera",
          "root_camera", "present", "interpolated", "foot_contact", "camera")  # fmt: skip


@pytest.fixture(scope="module")
def hp():
    need_clip()
    weights = shipped_lifter_weights()
    if weights is None:
        pytest.skip("the shipped lifter weights are missing")
    from hotcli import HotPose

    return HotPose(weights=weights, device="cpu")


@pytest.fixture(scope="module")
def predicted(hp, tmp_path_factory):
    """The clip predicted in an empty working folder, with what it wrote and printed."""
    work = tmp_path_factory.mktemp("cwd")
    before = os.getcwd()
    os.chdir(work)
    try:
        result = hp.predict(CLIP)
    finally:
        os.chdir(before)
    return result, work


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    need_clip()
    out = tmp_path_factory.mktemp("cli") / "dancer"
    argv = [str(CLIP), "-o", str(out), "--device", "cpu", "--no-render", "--quiet",
            "--weights", str(shipped_lifter_weights())]  # fmt: skip
    code, _, stderr = run_cli(argv)
    assert code == 0, stderr[-2000:]
    return out


def test_the_api_gives_the_same_arrays_as_the_command_line(predicted, cli_run):
    result, _ = predicted
    assert (result.frames, result.fps, result.width, result.height) == (150, 25.0, 518, 496)
    assert len(result.persons) == 1
    person = result.persons[0]
    with np.load(cli_run / "poses.npz") as npz:
        from hotcli.formats.outputs import person_arrays

        mine = person_arrays(person, result.fps, result.width, result.height, result.camera)
        for name in ARRAYS:
            np.testing.assert_array_equal(mine[name], npz[name], err_msg=name)
        assert int(npz["track_id"]) == person.track_id
    assert repr(result) == (f"VideoResult('dancer.mp4', 150 frames, 25 fps, 518x496, "
                            f"persons=[track {person.track_id}: 150 frames])")  # fmt: skip


def test_nothing_is_written_or_printed_without_save(hp, tmp_path, capfd):
    need_clip()
    before = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = hp(CLIP)  # __call__ is predict
    finally:
        os.chdir(before)
    assert list(tmp_path.iterdir()) == []
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert result.persons[0].keypoints_3d.shape == (150, 17, 3)


def test_save_writes_the_files_of_the_command_line(predicted, cli_run, tmp_path):
    result, work = predicted
    assert list(work.iterdir()) == []
    summary = result.save(tmp_path / "out", SaveOptions(render=None))
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(p.name for p in cli_run.iterdir())
    assert summary["files"] == ["poses.json", "poses.npz"]
    assert summary["frames"] == 150 and summary["persons"][0]["frames_detected"] == 150
    assert 1.4 < summary["persons"][0]["standing_height_m"] < 2.1  # an adult's skeleton
    assert (tmp_path / "out" / SUMMARY_NAME).is_file()


def test_lift_on_the_arrays_of_poses_npz_gives_its_3d(hp, cli_run):
    with np.load(cli_run / "poses.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    person = hp.lift(arrays["keypoints_2d"], fps=float(arrays["fps"]), width=int(arrays["width"]),
                     height=int(arrays["height"]), scores=arrays["scores"], layout="h36m17",
                     interpolated=arrays["interpolated"])  # fmt: skip
    for name in ("keypoints_3d", "keypoints_3d_world", "root_camera", "foot_contact"):
        np.testing.assert_allclose(getattr(person, name), arrays[name], atol=1e-5, err_msg=name)


def test_a_known_height_sizes_the_person_and_places_them_at_the_distance_it_implies(cli_run):
    from hotcli import HotPose
    from hotcli.lifting.skeleton import HEAD_TOP_AND_ANKLES_M, bone_lengths, standing_height

    with np.load(cli_run / "poses.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    given = dict(fps=float(arrays["fps"]), width=int(arrays["width"]), layout="h36m17",
                 height=int(arrays["height"]), scores=arrays["scores"])  # fmt: skip
    people = [HotPose(weights=shipped_lifter_weights(), device="cpu", person_height=h)
              .lift(arrays["keypoints_2d"], **given) for h in (1.5, 2.0)]  # fmt: skip
    expected = (2.0 - HEAD_TOP_AND_ANKLES_M) / (1.5 - HEAD_TOP_AND_ANKLES_M)
    short, tall = (bone_lengths(p.keypoints_3d[:1])[0].sum() for p in people)
    assert tall / short == pytest.approx(expected, rel=1e-3)
    near, far = (np.median(p.root_camera[:, 2]) for p in people)
    assert far / near == pytest.approx(expected, rel=0.02)  # the same 2D, a larger person
    # exactly the height given; pinning the feet then moves the ankles a little (2 cm here)
    free_feet = HotPose(weights=shipped_lifter_weights(), device="cpu", person_height=2.0,
                        foot_lock=False).lift(arrays["keypoints_2d"], **given)  # fmt: skip
    assert standing_height(free_feet.keypoints_3d) == pytest.approx(2.0, rel=1e-5)
    assert standing_height(people[1].keypoints_3d) == pytest.approx(2.0, abs=0.03)
    # by id: person 7 gets 2.0 m, anyone else the average size (the lift without a height)
    by_id = HotPose(weights=shipped_lifter_weights(), device="cpu", person_height={7: 2.0})
    seven = by_id.lift(arrays["keypoints_2d"], **given, track_id=7)
    other = by_id.lift(arrays["keypoints_2d"], **given, track_id=3)
    plain = HotPose(weights=shipped_lifter_weights(), device="cpu").lift(
        arrays["keypoints_2d"], **given
    )
    np.testing.assert_allclose(seven.keypoints_3d, people[1].keypoints_3d, atol=1e-6)
    np.testing.assert_allclose(other.keypoints_3d, plain.keypoints_3d, atol=1e-6)


def test_lift_reads_coco_keypoints_and_leaves_unseen_frames_empty(hp):
    from tests.scene import Scene, observe, walker  # a person walking in front of a camera

    scene = Scene()
    world = walker(60, 30.0, (-1.5, 5.0), (1.5, 6.0))
    _, _, pixels = observe(scene, world, np.random.default_rng(0))
    coco = np.full((60, 17, 2), np.nan, np.float32)
    # COCO's hips, knees, ankles, shoulders, elbows and wrists are Human3.6M's; its five
    # head points all sit on the head joint here.
    pairs = {11: 4, 12: 1, 13: 5, 14: 2, 15: 6, 16: 3, 5: 11, 6: 14, 7: 12, 8: 15, 9: 13, 10: 16}
    for c, h in pairs.items():
        coco[:, c] = pixels[:, h]
    coco[:, :5] = pixels[:, 10:11]
    coco[40:] = np.nan  # the person leaves after 40 frames
    person = hp.lift(coco, fps=30.0, width=scene.width, height=scene.height)
    assert person.present[:40].all() and not person.present[40:].any()
    assert np.isfinite(person.keypoints_3d_world[:40]).all()
    assert np.isnan(person.keypoints_3d_world[40:]).all()
    assert person.keypoints_3d.shape == (60, 17, 3) and person.foot_contact.shape == (60, 2)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"keypoints_2d": np.zeros((10, 17))}, "(T, J, 2)"),
        ({"keypoints_2d": np.zeros((10, 16, 2))}, "coco17 has 17 joints"),
        ({"layout": "openpose25"}, "unknown layout"),
        ({"scores": np.ones((10, 3))}, "scores must be"),
        ({"fps": 0.0}, "positive"),
        ({"keypoints_2d": np.full((10, 17, 2), np.nan)}, "no detected frame"),
    ],
)
def test_lift_refuses_bad_input_in_one_line(hp, kwargs, fragment):
    args = {"keypoints_2d": np.zeros((10, 17, 2)), "fps": 30.0, "width": 640, "height": 480}
    with pytest.raises(HotPoseError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        hp.lift(**{**args, **kwargs})


def test_predict_on_a_missing_file_is_one_line(hp, tmp_path):
    with pytest.raises(HotPoseError, match="no such file"):
        hp.predict(tmp_path / "nothing.mp4")


def test_the_default_weights_are_package_data():
    import models

    path = models.default_weights()
    assert path.parent == models.weights_dir() and path.is_file()
    from importlib import resources

    assert Path(str(resources.files("models.weights"))) == path.parent
