"""Video probing, streaming decode and writing, on real files made with ffmpeg."""

from __future__ import annotations

import re
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from hotcli.errors import HotPoseError
from hotcli.formats.video import VideoWriter, exact_rate, iter_frames, probe
from tests.conftest import run_ffmpeg


def ffmpeg_header(path: Path) -> str:
    """ffmpeg's description of a file's streams (the text `ffmpeg -i` prints)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
    return subprocess.run(cmd, capture_output=True, text=True).stderr


def opencv_frames(path: Path) -> list[np.ndarray]:
    """Every frame as OpenCV decodes it: an independent decoder to check ours against."""
    cap, frames = cv2.VideoCapture(str(path)), []
    ok, frame = cap.read()
    while ok:
        frames.append(frame)
        ok, frame = cap.read()
    cap.release()
    return frames


def make_clip(path: Path, frames: int = 10, size: str = "64x32", audio: float = 0.0) -> Path:
    """A small H.264 test-pattern clip, optionally with a sine audio track of ``audio`` s."""
    args = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate=25"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={audio}"]
    args += ["-frames:v", str(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac"]
    run_ffmpeg(*args, str(path))
    return path


def test_example_clip_probes_and_streams(example_video):
    info = probe(example_video)
    assert (info.width, info.height, info.fps, info.frames) == (518, 496, 25.0, 150)
    assert info.has_audio and info.codec == "h264" and info.rotation == 0
    reference = opencv_frames(example_video)
    frames = iter_frames(example_video, info)
    first = next(frames)
    assert first.shape == (496, 518, 3) and first.dtype == np.uint8 and first.flags.writeable
    assert first[..., 0].mean() > first[..., 2].mean()  # BGR: the blue stage is channel 0
    assert np.abs(first.astype(int) - reference[0]).mean() < 3  # same pixels as OpenCV's
    assert 1 + sum(1 for _ in frames) == info.frames == len(reference)


def test_closing_the_frame_stream_early_is_clean(example_video):
    frames = iter_frames(example_video)
    assert next(frames).shape == (496, 518, 3)
    frames.close()  # stops ffmpeg; must not hang or raise


def test_writer_round_trip(tmp_path):
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 25.0, size=(101, 51)) as writer:
        for i in range(30):
            writer.write(np.full((51, 101, 3), (i * 8, 100, 200), np.uint8))
    info = probe(out)
    assert (info.width, info.height) == (102, 52)  # even, as H.264 yuv420p needs
    assert (info.frames, info.fps, info.codec, info.has_audio) == (30, 25.0, "h264", False)
    assert "yuv420p" in ffmpeg_header(out)
    back = list(iter_frames(out, info))
    assert abs(int(back[10][20, 20, 0]) - 80) <= 4 and abs(int(back[10][20, 20, 2]) - 200) <= 4
    assert list(tmp_path.iterdir()) == [out]  # the temporary file was renamed


@pytest.mark.parametrize("fps", [12.5, 30000 / 1001, 50.0])
def test_writer_keeps_the_exact_frame_rate(tmp_path, fps):
    out = tmp_path / "rate.mp4"
    with VideoWriter(out, fps, size=(32, 32)) as writer:
        for _ in range(8):
            writer.write(np.zeros((32, 32, 3), np.uint8))
    assert probe(out).fps == pytest.approx(fps, abs=1e-6)
    assert exact_rate(29.97) == Fraction(30000, 1001) and exact_rate(25.0) == 25


@pytest.mark.parametrize("audio_seconds", [0.4, 3.0])  # audio shorter / longer than the video
def test_writer_copies_audio_and_keeps_every_frame(tmp_path, audio_seconds):
    source = make_clip(tmp_path / "src.mp4", frames=25, audio=audio_seconds)
    assert probe(source).has_audio
    out = tmp_path / "with_audio.mp4"
    with VideoWriter(out, 25.0, size=(64, 32), audio_from=source) as writer:
        for frame in iter_frames(source):
            writer.write(frame)
    info = probe(out)
    assert info.has_audio and info.frames == 25
    assert "Audio: aac" in ffmpeg_header(out)


def test_writer_audio_from_a_silent_video_is_fine(tmp_path):
    source = make_clip(tmp_path / "silent.mp4", frames=5)
    with VideoWriter(tmp_path / "out.mp4", 25.0, size=(64, 32), audio_from=source) as writer:
        for frame in iter_frames(source):
            writer.write(frame)
    info = probe(tmp_path / "out.mp4")
    assert info.frames == 5 and not info.has_audio


def test_writer_leaves_nothing_on_error(tmp_path):
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), VideoWriter(out, 25.0, size=(64, 64)) as writer:
        writer.write(np.zeros((64, 64, 3), np.uint8))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError), VideoWriter(out, 25.0, size=(64, 64)) as writer:
        writer.write(np.zeros((10, 10, 3), np.uint8))  # wrong size
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ccw, rotation", [(90, 270), (-90, 90), (180, 180)])
def test_rotated_phone_video_comes_out_upright(tmp_path, ccw, rotation):
    """Stored frames are 64x32 with a white top half; the display matrix turns them."""
    stored = tmp_path / "stored.mp4"
    with VideoWriter(stored, 25.0, size=(64, 32)) as writer:
        frame = np.zeros((32, 64, 3), np.uint8)
        frame[:16] = 255
        for _ in range(3):
            writer.write(frame)
    rotated = tmp_path / "rotated.mp4"
    run_ffmpeg("-display_rotation", str(ccw), "-i", str(stored), "-c", "copy", str(rotated))
    info = probe(rotated)
    assert info.rotation == rotation and info.frames == 3
    upright = next(iter_frames(rotated, info))
    assert upright.shape == (info.height, info.width, 3)
    bright = upright.mean(axis=2) > 128
    if rotation == 180:
        assert (info.width, info.height) == (64, 32) and bright[24:].all() and not bright[:8].any()
    else:  # a quarter turn: the white half ends up on the left (ccw) or the right (cw)
        assert (info.width, info.height) == (32, 64)
        white, black = (slice(0, 12), slice(20, 32)) if ccw == 90 else (slice(20, 32), slice(0, 12))
        assert bright[:, white].all() and not bright[:, black].any()


def _truncated(source: Path, out: Path) -> Path:
    data = source.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def make_bad(kind: str, folder: Path) -> Path:
    path = folder / "clip.mp4"
    if kind == "missing":
        return path
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("these are not the frames you are looking for\n" * 50)
    elif kind == "audio only":
        run_ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(path))
    elif kind == "zero frames":
        VideoWriter(path, 25.0, size=(64, 64)).close()
    elif kind == "truncated mp4":  # index (moov) at the start, data cut off half-way
        full = folder / "full.mp4"
        run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "100",
                   "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                   str(full))  # fmt: skip
        _truncated(full, path)
    elif kind == "truncated mp4, index at the end":
        full = folder / "full.mp4"
        run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "50",
                   "-c:v", "libx264", "-pix_fmt", "yuv420p", str(full))  # fmt: skip
        _truncated(full, path)
    elif kind == "truncated avi":
        path = folder / "clip.avi"
        full = folder / "full.avi"
        run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "100",
                   "-c:v", "mpeg4", "-q:v", "5", str(full))  # fmt: skip
        _truncated(full, path)
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", r"clip\.mp4: no such file"),
        ("folder", r"clip\.mp4 is a folder, not a video"),
        ("empty", r"clip\.mp4 is empty \(0 bytes\)"),
        ("text", r"clip\.mp4 is not a readable video \(ffmpeg: Invalid data"),
        ("audio only", r"clip\.mp4 has no video stream \(0 frames\): it is an audio file"),
        ("zero frames", r"clip\.mp4 has no video stream \(0 frames\)"),
        ("truncated mp4", r"clip\.mp4 is corrupt: only \d+ of about 100 frames could be decoded"),
        ("truncated mp4, index at the end", r"clip\.mp4 is not a readable video"),
        ("truncated avi", r"clip\.avi is corrupt: only \d+ of about \d+ frames could be decoded"),
    ],
)
def test_bad_inputs_get_one_clear_line(tmp_path, kind, message):
    path = make_bad(kind, tmp_path)
    with pytest.raises(HotPoseError, match=message) as caught:
        probe(path)
    assert "\n" not in str(caught.value)


def test_truncated_file_says_how_many_frames_were_readable(tmp_path):
    path = make_bad("truncated mp4", tmp_path)
    with pytest.raises(HotPoseError) as caught:
        probe(path)
    readable = int(str(caught.value).split("only ")[1].split()[0])
    assert 0 < readable < 100
    assert readable - 2 <= len(opencv_frames(path)) <= readable + 2  # OpenCV reads as many


def make_wrong_duration_mkv(folder: Path, frames: int = 50) -> Path:
    """An H.264 mkv whose header says it lasts 8 s (200 frames at 25 fps): it has ``frames``."""
    path = folder / "wrong_header.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-frames:v", str(frames),
               "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89\x88")  # the Segment's Duration element: an 8-byte float, ms
    assert at > 0 and struct.unpack(">d", data[at + 3 : at + 11])[0] == frames * 40.0
    data[at + 3 : at + 11] = struct.pack(">d", 8000.0)
    path.write_bytes(bytes(data))
    return path


def make_undecodable_half(folder: Path, frames: int = 50) -> Path:
    """A motion-JPEG mkv whose container is intact but whose second half holds no JPEG data:
    reading the packets finds nothing wrong, only the decoder does (and drops those frames)."""
    path = folder / "bad_pictures.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-frames:v", str(frames),
               "-c:v", "mjpeg", str(path))  # fmt: skip
    data = bytearray(path.read_bytes())
    starts = [m.start() for m in re.finditer(rb"\xff\xd8\xff", bytes(data))]
    assert len(starts) == frames
    for start in starts[frames // 2 :]:
        end = data.find(b"\xff\xd9", start)
        data[start + 2 : end] = bytes((37 * i + 11) % 256 for i in range(end - start - 2))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "name, codec",
    [("bframes.mp4", ["-c:v", "libx264", "-bf", "3", "-r", "30000/1001"]),
     ("clip.mkv", ["-c:v", "libx264"]), ("clip.avi", ["-c:v", "mpeg4", "-q:v", "5"]),
     ("clip.webm", ["-c:v", "libvpx-vp9", "-b:v", "200k"])],
)  # fmt: skip
def test_probe_counts_packets_and_that_is_what_decodes(tmp_path, name, codec):
    """probe reads the packets without decoding them; one packet per frame in these formats,
    so its count is the decoding pass's (and OpenCV's)."""
    path = tmp_path / name
    run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=25", "-frames:v", "120", *codec,
               "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    info = probe(path)
    assert info.frames == 120 == sum(1 for _ in iter_frames(path, info))
    assert len(opencv_frames(path)) == 120


def test_a_wrong_duration_in_the_header_does_not_change_the_count(tmp_path):
    path = make_wrong_duration_mkv(tmp_path)
    assert "Duration: 00:00:08.00" in ffmpeg_header(path)
    info = probe(path)
    assert info.frames == 50 == sum(1 for _ in iter_frames(path, info))


def test_damage_only_the_decoder_sees_ends_the_decoding_pass_with_one_line(tmp_path):
    path = make_undecodable_half(tmp_path)
    info = probe(path)  # the packets are all there: probe does not decode them
    assert info.frames == 50
    frames = iter_frames(path, info)
    got = [next(frames) for _ in range(25)]
    assert all(f.shape == (48, 64, 3) for f in got)
    with pytest.raises(HotPoseError, match=r"corrupt: only 25 of about 50 frames") as caught:
        next(frames)
    assert "\n" not in str(caught.value)
