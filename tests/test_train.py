"""A short training run learns, is deterministic for a seed, and resumes; bf16 runs in bf16;
scripts/reproduce_weights.sh holds the shipped weights' settings."""

import argparse
import csv
import math

import torch

from hotcli.cli.main import main
from models import load_checkpoint
from tests.test_data import write_fake_dataset


def train(tmp_path, out, *extra):
    poses, cams = write_fake_dataset(tmp_path)
    return main(
        [
            "train",
            "--config",
            "hot_mixste_tiny",
            "--data",
            str(poses),
            "--cameras",
            str(cams),
            "--train-subjects",
            "S1",
            "--val-subjects",
            "S2",
            "--batch",
            "4",
            "--clip-stride",
            "5",
            "--warmup",
            "5",
            "--lr",
            "2e-3",
            "--out",
            str(out),
            "--quiet",
            "--precision",
            "fp32",
            *extra,
        ]
    )


def test_short_training_lowers_the_loss_and_is_deterministic(tmp_path):
    assert train(tmp_path, tmp_path / "a", "--epochs", "3") == 0
    rows = list(csv.DictReader((tmp_path / "a" / "log.csv").open()))
    assert len(rows) == 3
    assert float(rows[-1]["train_loss"]) < 0.8 * float(rows[0]["train_loss"])
    assert (tmp_path / "a" / "curve.png").stat().st_size > 1000
    model, meta = load_checkpoint(tmp_path / "a" / "best.pt")
    assert meta["train_subjects"] == "S1" and model.cfg.name == "hot_mixste_tiny"

    # Same seed: same weights; interrupted after 2 epochs and resumed: same weights too.
    assert train(tmp_path, tmp_path / "b", "--epochs", "3") == 0
    assert train(tmp_path, tmp_path / "c", "--epochs", "3", "--max-steps", "20") == 0
    assert train(tmp_path, tmp_path / "c", "--epochs", "3", "--resume") == 0
    a, b, c = (torch.load(tmp_path / d / "last.pt")["model"] for d in "abc")
    for key in a:
        assert torch.equal(a[key], b[key]), key
        assert torch.equal(a[key], c[key]), key


def test_init_from_weights_continues_learning(tmp_path):
    assert train(tmp_path, tmp_path / "a", "--epochs", "2") == 0
    best = tmp_path / "a" / "best.pt"
    assert train(tmp_path, tmp_path / "b", "--epochs", "1", "--init", str(best)) == 0
    first = list(csv.DictReader((tmp_path / "a" / "log.csv").open()))
    warm = list(csv.DictReader((tmp_path / "b" / "log.csv").open()))
    assert float(warm[0]["train_loss"]) < float(first[0]["train_loss"])
    # The new weights say where they started: the starting run's subjects and validation.
    start = load_checkpoint(tmp_path / "b" / "best.pt")[1]["init_meta"]
    assert start["train_subjects"] == "S1" and start["val_mpjpe_mm"] > 0
    assert train(tmp_path, tmp_path / "c", "--init", "no-such-weights") == 2


def test_trained_on_follows_the_init_chain():
    from hotcli.training.evaluate import trained_on

    final = {
        "train_subjects": "S1,S5,S6,S7,S8",
        "init_meta": {"train_subjects": "S1,S5", "init_meta": {"train_subjects": "S9"}},
    }
    assert trained_on(final) == {"S1", "S5", "S6", "S7", "S8", "S9"}
    assert "S8" not in trained_on({"train_subjects": "S1,S5,S6,S7"})
    assert trained_on({}) == set()


def parse_train(*argv):
    import argparse

    from hotcli.training import train as train_mod

    parser = argparse.ArgumentParser()
    train_mod.add_arguments(parser)
    return train_mod.augment_from_args(parser.parse_args(list(argv)))


def test_each_augmentation_is_switchable():
    from hotcli.training.data import Augment

    assert parse_train() == Augment()
    aug = parse_train("--virtual-cameras", "0.3", "--strides", "1,2", "--no-flip")
    assert (aug.virtual_cameras, aug.strides, aug.flip) == (0.3, (1, 2), False)
    assert aug.noise == Augment().noise  # the rest keep their defaults
    only_noise = parse_train("--no-augment", "--noise", "0.02")
    assert only_noise.noise == 0.02 and only_noise.flip and only_noise.virtual_cameras == 0
    assert only_noise.strides == (1,) and only_noise.bad_joints == 0
    assert only_noise.bone_scale == 0 and parse_train("--bone-scale", "0").bone_scale == 0


def test_bad_augmentation_values_are_one_line_errors(capsys):
    assert main(["train", "--virtual-cameras", "1.5"]) == 2
    assert "--virtual-cameras must be between 0 and 1" in capsys.readouterr().err
    assert main(["train", "--strides", "1,0"]) == 2
    assert "--strides" in capsys.readouterr().err


def test_bf16_training_runs_its_forward_pass_in_bf16_and_still_learns(tmp_path, monkeypatch):
    import models

    dtypes = {"bf16": [], "fp32": []}
    create_model = models.create_model

    def spying(precision):
        def create(*args, **kwargs):  # record what the first linear layer computes in
            model = create_model(*args, **kwargs)
            first = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
            first.register_forward_hook(lambda m, i, out: dtypes[precision].append(out.dtype))
            return model

        return create

    for precision, length in (("bf16", ["--epochs", "3"]), ("fp32", ["--max-steps", "2"])):
        monkeypatch.setattr(models, "create_model", spying(precision))
        assert train(tmp_path, tmp_path / precision, *length, "--precision", precision) == 0
    assert set(dtypes["bf16"]) == {torch.bfloat16} and set(dtypes["fp32"]) == {torch.float32}
    rows = list(csv.DictReader((tmp_path / "bf16" / "log.csv").open()))
    losses = [float(r["train_loss"]) for r in rows]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < 0.8 * losses[0]
    assert all(math.isfinite(float(r["val_mpjpe_mm"])) for r in rows)
    assert load_checkpoint(tmp_path / "bf16" / "best.pt")[1]["precision"] == "bf16"


def test_training_on_detections_lowers_the_loss_and_validates_on_both_inputs(tmp_path):
    import numpy as np

    from hotcli.training.data import load_cameras

    poses, cams = write_fake_dataset(tmp_path)
    camera = load_cameras(cams)["S1"][0]
    data = np.load(poses)
    rng = np.random.default_rng(0)
    detections = {  # the projections with a detector's steady offset and some noise
        f"{key}/x": camera.to_pixels(camera.to_camera(data[key]))
        + rng.normal(0, 4, (17, 2))
        + rng.normal(0, 1, (len(data[key]), 17, 2))
        for key in data.files
    }
    np.savez(tmp_path / "det.npz", **{k: v.astype(np.float32) for k, v in detections.items()})
    det = ["--keypoints-2d", str(tmp_path / "det.npz"), "--layout", "h36m17"]
    assert train(tmp_path, tmp_path / "d", "--epochs", "3", *det, "--detections", "1") == 0
    rows = list(csv.DictReader((tmp_path / "d" / "log.csv").open()))
    assert float(rows[-1]["train_loss"]) < 0.8 * float(rows[0]["train_loss"])
    assert all(float(r["val_det_mpjpe_mm"]) > 0 and float(r["val_mpjpe_mm"]) > 0 for r in rows)
    meta = load_checkpoint(tmp_path / "d" / "best.pt")[1]
    assert meta["keypoints_2d"] == "det.npz" and meta["augment"]["detections"] == 1.0
    assert meta["val_det_mpjpe_mm"] == min(float(r["val_det_mpjpe_mm"]) for r in rows)


def test_bad_training_options_are_one_line_errors(tmp_path, capsys):
    import pytest

    for option in ("--batch", "--clip-stride"):
        with pytest.raises(SystemExit) as exc:
            main(["train", option, "0"])
        assert exc.value.code == 2
        assert f"argument {option}: must be 1 or more" in capsys.readouterr().err
    assert train(tmp_path, tmp_path / "r", "--epochs", "1", "--max-steps", "2") == 0
    capsys.readouterr()
    args = ["--epochs", "2", "--resume", "--config", "hot_mixste_xs"]
    assert train(tmp_path, tmp_path / "r", *args) == 2
    assert "trained as hot_mixste_tiny" in capsys.readouterr().err


def reproduce_commands(tmp_path) -> list[list[str]]:
    """What scripts/reproduce_weights.sh runs: each ``hot-pose`` call's arguments, in order
    (the script runs under bash with ``hot-pose`` and ``cp`` replaced by recorders)."""
    import os
    import shutil
    import subprocess

    import pytest

    from tests.conftest import ROOT

    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "hot-pose").write_text(
        '#!/bin/sh\nfor a in "$@"; do printf "%s\\037" "$a"; done >> "$CALLS"; echo >> "$CALLS"\n'
    )
    (fake / "cp").write_text("#!/bin/sh\n")
    for tool in fake.iterdir():
        tool.chmod(0o755)
    calls = tmp_path / "calls"
    path = f"{fake}{os.pathsep}{os.environ['PATH']}"
    env = os.environ | {"PATH": path, "CALLS": str(calls), "RUNS": "runs"}
    script = ROOT / "scripts" / "reproduce_weights.sh"
    subprocess.run(["bash", str(script)], env=env, check=True, stdout=subprocess.DEVNULL)
    return [line.split("\037")[:-1] for line in calls.read_text().splitlines()]


def test_the_reproduce_script_has_the_shipped_weights_settings_stage_by_stage(tmp_path):
    from dataclasses import asdict

    import pytest

    from hotcli.training import train as train_mod
    from tests.conftest import shipped_lifter_weights

    if shipped_lifter_weights() is None:
        pytest.skip("no shipped lifter checkpoint in weights/")
    parser = argparse.ArgumentParser()
    train_mod.add_arguments(parser)
    calls = reproduce_commands(tmp_path)
    assert all(argv[0] == "train" for argv in calls)
    stages = [parser.parse_args(argv[1:]) for argv in calls]
    # Each checkpoint's metadata holds the settings of its run and of every run before it.
    chain, meta = [], load_checkpoint("hot_mixste_xs_h36m")[1]
    while meta:
        chain.append(meta)
        meta = meta.get("init_meta")
    chain.reverse()
    assert len(stages) == len(chain)
    twin = load_checkpoint("hot_mixste_xs_h36m_without_s8")[1]
    assert twin == chain[-2] | {"init": twin["init"]}  # the default started from a copy of it
    for i, (args, meta) in enumerate(zip(stages, chain, strict=True)):
        got = vars(args) | {"augment": asdict(train_mod.augment_from_args(args))}
        got["augment"] = {key: got["augment"][key] for key in meta["augment"]}
        for key in ("seed", "batch", "lr", "clip_stride", "epochs", "precision", "augment",
                    "train_subjects", "val_subjects"):  # fmt: skip
            assert got[key] == meta[key], (str(args.out), key)
        if i:
            assert args.init == str(stages[i - 1].out / "best.pt"), args.out
