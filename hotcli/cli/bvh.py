"""Write BVH animation files for results that already exist: hot-pose bvh RESULT

RESULT is a result folder (it must hold summary.json, the mark of a complete result) or one
poses*.npz file. A folder gives <stem>.bvh for the main person and, when it holds several
persons, <stem>_track<ID>.bvh for each; a poses_track<ID>.npz gives <stem>_track<ID>.bvh.
<stem> is the video's stem from summary.json (else the folder's name). The files go beside
the result unless --output-dir says otherwise. `hot-pose VIDEO --bvh` writes the same files.

Units are centimetres (--bvh-scale 1 for metres); Y is up and the rest pose faces +Z.

examples:
  hot-pose bvh hot-pose-output/dancer
  hot-pose bvh hot-pose-output/dancer/poses_track3.npz --bvh-scale 1 -o anim/
"""

from __future__ import annotations

import argparse
import json
import math
import zipfile
from pathlib import Path

import numpy as np

from hotcli.errors import HotPoseError

DEFAULT_SCALE = 100.0  # hotcli.formats.bvh.DEFAULT_SCALE, repeated so that --help stays instant
_NEEDED = ("keypoints_3d_world", "fps")


def bvh_scale(text: str) -> float:
    """``--bvh-scale``: BVH units per metre, a positive number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def add_scale_argument(parser) -> None:
    parser.add_argument("--bvh-scale", type=bvh_scale, default=DEFAULT_SCALE, metavar="UNITS",
                        help="BVH units per metre (default %(default)g: centimetres)")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", type=Path, metavar="RESULT_DIR_OR_POSES_NPZ",
                        help="a hot-pose result folder or one of its poses*.npz files")  # fmt: skip
    parser.add_argument("-o", "--output-dir", type=Path, default=None,
                        help="folder for the BVH files (default: beside the result)")  # fmt: skip
    add_scale_argument(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")


def load_poses(path: Path) -> tuple[np.ndarray, float]:
    """``keypoints_3d_world`` (T, 17, 3) and ``fps`` from a poses npz, or a HotPoseError."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in _NEEDED if key not in npz.files]
            if missing:
                raise HotPoseError(f"{path} lacks {', '.join(missing)}: not a hot-pose poses file")
            return np.asarray(npz["keypoints_3d_world"]), float(npz["fps"])
    except HotPoseError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        kind = exc.__class__.__name__
        raise HotPoseError(f"{path} is not a readable .npz file ({kind})") from None


def _summary(folder: Path) -> dict | None:
    path = folder / "summary.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise HotPoseError(f"{path} is not a readable summary.json") from None


def _video_stem(folder: Path, summary: dict | None) -> str:
    video = (summary or {}).get("video")
    return Path(video).stem if video else folder.resolve().name


def find_people(result: Path) -> tuple[str, list[tuple[int, Path]], list[str] | None]:
    """The stem, each person's (track id, npz path) and, for one npz, its BVH name."""
    if not result.exists():
        raise HotPoseError(f"{result}: no such file or folder")
    if result.is_dir():
        summary = _summary(result)
        if summary is None:
            raise HotPoseError(
                f"{result} is not a complete hot-pose result (no summary.json); "
                "run hot-pose on the video again"
            )
        ids = [int(p["track_id"]) for p in summary.get("persons", [])]
        if not ids:
            raise HotPoseError(f"{result}/summary.json lists no persons")
        paths = [result / "poses.npz"] if len(ids) == 1 else [
            result / f"poses_track{tid}.npz" for tid in ids
        ]  # fmt: skip
        for path in paths:
            if not path.is_file():
                raise HotPoseError(f"{path} is missing: the result folder is incomplete")
        return _video_stem(result, summary), list(zip(ids, paths, strict=True)), None
    if result.suffix != ".npz":
        raise HotPoseError(f"{result} is neither a result folder nor a poses .npz file")
    stem = _video_stem(result.parent, _summary(result.parent))
    name = f"{stem}{result.stem[len('poses'):]}.bvh" if result.stem.startswith("poses") else (
        f"{result.stem}.bvh"
    )  # fmt: skip
    return stem, [(0, result)], [name]


def main(args: argparse.Namespace) -> int:
    from hotcli.formats.bvh import check_poses, write_bvh, write_person_bvhs

    result = Path(args.result)
    stem, people, single_name = find_people(result)
    out_dir = Path(args.output_dir) if args.output_dir else (
        result if result.is_dir() else result.parent
    )  # fmt: skip
    loaded = [(tid, *load_poses(path)) for tid, path in people]  # every input checked first
    for (_, keypoints, fps), (_, path) in zip(loaded, people, strict=True):
        check_poses(keypoints, fps, str(path))
    written = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if single_name:
            _, keypoints, fps = loaded[0]
            written.append(write_bvh(out_dir / single_name[0], keypoints, fps, args.bvh_scale))
        else:
            fps = loaded[0][2]
            people = [(t, k) for t, k, _ in loaded]
            names = write_person_bvhs(out_dir, stem, people, fps, args.bvh_scale)
            written += [out_dir / n for ns in names.values() for n in ns]
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HotPoseError(f"cannot write to {out_dir}: {reason}") from None
    if not args.quiet:
        for path in written:
            print(path)
    return 0
