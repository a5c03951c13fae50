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
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from tqdm import tqdm

from hotcli.atomic import atomic_path
from hotcli.errors import HotPoseError
from hotcli.formats.video import VideoInfo, VideoWriter, iter_frames, probe
from hotcli.lifting.upright import upright
from hotcli.options import RenderOptions
from hotcli.render.draw3d import (
    BONE_COLOURS,
    BONES,
    LEFT_COLOUR,
    RIGHT_COLOUR,
    SkeletonPanel,
    draw_skeleton_2d,
)


class Motion(Protocol):
    """What rendering reads from a person (``hotcli.lifting.lifter.PersonMotion`` fits)."""

    track_id: int
    keypoints_2d: np.ndarray  # (T, 17, 2) pixels
    scores: np.ndarray  # (T, 17)
    interpolated: np.ndarray  # (T,) bool
    keypoints_3d: np.ndarray  # (T, 17, 3) root-relative, camera axes, metres
    keypoints_3d_world: np.ndarray  # (T, 17, 3) upright world, metres


def _even(n: float) -> int:
    n = int(round(n))
    return n + (n % 2)


class FrameComposer:
    """Builds each output frame of a layout from a source frame and a frame index.

    Holds one output buffer and one 3D panel for the whole clip; ``compose`` returns the
    reused buffer (copy it if you keep it).
    """

    def __init__(
        self, persons: Sequence[Motion], width: int, height: int, options: RenderOptions,
        camera_height: float | None = None,
    ) -> None:  # fmt: skip
        options.validate()
        self.options = options
        self.persons = list(persons)
        self.source_size = (int(width), int(height))
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
    persons: Sequence[Motion], shrink: float, frame: tuple[int, int], side: int
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


def _median_x(person: Motion) -> float:
    xs = np.asarray(person.keypoints_2d)[..., 0]
    xs = xs[np.isfinite(xs)]
    return float(np.median(xs)) if xs.size else 0.0


def render_video(
    video: Path,
    out_path: Path,
    persons: list[Motion],
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


# Flexion angles plotted per side: (name, right joints, left joints). Knee and elbow are
# 180° minus the angle between the two bones at the joint (0 = straight); the hip is the
# thigh's angle from the trunk's line in the body's sagittal plane (positive = knee forward).
_KNEES = ((1, 2, 3), (4, 5, 6))  # (hip, knee, ankle)
_ELBOWS = ((14, 15, 16), (11, 12, 13))  # (shoulder, elbow, wrist)
_HIPS = ((1, 2), (4, 5))  # (hip, knee)
#: Heights plotted (label, joint, colour side, line style).
_HEIGHTS = (
    ("head", 10, "centre", "-"), ("pelvis", 0, "centre", "--"),
    ("left wrist", 13, "left", "--"), ("right wrist", 16, "right", "--"),
    ("left ankle", 6, "left", "-"), ("right ankle", 3, "right", "-"),
)  # fmt: skip


def _norm(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def bend_angle(world: np.ndarray, a: int, joint: int, b: int) -> np.ndarray:
    """Flexion in degrees at ``joint`` (0 = straight) between the bones to ``a`` and ``b``."""
    u, v = _norm(world[:, a] - world[:, joint]), _norm(world[:, b] - world[:, joint])
    return 180.0 - np.degrees(np.arccos(np.clip(np.sum(u * v, axis=-1), -1.0, 1.0)))


def hip_flexion(world: np.ndarray, hip: int, knee: int) -> np.ndarray:
    """Signed hip flexion in degrees: the thigh against the trunk, knee forward positive."""
    up = _norm(world[:, 8] - world[:, 0])  # pelvis → thorax
    forward = _norm(np.cross(world[:, 4] - world[:, 1], up))  # (right → left hip) × up
    thigh = world[:, knee] - world[:, hip]
    return np.degrees(np.arctan2(np.sum(thigh * forward, -1), -np.sum(thigh * up, -1)))


def motion_curves(
    world: np.ndarray, kind: str
) -> list[tuple[str, list[tuple[str, str, np.ndarray]]]]:
    """Rows of curves for :func:`plot_motion`: (y label, [(label, side, values)])."""
    if kind == "heights":
        curves = [(label, side, world[:, j, 2]) for label, j, side, _ in _HEIGHTS]
        return [("height above ground (m)", curves)]
    rows = []
    for name, pairs, fn in (("knee", _KNEES, bend_angle), ("hip", _HIPS, hip_flexion),
                            ("elbow", _ELBOWS, bend_angle)):  # fmt: skip
        right, left = (fn(world, *joints) for joints in pairs)
        rows.append((f"{name} flexion (°)", [(f"left {name}", "left", left),
                                             (f"right {name}", "right", right)]))  # fmt: skip
    return rows


def plot_motion(
    persons: Sequence[Motion],
    out_path: Path,
    fps: float,
    kind: str = "angles",
    max_persons: int = 4,
) -> None:
    """A PNG of each person's knee/hip/elbow flexion (``angles``) or joint heights over time.

    Left joints blue and right orange as in the video; frames the tracker filled in are
    shaded grey. One column per person (the first ``max_persons``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if kind not in ("angles", "heights"):
        raise HotPoseError(f"unknown plot kind {kind!r}: choose angles or heights")
    persons = list(persons)[:max_persons]
    if not persons:
        raise HotPoseError("no person to plot")
    n_rows = 3 if kind == "angles" else 1
    fig = Figure(figsize=(4.4 * len(persons) + 0.8, 2.3 * n_rows + 0.7), dpi=110)
    fig.set_layout_engine("constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, len(persons), squeeze=False, sharex="col")
    colours = {
        "left": tuple(c / 255 for c in reversed(LEFT_COLOUR)),
        "right": tuple(c / 255 for c in reversed(RIGHT_COLOUR)),
        "centre": (0.3, 0.3, 0.3),
    }
    styles = {label: style for label, _, _, style in _HEIGHTS}
    any_marked = False
    for col, person in enumerate(persons):
        world = np.asarray(person.keypoints_3d_world, dtype=np.float64)
        marked = np.asarray(person.interpolated, bool)
        any_marked |= bool(marked.any())
        time_s = np.arange(len(world)) / max(fps, 1e-6)
        for row, (ylabel, curves) in enumerate(motion_curves(world, kind)):
            ax = axes[row][col]
            _shade(ax, time_s, marked)
            for label, side, values in curves:
                ax.plot(time_s, values, styles.get(label, "-"), color=colours[side], lw=1.1,
                        label=label)  # fmt: skip
            ax.ticklabel_format(axis="y", useOffset=False)
            lo, hi = ax.get_ylim()
            least = 0.2 if kind == "heights" else 10.0  # flat curves stay flat on the plot
            if hi - lo < least:
                mid = 0.5 * (lo + hi)
                ax.set_ylim(mid - least / 2, mid + least / 2)
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="best", framealpha=0.7)
        axes[0][col].set_title(f"person #{person.track_id}")
        axes[-1][col].set_xlabel("time (s)")
    if any_marked:
        fig.suptitle("grey: frames filled in (person not detected)", fontsize=8, color="0.4")
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format="png")


def _shade(ax: Any, time_s: np.ndarray, interpolated: np.ndarray) -> None:
    """Grey spans where the person was filled in rather than detected."""
    if not interpolated.any() or len(time_s) < 2:
        return
    dt = time_s[1] - time_s[0]
    edges = np.diff(np.concatenate([[0], interpolated.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        ax.axvspan(time_s[s] - dt / 2, time_s[e - 1] + dt / 2, color="0.85", lw=0)


# --- synthetic input (benchmark and tests) ----------------------------------------------

#: A person standing, facing the camera (world −y), z up, metres; Human3.6M joint order.
STANDING_POSE = np.array(
    [
        [0.00, 0.00, 0.95], [-0.13, 0.00, 0.93], [-0.14, 0.00, 0.51], [-0.15, 0.03, 0.09],
        [0.13, 0.00, 0.93], [0.14, 0.00, 0.51], [0.15, 0.03, 0.09], [0.00, 0.01, 1.20],
        [0.00, 0.00, 1.44], [0.00, -0.08, 1.55], [0.00, -0.02, 1.68], [0.18, 0.00, 1.42],
        [0.22, 0.00, 1.14], [0.24, -0.05, 0.89], [-0.18, 0.00, 1.42], [-0.22, 0.00, 1.14],
        [-0.24, -0.05, 0.89],
    ]
)  # fmt: skip


@dataclass
class SyntheticPerson:
    """Same fields as ``hotcli.lifting.lifter.PersonMotion``: a made-up walker for tests."""

    track_id: int
    keypoints_2d: np.ndarray
    scores: np.ndarray
    interpolated: np.ndarray
    keypoints_3d: np.ndarray
    keypoints_3d_world: np.ndarray


def _rotate_x(points: np.ndarray, pivot: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    return (points - pivot) @ rot.T + pivot


def look_at_camera(eye: np.ndarray, target: np.ndarray, roll_degrees: float = 0.0) -> np.ndarray:
    """Rotation R (world → camera axes, x right, y down, z forward) of a camera at ``eye``."""
    forward = np.asarray(target, float) - np.asarray(eye, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    r = math.radians(roll_degrees)
    c, s = math.cos(r), math.sin(r)
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, forward])


def synthetic_person(
    frames: int, width: int, height: int, track_id: int = 1, x_offset: float = 0.0
) -> SyntheticPerson:
    """A person swinging arms and legs in place, seen by a tilted, slightly rolled camera."""
    t = np.arange(frames)
    phase = 2 * math.pi * t / 40.0
    world = np.repeat(STANDING_POSE[None], frames, axis=0).copy()
    for i, ph in enumerate(phase):
        pose = world[i]
        swing = 0.6 * math.sin(ph)
        pose[[12, 13]] = _rotate_x(pose[[12, 13]], pose[11], swing)
        pose[[15, 16]] = _rotate_x(pose[[15, 16]], pose[14], -swing)
        pose[[2, 3]] = _rotate_x(pose[[2, 3]], pose[1], 0.4 * swing)
        pose[[5, 6]] = _rotate_x(pose[[5, 6]], pose[4], -0.4 * swing)
    world[..., 0] += x_offset
    R = look_at_camera(np.array([0.4, -4.5, 1.6]), np.array([0.0, 0.0, 0.9]), roll_degrees=4.0)
    cam = (world - np.array([0.4, -4.5, 1.6])) @ R.T
    focal = 1.1 * max(width, height)
    pixels = cam[..., :2] / cam[..., 2:3] * focal + np.array([width / 2, height / 2])
    rel = cam - cam[:, :1]
    scores = np.full((frames, 17), 0.9, np.float32)
    scores[:, 13] = np.where(t % 10 < 3, 0.1, 0.9)  # a flickering left wrist
    interpolated = (t % 20) >= 17  # a short gap the tracker filled in
    return SyntheticPerson(
        track_id, pixels.astype(np.float32), scores, interpolated, rel.astype(np.float32),
        upright(rel)[0],
    )  # fmt: skip


def synthetic_frames(frames: int, width: int, height: int) -> Iterable[np.ndarray]:
    """Textured frames (a moving gradient with boxes), so the encoder has real work."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack(
        [(xx * 255 // max(1, width)), (yy * 255 // max(1, height)), (xx + yy) % 256], -1
    )
    base = base.astype(np.uint8)
    for i in range(frames):
        frame = np.roll(base, 4 * i, axis=1)
        cv2.rectangle(
            frame, (40 + 5 * i % width, 60), (140 + 5 * i % width, 160), (40, 200, 90), -1
        )
        yield frame


# --- benchmark ---------------------------------------------------------------------------


def _time_ours(frames: int, width: int, height: int, layout: str, out: Path) -> dict:
    """Render + encode with this module: output ``width``×``height``."""
    src_w = width - height if layout == "side" else width
    person = synthetic_person(frames, src_w, height)
    source = list(synthetic_frames(frames, src_w, height))
    options = RenderOptions(layout=layout, trail=10)
    start = time.perf_counter()
    composer = FrameComposer([person], src_w, height, options)
    with VideoWriter(out, 25.0, size=composer.size) as writer:
        for t, frame in enumerate(source):
            writer.write(composer.compose(frame, t))
    seconds = time.perf_counter() - start
    return {
        "method": f"hot-pose (OpenCV 3D, layout {layout})",
        "source": f"{src_w}x{height}",
        "output": f"{composer.size[0]}x{composer.size[1]}",
        "frames": frames,
        "seconds": round(seconds, 3),
        "fps": round(frames / seconds, 1),
    }


def _time_naive(frames: int, width: int, height: int, out: Path) -> dict:
    """The published demo's way: a new matplotlib figure (2D image + 3D axes) saved per frame."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    person = synthetic_person(frames, width, height)
    source = list(synthetic_frames(frames, width, height))
    folder = Path(tempfile.mkdtemp(prefix="naive_", dir=out.parent))
    start = time.perf_counter()
    paths = []
    for t, frame in enumerate(source):
        image = frame.copy()
        draw_skeleton_2d(
            image, person.keypoints_2d[t], person.scores[t], bool(person.interpolated[t])
        )
        fig = Figure(figsize=(width / 100, height / 100), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 2, 1)
        ax.imshow(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        ax.axis("off")
        ax3 = fig.add_subplot(1, 2, 2, projection="3d")
        pose = person.keypoints_3d_world[t]
        for (p, c), colour in zip(BONES, BONE_COLOURS, strict=True):
            ax3.plot(*pose[[p, c]].T, color=tuple(v / 255 for v in reversed(colour)), lw=2)
        ax3.set_xlim(-1, 1), ax3.set_ylim(-1, 1), ax3.set_zlim(0, 2)
        ax3.view_init(elev=15, azim=-90 + 35)
        path = folder / f"{t:05d}.png"
        fig.savefig(path)
        paths.append(path)
    with VideoWriter(out, 25.0, size=(width, height)) as writer:
        for path in paths:
            writer.write(cv2.resize(cv2.imread(str(path)), (width, height)))
    seconds = time.perf_counter() - start
    for path in paths:
        path.unlink()
    folder.rmdir()
    return {
        "method": "naive matplotlib (new 3D figure per frame, savefig)",
        "source": f"{width}x{height}",
        "output": f"{width}x{height}",
        "frames": frames,
        "seconds": round(seconds, 3),
        "fps": round(frames / seconds, 1),
    }


def bench_render(
    width: int = 1280, height: int = 720, frames: int = 150, naive_frames: int = 12
) -> list[dict]:
    """Render + encode speed at ``width``×``height`` output: ours (side and overlay) vs naive.

    Same synthetic person and textured frames for every method, in the same run; encoding
    to H.264 is included for all. The naive method gets fewer frames (it is slow); fps
    is frames / seconds either way.
    """
    if width <= height or height < 64:
        raise HotPoseError("render benchmark needs a landscape size, e.g. 1280x720")
    with tempfile.TemporaryDirectory(prefix="hotpose_bench_") as tmp:
        folder = Path(tmp)
        rows = [
            _time_ours(frames, width, height, "side", folder / "side.mp4"),
            _time_ours(frames, width, height, "overlay", folder / "overlay.mp4"),
            _time_naive(naive_frames, width, height, folder / "naive.mp4"),
        ]
    return rows


def format_render_table(rows: Sequence[dict]) -> str:
    """The benchmark rows as an aligned text table (what ``hot-pose bench --render`` prints)."""
    head = ("method", "source", "output", "frames", "seconds", "fps")
    table = [head] + [tuple(str(r.get(k, "")) for k in head) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_render_table(rows: Sequence[dict]) -> None:
    """Print :func:`format_render_table` and how much faster ours is than the naive way."""
    print(format_render_table(rows))
    naive = [r["fps"] for r in rows if r["method"].startswith("naive")]
    ours = [r["fps"] for r in rows if r["method"].startswith("hot-pose")]
    if naive and ours and naive[0] > 0:
        print(f"\nrender + encode: {min(ours) / naive[0]:.0f}x to {max(ours) / naive[0]:.0f}x "
              "the naive way's frames per second")  # fmt: skip
