"""Export the 2D pose model to ONNX or OpenVINO for faster CPU inference.

    hot-pose export                              # yolo11n-pose.pt -> ./yolo11n-pose_openvino_model
    hot-pose export --format onnx --imgsz 416    # fixed 416x416 input -> ./yolo11n-pose-416.onnx
    hot-pose export --int8 --calibration my.mp4  # 8-bit -> ./yolo11n-pose_int8_openvino_model
    hot-pose VIDEO --pose-model ./yolo11n-pose_openvino_model

The export itself is :mod:`hotcli.pose2d.export`; ``--bench`` is :mod:`hotcli.bench.pose_models`.
Without --imgsz the model accepts any input size (and --imgsz still works when running);
with --imgsz it is fixed to that square size. ``--int8`` quantises the OpenVINO model,
calibrated on frames of videos like the ones it will see: faster, at some cost in keypoint
precision. Needs the optional packages: `pip install onnx onnxruntime` for ONNX,
`pip install nncf` for --int8.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hotcli.errors import HotPoseError
from hotcli.options import DEFAULT_POSE_MODEL
from hotcli.pose2d.export import (
    DEFAULT_CALIBRATION,
    FORMATS,
    export_pose_model,
    openvino_pose_model,
)
from hotcli.pose2d.tracking import resolve_pose_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pose-model",
        default=DEFAULT_POSE_MODEL,
        help="PyTorch pose weights to export: a name or a .pt path "
        "(default %(default)s, found offline)",
    )
    parser.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="openvino",
        help="export format (default %(default)s, the fastest on CPU)",
    )
    parser.add_argument(
        "--imgsz",
        type=int,
        default=None,
        metavar="N",
        help="fix the input to N x N pixels (multiple of 32); default: any size",
    )
    parser.add_argument(
        "--int8",
        action="store_true",
        help="quantise to 8-bit integers (OpenVINO only, needs `pip install nncf`): "
        "faster, keypoints a few pixels less precise",
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        nargs="+",
        metavar="VIDEO",
        default=None,
        help="videos whose frames calibrate --int8; use footage like yours "
        f"(default: {DEFAULT_CALIBRATION.as_posix()} in the current folder, the example clip "
        "of a source checkout)",
    )
    parser.add_argument(
        "--calibration-frames",
        type=int,
        default=300,
        metavar="N",
        help="frames drawn evenly from the calibration videos (default %(default)s)",
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("."),
        help="folder to write the exported model to (default: current folder)",
    )
    parser.add_argument(
        "--bench",
        type=Path,
        metavar="VIDEO",
        default=None,
        help="afterwards, time PyTorch (and the float OpenVINO model, with --int8) against "
        "the export on VIDEO's first frames, and say how far its keypoints move",
    )
    parser.add_argument(
        "--bench-frames",
        type=int,
        default=100,
        metavar="N",
        help="frames timed by --bench (default %(default)s)",
    )


def main(args: argparse.Namespace) -> int:
    if args.calibration and not args.int8:
        raise HotPoseError("--calibration only matters with --int8")
    path = export_pose_model(
        args.pose_model,
        args.format,
        args.imgsz,
        args.output_dir,
        int8=args.int8,
        calibration=args.calibration or [DEFAULT_CALIBRATION],
        calibration_size=args.calibration_frames,
    )
    print(f"wrote {path}")
    print(f"use it with: hot-pose VIDEO --pose-model {path}")
    if args.bench is not None:
        imgsz = args.imgsz or 640
        source = resolve_pose_model(args.pose_model)
        models = {"pytorch": source}
        if args.int8 and args.imgsz is None:
            models["openvino"] = openvino_pose_model(source) or source
        models[f"{args.format} int8" if args.int8 else args.format] = path
        from hotcli.bench.pose_models import bench_pose_models

        results = bench_pose_models(args.bench, models, imgsz, args.bench_frames)
        for label, (fps, shift) in results.items():
            print(
                f"{label:>13}: {fps:5.1f} frames/s, keypoints {shift:4.1f} px from pytorch's "
                f"(2D pose + tracking, imgsz {imgsz}, {args.bench_frames} frames)"
            )
    return 0
