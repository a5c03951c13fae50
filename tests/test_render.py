"""Rendered videos, previews and plots: faithful output, skeleton where the keypoints are."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np
import pytest

from hotcli.bench.render import bench_render, format_render_table, print_render_table
from hotcli.bench.synthetic import synthetic_person
from hotcli.errors import HotPoseError
from hotcli.formats.video import VideoWriter, iter_frames, probe
from hotcli.lifting.lifter import PersonMotion
from hotcli.lifting.upright import upright
from hotcli.options import RenderOptions
from hotcli.render.draw3d import BACKGROUND, CENTRE_COLOUR, LEFT_COLOUR, RIGHT_COLOUR, SkeletonPanel
from hotcli.render.plots import plot_motion
from hotcli.render.renderer import FrameComposer, render_video, write_gif
from tests.conftest import run_ffmpeg

W, H, FPS, FRAMES = 320, 240, 15.0, 20
HEAD, PELVIS, ANKLES = 10, 0, (3, 6)


def source_frame() -> np.ndarray:
    """A smooth, static background: compression barely changes it, skeletons clearly do."""
    yy, xx = np.mgrid[0:H, 0:W]
    frame = np.stack([40 + xx // 8, 60 + yy // 8, np.full_like(xx, 90)], axis=-1)
    return frame.astype(np.uint8)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("render") / "clip.mp4"
    with VideoWriter(path, FPS, size=(W, H)) as writer:
        for _ in range(FRAMES):
            writer.write(source_frame())
    return path


@pytest.fixture(scope="module")
def person() -> PersonMotion:
    return synthetic_person(FRAMES, W, H)


@pytest.fixture(scope="module")
def rendered(source, person, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "clip_pose.mp4"
    render_video(source, out, [person], RenderOptions(trail=5), progress=False)
    return out


def test_output_keeps_frame_count_and_rate(rendered, source) -> None:
    info = probe(rendered)
    assert info.frames == FRAMES and abs(info.fps - FPS) < 1e-3
    assert (info.width, info.height) == (W + H, H)
    assert info.width % 2 == 0 and info.height % 2 == 0
    assert sum(1 for _ in iter_frames(rendered, info)) == FRAMES
    assert "264" in info.codec.lower()
    assert not list(rendered.parent.glob(".*"))  # no temporary file left behind


def test_skeleton_pixels_are_where_the_keypoints_are(rendered, person) -> None:
    background = source_frame().astype(np.int16)
    frames = list(iter_frames(rendered))
    for t in (0, 7, 15):  # frames the tracker detected (not interpolated)
        assert not person.interpolated[t]
        left = frames[t][:, :W].astype(np.int16)
        diff = np.abs(left - background).sum(axis=-1)
        for j in (HEAD, PELVIS, 2, 5, 12, 15):
            x, y = np.round(person.keypoints_2d[t, j]).astype(int)
            assert diff[y - 2 : y + 3, x - 2 : x + 3].max() > 120, (
                f"joint {j} not drawn in frame {t}"
            )
        # Far from the person (well outside their box) the frame is untouched.
        x0, y0 = person.keypoints_2d[t].min(axis=0) - 25
        x1, y1 = person.keypoints_2d[t].max(axis=0) + 25
        far = np.ones(diff.shape, bool)
        far[max(0, int(y0)) : int(y1), max(0, int(x0)) : int(x1)] = False
        assert far.sum() > 0.4 * far.size
        assert np.percentile(diff[far], 99) < 20


def test_interpolated_frames_are_marked(source, person) -> None:
    composer = FrameComposer([person], W, H, RenderOptions())
    t = int(np.flatnonzero(person.interpolated)[0])
    marked = composer.compose(source_frame(), t)[:, :W].copy()
    detected = person.interpolated.copy()
    detected[:] = False
    plain = replace(person, interpolated=detected)
    normal = FrameComposer([plain], W, H, RenderOptions()).compose(source_frame(), t)[:, :W]
    # Same joints, different drawing: greyed bones, hollow joints and an "interpolated" tag.
    assert np.abs(marked.astype(int) - normal.astype(int)).sum(axis=-1).max() > 100
    colourful = lambda img: (np.ptp(img.astype(int), axis=-1) > 150).sum()  # noqa: E731
    assert colourful(marked) < colourful(normal)


def panel_extents(panel: np.ndarray) -> tuple[int, int]:
    """Topmost row of head-coloured pixels, bottommost row of leg-coloured pixels."""
    img = panel.astype(int)
    near = lambda c: np.abs(img - np.array(c)).sum(axis=-1) < 40  # noqa: E731
    limbs = near(LEFT_COLOUR) | near(RIGHT_COLOUR)
    head = near(CENTRE_COLOUR)
    return int(np.flatnonzero(head.any(axis=1)).min()), int(np.flatnonzero(limbs.any(axis=1)).max())


@pytest.mark.parametrize("roll", [0.0, 25.0, -40.0])
def test_3d_panel_is_upright_for_an_upright_person(person, roll) -> None:
    # The same upright person filmed by a camera rolled 0°, 25° or -40°.
    c, s = np.cos(np.radians(roll)), np.sin(np.radians(roll))
    rolled = person.keypoints_3d @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]).T
    world = upright(rolled)[0]
    panel = SkeletonPanel([world], (300, 300), legend=False)
    for t in range(0, FRAMES, 4):
        px = panel.joint_pixels(t)
        assert px[HEAD, 1] < px[PELVIS, 1] < px[list(ANKLES), 1].min()  # image y grows down
        top_of_head, bottom_of_legs = panel_extents(panel.render(t))
        assert bottom_of_legs - top_of_head > 0.4 * 300


def test_layouts_and_several_people(source, person, tmp_path) -> None:
    other = synthetic_person(FRAMES, W, H, track_id=7, x_offset=0.9)
    for layout, size in (("overlay", (W, H)), ("3d", (360, 360))):
        out = tmp_path / f"{layout}.mp4"
        options = RenderOptions(layout=layout, view_azimuth=-20, view_elevation=30)
        render_video(source, out, [other, person], options, progress=False)
        info = probe(out)
        assert (info.width, info.height) == size and info.frames == FRAMES
    panel = FrameComposer([other, person], W, H, RenderOptions()).panel
    # Left to right in the 3D view as in the image: ``person`` stands left of ``other``.
    assert panel.joint_pixels(0, 0)[PELVIS, 0] < panel.joint_pixels(0, 1)[PELVIS, 0]
    assert np.all(panel.render(0)[:5, :5] == BACKGROUND)
    # The overlay inset avoids the corner where the person is.
    corner = replace(person, keypoints_2d=person.keypoints_2d * 0.3 + [W * 0.7, 0])
    inset = FrameComposer([corner], W, H, RenderOptions(layout="overlay"))
    assert inset.panel_at != (W - inset.panel.width, 0)


def test_short_motion_and_bad_options(source, person, tmp_path) -> None:
    short = PersonMotion(
        **{k: v[:8] if isinstance(v, np.ndarray) else v for k, v in vars(person).items()}
    )
    out = tmp_path / "short.mp4"
    render_video(source, out, [short], RenderOptions(), progress=False)
    assert probe(out).frames == FRAMES  # every source frame, posed or not
    render_video(source, tmp_path / "nobody.mp4", [], RenderOptions(), progress=False)
    assert probe(tmp_path / "nobody.mp4").frames == FRAMES
    for bad in (
        RenderOptions(layout="split"),
        RenderOptions(view_elevation=120),
        RenderOptions(trail=-1),
    ):
        with pytest.raises(HotPoseError):
            render_video(source, tmp_path / "bad.mp4", [person], bad, progress=False)
    assert not (tmp_path / "bad.mp4").exists()


def test_source_audio_is_kept(person, tmp_path) -> None:
    with_audio = tmp_path / "talk.mp4"
    run_ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s={W}x{H}:r={FPS:g}",
               "-f", "lavfi", "-i", "sine=frequency=440", "-frames:v", str(FRAMES),
               "-t", str(FRAMES / FPS), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
               str(with_audio))  # fmt: skip
    assert probe(with_audio).has_audio
    out = tmp_path / "talk_pose.mp4"
    render_video(with_audio, out, [person], RenderOptions(), progress=False)
    info = probe(out)
    assert info.has_audio and info.frames == FRAMES


def test_gif_and_plots(rendered, person, tmp_path) -> None:
    gif = tmp_path / "preview.gif"
    write_gif(rendered, gif, width=200, fps=5)
    frames = iio.imread(gif, index=None)
    assert frames.shape[0] == int(np.ceil(FRAMES / FPS * 5)) and frames.shape[2] == 200
    assert iio.immeta(gif).get("loop") == 0
    for kind in ("angles", "heights"):
        png = tmp_path / f"{kind}.png"
        plot_motion([person], png, FPS, kind=kind)
        image = cv2.imread(str(png))
        assert image is not None and image.shape[0] > 200 and image.std() > 5
    with pytest.raises(HotPoseError):
        plot_motion([person], tmp_path / "x.png", FPS, kind="speed")


def test_bench_render_rows(capsys) -> None:
    rows = bench_render(width=320, height=180, frames=6, naive_frames=2)
    assert [r["method"].split()[0] for r in rows] == ["hot-pose", "hot-pose", "naive"]
    assert all(r["fps"] > 0 and r["output"] == "320x180" for r in rows)
    assert "naive matplotlib" in format_render_table(rows)
    print_render_table(rows)
    assert "naive way" in capsys.readouterr().out


def test_bundled_example_renders(example_video, tmp_path) -> None:
    clip = example_video
    info = probe(clip)
    if info.frames > 600:
        pytest.skip("examples/dancer.mp4 is longer than this quick test renders")
    person = synthetic_person(info.frames, info.width, info.height)
    out = tmp_path / "dancer_pose.mp4"
    render_video(clip, out, [person], RenderOptions(), info=info, progress=False)
    got = probe(out)
    assert got.frames == info.frames and abs(got.fps - info.fps) < 1e-3
    assert got.has_audio == info.has_audio
