"""Reading and writing video with the ffmpeg that imageio-ffmpeg bundles (no system install).

Reading: :func:`probe` runs ffmpeg once over the video stream without decoding it: the
packets are read and copied to nothing, which counts them (one packet is one frame) and
finds a container that is cut off, and only the first frame is decoded (the size frames come
out at). That is a small fraction of a decoding pass. :func:`iter_frames` then streams BGR
``uint8`` frames one at a time through a pipe, so memory never grows with the length, and
when the stream ends it checks what the decoder said. That one decoding pass is also where
the exact number of frames comes from: the frames it gave (the packets counted by
:func:`probe` are the same number for every file tried, but a decoder may drop or add one),
and the outputs are sized by it.

Orientation: phone videos store landscape frames plus a rotation (a display matrix, or
the older ``rotate`` tag). ffmpeg applies it while decoding, so frames come out upright
and :class:`VideoInfo` reports the displayed size and the rotation that was applied.

Damaged files: a stream that gives clearly fewer frames than the container promises
*and* shows ffmpeg errors (a cut-off avi/mkv/mp4, or garbage in the middle) is refused with
"corrupt: only N of about M frames could be decoded" rather than processed in part, because
the outputs are meant to line up frame for frame with the source. A container that is cut
off is found by :func:`probe` before any expensive work; damage only the decoder sees ends
the decoding pass (:func:`iter_frames`) with the same message. Decoder errors that lose no
frames (a concealed glitch) are accepted. A cut-off mp4 whose index (``moov``) is at the
end cannot be opened at all and is reported as not a readable video.

Writing: :class:`VideoWriter` pipes BGR frames into libx264 (yuv420p, even size, the exact
source frame rate, audio optionally copied from a source video) into a temporary file that is
renamed when complete, so a half-written video never looks finished.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from hotcli.errors import HotPoseError

#: The first video stream that is not a cover picture (ffmpeg's ``V`` stream specifier).
VIDEO_STREAM = "0:V:0"
# Messages that mean the file itself is damaged (any level); decoder errors count as well.
_DAMAGE = re.compile(
    r"corrupt|damaged|prematurely|partial file|truncat|invalid data|invalid nal|error|"
    r"concealing|missing picture|invalid as first byte|non monotonically",
    re.IGNORECASE,
)
# Messages from the demuxer that the container itself is cut off or holds damaged packets.
_TRUNCATED = re.compile(
    r"prematurely|partial file|truncat|packet corrupt|corrupt input packet", re.IGNORECASE
)
_NTSC_BASES = (24, 30, 48, 60, 120, 240)


@dataclass(frozen=True)
class VideoInfo:
    """What the rest of hot-pose needs to know about a video."""

    path: Path
    width: int  # as displayed, after rotation
    height: int
    fps: float
    # Frames in the video stream: its packets, counted by probe without decoding (the same
    # number for every file tried); iter_frames(counted=...) gives the count that decoded.
    frames: int
    rotation: int  # degrees clockwise the stored frames are turned for display (0/90/180/270)
    has_audio: bool
    codec: str


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def exact_rate(fps: float) -> Fraction:
    """The frame rate as a fraction: 29.97 is really 30000/1001, and ffmpeg prints it rounded."""
    for base in _NTSC_BASES:
        if abs(fps - base * 1000 / 1001) < 0.006:
            return Fraction(base * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


def _check_path(path: Path) -> None:
    if not path.exists():
        raise HotPoseError(f"{path}: no such file")
    if path.is_dir():
        raise HotPoseError(f"{path} is a folder, not a video")
    if not os.access(path, os.R_OK):
        raise HotPoseError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise HotPoseError(f"{path} is empty (0 bytes), not a video")


def _level_lines(text: str, levels: tuple[str, ...]) -> list[str]:
    """Lines ffmpeg tagged (``-loglevel level+info``) with one of ``levels``, tags removed."""
    out = []
    for line in text.splitlines():
        for level in levels:
            tag = f"[{level}] "
            if tag in line:
                out.append(line.split(tag, 1)[1].strip())
                break
    return out


def _scan(path: Path) -> str:
    """ffmpeg's log of one pass over the first video stream: every packet read and copied to
    nothing (counted, not decoded), and the first frame decoded (the size frames come out at)."""
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "level+info", "-stats",
        "-i", str(path), "-map", VIDEO_STREAM, "-c", "copy", "-f", "null", "-",
        "-map", VIDEO_STREAM, "-frames:v", "1", "-f", "null", "-",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: long logs cannot block ffmpeg
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        log.seek(0)
        return log.read().decode("utf-8", "replace").replace("\r", "\n")


def _count_decoded(path: Path) -> int:
    """Frames that decode, by decoding every one to nothing (only for a file found damaged,
    to say how much of it is readable: packets of a cut-off group of pictures do not)."""
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "quiet", "-stats",
        "-i", str(path), "-map", VIDEO_STREAM, "-fps_mode", "passthrough", "-f", "null", "-",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        log.seek(0)
        counts = re.findall(rb"frame=\s*(\d+)", log.read())
    return int(counts[-1]) if counts else 0


def _parse_header(text: str) -> dict:
    """The input section of ffmpeg's log: video stream line, audio, duration, rotation."""
    head = text.split("Stream mapping:", 1)[0]
    video = next(
        (
            line
            for line in head.splitlines()
            if re.search(r"Stream #0:\d+.*: Video: ", line) and "attached pic" not in line
        ),
        None,
    )
    info: dict = {"video": video, "has_audio": bool(re.search(r"Stream #0:\d+.*: Audio: ", head))}
    if video is None:
        return info
    info["codec"] = video.split(": Video: ", 1)[1].split()[0].rstrip(",")
    size = re.search(r"\b(\d{1,5})x(\d{1,5})\b", video.split(": Video: ", 1)[1])
    info["size"] = (int(size.group(1)), int(size.group(2))) if size else None
    rate = re.search(r"([\d.]+)(k?) (fps|tbr)\b", video)
    info["fps"] = float(rate.group(1)) * (1000 if rate.group(2) else 1) if rate else 0.0
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", head)
    if duration:
        h, m, s = duration.groups()
        info["duration"] = int(h) * 3600 + int(m) * 60 + float(s)
    output = text.split("Output #1", 1)[1] if "Output #1" in text else ""
    shown = re.search(r": Video: .*?\b(\d{1,5})x(\d{1,5})\b", output)
    # the decoded first frame's size, rotation applied: what ffmpeg will deliver
    info["shown_size"] = (int(shown.group(1)), int(shown.group(2))) if shown else None
    matrix = re.search(r"display ?matrix: rotation of (-?[\d.]+) degrees", head, re.IGNORECASE)
    tag = re.search(r"\brotate\s*:\s*(-?\d+)", head)
    if matrix:  # counter-clockwise degrees; the classic rotate tag is clockwise
        info["rotation"] = int(round(-float(matrix.group(1)))) % 360
    elif tag:
        info["rotation"] = int(tag.group(1)) % 360
    else:
        info["rotation"] = 0
    return info


def _unreadable(path: Path, text: str) -> HotPoseError:
    reasons = _level_lines(text, ("fatal", "error"))
    reason = reasons[-1] if reasons else "ffmpeg could not open it"
    reason = re.sub(r"^Error opening input files?:\s*", "", reason).rstrip(".")
    return HotPoseError(f"{path} is not a readable video (ffmpeg: {reason})")


def _corrupt(path: Path, frames: int, expected: int) -> HotPoseError:
    of = f" of about {expected}" if expected > frames else ""
    return HotPoseError(
        f"{path} is corrupt: only {frames}{of} frames could be decoded "
        "(the file is damaged or was cut off)"
    )


def _is_short(frames: int, expected: int) -> bool:
    """Clearly fewer frames than expected: more than 2 frames and 2 % missing."""
    return expected - frames > max(2, 0.02 * expected)


def probe(path: str | os.PathLike) -> VideoInfo:
    """Everything about a video, or a :class:`HotPoseError` that says what is wrong with it.

    Reads the whole video stream but decodes only its first frame (:func:`_scan`), so it
    takes a small fraction of a decoding pass; ``frames`` is the number of packets.
    """
    path = Path(path)
    _check_path(path)
    text = _scan(path)
    if "Input #0" not in text:
        raise _unreadable(path, text)
    header = _parse_header(text)
    if header["video"] is None:
        what = "an audio file" if header["has_audio"] else "a file without streams"
        raise HotPoseError(f"{path} has no video stream (0 frames): it is {what}")
    counts = re.findall(r"frame=\s*(\d+)", text)  # the first output's: the packets copied
    frames = int(counts[-1]) if counts else 0
    problems = [
        line for line in _level_lines(text, ("fatal", "error", "warning")) if _DAMAGE.search(line)
    ]
    if frames == 0 or (header["shown_size"] is None and problems):
        detail = f" ({problems[0]})" if problems else ""
        raise HotPoseError(f"{path} has no decodable video frames{detail}")
    fps = header["fps"]
    if not fps > 0:
        raise HotPoseError(f"{path}: the video stream has no frame rate")
    fps = float(exact_rate(fps))
    expected = round(header.get("duration", 0.0) * fps)
    truncated = any(_TRUNCATED.search(p) for p in problems)
    if problems and (_is_short(frames, expected) or truncated):
        raise _corrupt(path, _count_decoded(path), expected)
    rotation = header["rotation"] if header["rotation"] in (0, 90, 180, 270) else 0
    width, height = header["size"] or (0, 0)
    if rotation in (90, 270):
        width, height = height, width
    width, height = header["shown_size"] or (width, height)
    if width <= 0 or height <= 0:
        raise HotPoseError(f"{path}: the video stream has no frame size")
    return VideoInfo(
        path=path,
        width=width,
        height=height,
        fps=fps,
        frames=frames,
        rotation=rotation,
        has_audio=header["has_audio"],
        codec=header["codec"],
    )


def _check_decoded(path: Path, info: VideoInfo, decoded: int, code: int, log) -> None:
    """After a decoding pass: refuse a stream the decoder found damaged and short of frames.

    ``log`` is ffmpeg's (``level+warning``), read line by line (a long damaged stream's log
    can be long); ``code`` its exit status.
    """
    problems: list[str] = []
    truncated = False
    log.seek(0)
    for raw in log:
        for line in _level_lines(raw.decode("utf-8", "replace"), ("fatal", "error", "warning")):
            if _DAMAGE.search(line):
                truncated = truncated or bool(_TRUNCATED.search(line))
                if len(problems) < 3:
                    problems.append(line)
    if decoded == 0:
        detail = f" ({problems[0]})" if problems else ""
        raise HotPoseError(f"{path} has no decodable video frames{detail}")
    if (problems or code != 0) and (_is_short(decoded, info.frames) or truncated):
        raise _corrupt(path, decoded, info.frames)


def iter_frames(path: str | os.PathLike, info: VideoInfo | None = None) -> Iterator[np.ndarray]:
    """Yield writable BGR frames (H, W, 3) ``uint8`` in displayed orientation, one at a time.

    One frame per decoded frame (no duplicates or drops to force a constant rate); count
    them for the exact number (``info.frames`` is the packets', the same for every file
    tried). When the stream ends, a decoder that reported damage and gave clearly fewer
    frames than ``info.frames`` raises :class:`HotPoseError` ("corrupt: only N of about M
    frames could be decoded"), as does a stream with no decodable frame. Closing the
    generator early stops ffmpeg and checks nothing.
    """
    path = Path(path)
    info = info or probe(path)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "level+warning", "-i", str(path),
        "-map", VIDEO_STREAM, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24",
        "-",
    ]  # fmt: skip
    size = info.width * info.height * 3
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        decoded = 0
        try:
            while True:
                buf = bytearray(size)
                view, got = memoryview(buf), 0
                while got < size:
                    n = proc.stdout.readinto(view[got:])
                    if not n:
                        break
                    got += n
                if got < size:
                    break
                decoded += 1
                yield np.frombuffer(buf, np.uint8).reshape(info.height, info.width, 3)
            code = proc.wait()
            _check_decoded(path, info, decoded, code, log)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()


class VideoWriter:
    """Write BGR frames to a browser-friendly H.264 mp4 (yuv420p, even size), atomically.

    Frames go to ffmpeg already converted to yuv420p by OpenCV, which is faster than
    ffmpeg's own conversion and decodes closer to the frames given.

    Odd sizes are padded by one pixel (edge copied), because yuv420p needs even ones. With
    ``audio_from``, that video's first audio track (if any) is re-encoded to AAC beside the
    frames and padded/cut to the video's length. Use as a context manager: a clean exit renames
    the temporary file to ``path``; an exception deletes it.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        size: tuple[int, int],
        audio_from: str | os.PathLike | None = None,
        crf: int = 23,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        self.input_size = (int(size[0]), int(size[1]))
        w, h = self.input_size
        self.size = (w + w % 2, h + h % 2)
        self.tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix or '.mp4'}")
        self.frames = 0
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{self.size[0]}x{self.size[1]}",
            "-framerate", str(exact_rate(fps)), "-i", "pipe:0",
        ]  # fmt: skip
        if audio_from is not None:
            cmd += ["-i", str(audio_from), "-map", "0:v:0", "-map", "1:a:0?"]
            cmd += ["-c:a", "aac", "-b:a", "128k", "-af", "apad", "-shortest"]
        cmd += [
            "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(self.tmp),
        ]  # fmt: skip
        self._log = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=self._log)
        except OSError as exc:
            self._log.close()
            raise HotPoseError(f"cannot start ffmpeg to write {self.path}: {exc}") from None

    def _ffmpeg_said(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"ffmpeg exited with {self._proc.returncode}"

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR ``uint8`` frame of the size given at construction."""
        h, w = frame.shape[:2]
        if (w, h) != self.input_size or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frame {frame.shape} does not match the writer's size {self.size}")
        if (w, h) != self.size:  # odd size: repeat the last row/column
            frame = np.pad(frame, ((0, self.size[1] - h), (0, self.size[0] - w), (0, 0)), "edge")
        import cv2

        # YUV 4:2:0 made here (OpenCV, BT.601 limited range, as ffmpeg would): half the bytes
        # through the pipe and no conversion in ffmpeg, 25 % faster on 2560 x 720 frames
        yuv = cv2.cvtColor(np.ascontiguousarray(frame, dtype=np.uint8), cv2.COLOR_BGR2YUV_I420)
        try:
            self._proc.stdin.write(yuv.data)
        except (BrokenPipeError, OSError):
            self._proc.wait()
            raise HotPoseError(f"writing {self.path} failed: {self._ffmpeg_said()}") from None
        self.frames += 1

    def close(self) -> None:
        """Finish the file and move it to its final name."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        code = self._proc.wait()
        if code != 0:
            said = self._ffmpeg_said()
            self._cleanup()
            raise HotPoseError(f"writing {self.path} failed: {said}")
        self._log.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Stop ffmpeg and delete the temporary file."""
        if self._proc.poll() is None:
            self._proc.kill()
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        self._proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        self._log.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
