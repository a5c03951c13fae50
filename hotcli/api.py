"""hot-pose as a library: load the models once, then get 3D motion as arrays.

.. code-block:: python

    from hotcli import HotPose

    hp = HotPose()                        # the shipped lifter and YOLO pose, CPU or CUDA
    result = hp("video.mp4")              # nothing is written, nothing printed
    person = result.persons[0]            # the main person (all_persons=True: everyone)
    person.keypoints_3d_world             # (T, 17, 3) metres, z up, moving over the ground
    result.save("out/")                   # exactly the files `hot-pose video.mp4` writes
    mine = hp.lift(keypoints, fps=30, width=1920, height=1080)  # 2D from elsewhere

The command line is a thin layer over this module: ``hot-pose VIDEO`` is
``HotPose(...).predict(VIDEO).save(FOLDER)``, and folders and Ray clusters do the same per
video with one :class:`HotPose` per process.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import hotcli
from hotcli.errors import HotPoseError
from hotcli.formats import outputs
from hotcli.formats.video import VideoInfo, probe
from hotcli.lifting.lifter import Lifter, PersonMotion
from hotcli.lifting.skeleton import standing_height
from hotcli.options import JobOptions, RenderOptions, RunOptions, SaveOptions
from hotcli.pipeline import (
    auto_camera,
    camera_facts,
    find_people,
    lift_tracks,
    place_in_scene,
    stage_rates,
)
from hotcli.pose2d.layouts import KEYPOINT_LAYOUTS, to_h36m
from hotcli.pose2d.reassociate import join_fragments
from hotcli.pose2d.tracking import Track, select_tracks
from hotcli.scene.camera import video_intrinsics
from hotcli.scene.world import WorldOptions

RENDER_SUFFIX = "_pose.mp4"  # <video stem>_pose.mp4
GIF_SUFFIX = "_pose.gif"
PLOT_SUFFIX = "_motion.png"


class HotPose:
    """The 2D pose network and the 3D lifter, loaded once, applied to many videos.

    ``weights``: lifter checkpoint, a shipped name or a path (None: the default);
    ``device``: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``;
    ``pose_model``: Ultralytics pose weights, a name found offline or a path (None: the
    default). Further keywords are the fields of :class:`hotcli.options.RunOptions`
    (``imgsz``, ``flip``, ``fov``, ``focal_length``, ``foot_lock``, ``min_frames`` ...).
    """

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        device: str = "auto",
        pose_model: str | os.PathLike | None = None,
        **options: object,
    ) -> None:
        start = time.perf_counter()
        fields = {"weights": None if weights is None else str(weights), "device": device}
        if pose_model is not None:
            fields["pose_model"] = str(pose_model)
        self.options = RunOptions(**fields, **options)
        o = self.options
        self.lifter = Lifter(o.weights, device=o.device, flip=o.flip, batch=o.batch,
                             fixed_bones=o.fixed_bones, backend=o.backend)  # fmt: skip
        self.options = replace(o, batch=self.lifter.batch)  # the batch used, for summary.json
        self.pose_net, self.pose_model_path = load_pose_network(
            o.pose_model, o.backend, self.device
        )
        self.load_seconds = time.perf_counter() - start
        self._load_reported = False

    @classmethod
    def from_options(cls, options: RunOptions) -> HotPose:
        return cls(**asdict(options))

    @property
    def device(self) -> str:
        return str(self.lifter.device)

    def __repr__(self) -> str:
        return (
            f"HotPose(weights={self.lifter.name!r}, pose_model={self.pose_model_path!r}, "
            f"device={self.device!r})"
        )

    def __call__(self, source: str | os.PathLike, **kwargs: object) -> VideoResult:
        """Same as :meth:`predict`."""
        return self.predict(source, **kwargs)

    def predict(
        self,
        source: str | os.PathLike,
        person: int | None = None,
        all_persons: bool = False,
        progress: bool = False,
    ) -> VideoResult:
        """Find, track, lift and place the people of one video.

        ``person`` picks one track id; ``all_persons`` lifts every track seen in at least
        ``min_frames`` frames; by default the main person alone. Bad input (not a video,
        nobody found, an unknown id) raises :class:`HotPoseError` with one clear line.
        """
        start = time.perf_counter()
        video = Path(source)
        info = probe(video)  # no decoding: finds cut-off files before any work
        timings = {"probe": time.perf_counter() - start, "load": self._unreported_load()}
        tracks, info, seconds = find_people(video, info, self.pose_net, self.device,
                                            self.options.pose2d, self.options.tracker,
                                            progress)  # fmt: skip
        timings.update(seconds)
        tracker_tracks = len(tracks)
        tracks, joins = join_fragments(tracks, info.fps)
        selected = select_tracks(tracks, person, all_persons, self.options.min_frames)
        if isinstance(self.options.person_height, dict):
            lifted = {t.track_id for t in selected}
            unknown = sorted(set(self.options.person_height) - lifted)
            if unknown:
                ids = ", ".join(str(i) for i in sorted(lifted))
                raise HotPoseError(f"--person-height names person {unknown[0]}, who is not "
                                   f"lifted from {video}; the lifted ids are {ids}")  # fmt: skip

        t = time.perf_counter()
        persons = lift_tracks(selected, self.lifter, info.fps, info.width, info.height,
                              progress, self.options.height_of)  # fmt: skip
        timings["lift"] = time.perf_counter() - t

        t = time.perf_counter()
        persons, camera, ground_height = self._place(persons, info.width, info.height, info.fps)
        timings["world"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - start + timings["load"]
        return VideoResult(
            video=video,
            info=info,
            persons=persons,
            camera=camera,
            ground_height=ground_height,
            tracks_found=len(tracks),
            tracker_tracks=tracker_tracks,
            fragments_joined=joins,
            timings=timings,
            settings=self._settings(),
            job=JobOptions(self.options, person=person, all_persons=all_persons),
        )

    def process(
        self, source: str | os.PathLike, folder: str | os.PathLike,
        options: JobOptions | None = None, progress: bool = False,
    ) -> dict:  # fmt: skip
        """``predict(source)``, then ``save(folder)``: what ``hot-pose VIDEO`` does for each
        video, alone, in a folder or on Ray. Returns ``summary.json``'s contents.

        The folder is checked first, so an unwritable one fails before the work, and it is
        removed again when this call created it and the run failed before writing to it.
        """
        options = options or JobOptions(run=self.options)
        with outputs.result_folder(folder) as out_dir:
            result = self.predict(source, options.person, options.all_persons, progress)
            return result._save(out_dir, options.save, progress)

    def lift(
        self,
        keypoints_2d: np.ndarray,
        fps: float,
        width: int,
        height: int,
        scores: np.ndarray | None = None,
        layout: str = "coco17",
        interpolated: np.ndarray | None = None,
        track_id: int = 0,
    ) -> PersonMotion:
        """One person's 3D motion from 2D keypoints that come from elsewhere.

        ``keypoints_2d`` (T, J, 2) pixels in a ``width`` × ``height`` video at ``fps``, in
        ``layout`` (``coco17``, ``mpii16`` or the lifter's own ``h36m17``); ``scores``
        (T, J) confidences (None: all 1). Frames whose joints are all NaN count as not
        seen; ``interpolated`` (T,) marks frames that were filled in rather than detected.
        Returns the same record as :meth:`predict` gives per person: placed in a scene
        seen by this object's camera (``fov``/``focal_length``), feet locked.
        """
        k = np.asarray(keypoints_2d, dtype=np.float32)
        if k.ndim != 3 or k.shape[-1] != 2 or len(k) == 0:
            raise HotPoseError(f"keypoints_2d must be (T, J, 2) pixels, got shape {k.shape}")
        if layout not in KEYPOINT_LAYOUTS:
            known = ", ".join(KEYPOINT_LAYOUTS)
            raise HotPoseError(f"unknown layout {layout!r}: choose one of {known}")
        if scores is not None and np.shape(scores) != k.shape[:2]:
            raise HotPoseError(f"scores must be (T, J) = {k.shape[:2]}, got {np.shape(scores)}")
        if not (np.isfinite(fps) and fps > 0 and width > 0 and height > 0):
            raise HotPoseError("fps, width and height must be positive")
        if layout == "h36m17":  # as given: the conversion matrix would spread one NaN joint
            if k.shape[1] != 17:
                raise HotPoseError(f"h36m17 has 17 joints, got keypoints {k.shape}")
            s = np.ones(k.shape[:2], np.float32) if scores is None else np.asarray(scores)
        else:
            try:
                k, s = to_h36m(k, scores, layout)
            except ValueError as exc:
                raise HotPoseError(str(exc)) from None
        seen = np.isfinite(k).any(axis=(1, 2))
        filled = np.zeros(len(k), bool) if interpolated is None else np.asarray(interpolated, bool)
        if filled.shape != seen.shape:
            raise HotPoseError(f"interpolated must be ({len(k)},), got {filled.shape}")
        if not (seen & ~filled).any():
            raise HotPoseError("keypoints_2d holds no detected frame")
        s = np.where(seen[:, None], np.nan_to_num(np.asarray(s, np.float32)), 0.0)
        track = Track(track_id, k, s.astype(np.float32), ~seen | filled,
                      np.full((len(k), 4), np.nan, np.float32))  # fmt: skip
        persons = lift_tracks([track], self.lifter, fps, width, height, False,
                              self.options.height_of)  # fmt: skip
        return self._place(persons, width, height, fps)[0][0]

    def _place(
        self, persons: list[PersonMotion], width: int, height: int, fps: float
    ) -> tuple[list[PersonMotion], dict, float]:
        """Everyone in one scene seen by this object's camera; the camera facts; its height."""
        o = self.options
        auto = o.fov == "auto"
        camera = video_intrinsics(width, height, o.focal_length, None if auto else o.fov)
        if auto:
            camera = auto_camera(persons, camera, fps)
        persons, ground = place_in_scene(persons, camera, fps, WorldOptions(foot_lock=o.foot_lock))
        return persons, camera_facts(camera, ground), float(ground.height)

    def _unreported_load(self) -> float:
        """The loading time, counted by the first result only (later ones reuse the models)."""
        if self._load_reported:
            return 0.0
        self._load_reported = True
        return self.load_seconds

    def _settings(self) -> dict:
        return {
            "device": self.device,
            "weights": str(self.lifter.weights or self.lifter.name),
            "lifter_backend": self.lifter.network.backend,
            "pose_model": self.pose_model_path,
            "flip": self.lifter.flip,
            "fixed_bones": self.lifter.fixed_bones,
            "imgsz": self.options.imgsz,
        }


def load_pose_network(pose_model: str, backend: str, device: str) -> tuple[object, str]:
    """The pose network (:func:`hotcli.pose2d.posenet.load_posenet`) and the file it ran from.

    On a CPU the ``.pt`` weights run through OpenVINO (exported once and cached) unless the
    backend is ``pytorch``; ``openvino`` insists on it.
    """
    from hotcli.pose2d.export import openvino_pose_model
    from hotcli.pose2d.posenet import load_posenet
    from hotcli.pose2d.tracking import resolve_pose_model

    path = resolve_pose_model(pose_model)
    if backend != "pytorch" and device.startswith("cpu"):
        exported = openvino_pose_model(path) if isinstance(path, Path) else None
        if exported is None and backend == "openvino":
            raise HotPoseError("--backend openvino needs `pip install openvino` and .pt weights")
        path = exported or path
    return load_posenet(path, device.split(":")[0]), str(path)


@dataclass(repr=False)
class VideoResult:
    """What :meth:`HotPose.predict` found in one video: the people, the camera, the timings.

    ``persons`` is ordered main person first; each is a
    :class:`hotcli.lifting.lifter.PersonMotion` over the whole video (T = ``frames``).
    """

    video: Path
    info: VideoInfo
    persons: list[PersonMotion]
    camera: dict  # focal length and its source, principal point, height, tilt, roll
    ground_height: float  # the camera's height above the ground, metres
    tracks_found: int
    tracker_tracks: int
    fragments_joined: int
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    settings: dict = field(default_factory=dict)  # device, weights and pose model used
    job: JobOptions = JobOptions()  # the options it was found with (its save options unset)

    def __repr__(self) -> str:
        people = ", ".join(f"track {p.track_id}: {int(np.count_nonzero(p.present))} frames"
                           for p in self.persons)  # fmt: skip
        return (f"VideoResult({self.video.name!r}, {self.frames} frames, {self.fps:g} fps, "
                f"{self.width}x{self.height}, persons=[{people}])")  # fmt: skip

    @property
    def frames(self) -> int:
        return self.info.frames

    @property
    def fps(self) -> float:
        return self.info.fps

    @property
    def width(self) -> int:
        return self.info.width

    @property
    def height(self) -> int:
        return self.info.height

    def save(
        self, folder: str | os.PathLike, options: SaveOptions | None = None,
        progress: bool = False,
    ) -> dict:  # fmt: skip
        """Write the files ``hot-pose VIDEO`` writes into ``folder``; returns ``summary.json``.

        Pose files first, then the BVH, rendered video, GIF and plot that ``options`` asks
        for (default: the rendered video, as the command line), ``summary.json`` last: its
        presence marks a complete result, and an earlier one is removed before anything
        is written. A folder this call created is removed again when it fails.
        """
        with outputs.result_folder(folder) as out_dir:
            return self._save(out_dir, options or SaveOptions(), progress)

    def _save(self, out_dir: Path, options: SaveOptions, progress: bool) -> dict:
        start = time.perf_counter()
        files = outputs.write_poses(out_dir, self.persons, self.fps, self.width, self.height,
                                    self.camera)  # fmt: skip
        if options.bvh:
            for tid, names in self._write_bvhs(out_dir, options.bvh_scale).items():
                files[tid] += names
        timings = {**self.timings, "write": time.perf_counter() - start}

        t = time.perf_counter()
        extra = []
        if options.render is not None:
            rendered = out_dir / (self.video.stem + RENDER_SUFFIX)
            self.render(rendered, options.render, progress=progress)
            extra.append(rendered.name)
            if options.gif:
                from hotcli.render.renderer import write_gif

                write_gif(rendered, out_dir / (self.video.stem + GIF_SUFFIX))
                extra.append(self.video.stem + GIF_SUFFIX)
        if options.plot:
            self.plot(out_dir / (self.video.stem + PLOT_SUFFIX))
            extra.append(self.video.stem + PLOT_SUFFIX)
        if extra:  # no rate for a stage that did not run
            timings["render"] = time.perf_counter() - t
        timings["total"] = self.timings.get("total", 0.0) + time.perf_counter() - start
        summary = self.summary(files, extra, timings, options)
        outputs.write_summary(out_dir, summary)
        return summary

    def render(
        self, path: str | os.PathLike, options: RenderOptions | None = None,
        progress: bool = False,
    ) -> Path:  # fmt: skip
        """The video's frames with the skeletons beside (or under) the 3D scene, as H.264."""
        from hotcli.render.renderer import render_video

        render_video(self.video, Path(path), self.persons, options or RenderOptions(),
                     info=self.info, progress=progress,
                     camera_height=self.ground_height)  # fmt: skip
        return Path(path)

    def plot(self, path: str | os.PathLike) -> Path:
        """Joint angles over time (knees, elbows, hips) of every person, as a PNG."""
        from hotcli.render.plots import plot_motion

        plot_motion(self.persons, Path(path), self.fps)
        return Path(path)

    def to_bvh(self, path: str | os.PathLike, person: int = 0, scale: float = 100.0) -> Path:
        """One person's motion (``persons[person]``) as a BVH file, ``scale`` units a metre."""
        from hotcli.formats.bvh import write_person_bvhs

        if not -len(self.persons) <= person < len(self.persons):
            raise HotPoseError(f"no person {person}: the result has {len(self.persons)}")
        path = Path(path)
        p = self.persons[person]
        people = [(p.track_id, np.asarray(p.keypoints_3d_world, np.float32))]
        written = write_person_bvhs(path.parent, path.stem, people, self.fps, scale)
        return path.parent / written[p.track_id][0]

    def _write_bvhs(self, out_dir: Path, scale: float) -> dict[int, list[str]]:
        """``<stem>.bvh`` (and ``<stem>_track<ID>.bvh`` per person when several) from the same
        float32 poses as ``poses.npz``, so ``hot-pose bvh`` on the result writes the same."""
        from hotcli.formats.bvh import write_person_bvhs

        people = [(p.track_id, np.asarray(p.keypoints_3d_world, np.float32))
                  for p in self.persons]  # fmt: skip
        return write_person_bvhs(out_dir, self.video.stem, people, self.fps, scale)

    def summary(
        self, files: dict[int, list[str]] | None = None, extra_files: list[str] = (),
        timings: dict[str, float] | None = None, save: SaveOptions | None = None,
    ) -> dict:  # fmt: skip
        """What ``summary.json`` says: the video, the people, the camera, settings, timings."""
        files = files or {p.track_id: [] for p in self.persons}
        timings = timings or self.timings
        job = replace(self.job, save=save or SaveOptions(render=None))
        return {
            "video": str(self.video),
            "frames": self.frames,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "rotation": self.info.rotation,
            "codec": self.info.codec,
            "persons": [
                {
                    "track_id": p.track_id,
                    "frames_detected": int(np.count_nonzero(p.present & ~p.interpolated)),
                    "frames_interpolated": int(np.count_nonzero(p.interpolated)),
                    "frames_present": int(np.count_nonzero(p.present)),
                    "standing_height_m": _rounded(standing_height(p.keypoints_3d[p.present]), 3),
                    "foot_skate_mm_per_frame": {
                        "before_lock": _rounded(p.foot_skate_mm[0]),
                        "after_lock": _rounded(p.foot_skate_mm[1]),
                    },
                    "files": files[p.track_id],
                }
                for p in self.persons
            ],
            "tracks_found": self.tracks_found,
            "tracker_tracks": self.tracker_tracks,
            "fragments_joined": self.fragments_joined,
            "camera": self.camera,
            "foot_lock": self.job.run.foot_lock,
            **self.settings,
            "files": sorted({f for names in files.values() for f in names} | set(extra_files)),
            "timings_s": {k: round(v, 4) for k, v in timings.items()},
            "fps_per_stage": stage_rates(self.frames, timings),
            "options": job.flat(),
            "hot_pose_version": hotcli.__version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }


def _rounded(value: float, digits: int = 2) -> float | None:
    """``value`` rounded for JSON; None (null) when it is NaN or infinite."""
    return round(float(value), digits) if np.isfinite(value) else None
