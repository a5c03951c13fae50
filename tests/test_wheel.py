"""The wheel: built from this checkout (``scripts/build_wheel.py``, with the networks' OpenVINO
copies inside), installed in a fresh virtual environment, run elsewhere.

It installs every dependency anew (torch included: minutes and several GB), so it runs only
when ``HOT_POSE_WHEEL_TEST=1`` (``.ci/run`` sets it); elsewhere it skips and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import EXAMPLE_VIDEO as CLIP
from tests.conftest import need_clip

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    os.environ.get("HOT_POSE_WHEEL_TEST") != "1",
    reason="builds and installs the wheel in a fresh environment (minutes, GBs): "
    "set HOT_POSE_WHEEL_TEST=1 (.ci/run does)",
)


def run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done


def test_the_wheel_installs_in_a_fresh_environment_and_runs_the_example_elsewhere(tmp_path):
    need_clip()
    run(sys.executable, ROOT / "scripts" / "build_wheel.py", "-w", tmp_path / "dist",
        cwd=tmp_path)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("hot_pose-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / "bin"
    run(bin_dir / "pip", "install", "-q", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"  # not the checkout: nothing may come from the source tree
    elsewhere.mkdir()
    where = run(bin_dir / "python", "-c",
                "import hotcli, models; print(hotcli.__file__); print(models.default_weights())",
                cwd=elsewhere).stdout.split()  # fmt: skip
    assert all(str(tmp_path / "venv") in line for line in where), where

    cache = tmp_path / "cache"  # the first run after installing: nothing exported yet
    first = subprocess.run([bin_dir / "hot-pose", CLIP, "-o", "out", "--quiet"], cwd=elsewhere,
                           env={**os.environ, "HOT_POSE_CACHE": str(cache)},
                           capture_output=True, text=True)  # fmt: skip
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    out = elsewhere / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 150 and str(tmp_path / "venv") in summary["weights"]
    # both networks came prebuilt in the wheel: OpenVINO compiled them, nothing was exported
    assert str(tmp_path / "venv") in summary["pose_model"] and "prebuilt" in summary["pose_model"]
    assert summary["lifter_backend"] == "openvino"
    assert [p.name for p in cache.iterdir()] == ["openvino-compiled"]
    assert (out / "dancer_pose.mp4").stat().st_size > 10_000
    with np.load(out / "poses.npz") as npz:
        assert npz["keypoints_3d_world"].shape == (150, 17, 3)
        assert np.isfinite(npz["keypoints_3d_world"]).all()

    library = "from hotcli import HotPose; r = HotPose()(%r); print(len(r.persons), r.frames)"
    printed = run(bin_dir / "python", "-c", library % str(CLIP), cwd=elsewhere).stdout
    assert printed.split() == ["1", "150"]
