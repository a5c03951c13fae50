"""Rendered videos: the 2D skeleton on the frames beside an upright 3D view, plus previews.

``render_video`` streams the source once: each decoded frame gets the 2D skeletons drawn
on it, the 3D panel (:class:`hotcli.render.draw3d.SkeletonPanel`, fitted once over the clip) is
drawn into a reused canvas, and the composed frame goes straight to the H.264 encoder.
No per-frame image files, no figure per frame. The output keeps the source's frame
count, frame rate and audio.

Layouts:

- ``side`` (default): the frame, then a square 3D panel as tall as the frame.
- ``overlay``: the frame with a small 3D inset in the corner that hides the fewest
  keypoints over the clip (top-right when several tie).
- ``3d``: the 3D panel alone (square, as tall as the frame, at least 360 px).

Several people: every person's 2D skeleton is drawn on the frame (tagged with the track
id). Placed in the video's one world (``camera_height`` given, as ``hot-pose`` does), the
3D panel shows the scene: all persons on one ground grid where they really are, moving
over it, the camera standing at its height, the view framing every path; ``--trail``
draws each pelvis's path. Root-relative poses are instead shown side by side in the order
they stand in the image, left to right, each over their own patch of ground. Frames
where a person is not present hold NaN and nothing of them is drawn.

Frames taller than ``RenderOptions.max_height`` (default 1080) are scaled down first so
phone and 4K footage renders at a sensible speed; set it to ``None`` to keep every pixel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from tqdm import tqdm

from hotcli.atomic import atomic_path
from hotcli.errors import HotPoseError
from hotcli.formats.video import VideoInfo, VideoWriter, iter_frames, probe
from hotcli.options import RenderOptions
from hotcli.render.draw3d import SkeletonPanel, draw_skeleton_2d

if TYPE_CHECKING:
    from hotcli.lifting.lifter import PersonMotion


def _even(n: float) -> int:
    n = int(round(n))
    return n + (n % 2)


class FrameComposer:
    """Builds each output frame of a layout from a source frame and a frame index.

    Holds one output buffer and one 3D panel for the whole clip; ``compose`` returns the
    reused buffer (copy it if you keep it).
    """

    def __init__(
        self, persons: Sequence[PersonMotion], width: int, height: int, options: RenderOptions,
        camera_height: float | None = None,
    ) -> None:  # fmt: skip
        options.validate()
        self.options = options
        self.persons = list(persons)
        shrink = 1.0
        if options.max_height is not None and height > options.max_height:
            shrink = options.max_height / height
        self.shrink = shrink
        fw, fh = max(2, round(width * shrink)), max(2, round(height * shrink))
        self.frame_size = (fw, fh)
        layout = options.layout
        if layout == "side":
            panel = (fh, fh)
            out = (_even(fw + fh), _even(fh))
            self.panel_at = (fw, 0)
        elif layout == "overlay":
            side = min(max(96, round(0.4 * min(fw, fh))), fw, fh)
            panel = (side, side)
            out = (_even(fw), _even(fh))
            self.panel_at = _quietest_corner(self.persons, shrink, (fw, fh), side)
        else:
            side = _even(max(fh, 360))
            panel = (side, side)
            out = (side, side)
            self.panel_at = (0, 0)
        self.size = out
        self.buffer = np.zeros((out[1], out[0], 3), np.uint8)
        order = sorted(range(len(self.persons)), key=lambda i: _median_x(self.persons[i]))
        self.panel = SkeletonPanel(
            [np.asarray(self.persons[i].keypoints_3d_world) for i in order],
            panel,
            azimuth=options.view_azimuth,
            elevation=options.view_elevation,
            marked=[np.asarray(self.persons[i].interpolated, bool) for i in order],
            trail=options.trail,
            legend=options.legend,
            camera_height=camera_height,
        )
        self.keypoints = [
            np.asarray(p.keypoints_2d, dtype=np.float64) * shrink for p in self.persons
        ]
        self.labels = [f"#{p.track_id}" if len(self.persons) > 1 else None for p in self.persons]

    def compose(self, frame: np.ndarray, t: int) -> np.ndarray:
        out = self.buffer
        fw, fh = self.frame_size
        if self.options.layout != "3d":
            area = out[:fh, :fw]
            if frame.shape[1] == fw and frame.shape[0] == fh:
                area[:] = frame
            else:
                cv2.resize(frame, (fw, fh), dst=area, interpolation=cv2.INTER_AREA)
            for p, kp, label in zip(self.persons, self.keypoints, self.labels, strict=True):
                if t < len(kp):
                    draw_skeleton_2d(
                        area, kp[t], np.asarray(p.scores[t]), bool(p.interpolated[t]),
                        self.options.min_score, label,
                    )  # fmt: skip
        panel = self.panel.render(t)
        x, y = self.panel_at
        ph, pw = panel.shape[:2]
        out[y : y + ph, x : x + pw] = panel
        if self.options.layout == "overlay":
            cv2.rectangle(out, (x, y), (x + pw - 1, y + ph - 1), (90, 90, 90), 1)
        return out


def _quietest_corner(
    persons: Sequence[PersonMotion], shrink: float, frame: tuple[int, int], side: int
) -> tuple[int, int]:
    """Top-left pixel of the inset corner that hides the fewest keypoints over the clip.

    Tried in order top-right, top-left, bottom-right, bottom-left (first wins ties).
    """
    fw, fh = frame
    corners = [(fw - side, 0), (0, 0), (fw - side, fh - side), (0, fh - side)]
    points = [np.asarray(p.keypoints_2d, dtype=np.float64).reshape(-1, 2) * shrink for p in persons]
    xy = np.concatenate(points) if points else np.zeros((0, 2))
    hidden = [
        int(
            np.sum(
                (xy[:, 0] >= x) & (xy[:, 0] < x + side) & (xy[:, 1] >= y) & (xy[:, 1] < y + side)
            )
        )
        for x, y in corners
    ]
    return corners[int(np.argmin(hidden))]


def _median_x(person: PersonMotion) -> float:
    xs = np.asarray(person.keypoints_2d)[..., 0]
    xs = xs[np.isfinite(xs)]
    return float(np.median(xs)) if xs.size else 0.0


def render_video(
    video: Path,
    out_path: Path,
    persons: list[PersonMotion],
    options: RenderOptions | None = None,
    info: VideoInfo | None = None,
    progress: bool = True,
    camera_height: float | None = None,
) -> None:
    """Write ``out_path``: the source's frames with skeletons beside/with the 3D view.

    With ``camera_height`` (metres; the persons' ``keypoints_3d_world`` share one world
    frame, :mod:`hotcli.scene.ground`) the 3D view shows the scene: everyone on one ground, the
    camera where it stands.

    Same frame count and frame rate as the source, its audio copied when present, H.264
    yuv420p with even dimensions (browsers play it). Written to a temporary name and
    renamed when complete (by :class:`hotcli.formats.video.VideoWriter`).
    """
    options = options or RenderOptions()
    options.validate()
    video = Path(video)
    info = info or probe(video)
    composer = FrameComposer(persons, info.width, info.height, options, camera_height)
    frames = iter_frames(video, info)
    bar = tqdm(frames, total=info.frames, unit="frame", desc="render", disable=not progress)
    audio = video if info.has_audio else None
    with VideoWriter(Path(out_path), info.fps, size=composer.size, audio_from=audio) as writer:
        for t, frame in enumerate(bar):
            writer.write(composer.compose(frame, t))


def write_gif(
    video: Path,
    gif_path: Path,
    width: int = 360,
    fps: float = 8.0,
    max_seconds: float | None = 12.0,
    info: VideoInfo | None = None,
) -> None:
    """A small looping GIF preview of ``video`` (normally the rendered one).

    Downscaled to ``width`` px and subsampled to ``fps`` so a README can show it; only the
    first ``max_seconds`` are kept (``None`` keeps all).
    """
    import imageio.v3 as iio

    video = Path(video)
    info = info or probe(video)
    fps = min(float(fps), info.fps) if info.fps > 0 else float(fps)
    scale = min(1.0, width / info.width)
    size = (_even(info.width * scale), _even(info.height * scale))
    keep_frames = math.inf if max_seconds is None else max_seconds * info.fps
    images: list[np.ndarray] = []
    next_time = 0.0
    for i, frame in enumerate(iter_frames(video, info)):
        if i >= keep_frames:
            break
        if i / info.fps + 1e-9 < next_time:
            continue
        next_time += 1.0 / fps
        small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        images.append(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
    if not images:
        raise HotPoseError(f"{video}: no frames to put in a GIF")
    Path(gif_path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(gif_path) as tmp:
        iio.imwrite(tmp, np.stack(images), extension=".gif", duration=round(1000 / fps), loop=0)
