"""hotcli.device: OpenVINO imported without its usage telemetry."""

import importlib.util
import os
import subprocess
import sys

import pytest

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


def _run_with_home(code: str, home) -> list[str]:
    """The files ``code`` leaves in a fresh home folder (where no consent file is)."""
    env = {**os.environ, "HOME": str(home)}
    env.pop("CI", None)  # OpenVINO's telemetry stays off in CI by itself
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


@pytest.mark.skipif(
    importlib.util.find_spec("openvino_telemetry") is None, reason="OpenVINO without telemetry"
)
def test_a_plain_openvino_import_would_send_telemetry_from_a_fresh_home(tmp_path):
    assert _run_with_home(WOULD_SEND, tmp_path) == []  # asking leaves nothing either


def test_hot_poses_openvino_import_sends_nothing_and_leaves_nothing(tmp_path):
    assert _run_with_home(QUIET_IMPORT, tmp_path) == []
