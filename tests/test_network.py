"""The lifter network behind a numpy call: the cached OpenVINO export and its fallbacks."""

import importlib.util

import numpy as np
import pytest
import torch

from hotcli.errors import HotPoseError
from hotcli.lifting.network import INFO_JSON, load_network
from models import create_model, save_checkpoint

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None, reason="needs OpenVINO"
)


@pytest.fixture()
def tiny(tmp_path, monkeypatch):
    """A random tiny lifter checkpoint and an empty export cache."""
    monkeypatch.setenv("HOT_POSE_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    model = create_model("hot_mixste_tiny").eval()
    save_checkpoint(tmp_path / "tiny.pt", model)
    return tmp_path / "tiny.pt", model


def test_the_openvino_lifter_gives_pytorchs_3d_and_is_exported_once(tiny, tmp_path):
    weights, model = tiny
    net = load_network(weights, "cpu", "auto")
    assert net.backend == "openvino" and net.frames == model.cfg.frames
    x = np.random.default_rng(0).normal(0, 0.3, (3, model.cfg.frames, 17, 2)).astype(np.float32)
    with torch.inference_mode():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net(x), expected, atol=1e-4)  # float32, any batch size
    (folder,) = (tmp_path / "cache").glob("tiny-*_lifter_openvino")
    stamp = (folder / INFO_JSON).stat().st_mtime_ns
    assert load_network(weights, "cpu", "auto").backend == "openvino"
    assert (folder / INFO_JSON).stat().st_mtime_ns == stamp  # read, not exported again
    assert load_network(weights, "cpu", "pytorch").backend == "pytorch"


def test_a_cache_that_cannot_be_written_falls_back_to_pytorch_unless_openvino_is_asked(
    tiny, tmp_path, monkeypatch
):
    weights, _ = tiny
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("HOT_POSE_CACHE", str(blocker / "cache"))
    with pytest.warns(RuntimeWarning, match="lifting with PyTorch"):
        assert load_network(weights, "cpu", "auto").backend == "pytorch"
    with pytest.raises(HotPoseError, match="cannot write the lifter's OpenVINO copy"):
        load_network(weights, "cpu", "openvino")


def test_a_complete_prebuilt_copy_is_used_before_the_cache(tiny, tmp_path, monkeypatch):
    from hotcli.pose2d import export

    weights, _ = tiny
    monkeypatch.setattr(export, "PREBUILT", tmp_path / "prebuilt")
    cached = export.find_copy(weights, "lifter_openvino", INFO_JSON)
    assert cached.parent == tmp_path / "cache"  # nothing prebuilt yet
    load_network(weights, "cpu", "auto")  # exports into the cache
    shipped = tmp_path / "prebuilt" / cached.name
    shipped.mkdir(parents=True)
    assert export.find_copy(weights, "lifter_openvino", INFO_JSON) == cached  # incomplete
    for f in cached.iterdir():
        (shipped / f.name).write_bytes(f.read_bytes())
    assert export.find_copy(weights, "lifter_openvino", INFO_JSON) == shipped
    assert export.find_copy(weights, "lifter_openvino", INFO_JSON, tmp_path / "c2").parent == (
        tmp_path / "c2"
    )  # a cache named outright: nothing prebuilt is looked at
    for f in cached.iterdir():
        f.unlink()
    cached.rmdir()
    assert load_network(weights, "cpu", "auto").backend == "openvino"
    assert not cached.exists()  # loaded from the prebuilt copy, nothing exported


def test_a_damaged_openvino_copy_is_one_line_at_the_first_call(tiny, tmp_path):
    from hotcli.lifting.network import MODEL_XML

    weights, model = tiny
    load_network(weights, "cpu", "auto")  # exports into the cache
    (folder,) = (tmp_path / "cache").glob("tiny-*_lifter_openvino")
    (folder / MODEL_XML).write_text("<net>cut off")
    net = load_network(weights, "cpu", "auto")  # compiles in the background
    x = np.zeros((1, model.cfg.frames, 17, 2), np.float32)
    for _ in range(2):  # the same line each call
        with pytest.raises(HotPoseError, match="cannot load the lifter's OpenVINO copy .*"
                                               "delete it to export again"):  # fmt: skip
            net(x)
