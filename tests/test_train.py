"""A short training run learns, is deterministic for a seed, and resumes."""

import csv

import torch

from hotcli.cli import main
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
