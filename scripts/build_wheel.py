"""Build the wheel with the default networks' OpenVINO copies inside it.

A CPU run uses OpenVINO copies of the pose model and the lifter. Without them in the package
the first run after installing makes them (torch, Ultralytics and the two conversions: about
4.1 s of model loading on the 2-core CPU); with them it only compiles them (0.3-0.7 s)::

    python scripts/build_wheel.py            # -> dist/hot_pose-<version>-py3-none-any.whl
    python scripts/build_wheel.py -w DIR

Exports the default pose model and the default lifter as a first run would (torch,
Ultralytics and OpenVINO must be installed) into ``hotcli/prebuilt/``
(:data:`hotcli.pose2d.export.PREBUILT`, ignored by git; an editable install of this checkout
uses it too), removes any other copies there (of older weights), then runs ``pip wheel .
--no-deps``. The copies are named by a hash of their weights, so a wheel whose weights
changed without rebuilding them simply exports on first run, as a plain checkout does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prebuild() -> list[Path]:
    """Export both default networks into :data:`~hotcli.pose2d.export.PREBUILT`; their
    folders there (the only ones left)."""
    from hotcli.atomic import atomic_path
    from hotcli.lifting.network import INFO_JSON, load_network, weights_path
    from hotcli.options import DEFAULT_POSE_MODEL
    from hotcli.pose2d.export import PREBUILT, find_copy, openvino_pose_model
    from hotcli.pose2d.tracking import resolve_pose_model

    with tempfile.TemporaryDirectory() as cache:
        os.environ["HOT_POSE_CACHE"] = cache  # export afresh, away from the user's cache
        pose = openvino_pose_model(resolve_pose_model(DEFAULT_POSE_MODEL))
        if pose is None:
            raise SystemExit("the pose model's OpenVINO export failed (the warning says why)")
        load_network(None, "cpu", "openvino")  # exports the lifter when not prebuilt
        lifter = find_copy(weights_path(None), "lifter_openvino", INFO_JSON)
        PREBUILT.mkdir(exist_ok=True)
        keep = []
        for folder in (pose, lifter):
            target = PREBUILT / folder.name
            if folder != target:
                with atomic_path(target) as tmp:
                    shutil.copytree(folder, tmp)
                    shutil.rmtree(target, ignore_errors=True)
            keep.append(target)
    for old in set(PREBUILT.iterdir()) - set(keep):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    return keep


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-w", "--wheel-dir", type=Path, default=ROOT / "dist",
                        help="where the wheel goes (default: dist/ in the checkout)")  # fmt: skip
    args = parser.parse_args(argv)
    for folder in prebuild():
        print(f"prebuilt: {folder.relative_to(ROOT)}")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
                    "-w", str(args.wheel_dir)], check=True)  # fmt: skip
    print(f"wheel in {args.wheel_dir}")


if __name__ == "__main__":
    main()
