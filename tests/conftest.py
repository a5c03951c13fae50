"""Shared test fixtures: the example clip, the development data folder, ffmpeg.

``shared_data`` is ``../shared/data`` beside the project (Human3.6M poses, real videos). It
is never part of the repository, so tests that need it skip with a reason when it is absent.
"""

from __future__ import annotations

import subprocess
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


@pytest.fixture(scope="session")
def example_video() -> Path:
    """examples/dancer.mp4: 150 frames, 25 fps, 518x496, one dancer, with audio."""
    return require(EXAMPLE_VIDEO, "the example clip")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The development data folder ../shared/data (skips the test when absent)."""
    return require(SHARED_DATA, "the shared development data")
