"""One video end to end: probe → decode + 2D tracking → select → lift → scene → files → render.

:func:`process_video` is what ``hot-pose VIDEO`` runs and what batch processing calls per
video (passing :class:`Models` loaded once). Stages:

1. **probe** the video (every bad input becomes one clear :class:`HotPoseError`), then make
   sure the output folder is writable, before any heavy work.
2. **decode + 2D**: frames stream from the decoder straight into the YOLO pose tracker,
   never all held in memory. The two interleave, so the time spent inside the frame
   iterator is counted as ``decode`` and the rest as ``pose2d``.
3. **join** fragments of one person's track the tracker split
   (:mod:`hotcli.pose2d.reassociate`), then **select** the main person (or ``--person ID``, or
   ``--all-persons``).
4. **lift** each person to 3D (:class:`hotcli.lifting.lifter.Lifter`) over the frames where they are
   present, and **place** everyone in one scene (:mod:`hotcli.scene.world`): the pelvis path in
   camera coordinates, one ground plane and world frame, feet in contact locked.
5. **write** ``poses.npz`` / ``poses.json`` (:mod:`hotcli.formats.outputs`), and with ``--bvh``
   ``<stem>.bvh`` (:mod:`hotcli.formats.bvh`).
6. **render** ``<stem>_pose.mp4`` (a second decoding pass) unless ``--no-render``, and
   optionally ``<stem>_pose.gif`` and ``<stem>_motion.png``.
7. ``summary.json`` **last**, with the camera (focal length and where it came from,
   height, tilt), foot skate before and after the lock, ``timings_s`` per stage (probe,
   load, decode, pose2d, lift, world, write, render, total) and frames per second. Its
   presence marks a complete result: a stale one is deleted when a run starts, and every
   file is written under a temporary name and renamed, so an interrupted or failed run
   never looks complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

import hotcli
from hotcli.errors import HotPoseError
from hotcli.formats import outputs
from hotcli.formats.video import VideoInfo, iter_frames, probe
from hotcli.lifting.lifter import Lifter, PersonMotion
from hotcli.lifting.upright import upright
from hotcli.options import RenderOptions, RunOptions
from hotcli.pose2d.posenet import load_posenet
from hotcli.pose2d.presence import max_gap_frames, present_mask, runs
from hotcli.pose2d.reassociate import join_fragments
from hotcli.pose2d.tracking import Track, resolve_pose_model, select_tracks, track_people
from hotcli.scene.camera import Intrinsics, video_intrinsics
from hotcli.scene.ground import Ground
from hotcli.scene.world import WorldOptions, estimate_focal, place_persons

RENDER_SUFFIX = "_pose.mp4"  # <video stem>_pose.mp4
GIF_SUFFIX = "_pose.gif"
PLOT_SUFFIX = "_motion.png"


@dataclass
class Models:
    """The loaded networks, reusable across videos (loading is the slow part of a short clip)."""

    pose_model: (
        object  # a pose network (hotcli.pose2d.posenet.load_posenet), or a path/name to load
    )
    lifter: Lifter
    pose_model_path: str = ""

    @property
    def device(self) -> str:
        return str(self.lifter.device)


def load_models(options: RunOptions) -> Models:
    """Resolve the pose weights and load the lifter (device errors surface here)."""
    lifter = Lifter(options.weights, device=options.device, flip=options.flip,
                    batch=options.batch, fixed_bones=options.fixed_bones)  # fmt: skip
    path = resolve_pose_model(options.pose_model)
    if options.pose_backend != "pytorch" and lifter.device.type == "cpu":
        from hotcli.pose2d.export import openvino_pose_model

        exported = openvino_pose_model(path) if isinstance(path, Path) else None
        if exported is None and options.pose_backend == "openvino":
            raise HotPoseError(
                "--pose-backend openvino needs `pip install openvino` and .pt weights"
            )
        path = exported or path
    return Models(load_posenet(path, lifter.device.type), lifter, pose_model_path=str(path))


class TimedFrames:
    """Wraps a frame iterator and adds up the time spent producing frames (decoding)."""

    def __init__(self, frames: Iterable[np.ndarray]) -> None:
        self._frames = iter(frames)
        self.seconds = 0.0
        self.count = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        return self

    def __next__(self) -> np.ndarray:
        start = time.perf_counter()
        try:
            frame = next(self._frames)
        finally:
            self.seconds += time.perf_counter() - start
        self.count += 1
        return frame


def prepare_output_dir(out_dir: Path) -> bool:
    """Create ``out_dir`` if needed, prove it is writable, drop a stale ``summary.json``.

    Returns whether the folder was created here (so a failed run can remove it again).
    """
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".hot-pose-write-test."):
            pass
        (out_dir / outputs.SUMMARY_NAME).unlink(missing_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HotPoseError(f"cannot write to the output folder {out_dir}: {reason}") from None
    return created


def process_video(
    video: str | os.PathLike, out_dir: str | os.PathLike, options: RunOptions | None = None,
    models: Models | None = None,
) -> dict:  # fmt: skip
    """Process one video into ``out_dir``; returns the summary (also in ``summary.json``)."""
    options = options or RunOptions()
    video, out_dir = Path(video), Path(out_dir)
    start = time.perf_counter()
    info = probe(video)  # counts frames by decoding: finds corrupt streams before any work
    timings = {"probe": time.perf_counter() - start}
    created = prepare_output_dir(out_dir)
    try:
        return _process(video, out_dir, options, models, info, start, timings)
    except BaseException:
        if created and out_dir.is_dir() and not any(out_dir.iterdir()):
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _process(
    video: Path, out_dir: Path, options: RunOptions, models: Models | None, info: VideoInfo,
    start: float, timings: dict[str, float],
) -> dict:  # fmt: skip
    t = time.perf_counter()
    models = models or load_models(options)
    timings["load"] = time.perf_counter() - t

    t = time.perf_counter()
    frames = TimedFrames(iter_frames(video, info))
    tracks = track_people(frames, info.frames, models.pose_model, device=models.device,
                          tracker=options.tracker, progress=not options.quiet,
                          search=options.pose2d)  # fmt: skip
    timings["decode"] = frames.seconds
    timings["pose2d"] = time.perf_counter() - t - frames.seconds
    if frames.count != info.frames:
        raise HotPoseError(
            f"{video}: decoded {frames.count} frames but the video reports {info.frames}"
        )
    tracker_tracks = len(tracks)
    tracks, joins = join_fragments(tracks, info.fps)
    selected = select_tracks(tracks, options.person, options.all_persons, options.min_frames)

    t = time.perf_counter()
    persons = lift_tracks(selected, models.lifter, info, progress=not options.quiet)
    timings["lift"] = time.perf_counter() - t

    t = time.perf_counter()
    auto = options.fov == "auto"
    camera = video_intrinsics(info.width, info.height, options.focal_length,
                              None if auto else options.fov)  # fmt: skip
    if auto:
        camera = auto_camera(persons, camera, info.fps)
    persons, ground = place_in_scene(persons, camera, info.fps,
                                     WorldOptions(foot_lock=options.foot_lock))  # fmt: skip
    facts = camera_facts(camera, ground)
    timings["world"] = time.perf_counter() - t

    t = time.perf_counter()
    files = outputs.write_poses(out_dir, persons, info.fps, info.width, info.height, facts)
    if options.bvh:
        for tid, names in write_bvhs(out_dir, video.stem, persons, info.fps, options).items():
            files[tid] += names
    timings["write"] = time.perf_counter() - t

    t = time.perf_counter()
    extra_files = (
        render_outputs(video, out_dir, persons, options, info, ground.height)
        if options.render
        else []
    )
    timings["render"] = time.perf_counter() - t if options.render else 0.0
    timings["total"] = time.perf_counter() - start

    summary = {
        "video": str(video),
        "frames": info.frames,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "rotation": info.rotation,
        "codec": info.codec,
        "persons": [
            {
                "track_id": p.track_id,
                "frames_detected": int(np.count_nonzero(p.present & ~p.interpolated)),
                "frames_interpolated": int(np.count_nonzero(p.interpolated)),
                "frames_present": int(np.count_nonzero(p.present)),
                "foot_skate_mm_per_frame": {
                    "before_lock": _mm(p.extra["foot_skate_mm"][0]),
                    "after_lock": _mm(p.extra["foot_skate_mm"][1]),
                },
                "files": files[p.track_id],
            }
            for p in persons
        ],
        "tracks_found": len(tracks),
        "tracker_tracks": tracker_tracks,
        "fragments_joined": joins,
        "camera": facts,
        "foot_lock": options.foot_lock,
        "device": models.device,
        "weights": str(models.lifter.weights or models.lifter.name),
        "pose_model": models.pose_model_path or str(models.pose_model),
        "flip": models.lifter.flip,
        "fixed_bones": models.lifter.fixed_bones,
        "imgsz": options.imgsz,
        "files": sorted({f for names in files.values() for f in names} | set(extra_files)),
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
        "fps_per_stage": stage_rates(info.frames, timings),
        "options": asdict(options),
        "hot_pose_version": hotcli.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    outputs.write_summary(out_dir, summary)
    if not options.quiet:
        print(closing_line(video.stem, info.frames, timings))
        print(f"results in {out_dir}")
    return summary


def lift_tracks(
    tracks: list[Track], lifter: Lifter, info: VideoInfo, progress: bool = True
) -> list[PersonMotion]:
    """Lift and straighten each selected track into a :class:`PersonMotion`.

    Only the frames where the person is present are lifted, each run of them on its own
    (:func:`hotcli.pose2d.presence.present_mask`: detections and the short gaps between them);
    elsewhere the 2D and 3D are NaN, the scores 0 and ``interpolated`` False.
    """
    gap = max_gap_frames(info.fps)
    spans = [present_mask(~np.asarray(tr.interpolated, bool), gap) for tr in tracks]
    total = sum(lifter.count_windows(stop - start, info.fps)
                for present in spans for start, stop in runs(present))  # fmt: skip
    persons = []
    with tqdm(total=total, desc="lift", unit="window", disable=not progress) as bar:
        for track, present in zip(tracks, spans, strict=True):
            keypoints = np.where(present[:, None, None], track.keypoints, np.nan)
            cam = np.full(keypoints.shape[:2] + (3,), np.nan, np.float32)
            for start, stop in runs(present):
                cam[start:stop] = lifter.lift(keypoints[start:stop], info.width, info.height,
                                              info.fps, bar.update)  # fmt: skip
            world, rotation = upright(cam)
            persons.append(
                PersonMotion(
                    track_id=int(track.track_id),
                    keypoints_2d=keypoints.astype(np.float32),
                    scores=np.where(present[:, None], track.scores, 0.0).astype(np.float32),
                    interpolated=np.asarray(track.interpolated, dtype=bool) & present,
                    keypoints_3d=cam,
                    keypoints_3d_world=world,
                    extra={"rotation_to_world": rotation},
                    present=present,
                )
            )
    return persons


def place_in_scene(
    persons: list[PersonMotion], camera: Intrinsics, fps: float, options: WorldOptions
) -> tuple[list[PersonMotion], Ground]:
    """Every lifted person in one world (:func:`hotcli.scene.world.place_persons`), same order."""
    try:
        placed, ground = place_persons(
            [p.keypoints_3d for p in persons], [p.keypoints_2d for p in persons],
            [p.scores for p in persons], [~p.interpolated for p in persons],
            [p.present for p in persons], camera, fps, options,
        )  # fmt: skip
    except ValueError as exc:
        raise HotPoseError(f"cannot place the persons in the scene: {exc}") from None
    out = []
    for person, where in zip(persons, placed, strict=True):
        extra = {**person.extra, "rotation_to_world": ground.rotation,
                 "foot_skate_mm": (where.skate_before_mm, where.skate_after_mm)}  # fmt: skip
        out.append(
            replace(
                person,
                keypoints_3d=where.keypoints_3d.astype(np.float32),
                keypoints_3d_world=where.keypoints_3d_world.astype(np.float32),
                root_camera=where.root_camera.astype(np.float32),
                keypoints_3d_camera=where.keypoints_3d_camera.astype(np.float32),
                foot_contact=where.foot_contact,
                extra=extra,
            )
        )
    return out, ground


def auto_camera(persons: list[PersonMotion], camera: Intrinsics, fps: float) -> Intrinsics:
    """``--fov auto``: the focal length estimated from the video, else ``camera`` (marked so)."""
    found = estimate_focal(
        [p.keypoints_3d for p in persons], [p.keypoints_2d for p in persons],
        [p.scores for p in persons], [~p.interpolated for p in persons],
        [p.present for p in persons], camera, fps,
    )  # fmt: skip
    return found or replace(camera, source="default (--fov auto could not tell)")


def camera_facts(camera: Intrinsics, ground: Ground) -> dict:
    """What ``summary.json`` and the pose files say about the camera (static, pinhole)."""
    return {
        "focal_length_px": round(camera.focal_px, 2),
        "focal_length_source": camera.source,
        "fov_degrees": round(camera.fov_degrees, 2),
        "principal_point_px": [camera.cx, camera.cy],
        "height_m": round(ground.height, 4),
        "tilt_degrees": round(ground.tilt_degrees, 2),
        "roll_degrees": round(ground.roll_degrees, 2),
        "static": True,
    }


def _mm(value: float) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None


def write_bvhs(
    out_dir: Path, stem: str, persons: list[PersonMotion], fps: float, options: RunOptions
) -> dict[int, list[str]]:
    """``<stem>.bvh`` (and ``<stem>_track<ID>.bvh`` per person when several) from the same
    float32 poses as ``poses.npz``, so ``hot-pose bvh`` on the result writes the same files."""
    from hotcli.cli.bvh import write_person_bvhs

    people = [(p.track_id, np.asarray(p.keypoints_3d_world, np.float32)) for p in persons]
    return write_person_bvhs(out_dir, stem, people, fps, options.bvh_scale)


def render_outputs(
    video: Path, out_dir: Path, persons: list[PersonMotion], options: RunOptions, info: VideoInfo,
    camera_height: float | None = None,
) -> list[str]:  # fmt: skip
    """The rendered video and the optional GIF preview and motion plot; returns file names.

    ``camera_height`` (metres) shows the 3D panel as one scene (persons in one world frame).
    """
    from hotcli.render.plots import plot_motion
    from hotcli.render.renderer import render_video, write_gif

    render_options = RenderOptions(
        layout=options.layout, view_azimuth=options.view_azimuth,
        view_elevation=options.view_elevation, trail=options.trail,
    )  # fmt: skip
    rendered = out_dir / (video.stem + RENDER_SUFFIX)
    render_video(video, rendered, persons, render_options, info=info, progress=not options.quiet,
                 camera_height=camera_height)  # fmt: skip
    names = [rendered.name]
    if options.gif:
        write_gif(rendered, out_dir / (video.stem + GIF_SUFFIX))
        names.append(video.stem + GIF_SUFFIX)
    if options.plot:
        plot_motion(persons, out_dir / (video.stem + PLOT_SUFFIX), info.fps)
        names.append(video.stem + PLOT_SUFFIX)
    return names


def stage_rates(frames: int, timings: dict[str, float]) -> dict[str, float]:
    """Frames per second of each stage (decode+2D counted together, as they interleave)."""
    rates = {}
    stages = {
        "decode": timings.get("decode", 0.0),
        "pose2d": timings.get("pose2d", 0.0),
        "decode+2d": timings.get("decode", 0.0) + timings.get("pose2d", 0.0),
        "lift": timings.get("lift", 0.0),
        "render": timings.get("render", 0.0),
        "total": timings.get("total", 0.0),
    }
    for name, seconds in stages.items():
        if seconds > 0:
            rates[name] = round(frames / seconds, 2)
    return rates


def closing_line(name: str, frames: int, timings: dict[str, float]) -> str:
    """``dancer: 180 frames · decode+2D 35.2 fps · lift 900 fps · render 70 fps · total 18 fps``."""
    rates = stage_rates(frames, timings)
    parts = [f"{name}: {frames} frames"]
    for key, label in (("decode+2d", "decode+2D"), ("lift", "lift"), ("render", "render"),
                       ("total", "total")):  # fmt: skip
        if key in rates:
            parts.append(f"{label} {_fmt_rate(rates[key])} fps")
    return " · ".join(parts)


def _fmt_rate(rate: float) -> str:
    return f"{rate:.0f}" if rate >= 100 else f"{rate:.1f}"
