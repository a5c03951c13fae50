"""The lifter's bookkeeping: rate resampling, padding, blended windows, flip TTA, devices.

The stand-in networks here are per-frame linear maps, so the exact answer is known; the
tests of windowing switch off the bone-length fit, one test checks it is on by default.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from hotcli.device import pick_device
from hotcli.errors import HotPoseError
from hotcli.lifting.lifter import (
    CPU_BATCH,
    TRAINING_FPS,
    Lifter,
    lift_rate,
    resample_positions,
    sample_frames,
    window_starts,
    window_weights,
)
from hotcli.lifting.skeleton import (
    HEAD_TOP_AND_ANKLES_M,
    MIN_STANDING_STRAIGHTNESS,
    bone_lengths,
    fix_bone_lengths,
    scale_to_height,
    standing_extent,
)
from hotcli.scene.camera import normalize_2d

F = 27
W, H = 640, 480
MIRROR_2D = np.diag([-1.0, 1.0])
MIRROR_3D = np.diag([-1.0, 1.0, 1.0])


class PerFrame(nn.Module):
    """Stand-in lifter: the same linear map on every joint of every frame (no temporal context).

    Because it is per-frame, any correct windowing/blending must give exactly its per-frame
    answer; a seam, a wrong weight normalisation or an off-by-one index would show.
    """

    def __init__(self, frames: int = F, output: str = "seq2seq", seed: int = 0) -> None:
        super().__init__()
        self.cfg = SimpleNamespace(frames=frames, output=output, name="per_frame")
        rng = np.random.default_rng(seed)
        self.A = rng.normal(size=(3, 2))
        self.b = rng.normal(size=3)
        self.lin = nn.Linear(2, 3).double()
        with torch.no_grad():
            self.lin.weight.copy_(torch.from_numpy(self.A))
            self.lin.bias.copy_(torch.from_numpy(self.b))
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1:] == (self.cfg.frames, 17, 2), x.shape
        self.seen.append(x.clone())
        y = self.lin(x.double()).float()
        if self.cfg.output == "seq2frame":
            c = self.cfg.frames // 2
            y = y[:, c : c + 1]
        return y

    def expected(self, pixels: np.ndarray, flip: bool) -> np.ndarray:
        """What a per-frame lift must return (root-relative), with the flip average folded in.

        Mirroring, swapping, mapping, un-mirroring and swapping back turns A into M3·A·M2, so
        flip TTA equals the per-frame map with A averaged with its mirror image.
        """
        A = 0.5 * (self.A + MIRROR_3D @ self.A @ MIRROR_2D) if flip else self.A
        x = normalize_2d(pixels, W, H).astype(np.float64)
        y = x @ A.T
        return y - y[:, :1]


def straight_line(t: int, seed: int = 1) -> np.ndarray:
    """A constant-velocity 2D track (every joint moves linearly in time), in pixels."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(100, 400, size=(17, 2))
    velocity = rng.normal(scale=2.0, size=(17, 2))
    return start + np.arange(t)[:, None, None] * velocity


def wiggly(t: int, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(50, 450, size=(t, 17, 2))


LENGTHS = [1, 2, F - 1, F, F + 1, 3 * F + 7]


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("flip", [False, True])
def test_blended_windows_equal_per_frame_result_at_training_rate(length, flip):
    model = PerFrame()
    lifter = Lifter(model=model, device="cpu", flip=flip, batch=2, fixed_bones=False)
    pixels = wiggly(length)
    out = lifter.lift(pixels, W, H, fps=50.0)
    assert out.shape == (length, 17, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, model.expected(pixels, flip), atol=2e-5)
    assert np.all(out[:, 0] == 0)  # root-relative


@pytest.mark.parametrize("fps", [10, 25, 29.97, 30, 50, 60])
@pytest.mark.parametrize("length", LENGTHS)
def test_any_rate_and_length_keeps_frame_count_and_is_seamless(fps, length):
    model = PerFrame()
    lifter = Lifter(model=model, device="cpu", flip=False, batch=3, fixed_bones=False)
    pixels = straight_line(length)
    out = lifter.lift(pixels, W, H, fps=fps)
    assert out.shape == (length, 17, 3)
    # Linear in time in, per-frame linear model: resampling there and back is exact.
    np.testing.assert_allclose(out, model.expected(pixels, flip=False), atol=5e-5)


def test_seq2frame_models_get_one_window_per_frame():
    model = PerFrame(frames=9, output="seq2frame")
    lifter = Lifter(model=model, device="cpu", flip=True, batch=4, fixed_bones=False)
    pixels = wiggly(11)
    out = lifter.lift(pixels, W, H, fps=50)
    np.testing.assert_allclose(out, model.expected(pixels, flip=True), atol=2e-5)
    assert sum(len(x) for x in model.seen) == 2 * 11  # plain + mirrored per frame


def test_bones_get_one_length_by_default():
    model = PerFrame()
    pixels = wiggly(40)
    out = Lifter(model=model, device="cpu", flip=False).lift(pixels, W, H, fps=50)
    np.testing.assert_allclose(out, fix_bone_lengths(model.expected(pixels, flip=False)), atol=5e-5)
    assert bone_lengths(out.astype(np.float64)).std(axis=0).max() < 1e-5


@pytest.mark.parametrize("fps", [25, 30, 60])
def test_bones_keep_one_length_at_any_rate(fps):
    """The fit comes after mapping back to the video's frames, which shortens bones."""
    out = Lifter(model=PerFrame(), device="cpu", flip=False).lift(wiggly(40), W, H, fps=fps)
    assert bone_lengths(out.astype(np.float64)).std(axis=0).max() < 1e-5


def test_network_sees_motion_at_its_training_rate():
    """A 25 fps clip is resampled to 50 Hz: the network sees half the per-frame velocity."""
    model = PerFrame()
    lifter = Lifter(model=model, device="cpu", flip=False)
    pixels = straight_line(10)
    lifter.lift(pixels, W, H, fps=25)
    (seen,) = torch.cat(model.seen).numpy()  # one window: 10 frames at 25 fps → 19 at 50 Hz
    left = (F - 19) // 2
    assert np.all(seen[:left] == seen[left]) and np.all(seen[left + 19 :] == seen[left + 18])
    step_in = np.diff(normalize_2d(pixels, W, H), axis=0)[0]
    steps = np.diff(seen[left : left + 19], axis=0)
    np.testing.assert_allclose(steps, np.broadcast_to(step_in / 2, steps.shape), atol=1e-5)


def test_a_network_trained_at_stride_two_too_runs_at_half_its_training_rate():
    assert lift_rate({"fps": 50, "augment": {"strides": [1, 1, 1, 2, 3]}}) == 25.0
    assert lift_rate({"fps": 50, "augment": {"strides": [1, 3]}}) == 50.0
    assert lift_rate({}) == lift_rate(None) == TRAINING_FPS  # a model given in memory
    # a 50 fps clip run at 25 Hz: the network sees every second frame, the 3D comes back at
    # every frame (between two seen frames, their mean: exact for a straight line)
    model = PerFrame()
    lifter = Lifter(model=model, device="cpu", flip=False, fixed_bones=False, lift_fps=25)
    pixels = straight_line(21)
    out = lifter.lift(pixels, W, H, fps=50)
    (seen,) = torch.cat(model.seen).numpy()
    left = (F - 11) // 2
    np.testing.assert_allclose(seen[left : left + 11], normalize_2d(pixels[::2], W, H), atol=1e-6)
    np.testing.assert_allclose(out, model.expected(pixels, flip=False), atol=5e-5)
    assert lifter.count_windows(400, 50) == len(window_starts(201, F, F // 2))  # 400 → 201


def test_the_shipped_lifter_runs_at_25_hz():
    from tests.conftest import shipped_lifter_weights

    if shipped_lifter_weights() is None:
        pytest.skip("the shipped lifter weights are not in weights/")
    assert Lifter(None, device="cpu").lift_fps == 25.0


def test_resample_positions_and_sampling():
    np.testing.assert_allclose(resample_positions(3, 25, 50), [0, 0.5, 1, 1.5, 2])
    np.testing.assert_array_equal(resample_positions(5, 50, 50), np.arange(5))
    pos = resample_positions(4, 30, 50)  # ends exactly on the last frame
    np.testing.assert_allclose(pos, [0, 0.6, 1.2, 1.8, 2.4, 3])
    seq = np.arange(4.0)[:, None]
    np.testing.assert_allclose(sample_frames(seq, [0, 0.25, 2.5, 3, 7])[:, 0], [0, 0.25, 2.5, 3, 3])
    np.testing.assert_allclose(sample_frames(seq[:1], [0, 0.5]), [[0], [0]])


def test_window_plan_covers_everything_and_weights_cross_fade():
    for length in (F, F + 1, 2 * F, 3 * F + 7, 500):
        starts = window_starts(length, F, F // 2)
        assert starts[0] == 0 and starts[-1] == length - F
        assert np.all(np.diff(starts) > 0) and np.all(np.diff(starts) <= F // 2)
    w = window_weights(F)
    assert np.all(w > 0) and w.max() <= 1
    w = window_weights(20)
    np.testing.assert_allclose(w[:10] + w[10:], 1.0)  # half-window hop: constant sum


def test_missing_coordinates_do_not_poison_the_clip():
    model = PerFrame()
    pixels = wiggly(30)
    pixels[3, 5] = np.nan
    out = Lifter(model=model, device="cpu", flip=False).lift(pixels, W, H, fps=50)
    assert np.isfinite(out).all()


def test_real_network_plugs_in_for_any_length():
    from models import create_model

    torch.manual_seed(0)
    net = create_model("hot_mixste_s", frames=27, width=32, depth=3, heads=4, schedule=((1, 9),))
    lifter = Lifter(model=net, device="cpu", batch=2)
    for length, fps in [(1, 30), (40, 25), (90, 60)]:
        out = lifter.lift(wiggly(length), W, H, fps=fps)
        assert out.shape == (length, 17, 3) and np.isfinite(out).all()
    assert lifter.count_windows(90, 60) == len(window_starts(76, 27, 13))  # 90 at 60 → 76 at 50


def test_devices_used_by_the_lifter():
    assert Lifter(model=PerFrame(), device="cpu").device == "cpu"
    # on a CPU 4 windows a pass by default: as fast as 16 and ~450 MB less working memory
    assert Lifter(model=PerFrame(), device="cpu").batch == CPU_BATCH == 4
    assert Lifter(model=PerFrame(), device="cpu", batch=16).batch == 16
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(HotPoseError, match="unknown device"):
        Lifter(model=PerFrame(), device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(HotPoseError, match="CUDA was requested"):
            pick_device("cuda")


def test_missing_weights_is_one_clear_error(tmp_path):
    with pytest.raises(HotPoseError, match="cannot find lifter weights"):
        Lifter(weights=str(tmp_path / "nope.pt"), device="cpu")
    bad = tmp_path / "bad.pt"
    bad.write_text("not a checkpoint")
    with pytest.raises(HotPoseError, match="cannot load lifter weights"):
        Lifter(weights=str(bad), device="cpu")


def _standing_then_seated(frames: int = 40) -> np.ndarray:
    """Root-relative poses (T, 17, 3), z up: upright for the first half, then as if seated
    (thighs level, shins upright, the upper body lowered onto the hips); every bone keeps
    its length."""
    from hotcli.bench.synthetic import STANDING_POSE

    up = np.asarray(STANDING_POSE - STANDING_POSE[0], np.float64)
    shin, thigh = np.linalg.norm(up[2] - up[3]), np.linalg.norm(up[1] - up[2])
    seated = up.copy()
    for knee, ankle in ((2, 3), (5, 6)):
        seated[knee] = up[ankle] + [0.0, 0.0, shin]
    # facing −y: the hips go back (+y) from the knees by a level thigh
    shift = seated[2] + [0.0, thigh, 0.0] - up[1]
    seated[[0, 1, 4, *range(7, 17)]] += shift
    poses = np.stack([up] * (frames // 2) + [seated] * (frames - frames // 2))
    return poses - poses[:, :1]


def test_a_skeleton_given_a_height_stands_that_tall_less_head_top_and_ankles():
    poses = _standing_then_seated()
    scaled = scale_to_height(poses, 1.85)
    assert standing_extent(scaled) == pytest.approx(1.85 - HEAD_TOP_AND_ANKLES_M, rel=1e-6)
    # every bone scaled alike, about the root
    ratio = bone_lengths(scaled) / bone_lengths(poses)
    assert np.allclose(ratio, ratio[0, 0]) and np.allclose(scaled[:, 0], poses[:, 0])


def test_a_person_who_never_stands_up_is_sized_by_their_bones():
    seated = _standing_then_seated()[20:]  # the seated half only: the head never gets high
    chain = [(2, 3), (1, 2), (0, 7), (7, 8), (8, 9), (9, 10)]
    lengths = bone_lengths(seated[:1])[0]
    from hotcli.lifting.skeleton import H36M_BONES

    chain_m = sum(lengths[H36M_BONES.index(b)] for b in chain)
    reach = np.linalg.norm(seated[:, 10] - seated[:, (3, 6)].mean(1), axis=-1).max()
    assert reach < MIN_STANDING_STRAIGHTNESS * chain_m
    assert standing_extent(seated) == pytest.approx(MIN_STANDING_STRAIGHTNESS * chain_m)
