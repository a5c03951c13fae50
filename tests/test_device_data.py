"""scripts/device_data.py: the compact copy of the Human3.6M files sent to a lent GPU."""

import importlib.util
import json

import numpy as np
import pytest

from tests.conftest import ROOT


def load_script():
    spec = importlib.util.spec_from_file_location(
        "device_data", ROOT / "scripts" / "device_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packed_poses_and_detections_come_back_within_half_a_quantisation_step(tmp_path):
    device_data = load_script()
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(0, 0.01, (300, 17, 3)), axis=0).astype(np.float32) + 2.5
    pixels = (500 + np.cumsum(rng.normal(0, 3, (300, 16, 2)), axis=0)).astype(np.float32)
    data = tmp_path / "h36m"
    data.mkdir()
    np.savez(data / "h36m_3d.npz", **{"S1/Walking": walk, "S5/Eating 2": walk[::-1]})
    np.savez(data / "h36m_sh2d.npz", **{"S1/Walking/54138969": pixels,
                                        "S5/Eating 2/54138969": pixels[::-1],
                                        "S5/Sitting/54138969": pixels})  # fmt: skip
    (data / "cameras.json").write_text(json.dumps({"S1": [], "S5": []}))

    packed, out = tmp_path / "packed", tmp_path / "out"
    device_data.main(["pack", "--data", str(data), "--pack", str(packed)])
    device_data.main(["unpack", "--pack", str(packed), "--out", str(out)])

    poses, dets = np.load(out / "h36m_3d.npz"), np.load(out / "h36m_sh2d.npz")
    assert sorted(poses.files) == ["S1/Walking", "S5/Eating 2"]
    assert sorted(dets.files) == ["S1/Walking/54138969", "S5/Eating 2/54138969"]  # no 3D, left out
    assert np.abs(poses["S5/Eating 2"] - walk[::-1]).max() <= 0.5e-4 + 1e-6  # 0.05 mm
    assert np.abs(dets["S1/Walking/54138969"] - pixels).max() <= 0.125 + 1e-4  # 1/8 px
    assert poses["S1/Walking"].dtype == np.float32
    assert (out / "cameras.json").read_text() == (data / "cameras.json").read_text()


def test_a_jump_too_large_to_pack_is_refused():
    device_data = load_script()
    values = np.zeros((3, 2), dtype=np.float32)
    values[2] = 4.0  # 40,000 units of 0.1 mm in one frame
    with pytest.raises(ValueError, match="under 32767"):
        device_data.encode(values, 1e4)
