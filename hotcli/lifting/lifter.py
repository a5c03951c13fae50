"""From a 2D keypoint track to root-relative 3D poses with the HoT/MixSTE lifter.

The network sees a fixed number of frames (``model.cfg.frames``: 81 for the shipped weights)
sampled at one rate. Real videos have any length and any frame rate, so :class:`Lifter`
does the bookkeeping around the network:

1. **Rate.** The 2D track (T frames at the video's fps) is resampled by linear
   interpolation in time to the rate the network is run at, lifted, and the 3D is
   interpolated back at the video's own frame times; a temporal model must see motion at
   the speed it learned it. That rate is 25 Hz for the shipped weights: they were trained
   on Human3.6M's 50 Hz clips taken at strides of 1, 2 and 3 frames, and run on every second
   frame (:data:`LIFT_STRIDE`) a window holds twice the time for half the work.
2. **Length.** A sequence shorter than the window is padded by repeating its first and
   last frames (the padding's output is dropped). A longer one is cut into overlapping
   windows (hop = half a window) whose outputs are blended with a raised-cosine weight:
   a frame near a window's border (less temporal context) counts little and the windows'
   weights are renormalised per frame, so there is no seam at window borders. The
   weight is never zero inside a window, so the first and last frames are still covered.
   A seq2frame model (one output, the centre frame) gets one window per frame instead.
3. **Flip test-time augmentation.** The 2D is mirrored (x → −x in normalised coordinates,
   left and right joints swapped), lifted, mirrored back and averaged with the plain pass;
   both go through the network in the same batch.
4. **Batching, device and backend.** Windows are stacked ``batch`` at a time for the
   network (:mod:`hotcli.lifting.network`: OpenVINO on a CPU, else PyTorch on the chosen
   device): by default 4 on a CPU
   (:data:`CPU_BATCH`), where larger batches are no faster and the network's working
   memory grows with the batch (16 windows: ~1.25 GB peak for the process lifting, 4:
   ~0.75 GB, on the 2-core test machine, where 4 was also 30 % faster), 16 on a GPU.
5. **Bone lengths.** By default each bone gets one length over the sequence
   (:func:`hotcli.lifting.skeleton.fix_bone_lengths`), fitted at the video's own frames (after
   step 1 maps back), with the network's proportions at an average adult's size;
   ``fixed_bones=False`` keeps the network's own lengths, which vary from frame to frame.

Memory: a long clip's whole-sequence arrays are float32, the windows are blended as they
come out of the network (only one window's sums are float64), and the steps that work in
float64 go :data:`CHUNK_FRAMES` frames at a time, so lifting holds about 1 KB per video
frame besides the network's own working memory, which depends on ``batch`` only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotcli.device import pick_device_name
from hotcli.lifting.network import load_network
from hotcli.lifting.skeleton import (
    bone_lengths,
    flip_pose,
    kept_bone_lengths,
    with_bone_lengths,
)
from hotcli.scene.camera import normalize_2d

#: The rate the shipped lifter was trained at (Human3.6M's 3D poses are sampled at 50 Hz).
TRAINING_FPS = 50.0
#: A network trained on clips taken at this stride too (its checkpoint's ``augment.strides``)
#: is run at its training rate divided by it. The twin on Human3.6M's held-out S8 (one camera
#: per sequence, flip on), MPJPE / P-MPJPE at 50, 25 and 16.7 Hz: detections 64.0 / 48.3,
#: 62.2 / 47.3 and 62.4 / 48.1 mm; ground-truth 2D 39.1 / 28.9, 38.6 / 28.8 and 39.7 / 30.0.
LIFT_STRIDE = 2

ROOT = 0
#: Frames per piece where a whole sequence goes through float64 arithmetic.
CHUNK_FRAMES = 4096
#: Windows per forward pass unless told: on a CPU (see step 4 above), on a GPU.
CPU_BATCH, GPU_BATCH = 4, 16


def lift_rate(meta: dict | None) -> float:
    """The rate (Hz) to run a network at, from its checkpoint's metadata: the rate it was
    trained at (``fps``, else :data:`TRAINING_FPS`), divided by :data:`LIFT_STRIDE` when its
    training clips were also taken at that stride (``augment.strides``)."""
    meta = meta if isinstance(meta, dict) else {}
    fps = float(meta.get("fps") or TRAINING_FPS)
    strides = (meta.get("augment") or {}).get("strides") or ()
    return fps / LIFT_STRIDE if LIFT_STRIDE in strides else fps


@dataclass
class PersonMotion:
    """One person's motion over the whole video (T = the video's frame count)."""

    track_id: int
    keypoints_2d: np.ndarray  # (T, 17, 2) pixels, Human3.6M order
    scores: np.ndarray  # (T, 17) confidence in [0, 1]
    interpolated: np.ndarray  # (T,) bool: filled in because the person was not detected
    keypoints_3d: np.ndarray  # (T, 17, 3) root-relative metres, camera axes
    keypoints_3d_world: np.ndarray  # (T, 17, 3) world frame: z up, ground at z = 0
    # Placed in the scene (hotcli.scene.world); None for motion that was not placed.
    present: np.ndarray | None = None  # (T,) bool: in view (detected or a bridged gap)
    root_camera: np.ndarray | None = None  # (T, 3) pelvis in camera coordinates, metres
    keypoints_3d_camera: np.ndarray | None = None  # (T, 17, 3) absolute camera coordinates
    foot_contact: np.ndarray | None = None  # (T, 2) bool: left, right foot down
    foot_skate_mm: tuple[float, float] | None = None  # mean foot skate before, after the lock

    @property
    def frames(self) -> int:
        return len(self.keypoints_2d)


def sample_frames(sequence: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``sequence`` (N, ...) at fractional frame ``positions``.

    Positions outside [0, N−1] are clamped, i.e. the edge frames are repeated. Integer
    positions return the frames exactly (no rounding drift at 50 fps).
    """
    sequence = np.asarray(sequence)
    n = len(sequence)
    positions = np.clip(np.asarray(positions, dtype=np.float64), 0, n - 1)
    if n == 1:
        return np.repeat(sequence, len(positions), axis=0)
    lower = np.minimum(np.floor(positions).astype(np.int64), n - 2)
    frac = (positions - lower).reshape(-1, *([1] * (sequence.ndim - 1)))
    return sequence[lower] * (1 - frac) + sequence[lower + 1] * frac


def sample_frames_f32(sequence: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """:func:`sample_frames` stored as float32, computed :data:`CHUNK_FRAMES` at a time (the
    same numbers, without a whole-sequence float64 array)."""
    positions = np.asarray(positions, dtype=np.float64)
    out = np.empty((len(positions), *np.shape(sequence)[1:]), np.float32)
    for start in range(0, len(positions), CHUNK_FRAMES):
        stop = start + CHUNK_FRAMES
        out[start:stop] = sample_frames(sequence, positions[start:stop])
    return out


def fix_bone_lengths_f32(poses: np.ndarray) -> np.ndarray:
    """:func:`hotcli.lifting.skeleton.fix_bone_lengths` of (T, 17, 3) poses as float32, in
    pieces of :data:`CHUNK_FRAMES` (the same numbers: lengths over the whole sequence)."""
    chunks = range(0, len(poses), CHUNK_FRAMES)
    out = np.empty(np.shape(poses), np.float32)
    if not len(poses):
        return out
    lengths = np.concatenate([bone_lengths(np.asarray(poses[i : i + CHUNK_FRAMES], np.float64))
                              for i in chunks])  # fmt: skip
    kept = kept_bone_lengths(lengths)
    for i in chunks:
        out[i : i + CHUNK_FRAMES] = with_bone_lengths(poses[i : i + CHUNK_FRAMES], kept)
    return out


def resample_positions(frames: int, fps: float, target_fps: float) -> np.ndarray:
    """Where the target-rate samples fall, in source frames (increasing, first 0, last T−1).

    Samples are evenly spaced at the target rate except the last, which is pulled onto the
    last source frame (a step shorter than one sample), so the clip is covered exactly and
    mapping back never extrapolates.
    """
    if frames <= 1 or not (math.isfinite(fps) and fps > 0) or abs(fps - target_fps) < 1e-6:
        return np.arange(frames, dtype=np.float64)
    count = math.ceil((frames - 1) * target_fps / fps - 1e-6) + 1
    positions = np.arange(count, dtype=np.float64) * fps / target_fps
    positions[-1] = frames - 1
    return positions


def fill_missing(keypoints: np.ndarray) -> np.ndarray:
    """Replace non-finite coordinates by linear interpolation over time (edges repeated).

    The 2D stage already fills missed frames; this only guards the lifter from a stray NaN.
    """
    k = np.array(keypoints, dtype=np.float64)
    if np.isfinite(k).all():
        return k
    flat = k.reshape(len(k), -1)
    t = np.arange(len(k))
    for c in range(flat.shape[1]):
        ok = np.isfinite(flat[:, c])
        flat[:, c] = np.interp(t, t[ok], flat[ok, c]) if ok.any() else 0.0
    return flat.reshape(k.shape)


def window_weights(frames: int) -> np.ndarray:
    """Raised-cosine blending weight over one window: ≈1 in the middle, small but > 0 at ends.

    With a hop of half a window, neighbouring weights sum to a constant, so blending is
    a smooth cross-fade.
    """
    k = np.arange(frames, dtype=np.float64)
    return np.sin(np.pi * (k + 0.5) / frames) ** 2


def window_starts(length: int, frames: int, hop: int) -> np.ndarray:
    """Start frames of windows of ``frames`` covering ``length`` ≥ ``frames`` frames."""
    last = length - frames
    starts = list(range(0, last, max(1, hop)))
    starts.append(last)
    return np.asarray(starts, dtype=np.int64)


class Lifter:
    """A loaded lifter that turns 2D pixel tracks of any length and rate into 3D.

    Build it once (loading the network is the slow part) and call :meth:`lift` per person
    and video. ``weights`` is a shipped name or a checkpoint path (None: the default);
    ``model`` instead is any torch module with a ``cfg`` carrying ``frames`` (and optionally
    ``output``) mapping (B, F, 17, 2) → (B, F, 17, 3); tests use tiny ones. ``backend``:
    :func:`hotcli.lifting.network.load_network`. ``lift_fps``: the rate the network is run
    at (None: :func:`lift_rate` of the checkpoint's metadata; a model given in memory has
    none, so it runs at :data:`TRAINING_FPS`).
    """

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        device: str = "auto",
        flip: bool = True,
        batch: int | None = None,
        model=None,
        lift_fps: float | None = None,
        hop: int | None = None,
        fixed_bones: bool = True,
        backend: str = "auto",
    ) -> None:
        self.device = pick_device_name(device)
        self.network = load_network(weights, self.device, backend, model)
        self.weights: Path | None = self.network.path
        self.meta = self.network.meta
        self.frames = self.network.frames
        self.seq2frame = self.network.seq2frame
        self.flip = flip
        default = CPU_BATCH if self.device == "cpu" else GPU_BATCH
        self.batch = max(1, int(batch)) if batch else default
        self.hop = max(1, int(hop) if hop else self.frames // 2)
        self.lift_fps = float(lift_fps or lift_rate(self.meta))  # Hz the network sees
        self.fixed_bones = fixed_bones

    @property
    def name(self) -> str:
        """What to report as the weights used (file name, or the model's config name)."""
        return self.weights.name if self.weights is not None else self.network.name

    def lift(
        self,
        keypoints_2d: np.ndarray,
        width: float,
        height: float,
        fps: float,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(T, 17, 2) pixels → (T, 17, 3) root-relative metres in camera axes (float32).

        ``progress`` is called with the number of windows each forward pass finished.
        """
        k = np.asarray(keypoints_2d)
        if k.ndim != 3 or k.shape[1:] != (17, 2):
            raise ValueError(f"expected (T, 17, 2) keypoints, got {k.shape}")
        x = normalize_2d(k if np.isfinite(k).all() else fill_missing(k), width, height)
        return self.lift_normalised(x, fps, progress)

    def count_windows(self, frames: int, fps: float) -> int:
        """How many windows :meth:`lift` runs for a clip (for progress bars)."""
        n = len(resample_positions(frames, fps, self.lift_fps))
        if self.seq2frame:
            return n
        return 1 if n <= self.frames else len(window_starts(n, self.frames, self.hop))

    def lift_normalised(
        self,
        x: np.ndarray,
        fps: float = TRAINING_FPS,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """(T, 17, 2) normalised 2D at ``fps`` → (T, 17, 3) root-relative 3D (float32): resampled
        to the network's rate (:attr:`lift_fps`) and back, as :meth:`lift` does."""
        t = len(x)
        if t == 0:
            return np.zeros((0, 17, 3), dtype=np.float32)
        # float32 throughout; float64 only piece by piece (sample_frames_f32)
        positions = resample_positions(t, fps, self.lift_fps)
        resampled = sample_frames_f32(x, positions)
        pose = self._root_relative(resampled, progress)
        del resampled
        if len(positions) != t or not np.array_equal(positions, np.arange(t)):
            # Where each video frame falls in the resampled sequence (i·rate/fps but for the
            # shortened last step), then linear interpolation of the 3D there. The bones
            # are fitted after this, as interpolating between two poses shortens them.
            back = np.interp(np.arange(t), positions, np.arange(len(positions)))
            pose = sample_frames_f32(pose, back)
        return fix_bone_lengths_f32(pose) if self.fixed_bones else pose.astype(np.float32)

    def _root_relative(self, x: np.ndarray, progress: Callable[[int], None] | None) -> np.ndarray:
        """The network's 3D with the root joint moved to the origin (float32)."""
        pose = self._network_pose(x, progress)
        pose -= pose[:, ROOT : ROOT + 1]
        return pose

    def _network_pose(self, x: np.ndarray, progress: Callable[[int], None] | None) -> np.ndarray:
        """The network's 3D for every frame of ``x``: one window per frame, or blended windows."""
        length, f = len(x), self.frames
        if self.seq2frame:
            padded = np.concatenate([np.repeat(x[:1], f // 2, 0), x,
                                     np.repeat(x[-1:], f - 1 - f // 2, 0)])  # fmt: skip
            outs = [
                y[:, 0].astype(np.float32) for y in self._run(padded, np.arange(length), progress)
            ]
            return np.concatenate(outs)
        left = max(0, (f - length) // 2)
        right = max(0, f - length - left)
        padded = x  # a clip as long as a window or longer needs no padding (and no copy)
        if left or right:
            padded = np.concatenate([np.repeat(x[:1], left, 0), x, np.repeat(x[-1:], right, 0)])
        starts = window_starts(len(padded), f, self.hop)
        weight = window_weights(f)[:, None, None]
        # Blend as the windows come (their starts ascend): a frame is final once the next
        # window starts after it, so only the frames of the current window are summed, in
        # float64, and the result is float32.
        out = np.full((length, 17, 3), np.nan, np.float32)  # NaN: a frame no window covers
        base, sums, norm = 0, np.zeros((0, 17, 3)), np.zeros((0, 1, 1))
        done = 0
        for batch in self._run(padded, starts, progress):
            for y, s in zip(batch, starts[done : done + len(batch)], strict=True):
                if s + f > base + len(sums):  # grow the open span to cover this window
                    grow = s + f - base - len(sums)
                    sums = np.concatenate([sums, np.zeros((grow, 17, 3))])
                    norm = np.concatenate([norm, np.zeros((grow, 1, 1))])
                sums[s - base : s - base + f] += weight * y
                norm[s - base : s - base + f] += weight
                done += 1
                final = len(padded) if done == len(starts) else int(starts[done])
                if final > base:  # frames [base, final) get no more windows: write them
                    self._emit(out, sums[: final - base] / norm[: final - base], base, left)
                    sums, norm, base = sums[final - base :], norm[final - base :], final
        return out

    @staticmethod
    def _emit(out: np.ndarray, blended: np.ndarray, base: int, left: int) -> None:
        """Copy the padded frames ``base, base + 1, ...`` that fall inside the clip to ``out``."""
        lo, hi = max(base, left), min(base + len(blended), left + len(out))
        if hi > lo:
            out[lo - left : hi - left] = blended[lo - base : hi - base]

    def _run(
        self, padded: np.ndarray, starts: np.ndarray, progress: Callable[[int], None] | None
    ) -> Iterator[np.ndarray]:
        """Yield network outputs (n, F or 1, 17, 3) for windows at ``starts``, batched."""
        f = self.frames
        offsets = np.arange(f)
        for i in range(0, len(starts), self.batch):
            chunk = padded[starts[i : i + self.batch, None] + offsets]  # (n, F, 17, 2)
            yield self._forward(chunk)
            if progress is not None:
                progress(len(chunk))

    def _forward(self, windows: np.ndarray) -> np.ndarray:
        """One batched pass, with the mirrored copy in the same batch when flipping."""
        n = len(windows)
        if self.flip:
            windows = np.concatenate([windows, flip_pose(windows)])
        y = self.network(windows).astype(np.float64)
        if not self.flip:
            return y
        return 0.5 * (y[:n] + flip_pose(y[n:]))
