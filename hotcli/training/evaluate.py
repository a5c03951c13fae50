"""Evaluate a lifter on Human3.6M-layout data: MPJPE, P-MPJPE, velocity and acceleration errors.

The 2D input is the ground-truth 3D projected through each real camera (with lens
distortion), or with ``--keypoints-2d`` a detector's 2D of the same frames (what users
feed the lifter; views the file lacks are skipped and counted). Every frame of every
sequence and camera is scored, errors are averaged per action and then over actions, in
millimetres: MPJPE (protocol 1), P-MPJPE (protocol 2, after a similarity alignment),
MPJVE (velocity error, per 50 Hz frame) and the acceleration error (per frame squared),
which show smoothness. Flip test-time augmentation is on by default. ``--noise`` adds
Gaussian 2D noise. As in ``hot-pose VIDEO``, the network runs at the rate the weights call
for (:func:`~hotcli.lifting.lifter.lift_rate`: 25 Hz for the shipped ones) and each bone
gets one length per sequence unless ``--free-bones``; the network's own score (free
bones) is reported beside it.

Works unchanged on any file of the same layout (other subjects, same keys and cameras).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from hotcli.device import pick_device, usable_cpus
from hotcli.errors import HotPoseError
from hotcli.formats.outputs import write_json
from hotcli.lifting.lifter import TRAINING_FPS, Lifter, lift_rate
from hotcli.lifting.network import load_weights
from hotcli.lifting.skeleton import fix_bone_lengths, scale_to_height, standing_height
from hotcli.pose2d.layouts import KEYPOINT_LAYOUTS
from hotcli.scene.camera import denormalize_2d, normalize_2d
from hotcli.training.data import Augment, camera_view, corrupt_2d, load_sequences
from hotcli.training.metrics import accel_error, mpjpe, mpjve, p_mpjpe
from hotcli.training.world_metrics import score_view, summarise_world

#: Per-frame metrics (metres) by the name of their mean in millimetres.
METRICS = {
    "mpjpe_mm": mpjpe,
    "p_mpjpe_mm": p_mpjpe,
    "mpjve_mm": mpjve,
    "accel_error_mm": accel_error,
}

#: Where ``h36m_3d.npz`` and ``cameras.json`` are looked for unless ``--data``/``--cameras``
#: say: ``$HOT_POSE_DATA``, else ``../shared/data/h36m`` from the current folder (the
#: development checkout's layout). Never relative to the installed package.
DEFAULT_DATA = Path(os.environ.get("HOT_POSE_DATA", "../shared/data/h36m"))


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
    detections: bool = False,
    world: bool = False,
    known_height: bool = False,
    lift_fps: float | None = None,
) -> dict:
    """Scores per action and overall. ``cameras="one"`` scores one camera per sequence (quick).

    With ``detections`` the 2D is each view's detections (``Sequence.detections``) instead
    of the projected 3D, and views without them are skipped (``views`` counts both).
    With ``fixed_bones`` the scores are those of the tool's output (one length per bone),
    and ``network_only`` holds the network's own overall scores, from the same pass.
    With ``world`` each view is also placed in the scene as ``hot-pose VIDEO`` places a
    person (:mod:`hotcli.training.world_metrics`): root error with the real focal length and the
    default field of view, MPJPE without root alignment, and foot skate. With
    ``known_height`` (and ``fixed_bones``) each skeleton is given its subject's standing
    height (:func:`subject_heights`), as ``hot-pose --person-height`` does. ``lift_fps`` is
    the rate the network is run at (:class:`~hotcli.lifting.lifter.Lifter`; the 50 Hz data
    is resampled to it and the 3D back): ``hot-pose eval`` gives the rate ``hot-pose VIDEO``
    runs the weights at, training's validation leaves the training rate.
    """
    heights = subject_heights(sequences) if known_height and fixed_bones else {}
    rng = np.random.default_rng(seed)
    noise_aug = replace(Augment.none(), noise=noise, jitter=noise / 2)
    # Per-frame errors by variant ("fixed": one length per bone, "network": alone),
    # metric and action.
    errors: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    views = [
        (seq, cam)
        for i, seq in enumerate(sequences)
        for c, cam in enumerate(seq.cameras)
        if cameras == "all" or c == i % len(seq.cameras)
    ]
    jobs = [(seq, cam) for seq, cam in views if not detections or cam.id in seq.detections]
    if progress:
        from tqdm import tqdm

        jobs = tqdm(jobs, desc="eval", unit="view")
    # The same rate, windowing, blending and flip averaging as `hot-pose VIDEO`.
    lifter = Lifter(model=model, device=str(device), flip=flip, batch=32, fixed_bones=False,
                    lift_fps=lift_fps)  # fmt: skip
    placed: dict[str, list] = defaultdict(list)
    for seq, cam in jobs:
        pose2d, gt = camera_view(seq.world, cam)
        if detections:
            pose2d = normalize_2d(seq.detections[cam.id], cam.width, cam.height)
        if noise > 0:
            pose2d = corrupt_2d(pose2d, noise_aug, rng)
        network = lifter.lift_normalised(pose2d, TRAINING_FPS)
        poses = {"network": network}
        if fixed_bones:
            poses["fixed"] = fix_bone_lengths(network)
            if seq.subject in heights:
                poses["fixed"] = scale_to_height(poses["fixed"], heights[seq.subject])
        for variant, pred in poses.items():
            for name, metric in METRICS.items():
                errors[variant][name][seq.action].append(metric(pred, gt))
        if world:
            pixels = denormalize_2d(pose2d, cam.width, cam.height)
            pred = poses["fixed" if fixed_bones else "network"]
            focal = float(np.mean(cam.f))
            try:
                scores = score_view(pred, pixels, cam.to_camera(seq.world), seq.world, focal,
                                    cam.c, cam.width, TRAINING_FPS)  # fmt: skip
            except ValueError as exc:
                raise HotPoseError(f"cannot place {seq.key}/{cam.id} in the scene: {exc}") from None
            placed[seq.action].append(scores)
    shown = "fixed" if fixed_bones else "network"
    result = summarise(errors[shown])
    if world:
        in_scene = summarise_world(placed)
        for action, row in in_scene.pop("per_action").items():
            result["per_action"][action].update(row)
        result.update(in_scene)
    result["fixed_bones"] = fixed_bones
    result["person_heights_m"] = {k: round(v, 3) for k, v in heights.items()}
    result["views"] = {"scored": len(jobs), "skipped_without_2d": len(views) - len(jobs)}
    result["lift_fps"] = lifter.lift_fps
    if fixed_bones:
        network_only = summarise(errors["network"])
        result["network_only"] = {k: network_only[k] for k in METRICS}
    return result


def subject_heights(sequences) -> dict[str, float]:
    """Each subject's standing height (metres) as ``--person-height`` takes it, from the
    motion capture: the subject's own :func:`~hotcli.lifting.skeleton.standing_height` over
    all their sequences. What a user who knows the person's height gives (the head-top and
    ankle allowance it adds cancels in :func:`~hotcli.lifting.skeleton.scale_to_height`)."""
    by_subject: dict[str, list[np.ndarray]] = defaultdict(list)
    for seq in sequences:
        by_subject[seq.subject].append(seq.world)
    return {subject: standing_height(np.concatenate(worlds))
            for subject, worlds in by_subject.items()}  # fmt: skip


def summarise(errors: dict[str, dict[str, list[np.ndarray]]]) -> dict:
    """Per-action and overall (mean over actions) scores in mm, from per-frame metres.

    ``errors`` maps each metric of :data:`METRICS` to its per-frame errors by action.
    """
    per_action = {
        action: {
            **{name: float(np.concatenate(errors[name][action]).mean() * 1000) for name in METRICS},
            "frames": int(sum(len(e) for e in errors["mpjpe_mm"][action])),
        }
        for action in sorted(errors["mpjpe_mm"])
    }
    if not per_action:
        raise HotPoseError("nothing to score: no view has 2D keypoints")
    return {
        **{name: float(np.mean([v[name] for v in per_action.values()])) for name in METRICS},
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
    add_keypoint_arguments(parser)
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
    parser.add_argument(
        "--world",
        action="store_true",
        help="also place each view in the scene as hot-pose VIDEO does: root error (real "
        "focal length and default field of view), MPJPE without root alignment, foot skate",
    )
    parser.add_argument(
        "--known-height",
        action="store_true",
        help="give each skeleton its subject's standing height, measured from the motion "
        "capture, as hot-pose --person-height does (default: an average adult's size)",
    )
    parser.add_argument(
        "--one-camera",
        action="store_true",
        help="score one camera per sequence (the i-th sequence's camera i mod 4): a quarter "
        "of the views, for quick comparisons",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_keypoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``--keypoints-2d`` and ``--layout``, shared by ``hot-pose eval`` and ``hot-pose train``."""
    parser.add_argument(
        "--keypoints-2d",
        type=Path,
        default=None,
        metavar="FILE",
        help="a detector's 2D instead of projections: .npz mapping 'subject/action/camera id' "
        "to (N, J, 2) pixels (or (N, J, 3) with confidences), frame-aligned with the 3D",
    )
    parser.add_argument(
        "--layout",
        choices=list(KEYPOINT_LAYOUTS),
        default=None,
        help="joint layout of --keypoints-2d (converted to Human3.6M-17 as the tool does)",
    )


def trained_on(meta: dict) -> set[str]:
    """Every subject the weights were trained on, through the chain of ``--init`` stages."""
    subjects: set[str] = set()
    while meta:
        subjects.update(s for s in str(meta.get("train_subjects", "")).split(",") if s)
        meta = meta.get("init_meta") or {}
    return subjects


def main(args: argparse.Namespace) -> int:
    for path in (args.data, args.cameras, args.keypoints_2d):
        if path is not None and not Path(path).is_file():
            raise HotPoseError(f"{path} not found")
    if args.known_height and args.free_bones:
        raise HotPoseError("--known-height sizes the fixed skeleton: not with --free-bones")
    subjects = args.subjects.split(",") if args.subjects else None
    device = pick_device(args.device)
    model, meta, weights = load_weights(args.weights)  # as hot-pose VIDEO loads them
    model.to(device)
    seqs = load_sequences(args.data, args.cameras, subjects, args.keypoints_2d, args.layout)
    torch.set_num_threads(usable_cpus())
    result = evaluate(
        model,
        seqs,
        flip=not args.no_flip,
        noise=args.noise,
        cameras="one" if args.one_camera else "all",
        device=device,
        progress=not args.quiet,
        fixed_bones=not args.free_bones,
        detections=args.keypoints_2d is not None,
        world=args.world,
        known_height=args.known_height,
        lift_fps=lift_rate(meta),  # as hot-pose VIDEO runs these weights
    )
    result.update(
        weights=str(weights),
        flip=not args.no_flip,
        noise=args.noise,
        cameras="one per sequence" if args.one_camera else "all",
        keypoints_2d=str(args.keypoints_2d) if args.keypoints_2d else "projected 3D",
        layout=args.layout,
        subjects=sorted({s.subject for s in seqs}),
    )
    # A score on subjects the weights have seen is not a held-out score: say so, loudly.
    result["seen_in_training"] = sorted(trained_on(meta) & set(result["subjects"]))
    print_table(result)
    if result["seen_in_training"]:
        seen = ", ".join(result["seen_in_training"])
        print(f"note: these weights were trained on {seen}: not a held-out score", file=sys.stderr)
    if args.json:
        write_json(args.json, result)
    return 0


def print_table(result: dict) -> None:
    """Per-action rows, the mean, the network alone, and the views scored."""
    names = ("MPJPE", "P-MPJPE", "MPJVE", "accel")
    width = max(len("network alone (--free-bones)"), *(len(a) for a in result["per_action"]))
    print(f"{'action (mm)':<{width}}" + "".join(f"{n:>9}" for n in names) + "   frames")

    def row(label: str, scores: dict, frames: str = "") -> None:
        print(f"{label:<{width}}" + "".join(f"{scores[k]:9.1f}" for k in METRICS) + f"   {frames}")

    for action, scores in result["per_action"].items():
        row(action, scores, str(scores["frames"]))
    row("mean", result, str(result["frames"]))
    if "network_only" in result:
        row("network alone (--free-bones)", result["network_only"])
    if "root_error_mm" in result:
        skate = result["foot_skate_mm"]
        print(
            f"in the scene: root error {result['root_error_mm']:.1f} mm (real focal length), "
            f"{result['root_error_default_fov_mm']:.1f} mm (default field of view); MPJPE "
            f"without root alignment {result['abs_mpjpe_mm']:.1f} mm; foot skate "
            f"{skate['prediction']:.2f} mm/frame (ground truth {skate['ground_truth']:.2f})"
        )
        print(
            f"at each view's true scale: root error {result['root_error_true_scale_mm']:.1f} mm "
            f"(the scene scaled about the camera by {result['scene_scale']:.3f} on average: "
            "the person's size, which one camera cannot see)"
        )
    if result.get("person_heights_m"):
        heights = ", ".join(f"{k} {v:.3f} m" for k, v in result["person_heights_m"].items())
        print(f"skeletons sized to each subject's height (--known-height): {heights}")
    views = result["views"]
    print(f"views scored: {views['scored']}, skipped (no 2D): {views['skipped_without_2d']}; "
          f"lifted at {result['lift_fps']:g} Hz")  # fmt: skip
