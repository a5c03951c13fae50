"""The options of one video's processing, kept free of heavy imports so `--help` is instant."""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from hotcli.errors import HotPoseError

VIEW_LAYOUTS: tuple[str, ...] = ("side", "overlay", "3d")
#: How the networks run: auto is OpenVINO on a CPU when installed, else PyTorch.
BACKENDS: tuple[str, ...] = ("auto", "openvino", "pytorch")
#: Seconds of video between whole-frame searches for people not yet tracked, unless
#: ``--detect-every`` gives frames: half a second finds the example clip's dancer's keypoints
#: as well as 8 frames at 25 fps did, 1.14 times as fast, and finds more of vtest.avi's
#: pedestrians (10 fps: every 5 frames instead of 8) (README "Speed"). After a search that
#: found only people already followed, none of them small, the next waits
#: QUIET_SEARCH_SECONDS: a scene where people keep arriving, or with small people whom crops
#: lose, is searched as often as before; the example clip's 2D runs 1.14 times as fast
#: with the same keypoints (README "Speed").
SEARCH_SECONDS = 0.5
QUIET_SEARCH_SECONDS = 1.0
#: Where results go unless ``--output-dir`` says otherwise: a folder per video in it.
DEFAULT_OUTPUT_ROOT = Path("hot-pose-output")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a bad one gives one clear line)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


DEFAULT_POSE_MODEL = "yolo11n-pose.pt"  # Ultralytics' name; found offline by hotcli.pose2d.tracking


@dataclass(frozen=True)
class RenderOptions:
    """How the rendered video looks; the defaults suit most clips.

    ``view_azimuth`` 0° looks from the filming camera's side; the default 35° turns the
    viewpoint towards the image's right so depth is visible. ``view_elevation`` is the
    angle above the ground. ``trail`` draws the last N frames' paths of ankles and
    wrists. ``min_score``: joints below it are drawn hollow.
    """

    layout: str = "side"
    view_azimuth: float = 35.0
    view_elevation: float = 15.0
    trail: int = 0
    max_height: int | None = 1080
    min_score: float = 0.3
    legend: bool = True

    def validate(self) -> None:
        if self.layout not in VIEW_LAYOUTS:
            raise HotPoseError(
                f"unknown layout {self.layout!r}: choose one of {', '.join(VIEW_LAYOUTS)}"
            )
        if not -90.0 <= self.view_elevation <= 90.0:
            raise HotPoseError(
                f"--view-elevation must be between -90 and 90, got {self.view_elevation:g}"
            )
        if not math.isfinite(self.view_azimuth):
            raise HotPoseError("--view-azimuth must be a number of degrees")
        if self.trail < 0:
            raise HotPoseError(f"--trail must be 0 or more frames, got {self.trail}")
        if self.max_height is not None and self.max_height < 64:
            raise HotPoseError(
                f"the maximum render height must be at least 64 px, got {self.max_height}"
            )


TILE_MODES: tuple[str, ...] = ("auto", "on", "off")


@dataclass(frozen=True)
class Pose2DOptions:
    """Where and how often the pose network looks (:func:`hotcli.pose2d.tracking.track_people`).

    Every ``detect_every`` frames (None: every :data:`SEARCH_SECONDS` of video, so the wait for
    someone new does not depend on the frame rate, or every :data:`QUIET_SEARCH_SECONDS` after a
    search that found nobody new and nobody small), and after a tracked person is lost, the
    whole frame is searched at ``imgsz`` (:meth:`search_size`: a frame smaller than that at its
    own size, unless ``enlarge``); in between, the network runs on a crop around each tracked
    person: at ``crop_size`` when that magnifies every one of them, else each seen as large as
    in the whole frame but no taller than ``max_person`` px, when those crops cost less than the
    whole frame; otherwise on the whole frame (``crop_size`` 0: whole frame every frame, the
    reference). ``tiles`` adds a 2 × 2 grid of overlapping tiles to each whole-frame search:
    ``auto`` while the last search found people smaller than ``small`` of the frame height (or
    nobody), and when this frame's whole-frame pass does.
    """

    imgsz: int = 640
    detect_every: int | None = None
    # Crops magnify small people (vtest.avi: found at all) and shrink a large one to
    # max_person, where its keypoints move about 1 % of its height (README "Speed").
    crop_size: int = 256
    tiles: str = "auto"
    small: float = 0.25
    margin: float = 1.2  # a crop window: the person plus 0.2 of their longer side, in x and y
    max_person: int = 384  # px of network input: the tallest a crop shows a person
    # Enlarging a frame smaller than imgsz adds no detail: on the example clip (518 x 496)
    # it cost 1.5 times the pixels, in searches and crops alike (README "Speed").
    enlarge: bool = False

    def __post_init__(self) -> None:
        every = 1 if self.detect_every is None else self.detect_every
        if self.imgsz < 32 or every < 1 or self.crop_size < 0 or self.max_person < 32:
            raise HotPoseError(
                "--imgsz and --max-person must be at least 32, --detect-every at least 1 and "
                "--crop-size 0 or more"
            )
        if self.tiles not in TILE_MODES:
            raise HotPoseError(f"--tiles must be one of {', '.join(TILE_MODES)}, not {self.tiles}")

    def search_intervals(self, fps: float | None) -> tuple[int, int]:
        """Frames from one whole-frame search to the next in a video at ``fps`` (unknown:
        25): after a search that found someone new or small, and after one that found only
        large people already followed (both ``detect_every`` when given)."""
        if self.detect_every is not None:
            return self.detect_every, self.detect_every
        fps = frame_rate(fps)
        return max(1, round(SEARCH_SECONDS * fps)), max(1, round(QUIET_SEARCH_SECONDS * fps))

    def search_size(self, width: int, height: int) -> int:
        """The longer side (px) a ``width`` × ``height`` frame is searched at: ``imgsz``, or
        the frame's own longer side when that is smaller and frames are not enlarged."""
        return self.imgsz if self.enlarge else min(self.imgsz, max(width, height))

    @classmethod
    def reference(cls, imgsz: int = 640) -> Pose2DOptions:
        """The whole frame at ``imgsz`` on every frame, enlarged as Ultralytics does: what
        speed changes are measured against."""
        return cls(imgsz=imgsz, detect_every=1, crop_size=0, tiles="off", enlarge=True)


def frame_rate(fps: float | None) -> float:
    """``fps``, or 25 frames/s where a video does not say (None, 0 or not finite)."""
    return fps if fps and math.isfinite(fps) and fps > 0 else 25.0


@dataclass(frozen=True)
class RunOptions:
    """How a :class:`hotcli.api.HotPose` finds, lifts and places people (the CLI's options
    for the 2D stage, the lifter and the scene). Which person to lift is chosen per call
    (:meth:`hotcli.api.HotPose.predict`), which files to write per save
    (:class:`SaveOptions`)."""

    pose_model: str = DEFAULT_POSE_MODEL
    backend: str = "auto"  # both networks; auto: OpenVINO on a CPU when installed
    imgsz: int = Pose2DOptions.imgsz
    detect_every: int | None = Pose2DOptions.detect_every
    crop_size: int = Pose2DOptions.crop_size
    max_person: int = Pose2DOptions.max_person
    tiles: str = Pose2DOptions.tiles
    tracker: str = "bytetrack.yaml"
    min_frames: int = 10
    weights: str | None = None  # None: models.default_weights()
    device: str = "auto"
    flip: bool = True
    fixed_bones: bool = True  # one length per bone (hotcli.lifting.skeleton.fix_bone_lengths)
    # metres: everyone's, or {track id: metres} for some (the rest, and None: average size)
    person_height: float | dict[int, float] | None = None
    focal_length: float | None = None  # pixels; None: from fov, else the default view
    fov: float | str | None = (
        None  # horizontal degrees, or "auto" (hotcli.scene.world.estimate_focal)
    )
    foot_lock: bool = True  # pin feet during contacts (hotcli.scene.feet.lock_feet)
    batch: int | None = None  # lifter windows per pass; None: 4 on a CPU, 16 on a GPU

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise HotPoseError(
                f"unknown backend {self.backend!r}: choose one of " + ", ".join(BACKENDS)
            )
        if self.min_frames < 1 or (self.batch is not None and self.batch < 1):
            raise HotPoseError("min_frames and batch must be 1 or more")
        heights = self.person_height
        if isinstance(heights, dict):
            heights = heights.values()
        elif heights is not None:
            heights = [heights]
        for h in heights or ():
            if not 0.5 <= float(h) <= 2.5:
                raise HotPoseError(f"--person-height must be between 0.5 and 2.5 metres, "
                                   f"got {h}")  # fmt: skip
        if self.person_height is not None and not self.fixed_bones:
            raise HotPoseError("--person-height sizes the fixed skeleton: not with --free-bones")
        if self.focal_length is not None and self.fov is not None:
            raise HotPoseError("give the focal length or the field of view, not both")
        if self.focal_length is not None and not (0 < self.focal_length < math.inf):
            raise HotPoseError(f"the focal length must be a positive number of pixels, "
                               f"got {self.focal_length}")  # fmt: skip
        if self.fov is not None and self.fov != "auto" and not 0 < float(self.fov) < 180:
            raise HotPoseError(f"the field of view must be between 0 and 180 degrees or 'auto', "
                               f"got {self.fov}")  # fmt: skip
        _ = self.pose2d  # validates the 2D search options

    def height_of(self, track_id: int) -> float | None:
        """The standing height (metres) given for person ``track_id``, or None."""
        if isinstance(self.person_height, dict):
            return self.person_height.get(int(track_id))
        return self.person_height

    @property
    def pose2d(self) -> Pose2DOptions:
        return Pose2DOptions(self.imgsz, self.detect_every, self.crop_size, self.tiles,
                             max_person=self.max_person)  # fmt: skip

    @classmethod
    def from_args(cls, args: object) -> RunOptions:
        """Pick the fields from an argparse namespace (unknown attributes are ignored)."""
        return cls(**_fields_from(cls, args))


@dataclass(frozen=True)
class SaveOptions:
    """Which files :meth:`hotcli.api.VideoResult.save` writes besides the pose files and
    ``summary.json``: the rendered video (``render=None``: none), a GIF preview of it, the
    joint-angle plot, BVH animation files (``bvh_scale`` units per metre)."""

    render: RenderOptions | None = RenderOptions()
    gif: bool = False
    plot: bool = False
    bvh: bool = False
    bvh_scale: float = 100.0  # centimetres

    def __post_init__(self) -> None:
        if self.render is not None:
            self.render.validate()
        if self.gif and self.render is None:
            raise HotPoseError("the GIF preview is made from the rendered video: drop --no-render")
        if not 0 < self.bvh_scale < math.inf:
            raise HotPoseError(f"the BVH scale must be a positive number, got {self.bvh_scale}")

    @classmethod
    def from_args(cls, args: object) -> SaveOptions:
        """``--no-render``, ``--layout`` … ``--trail``, ``--gif``, ``--plot``, ``--bvh``."""
        render = RenderOptions(**_fields_from(RenderOptions, args))
        fields = _fields_from(cls, args)
        fields["render"] = render if getattr(args, "render", True) else None
        return cls(**fields)


@dataclass(frozen=True)
class JobOptions:
    """One video's whole recipe on the command line: the models and processing, who to
    lift (``person``, ``all_persons``: :meth:`hotcli.api.HotPose.predict`), which files."""

    run: RunOptions = RunOptions()
    save: SaveOptions = SaveOptions()
    person: int | None = None
    all_persons: bool = False

    @classmethod
    def from_args(cls, args: object) -> JobOptions:
        who = getattr(args, "person", None), bool(getattr(args, "all_persons", False))
        return cls(RunOptions.from_args(args), SaveOptions.from_args(args), *who)

    def flat(self) -> dict:
        """Every field by its command-line name, for ``summary.json`` files."""
        save = {name: getattr(self.save, name) for name in self.save.__dataclass_fields__}
        render = save.pop("render")
        who = {"person": self.person, "all_persons": self.all_persons}
        shown = asdict(render) if render else {}
        return {**asdict(self.run), **who, **save, **shown, "render": render is not None}


def _fields_from(cls: type, args: object) -> dict:
    return {k: getattr(args, k) for k in cls.__dataclass_fields__ if hasattr(args, k)}
