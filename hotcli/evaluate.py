"""Evaluate a lifter on Human3.6M-layout data: MPJPE (protocol 1) and P-MPJPE (protocol 2).

The 2D input is the ground-truth 3D projected through each real camera (with lens
distortion); every frame of every sequence and camera is scored, errors are averaged
per action and then over actions, in millimetres. Flip test-time augmentation is on
by default. ``--noise`` adds detector-like 2D noise to show robustness. As in
``hot-pose VIDEO``, each bone gets one length per sequence unless ``--free-bones``; the
network's own score (free bones) is reported beside it.

Works unchanged on any file of the same layout (other subjects, same keys and cameras).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from hotcli.data import Augment, camera_view, corrupt_2d, load_sequences
from hotcli.device import pick_device, usable_cpus
from hotcli.errors import HotPoseError
from hotcli.lift import Lifter
from hotcli.metrics import mpjpe, p_mpjpe
from hotcli.skeleton import fix_bone_lengths

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "h36m"


def evaluate(
    model: torch.nn.Module,
    sequences,
    flip: bool = True,
    noise: float = 0.0,
    cameras: str = "all",
    device: str | torch.device = "cpu",
    seed: int = 0,
    progress: bool = False,
    fixed_bones: bool = True,
) -> dict:
    """Scores per action and overall. ``cameras="one"`` scores one camera per sequence (quick).

    With ``fixed_bones`` the scores are those of the tool's output (one length per bone),
    and ``network_only`` holds the network's own overall scores, from the same pass.
    """
    rng = np.random.default_rng(seed)
    noise_aug = replace(Augment.none(), noise=noise, jitter=noise / 2)
    # Per-frame errors by variant ("fixed": one length per bone, "network": alone), by action.
    errors: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    aligned: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    jobs = [
        (seq, cam)
        for i, seq in enumerate(sequences)
        for c, cam in enumerate(seq.cameras)
        if cameras == "all" or c == i % len(seq.cameras)
    ]
    if progress:
        from tqdm import tqdm

        jobs = tqdm(jobs, desc="eval", unit="view")
    # The same windowing, blending and flip averaging as `hot-pose VIDEO` (at 50 Hz already).
    lifter = Lifter(model=model, device=str(device), flip=flip, batch=32, fixed_bones=False)
    for seq, cam in jobs:
        pose2d, gt = camera_view(seq.world, cam)
        if noise > 0:
            pose2d = corrupt_2d(pose2d, noise_aug, rng)
        network = lifter.lift_normalised(pose2d)
        poses = {"network": network}
        if fixed_bones:
            poses["fixed"] = fix_bone_lengths(network)
        for variant, pred in poses.items():
            errors[variant][seq.action].append(mpjpe(pred, gt))
            aligned[variant][seq.action].append(p_mpjpe(pred, gt))
    shown = "fixed" if fixed_bones else "network"
    result = summarise(errors[shown], aligned[shown])
    result["fixed_bones"] = fixed_bones
    if fixed_bones:
        network_only = summarise(errors["network"], aligned["network"])
        result["network_only"] = {k: network_only[k] for k in ("mpjpe_mm", "p_mpjpe_mm")}
    return result


def summarise(errors: dict[str, list[np.ndarray]], aligned: dict[str, list[np.ndarray]]) -> dict:
    """Per-action and overall (mean over actions) MPJPE and P-MPJPE in mm, from per-frame metres."""
    per_action = {
        a: {
            "mpjpe_mm": float(np.concatenate(errors[a]).mean() * 1000),
            "p_mpjpe_mm": float(np.concatenate(aligned[a]).mean() * 1000),
            "frames": int(sum(len(e) for e in errors[a])),
        }
        for a in sorted(errors)
    }
    return {
        "mpjpe_mm": float(np.mean([v["mpjpe_mm"] for v in per_action.values()])),
        "p_mpjpe_mm": float(np.mean([v["p_mpjpe_mm"] for v in per_action.values()])),
        "frames": int(sum(v["frames"] for v in per_action.values())),
        "per_action": per_action,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA / "h36m_3d.npz",
        help="poses .npz (key 'subject/action', (T,17,3) metres, 50 Hz)",
    )
    parser.add_argument(
        "--cameras",
        type=Path,
        default=DEFAULT_DATA / "cameras.json",
        help="cameras.json of the same layout",
    )
    parser.add_argument(
        "--subjects",
        default=None,
        help="comma-separated subjects to score (default: all in the file)",
    )
    parser.add_argument(
        "--weights",
        default=None,
        help="lifter weights: a name in weights/ or a path (default: shipped)",
    )
    parser.add_argument("--no-flip", action="store_true", help="no flip test-time augmentation")
    parser.add_argument(
        "--free-bones",
        action="store_true",
        help="score the network's own bone lengths only (default: one length per bone, "
        "as hot-pose VIDEO writes; the network's own score is printed beside it)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="add 2D noise: std as a share of the person's height (e.g. 0.02)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def trained_on(meta: dict) -> set[str]:
    """Every subject the weights were trained on, through the chain of ``--init`` stages."""
    subjects: set[str] = set()
    while meta:
        subjects.update(s for s in str(meta.get("train_subjects", "")).split(",") if s)
        meta = meta.get("init_meta") or {}
    return subjects


def main(args: argparse.Namespace) -> int:
    from models import default_weights, load_checkpoint

    for path in (args.data, args.cameras):
        if not Path(path).is_file():
            raise HotPoseError(f"{path} not found")
    subjects = args.subjects.split(",") if args.subjects else None
    device = pick_device(args.device)
    try:
        model, meta = load_checkpoint(args.weights or default_weights(), map_location=device)
    except FileNotFoundError as exc:
        raise HotPoseError(str(exc)) from None
    model.to(device)
    seqs = load_sequences(args.data, args.cameras, subjects)
    torch.set_num_threads(usable_cpus())
    result = evaluate(
        model,
        seqs,
        flip=not args.no_flip,
        noise=args.noise,
        device=device,
        progress=not args.quiet,
        fixed_bones=not args.free_bones,
    )
    result.update(
        weights=str(args.weights or default_weights()),
        flip=not args.no_flip,
        noise=args.noise,
        subjects=sorted({s.subject for s in seqs}),
    )
    # A score on subjects the weights have seen is not a held-out score: say so, loudly.
    result["seen_in_training"] = sorted(trained_on(meta) & set(result["subjects"]))
    width = max(len(a) for a in result["per_action"])
    print(f"{'action':<{width}}  MPJPE mm  P-MPJPE mm  frames")
    for action, row in result["per_action"].items():
        print(
            f"{action:<{width}}  {row['mpjpe_mm']:8.1f}  {row['p_mpjpe_mm']:10.1f}  {row['frames']}"
        )
    print(
        f"{'mean':<{width}}  {result['mpjpe_mm']:8.1f}  {result['p_mpjpe_mm']:10.1f}  "
        f"{result['frames']}"
    )
    if "network_only" in result:
        free = result["network_only"]
        print(
            f"{'network alone (--free-bones)':<{width}}  {free['mpjpe_mm']:8.1f}  "
            f"{free['p_mpjpe_mm']:10.1f}"
        )
    if result["seen_in_training"]:
        seen = ", ".join(result["seen_in_training"])
        print(f"note: these weights were trained on {seen}: not a held-out score", file=sys.stderr)
    if args.json:
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=2))
        os.replace(tmp, args.json)
    return 0
