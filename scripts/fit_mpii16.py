"""Refit the MPII-16 → Human3.6M-17 conversion in ``hotcli/pose2d/layouts.py`` and score it.

Each Human3.6M joint is a weighted sum of the MPII joints around it (weights sum to 1). The
weights are fitted on the training subjects' Stacked Hourglass detections against the mocap
joints projected through the same cameras: a robust (L1, iteratively reweighted) least-squares
fit in units of the person's height, with a left joint and its right twin sharing one set of
weights (and a midline joint giving a left and a right MPII joint the same weight), then
rounded to two decimals. The script prints the fitted rows beside the shipped ones and the
median 2D error on the held-out subject for three conversions: one-to-one limbs (head line
fitted only), the shipped table and the refit::

    python scripts/fit_mpii16.py                      # data from ../shared/data/h36m
    python scripts/fit_mpii16.py --data DIR --every 5

Human3.6M is research-only: this reads it, it writes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from hotcli.lifting.skeleton import H36M_JOINTS, flip_permutation
from hotcli.pose2d.layouts import _MPII_WEIGHTS, MPII_JOINTS
from hotcli.training.data import load_cameras

#: MPII joint → its left/right twin (itself on the midline).
MPII_MIRROR = np.array([5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10])
H36M_MIRROR = flip_permutation()
#: The earlier conversion: limbs and pelvis one to one, only the head line (spine, thorax,
#: neck, head along pelvis → thorax → upper neck → head top) fitted.
ONE_TO_ONE: tuple[dict[int, float], ...] = (
    {6: 1}, {2: 1}, {1: 1}, {0: 1}, {3: 1}, {4: 1}, {5: 1}, {6: 0.42, 7: 0.58},
    {7: 0.17, 8: 0.83}, {8: 0.73, 9: 0.27}, {8: 0.46, 9: 0.54},
    {13: 1}, {14: 1}, {15: 1}, {12: 1}, {11: 1}, {10: 1},
)  # fmt: skip


def load_pairs(data: Path, subjects: list[str], every: int) -> tuple[np.ndarray, np.ndarray]:
    """Detections (N, 16, 2) and projected mocap joints (N, 17, 2), both / person height."""
    cams = load_cameras(data / "cameras.json")
    poses = np.load(data / "h36m_3d.npz")
    sh = np.load(data / "h36m_sh2d.npz")
    det, truth = [], []
    for key in poses.files:
        subject = key.split("/", 1)[0]
        if subject not in subjects:
            continue
        world = poses[key][::every]
        for cam in cams[subject]:
            view = f"{key}/{cam.id}"
            if view not in sh.files:
                continue
            gt = cam.to_pixels(cam.to_camera(world))
            scale = np.ptp(gt[..., 1], axis=1)[:, None, None]  # each frame's height
            det.append(sh[view][::every] / scale)
            truth.append(gt / scale)
    return np.concatenate(det), np.concatenate(truth)


def fit_row(det: np.ndarray, truth: np.ndarray, h: int, support: list[int]) -> dict[int, float]:
    """Weights of Human3.6M joint ``h`` (and, mirrored, its twin) on the MPII ``support``.

    Parameters are the support's mirror orbits (a midline joint's left and right MPII
    neighbours share one weight); the last orbit takes 1 − the others. Minimises the sum of
    2D distances by iteratively reweighted least squares.
    """
    orbits: list[tuple[int, ...]] = []
    for j in support:
        orbit = (j,) if H36M_MIRROR[h] != h else tuple(sorted({j, int(MPII_MIRROR[j])}))
        if orbit not in orbits:
            orbits.append(orbit)
    if len(orbits) == 1:
        return {j: round(1 / len(orbits[0]), 2) for j in orbits[0]}
    twins = [(h, list(range(16)))]
    if H36M_MIRROR[h] != h:
        twins.append((int(H36M_MIRROR[h]), list(MPII_MIRROR)))
    columns, targets = [], []
    for joint, perm in twins:
        x = det[:, perm]  # the twin reads the mirrored MPII joints
        means = np.stack([x[:, list(o)].mean(1) for o in orbits], -1)  # (N, 2, orbits)
        ref = means[..., -1]
        columns.append(means[..., :-1] - ref[..., None])
        targets.append(truth[:, joint] - ref)
    a = np.concatenate(columns).reshape(-1, len(orbits) - 1)
    b = np.concatenate(targets).reshape(-1)
    weights = np.ones(len(b) // 2)
    for _ in range(30):
        w2 = np.repeat(np.sqrt(weights), 2)
        params, *_ = np.linalg.lstsq(a * w2[:, None], b * w2, rcond=None)
        dist = np.linalg.norm((a @ params - b).reshape(-1, 2), axis=1)
        weights = 1 / np.maximum(dist, 1e-4)
    values = [*params, 1 - params.sum()]
    row = {j: round(float(v) / len(o), 2) for o, v in zip(orbits, values, strict=True) for j in o}
    largest = max(row, key=lambda j: abs(row[j]))  # rounding must keep the sum at 1
    row[largest] = round(row[largest] + 1 - sum(row.values()), 2)
    return row


def median_error(det: np.ndarray, truth: np.ndarray, table) -> float:
    """Median joint distance (% of person height) after converting ``det`` with ``table``."""
    matrix = np.zeros((17, 16))
    for h, row in enumerate(table):
        for j, w in row.items():
            matrix[h, j] = w
    converted = np.einsum("hc,ncd->nhd", matrix, det)
    return 100 * float(np.median(np.linalg.norm(converted - truth, axis=-1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/h36m"))
    parser.add_argument("--train", default="S1,S5,S6,S7")
    parser.add_argument("--test", default="S8")
    parser.add_argument("--every", type=int, default=10, help="use every Nth frame")
    args = parser.parse_args()
    det, truth = load_pairs(args.data, args.train.split(","), args.every)
    refit = tuple(fit_row(det, truth, h, sorted(_MPII_WEIGHTS[h])) for h in range(17))
    for h, (shipped, new) in enumerate(zip(_MPII_WEIGHTS, refit, strict=True)):
        names = lambda row: ", ".join(f"{MPII_JOINTS[j]} {w:+.2f}" for j, w in sorted(row.items()))  # noqa: E731
        print(f"{H36M_JOINTS[h]:>15}  shipped: {names(shipped)}\n{'':>15}  refit:   {names(new)}")
    change = max(
        abs(new.get(j, 0) - shipped.get(j, 0))
        for shipped, new in zip(_MPII_WEIGHTS, refit, strict=True)
        for j in {*shipped, *new}
    )
    print(f"largest change of a weight: {change:.2f}")
    held_det, held_truth = load_pairs(args.data, args.test.split(","), args.every)
    for label, table in (("one-to-one", ONE_TO_ONE), ("shipped", _MPII_WEIGHTS), ("refit", refit)):
        error = median_error(held_det, held_truth, table)
        print(f"{args.test} median error, {label}: {error:.2f} % of height")


if __name__ == "__main__":
    main()
