"""``hot-pose bench --render``: the renderer's speed against the naive way.

The naive way is what the published demo does: a new matplotlib figure (the 2D image and a
3D axes) saved to a PNG per frame, then the PNGs encoded. Both render the same synthetic
person (:mod:`hotcli.bench.synthetic`) over the same textured frames, H.264 encoding included.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import cv2

from hotcli.bench.synthetic import synthetic_frames, synthetic_person
from hotcli.errors import HotPoseError
from hotcli.formats.video import VideoWriter
from hotcli.options import RenderOptions
from hotcli.render.draw3d import BONE_COLOURS, BONES, draw_skeleton_2d
from hotcli.render.renderer import FrameComposer


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
