"""The lifter: shapes, pruning stages, recovery, determinism, and learning signal."""

import pytest
import torch

import models.mixste
from models import (
    LifterConfig,
    MixSTE,
    create_model,
    list_models,
    load_checkpoint,
    save_checkpoint,
    unpruned_twin,
)
from models.pruning import cluster_scores, select_frames
from models.recovering import interpolate_frames

TINY = LifterConfig(
    name="tiny", frames=27, width=32, depth=4, heads=4, drop_path=0.0, init_std=0.02
)
STRATEGIES = ["cluster", "uniform", "attention", "motion"]


def tiny(**changes) -> MixSTE:
    torch.manual_seed(0)
    return MixSTE(TINY.replace(**changes)).eval()


def inputs(batch=3, frames=27, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, 17, 2, generator=g)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("recover", ["attention", "nearest", "linear"])
@pytest.mark.parametrize("schedule", [((1, 9),), ((1, 13), (2, 9), (3, 3))])
def test_seq2seq_returns_every_frame(strategy, recover, schedule):
    model = tiny(schedule=schedule, prune=strategy, recover=recover)
    with torch.no_grad():
        assert model(inputs()).shape == (3, 27, 17, 3)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_seq2frame_returns_centre_frame(strategy):
    model = tiny(schedule=((1, 9), (2, 3)), prune=strategy, output="seq2frame")
    with torch.no_grad():
        assert model(inputs()).shape == (3, 1, 17, 3)


def test_unpruned_seq2frame_is_centre_of_seq2seq():
    seq = tiny()
    frame = MixSTE(TINY.replace(output="seq2frame")).eval()
    frame.load_state_dict(seq.state_dict())
    x = inputs()
    with torch.no_grad():
        assert torch.allclose(frame(x)[:, 0], seq(x)[:, 13], atol=1e-6)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_kept_tokens_at_each_stage(strategy, monkeypatch):
    seen = []
    original = models.mixste.gather_frames

    def spy(x, idx):
        out = original(x, idx)
        seen.append(out.shape[1])
        return out

    monkeypatch.setattr(models.mixste, "gather_frames", spy)
    model = tiny(schedule=((1, 13), (2, 9), (3, 3)), prune=strategy)
    with torch.no_grad():
        model(inputs())
    assert seen == [13, 9, 3]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("output", ["seq2seq", "seq2frame"])
def test_eval_is_deterministic_and_batch_independent(strategy, output):
    model = tiny(schedule=((1, 9), (3, 3)), prune=strategy, output=output)
    x = inputs(batch=4)
    with torch.no_grad():
        batched = model(x)
        again = model(x)
        alone = torch.cat([model(x[i : i + 1]) for i in range(4)])
    assert torch.equal(batched, again)
    assert torch.allclose(batched, alone, atol=1e-5)


def test_empty_schedule_is_the_unpruned_model_with_the_same_weights():
    pruned = tiny(schedule=((1, 9),))
    plain = MixSTE(pruned.cfg.replace(schedule=())).eval()
    missing, unexpected = plain.load_state_dict(pruned.state_dict(), strict=False)
    assert not missing and all(k.startswith("recovery.") for k in unexpected)
    reference = tiny()  # same seed: same initial weights for the shared parameters
    reference.load_state_dict(plain.state_dict())
    x = inputs()
    with torch.no_grad():
        assert torch.equal(plain(x), reference(x))
        assert not torch.allclose(pruned(x), plain(x))


@pytest.mark.parametrize(
    "changes",
    [
        dict(schedule=((1, 9),)),
        dict(schedule=((1, 13), (2, 9), (3, 3)), prune="attention"),
        dict(schedule=((2, 9),), recover="linear", prune="motion"),
        dict(schedule=((2, 9),), output="seq2frame"),
        dict(init_std=0.0, schedule=((1, 9),)),  # the papers' zero-initialised queries still learn
    ],
)
def test_gradients_reach_every_parameter(changes):
    # One step first: with zero-initialised queries the query projection only sees a
    # gradient once the queries themselves have moved away from zero.
    model = tiny(**changes).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        model(inputs()).square().mean().backward()
        opt.step()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_cluster_keeps_one_centre_per_cluster():
    # Three tight groups of frame tokens: density peaks are one frame of each.
    centres = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    g = torch.Generator().manual_seed(0)
    tokens = torch.cat([c + 0.05 * torch.randn(6, 2, generator=g) for c in centres])[None]
    x = tokens[:, :, None, :].expand(1, 18, 17, 2)
    idx = select_frames(x, 3, "cluster", knn=2)[0]
    assert sorted((idx // 6).tolist()) == [0, 1, 2]


def test_cluster_breaks_ties_between_identical_frames():
    # Edge-padded clips repeat a frame: only one copy may be a cluster centre.
    tokens = torch.tensor([[0.0], [0.0], [0.0], [0.0], [3.0], [7.0]])[None]
    scores = cluster_scores(tokens, knn=2)[0]
    assert (scores[:4] > scores[:4].min()).sum() == 1


def test_uniform_and_motion_choices():
    x = torch.zeros(1, 10, 17, 4)
    assert select_frames(x, 4, "uniform")[0].tolist() == [0, 3, 6, 9]
    x[:, 6:] = 1.0  # the only change happens between frames 5 and 6
    assert select_frames(x, 2, "motion")[0].tolist() == [5, 6]


def test_selection_keeps_forced_frame_and_time_order():
    x = torch.randn(2, 27, 17, 8)
    must = torch.zeros(2, 27, dtype=torch.bool)
    must[:, 13] = True
    for strategy in ["cluster", "uniform", "motion"]:
        idx = select_frames(x, 5, strategy, must_keep=must)
        assert (idx == 13).any(dim=1).all()
        assert (idx.diff(dim=1) > 0).all()


def test_linear_interpolation_is_exact_for_linear_motion():
    frames = torch.arange(20, dtype=torch.float32)
    tokens = (2 * frames + 1)[None, :, None, None].expand(1, 20, 3, 2)
    positions = torch.tensor([[0, 4, 11, 19]])
    kept = tokens[:, positions[0]]
    out = interpolate_frames(kept, positions, 20, "linear")
    assert torch.allclose(out, tokens)
    near = interpolate_frames(kept, positions, 20, "nearest")
    assert near[0, 2, 0, 0] == tokens[0, 4, 0, 0] and near[0, 1, 0, 0] == tokens[0, 0, 0, 0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_weights_trained_on_a_gpu_are_saved_on_the_cpu(tmp_path):
    save_checkpoint(tmp_path / "m.pt", tiny().cuda())
    state = torch.load(tmp_path / "m.pt", weights_only=True)["state_dict"]  # no map_location
    assert {v.device.type for v in state.values()} == {"cpu"}


def test_registry_and_checkpoint_round_trip(tmp_path):
    names = list_models()
    for required in [
        "mixste",
        "hot_mixste",
        "h2ot_mixste",
        "mixste_s",
        "hot_mixste_s",
        "mixste_m",
        "hot_mixste_m",
    ]:
        assert required in names
    paper = create_model("hot_mixste").cfg
    assert (paper.width, paper.depth, paper.frames, paper.schedule) == (512, 8, 243, ((3, 81),))
    assert unpruned_twin("hot_mixste") == "mixste"
    assert len(create_model("h2ot_mixste").cfg.schedule) > 1
    model = tiny(schedule=((1, 9),))
    save_checkpoint(tmp_path / "m.pt", model, {"note": "test"})
    loaded, meta = load_checkpoint(tmp_path / "m.pt")
    assert meta == {"note": "test"} and loaded.cfg == model.cfg
    x = inputs()
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_a_checkpoint_with_an_older_config_still_loads(tmp_path):
    """Checkpoints saved before LifterConfig lost its ``extra`` field store it in their config."""
    model = tiny()
    save_checkpoint(tmp_path / "m.pt", model)
    ckpt = torch.load(tmp_path / "m.pt", weights_only=True)
    ckpt["config"]["extra"] = {}
    torch.save(ckpt, tmp_path / "old.pt")
    loaded, _ = load_checkpoint(tmp_path / "old.pt")
    assert loaded.cfg == model.cfg


def test_bad_config_is_rejected():
    with pytest.raises(ValueError):
        TINY.replace(schedule=((2, 9), (1, 3)))
    with pytest.raises(ValueError):
        TINY.replace(prune="random")
    with pytest.raises(ValueError):
        tiny()(inputs(frames=26))


def test_flop_count_includes_attention_products():
    from hotcli.bench.lifter import count_flops
    from models.mixste import Attention

    n, c, h = 10, 32, 4
    layer = Attention(c, h)
    projections = 2 * n * c * 3 * c + 2 * n * c * c  # qkv and output projections
    products = 2 * (2 * h * n * n * (c // h))  # QKᵀ and AV
    assert count_flops(lambda x: layer(x), torch.randn(1, n, c)) == projections + products


def test_pruning_cuts_flops_as_the_papers_claim():
    from hotcli.bench.lifter import count_flops

    flops = {}
    for name in ["mixste", "hot_mixste", "h2ot_mixste"]:
        model = create_model(name).eval()
        flops[name] = count_flops(model, torch.zeros(1, model.cfg.frames, 17, 2))
    assert flops["hot_mixste"] / flops["mixste"] < 0.62
    assert flops["h2ot_mixste"] / flops["mixste"] < 0.45


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_builds_by_name_and_lifts_a_clip_of_its_length(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    assert model.cfg.name == name
    with torch.no_grad():
        out = model(inputs(batch=1, frames=model.cfg.frames))
    frames = 1 if model.cfg.output == "seq2frame" else model.cfg.frames
    assert out.shape == (1, frames, 17, 3)
    assert torch.isfinite(out).all()
