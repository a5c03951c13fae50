"""Scores of motion in the world on Human3.6M-layout data: root position, absolute MPJPE, skate.

For ``hot-pose eval`` (issue 20, item 8). Each function scores one sequence seen by one
camera and returns per-frame (or per-step) values in metres, so the caller can pool them
per action and average over actions the way MPJPE is reported:

- ``root_error``: distance between the predicted and true pelvis in camera coordinates;
- ``abs_mpjpe``: mean joint distance in camera coordinates without aligning the roots;
- ``root_error`` at the true scale (:func:`scene_scale`): what is left once the predicted
  scene is scaled about the camera by the one factor that fits the view best. One camera
  cannot see a person's size: a person 2 % larger standing 2 % further away looks the
  same, so a lifter that gives them an average size puts them 2 % too near, about 100 mm
  at Human3.6M's 5 m. This error is the placement's own, given the right size; the
  factor says how far the size was off;
- foot skate (:func:`hotcli.scene.feet.skate_steps`): how far each ankle moves between two
  frames in which the *ground truth* has that foot down, for the prediction and for the
  ground truth itself. Using the ground truth's contacts for both means the prediction is
  not scored on contacts of its own choosing (where the foot lock pins it by design).

:func:`score_view` runs the same placement as ``hot-pose VIDEO``
(:func:`hotcli.scene.world.place_persons`) on the lifter's root-relative output and the 2D that
was given to it, once with the real camera's focal length and once with the default field
of view, and :func:`summarise_world` turns pooled scores into the ``--json`` keys
``root_error_mm``, ``root_error_default_fov_mm``, ``root_error_true_scale_mm``,
``scene_scale``, ``abs_mpjpe_mm`` and ``foot_skate_mm``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hotcli.scene.camera import DEFAULT_FOV_DEGREES, Intrinsics, focal_from_fov
from hotcli.scene.feet import foot_contact, skate_steps
from hotcli.scene.world import WorldOptions, place_persons


def root_error(pred_root: np.ndarray, gt_root: np.ndarray) -> np.ndarray:
    """Per-frame pelvis position error (T,) in the unit of the inputs (T, 3)."""
    return np.linalg.norm(np.asarray(pred_root) - np.asarray(gt_root), axis=-1)


def scene_scale(pred_root: np.ndarray, gt_root: np.ndarray) -> float:
    """The factor ``s`` (least squares over the finite frames) by which the predicted pelvis
    path (T, 3), scaled about the camera, best matches the true one: >1 when the person was
    placed too near (made too small). NaN without a finite frame."""
    p, g = np.asarray(pred_root, np.float64), np.asarray(gt_root, np.float64)
    ok = np.isfinite(p).all(1) & np.isfinite(g).all(1)
    denom = float((p[ok] ** 2).sum())
    return float((p[ok] * g[ok]).sum() / denom) if denom > 0 else float("nan")


def abs_mpjpe(pred_camera: np.ndarray, gt_camera: np.ndarray) -> np.ndarray:
    """Per-frame mean joint error (T,) of absolute (T, J, 3) poses, roots not aligned."""
    return np.linalg.norm(np.asarray(pred_camera) - np.asarray(gt_camera), axis=-1).mean(-1)


@dataclass(frozen=True)
class ViewScores:
    """One sequence seen by one camera: per-frame errors (T,) and skate steps (K,), metres."""

    root_error: np.ndarray
    root_error_default_fov: np.ndarray
    root_error_true_scale: np.ndarray
    scale: float  # scene_scale of the real-focal-length placement
    abs_mpjpe: np.ndarray
    skate_pred: np.ndarray
    skate_gt: np.ndarray


def place_one(
    relative: np.ndarray, pixels: np.ndarray, camera: Intrinsics, fps: float,
    options: WorldOptions | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(absolute camera poses (T, 17, 3), world poses (T, 17, 3)) of one fully seen person.

    Every frame counts as detected with confidence 1 (ground-truth 2D has none).
    """
    t = len(relative)
    placed, _ = place_persons([relative], [pixels], [np.ones((t, 17))], [np.ones(t, bool)],
                              [np.ones(t, bool)], camera, fps, options)  # fmt: skip
    return placed[0].keypoints_3d_camera, placed[0].keypoints_3d_world


def score_view(
    pred_relative: np.ndarray,
    pixels: np.ndarray,
    gt_camera: np.ndarray,
    gt_world: np.ndarray,
    focal: float,
    centre: np.ndarray,
    width: int,
    fps: float,
    default_fov: float = DEFAULT_FOV_DEGREES,
) -> ViewScores:
    """Scores of one view (see the module docstring).

    ``pred_relative`` (T, 17, 3) the lifter's root-relative poses in camera axes (metres),
    ``pixels`` (T, 17, 2) the 2D it was given, ``gt_camera`` (T, 17, 3) the true poses in
    camera coordinates, ``gt_world`` (T, 17, 3) the same in the data's z-up world (for the
    true contacts), ``focal`` the real focal length (pixels; the mean of fx and fy),
    ``centre`` (2,) its principal point, ``width`` the image width (for the default field
    of view), ``fps`` the frame rate.
    """
    real = Intrinsics(float(focal), float(centre[0]), float(centre[1]), int(width), "real")
    pred_cam, pred_world = place_one(pred_relative, pixels, real, fps)
    default = Intrinsics(focal_from_fov(width, default_fov), real.cx, real.cy, real.width)
    default_cam, _ = place_one(pred_relative, pixels, default, fps)
    gt_contact = foot_contact(gt_world, fps)
    scale = scene_scale(pred_cam[:, 0], gt_camera[:, 0])
    return ViewScores(
        root_error=root_error(pred_cam[:, 0], gt_camera[:, 0]),
        root_error_default_fov=root_error(default_cam[:, 0], gt_camera[:, 0]),
        root_error_true_scale=root_error(scale * pred_cam[:, 0], gt_camera[:, 0]),
        scale=scale,
        abs_mpjpe=abs_mpjpe(pred_cam, gt_camera),
        skate_pred=skate_steps(pred_world, gt_contact),
        skate_gt=skate_steps(gt_world, gt_contact),
    )


def _mean_mm(values: Sequence[np.ndarray]) -> float:
    pooled = np.concatenate(values) if values else np.zeros(0)
    pooled = pooled[np.isfinite(pooled)]
    return float(pooled.mean() * 1000.0) if pooled.size else float("nan")


def summarise_world(by_action: Mapping[str, Sequence[ViewScores]]) -> dict:
    """Per action and overall (the mean over actions), in millimetres (skate: mm per frame).

    Returns ``{"root_error_mm", "root_error_default_fov_mm", "root_error_true_scale_mm",
    "scene_scale", "abs_mpjpe_mm", "foot_skate_mm": {"prediction", "ground_truth"},
    "per_action": {action: same}}``; ``scene_scale`` is the mean of the views' factors.
    """
    per_action = {}
    for action in sorted(by_action):
        views = by_action[action]
        scales = [v.scale for v in views if np.isfinite(v.scale)]
        per_action[action] = {
            "root_error_mm": _mean_mm([v.root_error for v in views]),
            "root_error_default_fov_mm": _mean_mm([v.root_error_default_fov for v in views]),
            "root_error_true_scale_mm": _mean_mm([v.root_error_true_scale for v in views]),
            "scene_scale": float(np.mean(scales)) if scales else float("nan"),
            "abs_mpjpe_mm": _mean_mm([v.abs_mpjpe for v in views]),
            "foot_skate_mm": {
                "prediction": _mean_mm([v.skate_pred for v in views]),
                "ground_truth": _mean_mm([v.skate_gt for v in views]),
            },
        }

    def over_actions(get) -> float:
        values = [get(row) for row in per_action.values()]
        values = [v for v in values if np.isfinite(v)]
        return float(np.mean(values)) if values else float("nan")

    return {
        "root_error_mm": over_actions(lambda r: r["root_error_mm"]),
        "root_error_default_fov_mm": over_actions(lambda r: r["root_error_default_fov_mm"]),
        "root_error_true_scale_mm": over_actions(lambda r: r["root_error_true_scale_mm"]),
        "scene_scale": over_actions(lambda r: r["scene_scale"]),
        "abs_mpjpe_mm": over_actions(lambda r: r["abs_mpjpe_mm"]),
        "foot_skate_mm": {
            "prediction": over_actions(lambda r: r["foot_skate_mm"]["prediction"]),
            "ground_truth": over_actions(lambda r: r["foot_skate_mm"]["ground_truth"]),
        },
        "per_action": per_action,
    }
