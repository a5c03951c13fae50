"""The options of one video's processing, kept free of heavy imports so `--help` is instant."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

from hotcli.errors import HotPoseError

LAYOUTS: tuple[str, ...] = ("side", "overlay", "3d")
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


@dataclass
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
        if self.layout not in LAYOUTS:
            raise HotPoseError(
                f"unknown layout {self.layout!r}: choose one of {', '.join(LAYOUTS)}"
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

    Every ``detect_every`` frames (and after a tracked person is lost) the whole frame is
    searched at ``imgsz``; in between, the network runs on a crop around each tracked
    person at ``crop_size`` (0: whole frame every frame, the reference). ``tiles`` adds a
    2 × 2 grid of overlapping tiles to each whole-frame search: ``auto`` once people
    smaller than ``small`` of the frame height have been seen (or nobody was found).
    """

    imgsz: int = 640
    # Defaults: the whole frame every frame (the reference). Crops and tiles (--detect-every 8
    # --crop-size 384 --tiles auto) moved the keypoints 1.26 % of height at the median on the
    # example clip but 1.72 % on vtest.avi (60 frames), over the 1.5 % bound for a default.
    detect_every: int = 1
    crop_size: int = 0
    tiles: str = "off"
    small: float = 0.25
    margin: float = 1.2  # a crop's side over the person's longer side

    def __post_init__(self) -> None:
        if self.imgsz < 32 or self.detect_every < 1 or self.crop_size < 0:
            raise HotPoseError(
                "--imgsz must be at least 32, --detect-every at least 1 and --crop-size 0 or more"
            )
        if self.tiles not in TILE_MODES:
            raise HotPoseError(f"--tiles must be one of {', '.join(TILE_MODES)}, not {self.tiles}")

    @classmethod
    def reference(cls, imgsz: int = 640) -> Pose2DOptions:
        """The whole frame at ``imgsz`` on every frame: what speed changes are measured against."""
        return cls(imgsz=imgsz, detect_every=1, crop_size=0, tiles="off")


@dataclass
class RunOptions:
    """Everything that shapes one video's processing (the CLI's options, minus the inputs)."""

    pose_model: str = DEFAULT_POSE_MODEL
    pose_backend: str = "auto"  # auto: OpenVINO on a CPU when installed, else PyTorch
    imgsz: int = 640
    detect_every: int = Pose2DOptions.detect_every
    crop_size: int = Pose2DOptions.crop_size
    tiles: str = Pose2DOptions.tiles
    tracker: str = "bytetrack.yaml"
    person: int | None = None
    all_persons: bool = False
    min_frames: int = 10
    weights: str | None = None  # None: models.default_weights()
    device: str = "auto"
    flip: bool = True
    fixed_bones: bool = True  # one length per bone (hotcli.lifting.skeleton.fix_bone_lengths)
    focal_length: float | None = None  # pixels; None: from fov, else the default view
    fov: float | str | None = (
        None  # horizontal degrees, or "auto" (hotcli.scene.world.estimate_focal)
    )
    foot_lock: bool = True  # pin feet during contacts (hotcli.scene.feet.lock_feet)
    batch: int = 16
    quiet: bool = False
    render: bool = True
    layout: str = "side"
    view_azimuth: float = RenderOptions.view_azimuth
    view_elevation: float = RenderOptions.view_elevation
    trail: int = RenderOptions.trail
    gif: bool = False
    plot: bool = False
    bvh: bool = False  # also write <stem>.bvh (hotcli.formats.bvh)
    bvh_scale: float = 100.0  # BVH units per metre: centimetres

    @property
    def pose2d(self) -> Pose2DOptions:
        return Pose2DOptions(self.imgsz, self.detect_every, self.crop_size, self.tiles)

    @classmethod
    def from_args(cls, args: object) -> RunOptions:
        """Pick the fields from an argparse namespace (unknown attributes are ignored)."""
        values = {k: getattr(args, k) for k in cls.__dataclass_fields__ if hasattr(args, k)}
        return cls(**values)
