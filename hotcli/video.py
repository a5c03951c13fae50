"""Reading and writing video through imageio-ffmpeg (a bundled ffmpeg; no system install).

Frames are streamed one at a time as BGR ``uint8`` arrays (OpenCV's and Ultralytics'
convention), upright: ffmpeg applies a phone video's rotation metadata while decoding,
and :class:`VideoInfo` reports the displayed size. Memory never grows with the length.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from hotcli.errors import HotPoseError

VIDEO_EXTENSIONS = (
    ".mp4",
    ".mov",
    ".avi",
    ".mkv",
    ".webm",
    ".m4v",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".flv",
    ".ts",
    ".3gp",
)
# ffmpeg messages (at -v error) that mean the stream is damaged, not merely unusual.
_CORRUPT = re.compile(
    r"invalid|error|corrupt|damaged|truncat|partial file|does not match|moov atom not found|"
    r"end of file|concealing|missing picture",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class VideoInfo:
    """What the rest of hot-pose needs to know about a video."""

    path: Path
    width: int  # as displayed, after rotation
    height: int
    fps: float
    frames: int  # frames that actually decode, counted by decoding
    rotation: int  # degrees of the rotation metadata that decoding applied
    has_audio: bool
    codec: str


def _open(path: Path, **kwargs) -> tuple[Iterator, dict]:
    """Start an imageio-ffmpeg reader; map its failures to one clear message."""
    try:
        reader = imageio_ffmpeg.read_frames(str(path), **kwargs)
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration, ValueError) as exc:
        text = str(exc)
        if "moov atom not found" in text or "Invalid data" in text or "could not" in text.lower():
            raise HotPoseError(f"{path} is not a readable video (ffmpeg cannot open it)") from None
        raise HotPoseError(
            f"{path} is not a readable video: {text.splitlines()[0][:200]}"
        ) from None
    return reader, meta


def _check_path(path: Path) -> None:
    if not path.exists():
        raise HotPoseError(f"{path}: no such file")
    if path.is_dir():
        raise HotPoseError(f"{path} is a folder, not a video")
    if path.stat().st_size == 0:
        raise HotPoseError(f"{path} is empty (0 bytes)")


def count_frames(path: Path) -> tuple[int, str]:
    """Decode the first video stream to nothing: (frames decoded, ffmpeg's error text)."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-stats",
        "-i",
        str(path),
        "-map",
        "0:v:0",
        "-fps_mode",
        "passthrough",
        "-f",
        "null",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    counts = re.findall(r"frame=\s*(\d+)", proc.stderr)
    errors = "\n".join(
        line for line in proc.stderr.splitlines() if line.strip() and "frame=" not in line
    )
    if proc.returncode != 0 and not counts:
        errors = errors or f"ffmpeg exited with {proc.returncode}"
    return (int(counts[-1]) if counts else 0), errors


def probe(path: str | os.PathLike) -> VideoInfo:
    """Everything about a video, or a :class:`HotPoseError` that says what is wrong with it.

    The frame count comes from decoding the whole stream (container headers are often
    wrong), which also finds streams that are corrupt part-way.
    """
    path = Path(path)
    _check_path(path)
    reader, meta = _open(path)
    reader.close()
    frames, errors = count_frames(path)
    if frames == 0:
        raise HotPoseError(f"{path} has no decodable video frames")
    if errors and _CORRUPT.search(errors):
        raise HotPoseError(
            f"{path} is corrupt: only {frames} frames could be read before the stream broke"
        )
    width, height = meta["size"]  # ffmpeg applies rotation metadata: this is the displayed size
    source = tuple(meta.get("source_size") or (width, height))
    rotation = int(meta.get("rotate") or 0) % 360
    if not rotation and source != (width, height) and source == (height, width):
        rotation = 90  # a display matrix turned the frames a quarter turn
    fps = float(meta.get("fps") or 0)
    if not fps > 0:
        raise HotPoseError(f"{path}: the video has no frame rate")
    return VideoInfo(
        path=path,
        width=int(width),
        height=int(height),
        fps=fps,
        frames=frames,
        rotation=rotation,
        has_audio=bool(meta.get("audio_codec")),
        codec=str(meta.get("codec", "")),
    )


def iter_frames(path: str | os.PathLike, info: VideoInfo | None = None) -> Iterator[np.ndarray]:
    """Yield BGR frames (H, W, 3) in displayed orientation, one at a time."""
    path = Path(path)
    info = info or probe(path)
    # passthrough: one output frame per decoded frame (no duplicates to keep a constant rate)
    reader, meta = _open(path, pix_fmt="bgr24", output_params=["-fps_mode", "passthrough"])
    width, height = meta["size"]
    if (width, height) != (info.width, info.height) and (height, width) == (
        info.width,
        info.height,
    ):
        width, height = height, width
    try:
        for buf in reader:
            yield np.frombuffer(buf, np.uint8).reshape(height, width, 3)
    finally:
        reader.close()


class VideoWriter:
    """Write BGR frames to a browser-friendly H.264 mp4 (yuv420p, even size), atomically.

    Frames go to a temporary file next to ``path`` that is renamed on a clean close and
    deleted if anything fails, so a half-written video never looks complete. With
    ``audio_from``, that video's audio track is copied in (re-encoded as AAC).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        size: tuple[int, int],
        audio_from: str | os.PathLike | None = None,
        crf: int = 23,
    ) -> None:
        self.path = Path(path)
        self.size = (size[0] + size[0] % 2, size[1] + size[1] % 2)
        self.tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self.frames = 0
        self._gen = imageio_ffmpeg.write_frames(
            str(self.tmp),
            self.size,
            pix_fmt_in="bgr24",
            pix_fmt_out="yuv420p",
            fps=fps,
            codec="libx264",
            quality=None,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=["-preset", "veryfast", "-crf", str(crf), "-movflags", "+faststart"],
            audio_path=str(audio_from) if audio_from else None,
            audio_codec="aac" if audio_from else None,
        )
        self._gen.send(None)

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if (w, h) != self.size:  # pad odd sizes by repeating the last row/column
            frame = np.pad(frame, ((0, self.size[1] - h), (0, self.size[0] - w), (0, 0)), "edge")
        self._gen.send(np.ascontiguousarray(frame))
        self.frames += 1

    def close(self) -> None:
        self._gen.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self._gen.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
