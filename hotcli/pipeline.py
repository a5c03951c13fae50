"""The stages of one video, as functions on plain arrays; :mod:`hotcli.api` runs them.

1. **decode + 2D** (:func:`find_people`): frames stream from the decoder straight into the
   pose network and tracker, never all held in memory. The two interleave, so the time
   spent inside the frame iterator is counted as ``decode`` and the rest as ``pose2d``.
2. **join** fragments of one person's track the tracker split
   (:mod:`hotcli.pose2d.reassociate`), then **select** the main person (or one id, or all).
3. **lift** each person to 3D (:func:`lift_tracks`, :class:`hotcli.lifting.lifter.Lifter`)
   over the frames where they are present.
4. **place** everyone in one scene (:func:`place_in_scene`, :mod:`hotcli.scene.world`): the
   pelvis path in camera coordinates, one ground plane and world frame, feet in contact
   locked.

Writing files and rendering are :class:`hotcli.api.VideoResult`'s ``save`` and ``render``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import numpy as np
from tqdm import tqdm

from hotcli.errors import HotPoseError
from hotcli.formats.video import VideoInfo, iter_frames
from hotcli.lifting.lifter import Lifter, PersonMotion
from hotcli.lifting.skeleton import scale_to_height
from hotcli.lifting.upright import upright
from hotcli.options import Pose2DOptions
from hotcli.pose2d.presence import max_gap_frames, present_mask, runs
from hotcli.pose2d.tracking import Track, track_people
from hotcli.scene.camera import Intrinsics
from hotcli.scene.ground import Ground
from hotcli.scene.world import WorldOptions, estimate_focal, place_persons


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


def find_people(
    video, info: VideoInfo, pose_net: object, device: str, search: Pose2DOptions,
    tracker: str, progress: bool,
) -> tuple[list[Track], VideoInfo, dict[str, float]]:  # fmt: skip
    """Every person's 2D track over the whole video, the video's facts with the exact frame
    count, and the seconds spent decoding and in 2D.

    This is the one decoding pass: ``info.frames`` (:func:`hotcli.formats.video.probe`
    counts packets) is only the progress bar's total, and the tracks cover the frames that
    decoded. A damaged stream that decodes clearly short of ``info.frames`` raises
    :class:`HotPoseError` (:func:`hotcli.formats.video.iter_frames`).
    """
    start = time.perf_counter()
    frames = TimedFrames(iter_frames(video, info))
    tracks = track_people(frames, info.frames, pose_net, device=device, tracker=tracker,
                          progress=progress, search=search, fps=info.fps)  # fmt: skip
    seconds = {"decode": frames.seconds,
               "pose2d": time.perf_counter() - start - frames.seconds}  # fmt: skip
    return tracks, replace(info, frames=frames.count), seconds


def lift_tracks(
    tracks: list[Track], lifter: Lifter, fps: float, width: int, height: int,
    progress: bool = True, person_height: Callable[[int], float | None] | None = None,
) -> list[PersonMotion]:  # fmt: skip
    """Lift and straighten each selected track into a :class:`PersonMotion`.

    Only the frames where the person is present are lifted, each run of them on its own
    (:func:`hotcli.pose2d.presence.present_mask`: detections and the short gaps between them);
    elsewhere the 2D and 3D are NaN, the scores 0 and ``interpolated`` False.
    ``person_height`` maps a track id to a standing height (metres) or None: that person's
    skeleton gets it (:func:`hotcli.lifting.skeleton.scale_to_height`) instead of an
    average adult's size.
    """
    gap = max_gap_frames(fps)
    spans = [present_mask(~np.asarray(tr.interpolated, bool), gap) for tr in tracks]
    total = sum(lifter.count_windows(stop - start, fps)
                for present in spans for start, stop in runs(present))  # fmt: skip
    persons = []
    with tqdm(total=total, desc="lift", unit="window", disable=not progress) as bar:
        for track, present in zip(tracks, spans, strict=True):
            keypoints = np.where(present[:, None, None], track.keypoints, np.nan)
            lifted = [(start, stop, lifter.lift(keypoints[start:stop], width, height, fps,
                                                bar.update))
                      for start, stop in runs(present)]  # fmt: skip
            metres = person_height(track.track_id) if person_height else None
            if metres is not None:
                lifted = [(start, stop, scale_to_height(pose, metres))
                          for start, stop, pose in lifted]  # fmt: skip
            cam = np.full(keypoints.shape[:2] + (3,), np.nan, np.float32)
            for start, stop, pose in lifted:
                cam[start:stop] = pose
            del lifted
            world, _ = upright(cam)
            persons.append(
                PersonMotion(
                    track_id=int(track.track_id),
                    keypoints_2d=np.asarray(keypoints, np.float32),
                    scores=np.asarray(np.where(present[:, None], track.scores, 0.0), np.float32),
                    interpolated=np.asarray(track.interpolated, dtype=bool) & present,
                    keypoints_3d=cam,
                    keypoints_3d_world=world,
                    present=present,
                )
            )
    return persons


def _span(present: np.ndarray, margin: int) -> slice:
    """The frames from ``margin`` before a person's first present frame to ``margin`` after
    the last: all that placing them needs (outside, everything is NaN or False)."""
    seen = np.flatnonzero(present)
    if not len(seen):
        return slice(0, len(present))
    return slice(max(0, int(seen[0]) - margin), min(len(present), int(seen[-1]) + 1 + margin))


def _cropped(persons: list[PersonMotion], margin: int):
    """place_persons' per-person arguments over each person's :func:`_span`, and the spans.

    The margin keeps a non-present frame on each side, so differences over time and the
    contact filters see the same edges as over the whole video.
    """
    spans = [_span(np.asarray(p.present, bool), margin) for p in persons]
    args = (
        [p.keypoints_3d[s] for p, s in zip(persons, spans, strict=True)],
        [p.keypoints_2d[s] for p, s in zip(persons, spans, strict=True)],
        [p.scores[s] for p, s in zip(persons, spans, strict=True)],
        [~p.interpolated[s] for p, s in zip(persons, spans, strict=True)],
        [p.present[s] for p, s in zip(persons, spans, strict=True)],
    )
    return args, spans


def _padded(values: np.ndarray, span: slice, frames: int, fill) -> np.ndarray:
    """``values`` of a span as a whole-video array, ``fill`` elsewhere, float32 (or bool)."""
    dtype = bool if values.dtype == bool else np.float32
    out = np.full((frames, *values.shape[1:]), fill, dtype)
    out[span] = values
    return out


def place_in_scene(
    persons: list[PersonMotion], camera: Intrinsics, fps: float, options: WorldOptions
) -> tuple[list[PersonMotion], Ground]:
    """Every lifted person in one world (:func:`hotcli.scene.world.place_persons`), same order.

    Each person is placed over the frames they are present in (plus a margin), not the
    whole video, and comes back as float32: the scene's float64 work costs what the person
    was seen for.
    """
    margin = max(1, options.contact.min_frames)
    args, spans = _cropped(persons, margin)
    try:
        placed, ground = place_persons(*args, camera, fps, options)
    except ValueError as exc:
        raise HotPoseError(f"cannot place the persons in the scene: {exc}") from None
    out = []
    for person, where, span in zip(persons, placed, spans, strict=True):
        t = person.frames
        out.append(
            replace(
                person,
                keypoints_3d=_padded(where.keypoints_3d, span, t, np.nan),
                keypoints_3d_world=_padded(where.keypoints_3d_world, span, t, np.nan),
                root_camera=_padded(where.root_camera, span, t, np.nan),
                keypoints_3d_camera=_padded(where.keypoints_3d_camera, span, t, np.nan),
                foot_contact=_padded(where.foot_contact, span, t, False),
                foot_skate_mm=(float(where.skate_before_mm), float(where.skate_after_mm)),
            )
        )
    return out, ground


def auto_camera(persons: list[PersonMotion], camera: Intrinsics, fps: float) -> Intrinsics:
    """``--fov auto``: the focal length estimated from the video, else ``camera`` (marked so)."""
    args, _ = _cropped(persons, 1)
    found = estimate_focal(*args, camera, fps)
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
