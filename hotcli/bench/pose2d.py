"""The 2D stage against the reference on one video: speed, people found, keypoint change.

``hot-pose bench --keypoints VIDEO`` decodes the video once and hands every 25 frames to each
2D stage in turn (interleaved, so a noisy machine slows them alike): the reference (the
float PyTorch model on the whole frame at 640 px, every frame; ``--reference-imgsz 1280``
sees small people twice as large, the sharper reference for them) and each candidate
``DETECT_EVERY:CROP_SIZE:TILES`` (:class:`~hotcli.options.Pose2DOptions`) on the default
network (OpenVINO on a CPU). For each it prints frames/s of the network work, people
found per frame, and against the reference the keypoint change (:mod:`hotcli.bench.kpdiff`),
and the 3D change of the main person (each stage's track lifted by the same lifter;
mean per-joint distance after aligning the pelvis, mm).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from hotcli.errors import HotPoseError
from hotcli.options import Pose2DOptions

DEFAULT_CANDIDATES = "1:0:off,1:0:on,auto:256:auto"


def parse_candidate(text: str) -> Pose2DOptions:
    """``"8:256:auto"`` → whole frame every 8 frames (``auto``: the default schedule), crops of
    at least 256 px, tiles when small; ``DETECT_EVERY:CROP_SIZE:TILES:MARGIN:MAX_PERSON:IMGSZ``
    sets the rest too (``IMGSZ+``: frames smaller than that are enlarged to it, as the
    reference does)."""
    parts = text.split(":")
    usage = ("a candidate is DETECT_EVERY:CROP_SIZE:TILES[:MARGIN[:MAX_PERSON[:IMGSZ[+]]]], "
             f"not {text!r}")  # fmt: skip
    if not 3 <= len(parts) <= 6:
        raise HotPoseError(usage)
    try:
        extra = {"margin": float(parts[3])} if len(parts) >= 4 else {}
        if len(parts) >= 5:
            extra["max_person"] = int(parts[4])
        if len(parts) == 6:
            extra["enlarge"] = parts[5].endswith("+")
            extra["imgsz"] = int(parts[5].removesuffix("+"))
        every = None if parts[0] == "auto" else int(parts[0])
        return Pose2DOptions(detect_every=every, crop_size=int(parts[1]), tiles=parts[2],
                             **extra)  # fmt: skip
    except ValueError:
        raise HotPoseError(usage) from None


def label(options: Pose2DOptions) -> str:
    o = options
    every = "auto" if o.detect_every is None else o.detect_every
    enlarge = "+" if o.enlarge else ""
    return f"{every}:{o.crop_size}:{o.tiles}:{o.margin:g}:{o.max_person}:{o.imgsz}{enlarge}"


def run_stages(
    video: Path, stages: dict[str, tuple[object, Pose2DOptions]], max_frames: int | None = None,
    chunk: int = 25,
) -> tuple[dict, dict, int]:  # fmt: skip
    """Every frame through every stage: ``({name: [per-frame dict]}, {name: seconds}, frames)``.

    Stages take turns ``chunk`` frames at a time, each as in a run
    (:meth:`~hotcli.pose2d.tracking.PeopleFinder.push`): the frames a stage has in flight
    at the end of its turn stay in flight through the other stages' turns.
    """
    from itertools import islice

    from hotcli.formats.video import iter_frames, probe
    from hotcli.pose2d.tracking import PeopleFinder

    info = probe(video)
    finders = {name: PeopleFinder(net, opts, fps=info.fps) for name, (net, opts) in stages.items()}
    seen = {name: [] for name in stages}
    seconds = dict.fromkeys(stages, 0.0)
    frames = islice(iter_frames(video, info), max_frames)
    n = 0
    while batch := list(islice(frames, chunk)):
        for name, finder in finders.items():
            t = time.perf_counter()
            for frame in batch:
                seen[name].extend(finder.push(frame))
            seconds[name] += time.perf_counter() - t
        n += len(batch)
    for name, finder in finders.items():
        t = time.perf_counter()
        seen[name].extend(finder.flush())
        seconds[name] += time.perf_counter() - t
    return seen, seconds, n


def compare(ref: list[dict], got: list[dict]) -> dict[str, float]:
    """Keypoint change of ``got`` against ``ref`` over every frame's paired people."""
    from hotcli.bench.kpdiff import joint_errors, pair_people, summarise, swapped

    errors, swaps, paired, ref_people = [], [], 0, 0
    for r, g in zip(ref, got, strict=True):
        rv, gv = list(r.values()), list(g.values())
        ref_people += len(rv)
        if not rv or not gv:
            continue
        pairs = pair_people(np.stack([v[2] for v in rv]), np.stack([v[2] for v in gv]))
        if not pairs:
            continue
        rk = np.stack([rv[i][0] for i, _ in pairs])
        gk = np.stack([gv[j][0] for _, j in pairs])
        rs = np.stack([rv[i][1] for i, _ in pairs])
        heights = np.array([rv[i][2][3] - rv[i][2][1] for i, _ in pairs])
        errors.append(joint_errors(rk, gk, rs, heights))
        swaps.append(swapped(rk, gk))
        paired += len(pairs)
    out = summarise(errors, swaps)
    out["reference_people_paired"] = paired / max(ref_people, 1)
    return out


def main_person_3d(per_frame: list[dict], lifter, info) -> np.ndarray | None:
    """The main person's root-relative 3D (T, 17, 3) metres as the pipeline lifts it."""
    from hotcli.pipeline import lift_tracks
    from hotcli.pose2d.reassociate import join_fragments
    from hotcli.pose2d.tracking import build_track, select_tracks

    by_id: dict[int, dict[int, tuple]] = {}
    for n, frame in enumerate(per_frame):
        for tid, det in frame.items():
            by_id.setdefault(tid, {})[n] = det
    tracks = [build_track(tid, det, len(per_frame)) for tid, det in by_id.items()]
    tracks, _ = join_fragments(sorted(tracks, key=lambda t: -t.detected_frames), info.fps)
    try:
        main = select_tracks(tracks)
    except HotPoseError:
        return None
    person = lift_tracks(main, lifter, info.fps, info.width, info.height, progress=False)[0]
    return person.keypoints_3d - person.keypoints_3d[:, :1]


def bench_keypoints(video: Path, candidates: list[Pose2DOptions], max_frames: int | None = None,
                    lift: bool = True, reference_imgsz: int = 640) -> list[dict]:  # fmt: skip
    """One row per stage (the reference first): frames/s, people per frame, changes."""
    from hotcli.formats.video import probe
    from hotcli.pose2d.export import openvino_pose_model
    from hotcli.pose2d.posenet import UltralyticsPose, load_posenet
    from hotcli.pose2d.tracking import load_pose_model, resolve_pose_model

    weights = resolve_pose_model("yolo11n-pose.pt")
    fast = load_posenet(openvino_pose_model(weights) or weights)
    reference = Pose2DOptions.reference(reference_imgsz)
    stages = {"reference": (UltralyticsPose(load_pose_model(weights)), reference)}
    for c in candidates:
        stages[label(c)] = (fast, c)
    seen, seconds, n = run_stages(video, stages, max_frames)
    lifted = {}
    if lift:
        from hotcli.lifting.lifter import Lifter

        lifter = Lifter(None, device="cpu")
        info = probe(video)
        if max_frames is not None and n < info.frames:
            from dataclasses import replace

            info = replace(info, frames=n)
        lifted = {name: main_person_3d(seen[name], lifter, info) for name in stages}
    rows = []
    for name in stages:
        row = {
            "stage": name,
            "network": str(stages[name][0]),
            "frames": n,
            "imgsz": stages[name][1].imgsz,
            "fps_2d": n / max(seconds[name], 1e-9),
            "people_per_frame": float(np.mean([len(f) for f in seen[name]])) if n else 0.0,
        }
        if name != "reference":
            row.update(compare(seen["reference"], seen[name]))
            a, b = lifted.get("reference"), lifted.get(name)
            if a is not None and b is not None:
                both = np.isfinite(a).all((1, 2)) & np.isfinite(b).all((1, 2))
                row["mpjpe_3d_mm"] = float(np.linalg.norm(a[both] - b[both], axis=-1).mean() * 1000)
        rows.append(row)
    return rows


def print_rows(video: Path, rows: list[dict]) -> None:
    print(f"{video.name}: {rows[0]['frames']} frames; candidates "
          f"DETECT_EVERY:CROP_SIZE:TILES:MARGIN:MAX_PERSON:IMGSZ against the float whole-frame "
          f"{rows[0]['imgsz']} px model")  # fmt: skip
    w = max(18, *(len(r["stage"]) for r in rows))
    head = (f"{'stage':<{w}} {'2D fps':>7} {'× ref':>6} {'people/fr':>9} {'median %':>8} "
            f"{'p95 %':>7} {'swaps':>6} {'paired':>6} {'3D mm':>6}")  # fmt: skip
    print(head)
    print("-" * len(head))
    ref_fps = rows[0]["fps_2d"]

    def f(row, key, fmt):
        return format(row[key], fmt) if key in row else "-"

    for r in rows:
        print(f"{r['stage']:<{w}} {r['fps_2d']:7.1f} {r['fps_2d'] / ref_fps:6.2f} "
              f"{r['people_per_frame']:9.2f} {f(r, 'median_pct', '8.2f'):>8} "
              f"{f(r, 'p95_pct', '7.2f'):>7} {f(r, 'swap_rate', '6.3f'):>6} "
              f"{f(r, 'reference_people_paired', '6.2f'):>6} "
              f"{f(r, 'mpjpe_3d_mm', '6.1f'):>6}")  # fmt: skip
