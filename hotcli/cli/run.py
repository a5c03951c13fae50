"""Lift people in videos to 3D: hot-pose VIDEO [VIDEO ...]

For each video: 2D keypoints and tracks from Ultralytics YOLO pose, the main person (or
--person ID, or --all-persons) lifted to 3D with the HoT/MixSTE network, written to the
output folder as poses.npz, poses.json, a rendered video and summary.json (written last:
its presence marks a complete result). Everything runs offline.

examples:
  hot-pose examples/dancer.mp4
  hot-pose clip.mov --all-persons --layout overlay --gif
  hot-pose clip.mp4 --no-render --device cpu --output-dir results/clip
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

from hotcli.cli import batch
from hotcli.options import (
    BACKENDS,
    DEFAULT_OUTPUT_ROOT,
    DEFAULT_POSE_MODEL,
    QUIET_SEARCH_SECONDS,
    SEARCH_SECONDS,
    VIEW_LAYOUTS,
    JobOptions,
    RenderOptions,
    RunOptions,
    non_negative_int,
    positive_int,
)


def _positive_float(text: str) -> float:
    value = float(text)
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _heights(text: str) -> float | dict[int, float]:
    """``1.80`` (everyone) or ``3=1.80,5=1.65`` (persons by id), metres."""
    if "=" not in text:
        return _positive_float(text)
    heights = {}
    for part in text.split(","):
        person, _, metres = part.partition("=")
        try:
            heights[int(person)] = _positive_float(metres)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"give M or ID=M[,ID=M...], e.g. 1.80 or 3=1.80,5=1.65; not {text}"
            ) from None
    return heights


def _fov(text: str) -> float | str:
    return "auto" if text.strip().lower() == "auto" else _positive_float(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:

    d, r = RunOptions(), RenderOptions()
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="VIDEO",
        help="video file(s) (mp4, mov, avi, mkv, webm, ...), a folder or a glob",
    )
    parser.add_argument("-o", "--output-dir", type=Path, default=None,
                        help="folder for the results (default: hot-pose-output/<video stem>/; "
                        "with several videos, one subfolder per video under it, default "
                        "hot-pose-output/)")  # fmt: skip

    g = parser.add_argument_group("2D pose and tracking")
    g.add_argument("--pose-model", default=DEFAULT_POSE_MODEL, metavar="NAME_OR_PATH",
                   help="Ultralytics pose weights: a name (found offline) or a local .pt/.onnx/"
                   "OpenVINO path (default: %(default)s)")  # fmt: skip
    g.add_argument(
        "--imgsz",
        type=positive_int,
        default=d.imgsz,
        help="detection size in pixels; smaller is faster (default: %(default)s)",
    )
    g.add_argument("--detect-every", type=positive_int, default=d.detect_every, metavar="N",
                   help="search the whole frame every N frames; in between, crops around the "
                   f"tracked people (default: every {SEARCH_SECONDS:g} s of video, "
                   f"{QUIET_SEARCH_SECONDS:g} s after a search that found only large people "
                   "already tracked; 1: whole frame every frame)")  # fmt: skip
    g.add_argument("--crop-size", type=int, default=d.crop_size, metavar="PX",
                   help="smallest network size for a crop around a tracked person; crops are "
                   "used when they magnify every tracked person or cost less than the whole "
                   "frame (default: %(default)s; 0: no crops)")  # fmt: skip
    g.add_argument("--max-person", type=positive_int, default=d.max_person, metavar="PX",
                   help="the tallest a crop shows a person to the network; a larger person "
                   "is shrunk to it (default: %(default)s)")  # fmt: skip
    g.add_argument("--tiles", choices=["auto", "on", "off"], default=d.tiles,
                   help="add 2x2 overlapping tiles to whole-frame searches; auto: while people "
                   "under 1/4 of the frame height (or nobody) are found (default: %(default)s)",
                   )  # fmt: skip
    g.add_argument(
        "--backend",
        "--pose-backend",  # its name before the lifter ran through OpenVINO too
        default=d.backend,
        choices=BACKENDS,
        help="run the pose model and the lifter with OpenVINO (faster on a CPU, and no torch "
        "to load; exported once and cached in ~/.cache/hot-pose) or PyTorch; auto: OpenVINO "
        "on a CPU when installed (default: %(default)s)",
    )
    g.add_argument(
        "--tracker",
        default=d.tracker,
        choices=["bytetrack.yaml", "botsort.yaml"],
        help="bytetrack.yaml: ByteTrack (numpy); botsort.yaml: Ultralytics' BoT-SORT, which "
        "loads torch (default: %(default)s)",
    )
    who = g.add_mutually_exclusive_group()
    who.add_argument("--person", type=int, default=None, metavar="ID",
                     help="lift the track with this id (ids are listed in summary.json); "
                     "default: the main person")  # fmt: skip
    who.add_argument(
        "--all-persons",
        action="store_true",
        help="lift every track seen in at least --min-frames frames",
    )
    g.add_argument(
        "--min-frames",
        type=positive_int,
        default=d.min_frames,
        help="frames a person must be detected in to be lifted (default: %(default)s)",
    )

    g = parser.add_argument_group("3D lifting")
    g.add_argument("--weights", default=None, metavar="NAME_OR_PATH",
                   help="lifter checkpoint: a name in weights/ or a path "
                   "(default: the shipped HoT weights)")  # fmt: skip
    g.add_argument(
        "--device",
        default=d.device,
        help="auto, cpu, cuda or cuda:N (default: %(default)s: CUDA when present)",
    )
    g.add_argument(
        "--no-flip",
        dest="flip",
        action="store_false",
        help="turn off flip test-time augmentation (about 2x faster lifting)",
    )
    g.add_argument(
        "--free-bones",
        dest="fixed_bones",
        action="store_false",
        help="keep the network's own bone lengths, which vary from frame to frame "
        "(default: one length per bone over the video)",
    )
    g.add_argument(
        "--batch",
        type=positive_int,
        default=d.batch,
        help="lifter windows per forward pass (default: 4 on a CPU, where more are no faster "
        "and hold more memory; 16 on a GPU)",
    )

    g = parser.add_argument_group("camera and scene")
    lens = g.add_mutually_exclusive_group()
    lens.add_argument("--focal-length", type=_positive_float, default=None, metavar="PX",
                      help="the camera's focal length in pixels (default: from --fov)")  # fmt: skip
    lens.add_argument("--fov", type=_fov, default=None, metavar="DEGREES|auto",
                      help="the camera's horizontal field of view, or auto: estimated from "
                      "the people's feet and bodies when they cover the floor and the camera "
                      "looks down (default: 60)")  # fmt: skip
    g.add_argument("--person-height", type=_heights, default=None, metavar="M|ID=M,...",
                   help="standing height in metres, when known: sizes the skeleton and places "
                   "the person at the right distance; M is everyone's, ID=M a person's by "
                   "the id summary.json gives (default: an average adult's size)")  # fmt: skip
    g.add_argument("--no-foot-lock", dest="foot_lock", action="store_false",
                   help="let feet slide as lifted instead of pinning them while they are "
                   "down")  # fmt: skip

    g = parser.add_argument_group("rendering")
    g.add_argument(
        "--no-render",
        dest="render",
        action="store_false",
        help="only write the pose files, no video",
    )
    g.add_argument("--layout", default=r.layout, choices=VIEW_LAYOUTS,
                   help="video beside the 3D view, 3D inset on the video, or 3D only "
                   "(default: %(default)s)")  # fmt: skip
    g.add_argument(
        "--view-azimuth",
        type=float,
        default=r.view_azimuth,
        metavar="DEG",
        help="3D view's turn from the camera's viewpoint (default: %(default)s)",
    )
    g.add_argument(
        "--view-elevation",
        type=float,
        default=r.view_elevation,
        metavar="DEG",
        help="3D view's angle above the ground (default: %(default)s)",
    )
    g.add_argument(
        "--trail",
        type=non_negative_int,
        default=r.trail,
        metavar="FRAMES",
        help="draw each person's pelvis path on the ground over the last N frames (default: off)",
    )
    g.add_argument(
        "--gif", action="store_true", help="also write <stem>_pose.gif, a small looping preview"
    )
    g.add_argument(
        "--plot", action="store_true", help="also write <stem>_motion.png: joint angles over time"
    )

    g = parser.add_argument_group("animation")
    g.add_argument("--bvh", action="store_true",
                   help="also write <stem>.bvh (<stem>_track<ID>.bvh per person with several): "
                   "the motion for Blender and other animation tools")  # fmt: skip
    from hotcli.cli.bvh import add_scale_argument

    add_scale_argument(g)

    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars and no closing line"
    )
    batch.add_arguments(parser.add_argument_group("several videos"))


def is_single_video(inputs: list[str]) -> bool:
    """One path that is not a folder or a glob pattern: processed directly, no batch."""
    if len(inputs) != 1:
        return False
    path = Path(inputs[0])
    return not path.is_dir() and (path.exists() or not glob.has_magic(inputs[0]))


def main(args: argparse.Namespace) -> int:
    if is_single_video(args.inputs):
        video = Path(args.inputs[0])
        run_one(video, args.output_dir or DEFAULT_OUTPUT_ROOT / video.stem, args)
        return 0
    return batch.run_batch(args)


def run_one(video: Path, out_dir: Path, args: argparse.Namespace) -> dict:
    """``HotPose(options).process(video, out_dir)``, then the closing line."""
    from hotcli.api import HotPose
    from hotcli.pipeline import closing_line

    job = JobOptions.from_args(args)
    summary = HotPose.from_options(job.run).process(video, out_dir, job, progress=not args.quiet)
    if not args.quiet:
        print(closing_line(video.stem, summary["frames"], summary["timings_s"]))
        print(f"results in {out_dir}")
    return summary
