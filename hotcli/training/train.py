"""Train a lifter on Human3.6M-layout data.

Each epoch visits every clip start (one every ``--clip-stride`` frames of every
training sequence) once, seen through a random real or virtual camera with the
augmentations switched on. After each epoch: validation MPJPE on the held-out
subjects (one camera per sequence, no flip, for speed: ``hot-pose eval`` gives the
full protocol), on projected 3D and, with ``--keypoints-2d``, on the detections too
(``best.pt`` is then chosen on the detections), a checkpoint (``last.pt`` to resume,
``best.pt`` the best so far), a row in ``log.csv`` and the plot ``curve.png``.

Loss (as MixSTE/HoT): MPJPE + 2·velocity error (MPJVE) + 0.5·temporal consistency
(mean acceleration of the prediction, which penalises jitter, not motion).
AdamW, linear warm-up then cosine decay. Deterministic for a fixed seed on the CPU,
also across ``--resume`` and whatever ``--workers`` (each batch's clips and
augmentations derive from (seed, epoch, batch number) alone).
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from hotcli.atomic import atomic_path
from hotcli.device import pick_device, usable_cpus
from hotcli.errors import HotPoseError
from hotcli.options import positive_int
from hotcli.training.data import Augment, ClipSampler, load_sequences
from hotcli.training.evaluate import DEFAULT_DATA, add_keypoint_arguments, evaluate


def validate(model: torch.nn.Module, seqs: list, device: torch.device, detections: bool) -> float:
    """Validation MPJPE (mm) of the network alone: one camera per sequence, no flip, at the
    training rate (the model in memory carries no metadata; ``hot-pose eval`` lifts at the
    rate the tool uses)."""
    return evaluate(
        model,
        seqs,
        flip=False,
        cameras="one",
        device=device,
        fixed_bones=False,
        detections=detections,
    )["mpjpe_mm"]


def pose_loss(pred: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(total loss, MPJPE) for (B, F, J, 3) clips in metres."""
    err = (pred - gt).norm(dim=-1).mean()
    if pred.shape[1] < 3:
        return err, err
    vel = (pred.diff(dim=1) - gt.diff(dim=1)).norm(dim=-1).mean()
    accel = pred.diff(n=2, dim=1).norm(dim=-1).mean()
    return err + 2.0 * vel + 0.5 * accel, err


def lr_at(step: int, total: int, warmup: int, peak: float, floor: float = 0.01) -> float:
    """Linear warm-up to ``peak``, then cosine decay to ``floor·peak``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


def native_bf16() -> bool:
    """Whether this CPU computes in bf16 natively (otherwise bf16 is emulated, and slower)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags for f in ("avx512_bf16", "amx_bf16"))


def use_bf16(precision: str, device: torch.device) -> bool:
    if precision == "auto":
        return device.type == "cuda" or native_bf16()
    return precision == "bf16"


def default_workers(device: torch.device) -> int:
    """Processes making clips: none on a CPU (they would take its cores from training),
    enough on a GPU that clip making (~2 ms a clip on one core) keeps up with it."""
    return 0 if device.type == "cpu" else max(0, min(8, usable_cpus() - 1))


def plot_curve(csv_path: Path, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(csv_path.open()))
    if not rows:
        return
    epochs = [int(r["epoch"]) for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(epochs, [float(r["train_mpjpe_mm"]) for r in rows], "o-", label="train MPJPE")
    ax.plot(epochs, [float(r["val_mpjpe_mm"]) for r in rows], "s-", label="val MPJPE, GT 2D")
    if any(math.isfinite(float(r.get("val_det_mpjpe_mm", "nan"))) for r in rows):
        det = [float(r["val_det_mpjpe_mm"]) for r in rows]
        ax.plot(epochs, det, "^-", label="val MPJPE, detections")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mm")
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


#: Share of clips from views with detections that use them, unless ``--detections`` says.
DETECTIONS_SHARE = 0.5
#: The Augment fields set by an option of their own: (field, metavar, help).
CORRUPTIONS: dict[str, tuple[str, str]] = {
    "virtual_cameras": ("SHARE", "share of clips seen through a random virtual camera"),
    "noise": ("STD", "2D noise, std as a share of the person's height"),
    "jitter": ("STD", "slow 2D drift"),
    "bad_joints": ("P", "probability of a dropped or wrong joint"),
    "scale_shift": ("S", "2D zoom and shift"),
    "bone_scale": ("S", "other body proportions: each bone's length times 1±S"),
    "offsets": ("STD", "per-joint 2D offset held over a clip (share of height)"),
    "swaps": ("P", "probability per clip of a limb's left and right swapped for a while"),
    "jumps": ("P", "probability per clip of a hand or foot jumping onto the other limb"),
    "fast_limbs": ("K", "extra 2D noise per unit of joint speed (motion blur)"),
    "occlusion": ("STD", "extra 2D noise on joints behind the body (share of height)"),
    "detections": (
        "SHARE",
        f"share of clips from views with --keypoints-2d that use them ({DETECTIONS_SHARE} "
        "when given)",
    ),
}


def augment_from_args(args: argparse.Namespace) -> Augment:
    """The augmentations a ``hot-pose train`` command line asks for."""
    aug = replace(Augment.none(), flip=True) if args.no_augment else Augment()
    changes: dict = {}
    if args.keypoints_2d is not None:
        changes["detections"] = DETECTIONS_SHARE
    for name in CORRUPTIONS:
        value = getattr(args, name)
        if value is not None:
            if not 0 <= value <= 1:
                raise HotPoseError(f"--{name.replace('_', '-')} must be between 0 and 1")
            changes[name] = value
    if args.strides:
        try:
            strides = tuple(int(v) for v in args.strides.split(","))
        except ValueError:
            strides = ()
        if not strides or min(strides) < 1:
            raise HotPoseError("--strides must be positive integers, e.g. 1,1,1,2,3")
        changes["strides"] = strides
    if args.no_flip:
        changes["flip"] = False
    return replace(aug, **changes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a("--config", default="hot_mixste_xs", help="model config name (see `hot-pose bench --list`)")
    a("--epochs", type=positive_int, default=20)
    a("--batch", type=positive_int, default=16, help="clips per step")
    a("--lr", type=float, default=1e-3, help="peak learning rate after warm-up")
    a("--weight-decay", type=float, default=0.01)
    a("--warmup", type=int, default=300, help="warm-up steps")
    a(
        "--clip-stride",
        type=positive_int,
        default=100,
        help="frames between clip starts in an epoch",
    )
    a("--seed", type=int, default=0)
    a("--device", default="auto", help="auto, cpu or cuda")
    a("--data", type=Path, default=DEFAULT_DATA / "h36m_3d.npz")
    a("--cameras", type=Path, default=DEFAULT_DATA / "cameras.json")
    add_keypoint_arguments(parser)
    a("--train-subjects", default="S1,S5,S6,S7")
    a("--val-subjects", default="S8", help="held-out subjects for validation ('' for none)")
    a("--out", type=Path, default=Path("runs/train"), help="run folder (checkpoints, log, plot)")
    a("--resume", action="store_true", help="continue from OUT/last.pt")
    a("--init", default=None, help="start from these weights (a name in weights/ or a path)")
    a("--no-augment", action="store_true", help="switch every augmentation off but flip")
    g = parser.add_argument_group(
        "augmentations", "each overrides its default (or the --no-augment setting)"
    )
    g.add_argument("--no-flip", action="store_true", help="no horizontal flips")
    for name, (metavar, what) in CORRUPTIONS.items():
        default = getattr(Augment, name)
        g.add_argument(
            f"--{name.replace('_', '-')}",
            type=float,
            metavar=metavar,
            help=what if name == "detections" else f"{what} ({default})",
        )
    g.add_argument(
        "--strides",
        metavar="LIST",
        help="temporal strides drawn per clip, e.g. 1,1,1,2,3 (frame rates)",
    )
    a(
        "--precision",
        choices=["auto", "bf16", "fp32"],
        default="auto",
        help="autocast precision of the forward pass; auto: bf16 on a GPU or a CPU with native "
        "bf16 (AVX512-BF16 or AMX), ~2.5x faster there, else fp32 (emulated bf16 is ~2x slower)",
    )
    a(
        "--workers",
        type=int,
        default=-1,
        help="processes making training clips; -1: none on a CPU, up to 8 with a GPU "
        "(the clips are the same either way)",
    )
    a("--max-steps", type=int, default=0, help="stop after this many steps in total (tests)")
    a("--quiet", action="store_true")


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from models import LifterConfig, create_model, get_config, load_checkpoint, save_checkpoint

    aug = augment_from_args(args)
    for path in (args.data, args.cameras, args.keypoints_2d):
        if path is not None and not Path(path).is_file():
            raise HotPoseError(f"{path} not found (see ../shared/data/README.md)")
    try:
        cfg = get_config(args.config)
    except KeyError as exc:
        raise HotPoseError(str(exc.args[0])) from None
    device = pick_device(args.device)
    torch.set_num_threads(usable_cpus())
    args.out.mkdir(parents=True, exist_ok=True)

    detections = (args.keypoints_2d, args.layout)
    train_seqs = load_sequences(
        args.data, args.cameras, args.train_subjects.split(","), *detections
    )
    val_seqs = (
        load_sequences(args.data, args.cameras, args.val_subjects.split(","), *detections)
        if args.val_subjects
        else []
    )
    val_on_detections = any(seq.detections for seq in val_seqs)
    sampler = ClipSampler(train_seqs, cfg.frames, args.clip_stride, aug)
    steps_per_epoch = len(sampler) // args.batch
    total = steps_per_epoch * args.epochs

    torch.manual_seed(args.seed)
    model = create_model(cfg).to(device)
    init_meta = None
    if args.init:
        try:
            start, init_meta = load_checkpoint(args.init)
        except FileNotFoundError as exc:
            raise HotPoseError(str(exc)) from None
        if start.cfg.replace(name=cfg.name) != cfg:
            raise HotPoseError(f"--init weights are a different model ({start.cfg.name})")
        model.load_state_dict(start.state_dict())
    opt = torch.optim.AdamW(
        model.parameters(), lr=args.lr, weight_decay=args.weight_decay, fused=True
    )
    start_epoch, step, best = 0, 0, float("inf")
    last, log = args.out / "last.pt", args.out / "log.csv"
    if args.resume and last.is_file():
        state = torch.load(last, map_location=device, weights_only=False)
        saved = state.get("config")
        if saved is None or LifterConfig.from_dict(saved) != cfg:
            name = (saved or {}).get("name", "an unknown config")
            raise HotPoseError(
                f"{last} was trained as {name}, not --config {cfg.name}: resume with the same "
                "--config, or give another --out"
            )
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start_epoch, step, best = state["epoch"], state["step"], state["best"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed from {last} at epoch {start_epoch}, step {step}")
    elif log.exists():
        log.unlink()

    autocast = use_bf16(args.precision, device)
    workers = args.workers if args.workers >= 0 else default_workers(device)
    meta = {
        "data": str(args.data.name),
        "keypoints_2d": args.keypoints_2d.name if args.keypoints_2d else None,
        "layout": args.layout,
        "train_subjects": args.train_subjects,
        "val_subjects": args.val_subjects,
        "augment": asdict(aug),
        "seed": args.seed,
        "batch": args.batch,
        "lr": args.lr,
        "clip_stride": args.clip_stride,
        "precision": "bf16" if autocast else "fp32",
        "epochs": args.epochs,
        "init": args.init,
        "init_meta": init_meta,  # what the starting weights were trained on and scored
    }
    for epoch in range(start_epoch, args.epochs):
        model.train()
        t0, losses, errs = time.time(), [], []
        bar = tqdm(
            sampler.batches(args.batch, (args.seed, epoch), workers),
            total=steps_per_epoch,
            disable=args.quiet,
            desc=f"epoch {epoch + 1}/{args.epochs}",
            unit="step",
        )
        for x, y in bar:
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, args.warmup, args.lr)
            x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                pred = model(x)
            loss, err = pose_loss(pred.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            losses.append(loss.item())
            errs.append(err.item() * 1000)
            bar.set_postfix(
                mpjpe_mm=f"{np.mean(errs[-50:]):.1f}", lr=f"{opt.param_groups[0]['lr']:.1e}"
            )
            if args.quiet and step % 50 == 0:
                print(f"step {step}: MPJPE {np.mean(errs[-50:]):.1f} mm", flush=True)
            if args.max_steps and step >= args.max_steps:
                break
        train_time = time.time() - t0
        val = val_det = float("nan")
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            if val_seqs:
                val = validate(model, val_seqs, device, detections=False)
            if val_on_detections:
                val_det = validate(model, val_seqs, device, detections=True)
        row = {
            "epoch": epoch + 1,
            "step": step,
            "train_loss": np.mean(losses),
            "train_mpjpe_mm": np.mean(errs),
            "val_mpjpe_mm": val,
            "val_det_mpjpe_mm": val_det,
            "lr": opt.param_groups[0]["lr"],
            "seconds": round(train_time, 1),
        }
        new = not log.exists()
        with log.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)
        plot_curve(log, args.out / "curve.png")
        chosen = val_det if val_on_detections else val
        if chosen < best or not val_seqs:
            best = chosen if val_seqs else best
            scores = {"val_mpjpe_mm": val, "val_det_mpjpe_mm": val_det}
            save_checkpoint(args.out / "best.pt", model, {**meta, "epoch": epoch + 1, **scores})
        state = {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "epoch": epoch + 1,
            "step": step,
            "best": best,
            "torch_rng": torch.get_rng_state(),
            "config": cfg.to_dict(),
        }
        with atomic_path(last) as tmp:
            torch.save(state, tmp)
        on_detections = f", on detections {val_det:.1f} mm" if val_on_detections else ""
        print(
            f"epoch {epoch + 1}: train MPJPE {np.mean(errs):.1f} mm, val MPJPE {val:.1f} mm"
            f"{on_detections}, {train_time:.0f} s",
            flush=True,
        )
        if args.max_steps and step >= args.max_steps:
            break
    return 0
