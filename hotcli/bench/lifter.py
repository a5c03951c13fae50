"""Compare lifter configs in one run: parameters, FLOPs and latency per clip.

FLOPs are counted by torch.utils.flop_counter over one forward pass of one clip
(batch 1): every matrix product, the attention products QKᵀ and AV included, at
2 FLOPs per multiply-add; element-wise work, softmax and normalisation are not
counted. Latency is the median of --runs timed forward passes after --warmup
untimed ones, with the configs interleaved run by run so that a noisy machine
affects them alike. A pruned config's flops_ratio and latency_ratio are against
its unpruned twin (same size, no pruning) measured in the same run.

``--render`` instead measures the video renderer against the naive way (a new
matplotlib 3D figure saved per frame). ``--pipeline VIDEO`` times whole ``hot-pose VIDEO``
processes, with and without rendering, against MediaPipe Pose (:mod:`hotcli.bench.pipeline`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from hotcli.atomic import write_atomic
from hotcli.device import pick_device, usable_cpus
from hotcli.errors import HotPoseError
from hotcli.options import non_negative_int, positive_int

DEFAULT_CONFIGS = "mixste,hot_mixste,h2ot_mixste,mixste_xs,hot_mixste_xs"


def count_flops(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Forward FLOPs of ``model(x)``."""
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(x)
    return int(fc.get_total_flops())


def bench_models(names: list[str], device: torch.device, runs: int, warmup: int) -> list[dict]:
    from models import create_model, unpruned_twin

    # Every pruned config is compared with its twin, so make sure the twin runs too.
    names = list(dict.fromkeys(names + [t for n in names if (t := unpruned_twin(n))]))
    models, inputs, rows = {}, {}, {}
    for name in names:
        torch.manual_seed(0)
        model = create_model(name).eval().to(device)
        x = torch.randn(1, model.cfg.frames, model.cfg.joints, 2, device=device)
        models[name], inputs[name] = model, x
        out_frames = 1 if model.cfg.output == "seq2frame" else model.cfg.frames
        rows[name] = {
            "config": name,
            "params": sum(p.numel() for p in model.parameters()),
            "flops": count_flops(model, x),
            "frames_in": model.cfg.frames,
            "frames_out": out_frames,
            "schedule": [list(s) for s in model.cfg.schedule],
            "device": str(device),
        }
    times: dict[str, list[float]] = {n: [] for n in names}
    with torch.inference_mode():
        for r in range(warmup + runs):
            for name in names:
                if device.type == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                models[name](inputs[name])
                if device.type == "cuda":
                    torch.cuda.synchronize()
                if r >= warmup:
                    times[name].append(time.perf_counter() - t0)
    for name in names:
        ms = statistics.median(times[name]) * 1000
        rows[name]["ms_per_clip"] = ms
        rows[name]["frames_per_s"] = rows[name]["frames_out"] / ms * 1000
    for name in names:
        twin = unpruned_twin(name)
        if twin and models[name].cfg.pruned:
            rows[name]["baseline"] = twin
            rows[name]["flops_ratio"] = rows[name]["flops"] / rows[twin]["flops"]
            rows[name]["latency_ratio"] = rows[name]["ms_per_clip"] / rows[twin]["ms_per_clip"]
    return [rows[n] for n in names]


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'config':<18} {'params':>8} {'GFLOPs':>8} {'ms/clip':>9} {'frames/s':>9} "
        f"{'FLOPs×':>7} {'latency×':>8}  vs"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ratio = (
            f"{r['flops_ratio']:7.3f} {r['latency_ratio']:8.3f}  {r['baseline']}"
            if "flops_ratio" in r
            else f"{'':7} {'':8}"
        )
        print(
            f"{r['config']:<18} {r['params'] / 1e6:7.2f}M {r['flops'] / 1e9:8.2f} "
            f"{r['ms_per_clip']:9.1f} {r['frames_per_s']:9.0f} {ratio}"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configs",
        default=DEFAULT_CONFIGS,
        help=f"comma-separated config names (default: {DEFAULT_CONFIGS})",
    )
    parser.add_argument("--list", action="store_true", help="list the registered configs")
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda (default cpu)")
    parser.add_argument("--runs", type=int, default=None,
                        help="timed runs per config (default 5); for --pipeline, runs of each "
                        "whole process (default 3)")  # fmt: skip
    parser.add_argument(
        "--warmup", type=non_negative_int, default=2, help="untimed runs per config first"
    )
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    parser.add_argument(
        "--render",
        action="store_true",
        help="benchmark rendering+encoding against the naive matplotlib way",
    )
    parser.add_argument("--frames", type=int, default=120, help="frames for --render")
    parser.add_argument(
        "--keypoints",
        type=Path,
        metavar="VIDEO",
        default=None,
        help="the 2D stage on VIDEO: speed, people per frame and keypoint change of each "
        "--candidates against the float whole-frame model (hotcli.bench.pose2d)",
    )
    parser.add_argument(
        "--candidates",
        default=None,
        help="DETECT_EVERY:CROP_SIZE:TILES[:MARGIN[:MAX_PERSON[:IMGSZ[+]]]],... for --keypoints "
        "(IMGSZ+: frames smaller than IMGSZ enlarged to it; default: whole frame, whole frame "
        "with tiles, the default crops)",
    )
    parser.add_argument("--max-frames", type=positive_int, default=None,
                        help="only the first N frames for --keypoints")  # fmt: skip
    parser.add_argument("--reference-imgsz", type=positive_int, default=640, metavar="PX",
                        help="--keypoints: the reference's network size (1280: small people "
                        "seen twice as large)")  # fmt: skip
    parser.add_argument(
        "--pipeline",
        type=Path,
        metavar="VIDEO",
        default=None,
        help="end to end on VIDEO: whole `hot-pose VIDEO` processes with and without rendering "
        "against MediaPipe Pose, alternated; stage rates; cold and warm model loading "
        "(hotcli.bench.pipeline)",
    )
    parser.add_argument(
        "--mediapipe-python",
        default=None,
        metavar="PATH",
        help="the Python of MediaPipe's own environment, for --pipeline "
        "(default ~/venv-mediapipe/bin/python when it exists; see hotcli/bench/mediapipe_peer.py)",
    )


def main(args: argparse.Namespace) -> int:
    from models import get_config, list_models

    if args.runs is not None and args.runs < 1:
        raise HotPoseError(f"--runs must be 1 or more, not {args.runs}")
    if args.pipeline:
        from hotcli.bench import pipeline

        runs = args.runs or pipeline.DEFAULT_RUNS
        report = pipeline.main(args.pipeline, runs, args.mediapipe_python)
        if args.json:
            _write_json(args.json, report)
        return 0
    torch.set_num_threads(args.threads or usable_cpus())
    if args.list:
        for name in list_models():
            cfg = get_config(name)
            print(
                f"{name:<20} frames={cfg.frames} width={cfg.width} depth={cfg.depth} "
                f"schedule={list(cfg.schedule)} prune={cfg.prune} recover={cfg.recover} "
                f"output={cfg.output}"
            )
        return 0
    if args.keypoints:
        from hotcli.bench.pose2d import (
            DEFAULT_CANDIDATES,
            bench_keypoints,
            parse_candidate,
            print_rows,
        )

        spec = args.candidates or DEFAULT_CANDIDATES
        rows = bench_keypoints(args.keypoints, [parse_candidate(c) for c in spec.split(",")],
                               args.max_frames, reference_imgsz=args.reference_imgsz)  # fmt: skip
        print_rows(args.keypoints, rows)
    elif args.render:
        from hotcli.bench.render import bench_render, print_render_table

        rows = bench_render(frames=args.frames)
        print_render_table(rows)
    else:
        names = [n.strip() for n in args.configs.split(",") if n.strip()]
        unknown = [n for n in names if n not in list_models()]
        if unknown:
            raise HotPoseError(f"unknown config(s) {', '.join(unknown)}; see hot-pose bench --list")
        device = pick_device(args.device)
        runs = args.runs or 5
        rows = bench_models(names, device, runs, args.warmup)
        print(
            f"device: {device}, threads: {torch.get_num_threads()}, batch 1, median of {runs} runs"
        )
        print_table(rows)
    if args.json:
        _write_json(args.json, rows)
    return 0


def _write_json(path: Path, data: object) -> None:
    """Write ``data`` whole or not at all (:func:`hotcli.atomic.write_atomic`)."""
    text = json.dumps(data, indent=2)
    write_atomic(path, lambda f: f.write(text.encode()))
