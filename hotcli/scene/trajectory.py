"""Each person's pelvis in camera coordinates: a robust per-frame solve, then zero-lag smoothing.

The lifter gives root-relative 3D ``X_j`` (camera axes, metres); the tracker gives pixels
``u_j``. The pelvis position ``t`` is where the pose must stand for its joints to project
onto the pixels: for a pinhole camera ``f·(X_j + t)_x / (X_j + t)_z + c_x = u_j``. Times the
depth ``(X_j + t)_z`` this is linear in ``t``::

    f·t_x − (u_j − c_x)·t_z = (u_j − c_x)·X_jz − f·X_jx        (and the same for y)

so each frame is a small weighted linear least-squares problem (two rows per joint,
three unknowns). Rows are divided by the joint's current depth estimate so that their
residuals are pixels, weighted by the keypoint confidence, and reweighted a few times
with Cauchy weights on the reprojection error (iteratively reweighted least squares,
starting from the plain fit), so a few wrong joints (a swapped wrist, a missed ankle)
barely pull the answer: a joint far off gets a weight near zero, where a Huber weight
would still let it pull with a bounded force. All frames
are solved at once as a batch of 3×3 normal equations: a few milliseconds per thousand
frames.

Depth is the noisy coordinate (it comes from the person's apparent size), so the
per-frame solves are then smoothed over time with a zero-phase filter: a running median
to drop the odd bad frame, then a Savitzky–Golay fit (:func:`savgol`),
which is symmetric in time and so adds no lag. Frames inside a bridged gap get no
measurement and are interpolated over before smoothing; frames where the person is not
present stay NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hotcli.pose2d.presence import runs

#: Scale of the Cauchy reweighting, as a fraction of the person's height in pixels.
ROBUST_FRACTION = 0.03
#: The fewest usable joints a frame needs for a solve (3 unknowns, 2 rows per joint).
MIN_JOINTS = 3
#: Length of the Savitzky–Golay window in seconds, and its polynomial order.
SMOOTH_SECONDS = 0.5
SMOOTH_ORDER = 2
#: Running-median window in frames applied before the polynomial smoothing.
MEDIAN_FRAMES = 5


def _solve_batch(
    rel: np.ndarray, pix: np.ndarray, weights: np.ndarray, focal: float, centre: np.ndarray
) -> np.ndarray:
    """One weighted least-squares solve per frame: (T, J, 3), (T, J, 2), (T, J) → (T, 3).

    ``weights`` are per joint and apply to both of its rows; frames whose normal matrix is
    singular come back NaN.
    """
    d = pix - centre  # (T, J, 2) pixels from the principal point
    t, j = rel.shape[:2]
    a = np.zeros((t, j, 2, 3))
    a[..., 0, 0] = focal
    a[..., 1, 1] = focal
    a[..., :, 2] = -d
    b = d * rel[..., 2:3] - focal * rel[..., :2]  # (T, J, 2)
    a = a.reshape(t, 2 * j, 3)
    b = b.reshape(t, 2 * j)
    w = np.repeat(weights, 2, axis=1)
    ata = np.einsum("tri,tr,trk->tik", a, w, a)
    atb = np.einsum("tri,tr,tr->ti", a, w, b)
    out = np.full((t, 3), np.nan)
    ok = np.linalg.cond(ata) < 1e12
    if ok.any():
        out[ok] = np.linalg.solve(ata[ok], atb[ok][..., None])[..., 0]
    return out


def reprojection_error(
    rel: np.ndarray, root: np.ndarray, pixels: np.ndarray, focal: float, centre: np.ndarray
) -> np.ndarray:
    """Pixel distance (T, J) between ``rel + root`` projected and ``pixels``."""
    cam = rel + root[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = focal * cam[..., :2] / cam[..., 2:3] + centre
    return np.linalg.norm(proj - pixels, axis=-1)


def solve_root(
    keypoints_3d: np.ndarray,
    keypoints_2d: np.ndarray,
    scores: np.ndarray,
    focal: float,
    centre: np.ndarray,
    iterations: int = 8,
) -> np.ndarray:
    """Per-frame pelvis position (T, 3) in camera coordinates, metres (NaN where unsolvable).

    ``keypoints_3d`` (T, J, 3) root-relative metres in camera axes, ``keypoints_2d`` (T, J, 2)
    pixels, ``scores`` (T, J) confidences used as weights (0 drops a joint), ``focal`` in
    pixels, ``centre`` (2,) the principal point. A frame needs :data:`MIN_JOINTS` joints with
    a positive score and finite values; the solution must put the pelvis in front of the
    camera, otherwise the frame is NaN.
    """
    rel = np.asarray(keypoints_3d, dtype=np.float64)
    pix = np.asarray(keypoints_2d, dtype=np.float64)
    conf = np.asarray(scores, dtype=np.float64)
    centre = np.asarray(centre, dtype=np.float64)
    usable = np.isfinite(rel).all(-1) & np.isfinite(pix).all(-1) & np.isfinite(conf) & (conf > 0)
    conf = np.where(usable, conf, 0.0)
    rel = np.where(usable[..., None], rel, 0.0)
    pix = np.where(usable[..., None], pix, 0.0)
    enough = usable.sum(axis=1) >= MIN_JOINTS
    if not enough.any():
        return np.full((len(rel), 3), np.nan)

    # Robust scale from the person's size in the image, so it means the same near and far.
    ys = np.where(usable, pix[..., 1], np.nan)
    span = np.fmax.reduce(ys, axis=1) - np.fmin.reduce(ys, axis=1)  # NaN-skipping, no warning
    scale = np.maximum(ROBUST_FRACTION * np.where(np.isfinite(span), span, 0.0), 2.0)[:, None]

    depth_weight = np.ones_like(conf)
    robust = np.ones_like(conf)
    root = np.full((len(rel), 3), np.nan)
    for _ in range(max(1, iterations)):
        root = _solve_batch(rel, pix, conf * robust * depth_weight, focal, centre)
        depth = rel[..., 2] + root[:, 2:3]
        good = np.isfinite(depth) & (depth > 1e-3)
        # Rows are in pixels × depth: divide by depth² (weights act on squared residuals).
        depth_weight = np.where(good, 1.0 / np.where(good, depth, 1.0) ** 2, 0.0)
        error = reprojection_error(rel, root, pix, focal, centre)
        error = np.where(np.isfinite(error), error, np.inf)
        robust = 1.0 / (1.0 + (error / scale) ** 2)
    root[~enough] = np.nan
    root[~(root[:, 2] > 0)] = np.nan
    return root


def _odd_at_most(n: int, limit: int) -> int:
    """The largest odd number ≤ min(n, limit) (0 when there is none)."""
    m = min(n, limit)
    return m if m % 2 else m - 1


def smooth_run(values: np.ndarray, fps: float, seconds: float = SMOOTH_SECONDS) -> np.ndarray:
    """Zero-lag smoothing of one contiguous run (N, D) with no NaN: median, then Savitzky–Golay.

    Runs too short for a window are returned unchanged.
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    med = _odd_at_most(MEDIAN_FRAMES, n)
    if med >= 3:
        v = median_in_time(v, med)
    window = _odd_at_most(max(3, int(round(seconds * fps)) | 1), n)
    if window > SMOOTH_ORDER + 1:
        v = savgol(v, window, SMOOTH_ORDER)
    return v


def savgol(values: np.ndarray, window: int, order: int) -> np.ndarray:
    """Savitzky–Golay smoothing of (N, D) along time, N ≥ ``window`` (odd) > ``order``.

    Each sample becomes the value, at its own place, of the polynomial of degree ``order``
    least-squares fitted to the ``window`` samples centred on it; the first and last
    ``window // 2`` samples take theirs from the polynomial fitted to the first or last
    window. The same numbers as ``scipy.signal.savgol_filter(values, window, order,
    axis=0, mode="interp")`` (tests compare them), without importing ``scipy.signal``,
    which imports ``scipy.stats`` and cost 0.65 s of every run's start-up.
    """
    v = np.asarray(values, dtype=np.float64)
    half = window // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    vander = offsets[:, None] ** np.arange(order + 1)  # (window, order + 1)
    at_offsets = vander @ np.linalg.pinv(vander)  # (window, window): fitted values from samples
    out = np.empty_like(v)
    if len(v) > 2 * half:
        windows = sliding_window_view(v, window, axis=0)  # (N-W+1, D, W)
        out[half : len(v) - half] = windows @ at_offsets[half]
    out[:half] = at_offsets[:half] @ v[:window]
    out[len(v) - half :] = at_offsets[half + 1 :] @ v[len(v) - window :]
    return out


def bridge(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Linear interpolation over time (N, D) of the rows where ``known`` is False (ends held)."""
    v = np.array(values, dtype=np.float64)
    known = np.asarray(known, dtype=bool) & np.isfinite(v).all(axis=1)
    if not known.any():
        return np.full_like(v, np.nan)
    t = np.arange(len(v))
    for k in range(v.shape[1]):
        v[:, k] = np.interp(t, t[known], v[known, k])
    return v


def smooth_root(
    root: np.ndarray, measured: np.ndarray, present: np.ndarray, fps: float,
    seconds: float = SMOOTH_SECONDS,
) -> np.ndarray:  # fmt: skip
    """The pelvis path (T, 3) smoothed without lag over each run of ``present`` frames.

    ``root`` (T, 3) per-frame solves, ``measured`` (T,) frames whose solve is a measurement
    (detected, not filled in), ``present`` (T,) frames the person is in view. Inside a run,
    frames without a measurement are interpolated from their neighbours before smoothing;
    outside ``present`` the result is NaN.
    """
    root = np.asarray(root, dtype=np.float64)
    present = np.asarray(present, dtype=bool)
    measured = np.asarray(measured, dtype=bool) & present
    out = np.full_like(root, np.nan)
    for start, stop in runs(present):
        filled = bridge(root[start:stop], measured[start:stop])
        if np.isfinite(filled).all():
            out[start:stop] = smooth_run(filled, fps, seconds)
    return out


def median_in_time(values: np.ndarray, k: int) -> np.ndarray:
    """Running median over ``k`` (odd) frames of (T, ...) values, the edge frames repeated
    beyond the ends: ``scipy.ndimage.median_filter(values, size=(k, 1, ...), mode="nearest")``
    (a test checks it) without importing ``scipy.ndimage``."""
    c = k // 2
    padded = np.pad(values, [(c, c)] + [(0, 0)] * (values.ndim - 1), mode="edge")
    return np.median(sliding_window_view(padded, k, axis=0), axis=-1)
