"""The package list in pyproject.toml names every package, so the wheel lacks none."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("hotcli", "models")
        for init in (ROOT / top).rglob("__init__.py")
    }
    found.add("models.weights")  # the folder weights/, mapped by package-dir
    assert set(config["packages"]) == found
    assert config["package-dir"] == {"models.weights": "weights"}
    assert (ROOT / "weights" / "__init__.py").is_file()
    assert "*.pt" in config["package-data"]["models.weights"]
