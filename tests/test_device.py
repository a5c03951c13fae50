"""hotcli.device: OpenVINO imported without its usage telemetry, its compiled-form cache."""

import importlib.util
import os

import pytest

from tests.conftest import python_in_fresh_home

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None, reason="needs OpenVINO"
)

# OpenVINO's telemetry keeps a client id and an import count in ~/intel when it sends.
# Whether it would send, asked without sending (its consent check, as `import openvino`
# makes it: no dialog, off in CI): no consent file means yes.
WOULD_SEND = (
    "from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker\n"
    "assert OptInChecker().check(False, True) == ConsentCheckResult.NO_FILE\n"
)
QUIET_IMPORT = (
    "import sys\n"
    "from hotcli.device import import_openvino\n"
    "ov = import_openvino()\n"
    "assert 'openvino_telemetry' not in sys.modules  # the block is lifted again\n"
    "import openvino_telemetry  # and the package still imports for anyone else\n"
    "ov.Core()\n"
)


def _files_left_by(code: str, home) -> list[str]:
    """The files ``code`` leaves in a fresh home folder (where no consent file is)."""
    python_in_fresh_home(code, home)
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


@pytest.mark.skipif(
    importlib.util.find_spec("openvino_telemetry") is None, reason="OpenVINO without telemetry"
)
def test_a_plain_openvino_import_would_send_telemetry_from_a_fresh_home(tmp_path):
    assert _files_left_by(WOULD_SEND, tmp_path) == []  # asking leaves nothing either


def test_hot_poses_openvino_import_sends_nothing_and_leaves_nothing(tmp_path):
    assert _files_left_by(QUIET_IMPORT, tmp_path) == []


def _tiny_openvino_model(folder) -> object:
    """A real OpenVINO model file (a ReLU over (1, 8) floats), written to ``folder``."""
    from hotcli.device import import_openvino

    ov = import_openvino()
    x = ov.opset13.parameter([1, 8], ov.Type.f32, name="x")
    xml = folder / "relu.xml"
    ov.save_model(ov.Model([ov.opset13.relu(x)], [x], "relu"), str(xml))
    return xml


def test_the_oldest_compiled_forms_go_once_the_cache_passes_its_limit(tmp_path):
    from hotcli.device import prune_cache

    for age in range(5):  # form 0 is the oldest
        blob = tmp_path / f"{age}.blob"
        blob.write_bytes(b"x" * 100)
        os.utime(blob, (1000 + age, 1000 + age))
    (tmp_path / "notes.txt").write_bytes(b"y" * 1000)  # not a compiled form: left alone
    prune_cache(tmp_path, limit=250)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.blob", "4.blob", "notes.txt"]


def test_compiling_writes_a_form_to_the_cache_and_prunes_it_to_the_limit(tmp_path, monkeypatch):
    import numpy as np

    import hotcli.device as device

    xml, cache = _tiny_openvino_model(tmp_path), tmp_path / "compiled"
    model = device.compile_on_cpu(xml, cache)
    assert len(list(cache.glob("*.blob"))) == 1
    np.testing.assert_array_equal(model([np.array([[-1.0] * 4 + [2.0] * 4], np.float32)])[0],
                                  [[0.0] * 4 + [2.0] * 4])  # fmt: skip
    monkeypatch.setattr(device, "COMPILED_CACHE_BYTES", 0)
    device.compile_on_cpu(xml, cache, INFERENCE_PRECISION_HINT="f32")  # another form
    assert list(cache.glob("*.blob")) == []


def test_two_streams_compile_for_two_requests_side_by_side(tmp_path):
    import hotcli.device as device

    xml = _tiny_openvino_model(tmp_path)
    assert int(device.compile_on_cpu(xml, None).get_property("NUM_STREAMS")) == 1
    assert int(device.compile_on_cpu(xml, None, streams=2).get_property("NUM_STREAMS")) == 2


@pytest.mark.parametrize(("threads", "requests"), [(1, 1), (2, 2), (8, 2)])
def test_two_requests_in_flight_where_two_threads_are_allowed(monkeypatch, threads, requests):
    import hotcli.device as device

    monkeypatch.setattr(device, "_threads", threads)
    assert device.parallel_requests() == requests
