"""`hot-pose eval` on a fabricated file of the shared layout, with projected or given 2D."""

import json

import numpy as np
import pytest
import torch

from hotcli.cli.main import main
from hotcli.training.data import load_cameras
from models import create_model, save_checkpoint
from tests.test_data import write_fake_dataset


@pytest.fixture()
def fake(tmp_path):
    """A fake data set, a small random lifter, and the exact projections of every view."""
    poses, cams = write_fake_dataset(tmp_path)
    weights = tmp_path / "tiny.pt"
    torch.manual_seed(0)  # a random lifter, but the same one every run
    save_checkpoint(weights, create_model("hot_mixste_tiny").eval())
    camera = load_cameras(cams)["S1"][0]
    data = np.load(poses)
    projected = {
        f"{key}/x": camera.to_pixels(camera.to_camera(data[key])).astype(np.float32)
        for key in data.files
    }
    return tmp_path, poses, cams, weights, projected


def run_eval(tmp_path, poses, cams, weights, *extra):
    out = tmp_path / f"eval{len(list(tmp_path.glob('eval*.json')))}.json"
    argv = ["eval", "--data", str(poses), "--cameras", str(cams), "--weights", str(weights)]
    assert main([*argv, "--json", str(out), "--quiet", *extra]) == 0
    return json.loads(out.read_text())


def test_given_2d_equal_to_the_projections_scores_as_the_projections(fake):
    tmp_path, poses, cams, weights, projected = fake
    np.savez(tmp_path / "det.npz", **projected)
    plain = run_eval(tmp_path, poses, cams, weights)
    given = run_eval(
        tmp_path, poses, cams, weights, "--keypoints-2d", str(tmp_path / "det.npz"),
        "--layout", "h36m17",
    )  # fmt: skip
    for key in ("mpjpe_mm", "p_mpjpe_mm", "mpjve_mm", "accel_error_mm"):
        assert given[key] == pytest.approx(plain[key], rel=1e-4), key
        assert key in given["network_only"]
    assert given["views"] == {"scored": 2, "skipped_without_2d": 0}
    assert given["per_action"]["Walking"]["mpjve_mm"] > 0


def test_views_without_detections_are_skipped_and_counted_and_confidences_are_read(fake):
    tmp_path, poses, cams, weights, projected = fake
    key = "S1/Walking 1/x"
    with_conf = np.concatenate([projected[key], np.ones((len(projected[key]), 17, 1))], -1)
    np.savez(tmp_path / "det.npz", **{key: with_conf.astype(np.float32)})
    result = run_eval(
        tmp_path, poses, cams, weights, "--keypoints-2d", str(tmp_path / "det.npz"),
        "--layout", "h36m17",
    )  # fmt: skip
    assert result["views"] == {"scored": 1, "skipped_without_2d": 1}
    assert list(result["per_action"]) == ["Walking"] and result["frames"] == len(with_conf)


def test_bad_detection_files_are_one_line_errors(fake, capsys):
    tmp_path, poses, cams, weights, projected = fake
    argv = ["eval", "--data", str(poses), "--cameras", str(cams), "--weights", str(weights)]
    np.savez(tmp_path / "det.npz", **projected)
    det = str(tmp_path / "det.npz")
    assert main([*argv, "--keypoints-2d", det]) == 2
    assert "--keypoints-2d needs --layout" in capsys.readouterr().err
    assert main([*argv, "--keypoints-2d", det, "--layout", "mpii16"]) == 2
    assert "mpii16 has 16 joints" in capsys.readouterr().err
    np.savez(tmp_path / "short.npz", **{k: v[:10] for k, v in projected.items()})
    assert main([*argv, "--keypoints-2d", str(tmp_path / "short.npz"), "--layout", "h36m17"]) == 2
    assert "frame-aligned" in capsys.readouterr().err
    assert main([*argv, "--keypoints-2d", str(tmp_path / "none.npz"), "--layout", "h36m17"]) == 2
    assert main([*argv, "--known-height", "--free-bones"]) == 2
    assert "not with --free-bones" in capsys.readouterr().err


def test_world_scores_place_each_view_in_the_scene(fake):
    tmp_path, poses, cams, _, _ = fake
    from models import default_weights

    result = run_eval(tmp_path, poses, cams, default_weights(), "--world")
    for key in ("root_error_mm", "root_error_default_fov_mm", "abs_mpjpe_mm"):
        assert np.isfinite(result[key]) and result[key] > 0, key
        assert key in result["per_action"]["Walking"]
    assert set(result["foot_skate_mm"]) == {"prediction", "ground_truth"}


def test_one_camera_scores_one_view_per_sequence_in_turn(fake):
    tmp_path, poses, cams, weights, _ = fake
    rig = json.loads(cams.read_text())
    for subject, cameras in rig.items():
        rig[subject] = [cameras[0], {**cameras[0], "id": "y", "T": [0.5, -4, 1]}]
    cams.write_text(json.dumps(rig))
    everything = run_eval(tmp_path, poses, cams, weights)
    quick = run_eval(tmp_path, poses, cams, weights, "--one-camera")
    assert everything["views"]["scored"] == 4 and everything["cameras"] == "all"
    assert quick["views"]["scored"] == 2 and quick["cameras"] == "one per sequence"
    assert quick["frames"] * 2 == everything["frames"]
