"""Joint angles and heights over time, one PNG (``hot-pose VIDEO --plot``).

Knee, hip and elbow flexion per side, or the heights of the head, pelvis, wrists and
ankles, for each person in the video's upright world; frames the tracker filled in are
shaded so a reader does not trust them like detected ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hotcli.atomic import atomic_path
from hotcli.errors import HotPoseError
from hotcli.render.draw3d import LEFT_COLOUR, RIGHT_COLOUR

if TYPE_CHECKING:
    from hotcli.lifting.lifter import PersonMotion


# Flexion angles plotted per side: (name, right joints, left joints). Knee and elbow are
# 180° minus the angle between the two bones at the joint (0 = straight); the hip is the
# thigh's angle from the trunk's line in the body's sagittal plane (positive = knee forward).
_KNEES = ((1, 2, 3), (4, 5, 6))  # (hip, knee, ankle)
_ELBOWS = ((14, 15, 16), (11, 12, 13))  # (shoulder, elbow, wrist)
_HIPS = ((1, 2), (4, 5))  # (hip, knee)
#: Heights plotted (label, joint, colour side, line style).
_HEIGHTS = (
    ("head", 10, "centre", "-"), ("pelvis", 0, "centre", "--"),
    ("left wrist", 13, "left", "--"), ("right wrist", 16, "right", "--"),
    ("left ankle", 6, "left", "-"), ("right ankle", 3, "right", "-"),
)  # fmt: skip


def _norm(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def bend_angle(world: np.ndarray, a: int, joint: int, b: int) -> np.ndarray:
    """Flexion in degrees at ``joint`` (0 = straight) between the bones to ``a`` and ``b``."""
    u, v = _norm(world[:, a] - world[:, joint]), _norm(world[:, b] - world[:, joint])
    return 180.0 - np.degrees(np.arccos(np.clip(np.sum(u * v, axis=-1), -1.0, 1.0)))


def hip_flexion(world: np.ndarray, hip: int, knee: int) -> np.ndarray:
    """Signed hip flexion in degrees: the thigh against the trunk, knee forward positive."""
    up = _norm(world[:, 8] - world[:, 0])  # pelvis → thorax
    forward = _norm(np.cross(world[:, 4] - world[:, 1], up))  # (right → left hip) × up
    thigh = world[:, knee] - world[:, hip]
    return np.degrees(np.arctan2(np.sum(thigh * forward, -1), -np.sum(thigh * up, -1)))


def motion_curves(
    world: np.ndarray, kind: str
) -> list[tuple[str, list[tuple[str, str, np.ndarray]]]]:
    """Rows of curves for :func:`plot_motion`: (y label, [(label, side, values)])."""
    if kind == "heights":
        curves = [(label, side, world[:, j, 2]) for label, j, side, _ in _HEIGHTS]
        return [("height above ground (m)", curves)]
    rows = []
    for name, pairs, fn in (("knee", _KNEES, bend_angle), ("hip", _HIPS, hip_flexion),
                            ("elbow", _ELBOWS, bend_angle)):  # fmt: skip
        right, left = (fn(world, *joints) for joints in pairs)
        rows.append((f"{name} flexion (°)", [(f"left {name}", "left", left),
                                             (f"right {name}", "right", right)]))  # fmt: skip
    return rows


def plot_motion(
    persons: Sequence[PersonMotion],
    out_path: Path,
    fps: float,
    kind: str = "angles",
    max_persons: int = 4,
) -> None:
    """A PNG of each person's knee/hip/elbow flexion (``angles``) or joint heights over time.

    Left joints blue and right orange as in the video; frames the tracker filled in are
    shaded grey. One column per person (the first ``max_persons``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if kind not in ("angles", "heights"):
        raise HotPoseError(f"unknown plot kind {kind!r}: choose angles or heights")
    persons = list(persons)[:max_persons]
    if not persons:
        raise HotPoseError("no person to plot")
    n_rows = 3 if kind == "angles" else 1
    fig = Figure(figsize=(4.4 * len(persons) + 0.8, 2.3 * n_rows + 0.7), dpi=110)
    fig.set_layout_engine("constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, len(persons), squeeze=False, sharex="col")
    colours = {
        "left": tuple(c / 255 for c in reversed(LEFT_COLOUR)),
        "right": tuple(c / 255 for c in reversed(RIGHT_COLOUR)),
        "centre": (0.3, 0.3, 0.3),
    }
    styles = {label: style for label, _, _, style in _HEIGHTS}
    any_marked = False
    for col, person in enumerate(persons):
        world = np.asarray(person.keypoints_3d_world, dtype=np.float64)
        marked = np.asarray(person.interpolated, bool)
        any_marked |= bool(marked.any())
        time_s = np.arange(len(world)) / max(fps, 1e-6)
        for row, (ylabel, curves) in enumerate(motion_curves(world, kind)):
            ax = axes[row][col]
            _shade(ax, time_s, marked)
            for label, side, values in curves:
                ax.plot(time_s, values, styles.get(label, "-"), color=colours[side], lw=1.1,
                        label=label)  # fmt: skip
            ax.ticklabel_format(axis="y", useOffset=False)
            lo, hi = ax.get_ylim()
            least = 0.2 if kind == "heights" else 10.0  # flat curves stay flat on the plot
            if hi - lo < least:
                mid = 0.5 * (lo + hi)
                ax.set_ylim(mid - least / 2, mid + least / 2)
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="best", framealpha=0.7)
        axes[0][col].set_title(f"person #{person.track_id}")
        axes[-1][col].set_xlabel("time (s)")
    if any_marked:
        fig.suptitle("grey: frames filled in (person not detected)", fontsize=8, color="0.4")
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format="png")


def _shade(ax: Any, time_s: np.ndarray, interpolated: np.ndarray) -> None:
    """Grey spans where the person was filled in rather than detected."""
    if not interpolated.any() or len(time_s) < 2:
        return
    dt = time_s[1] - time_s[0]
    edges = np.diff(np.concatenate([[0], interpolated.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        ax.axvspan(time_s[s] - dt / 2, time_s[e - 1] + dt / 2, color="0.85", lw=0)
