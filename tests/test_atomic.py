"""Atomic writes: a result appears complete under its final name, or nothing appears."""

from __future__ import annotations

import pytest

from hotcli.atomic import atomic_path, write_atomic


def test_write_atomic_writes_the_file(tmp_path):
    path = write_atomic(tmp_path / "poses.json", lambda f: f.write(b"{}\n"))
    assert path.read_bytes() == b"{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["poses.json"]


def test_an_interrupted_write_leaves_no_temporary_and_no_final_file(tmp_path):
    def boom(f):
        f.write(b"half")
        raise KeyboardInterrupt  # Ctrl-C half-way

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "poses.npz", boom)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_keeps_the_old_file(tmp_path):
    (tmp_path / "last.pt").write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "last.pt") as tmp:
        tmp.write_bytes(b"ne")
        raise RuntimeError("disk full")
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert (tmp_path / "last.pt").read_bytes() == b"old"


def test_atomic_path_keeps_the_suffix_and_replaces_a_file(tmp_path):
    (tmp_path / "clip.gif").write_bytes(b"old")
    with atomic_path(tmp_path / "clip.gif") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".gif"
        tmp.write_bytes(b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["clip.gif"]
    assert (tmp_path / "clip.gif").read_bytes() == b"new"


def test_an_interrupted_folder_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "model_openvino") as tmp:
        tmp.mkdir()
        (tmp / "model.xml").write_text("<half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_renamed_into_place(tmp_path):
    with atomic_path(tmp_path / "model_openvino") as tmp:
        tmp.mkdir()
        (tmp / "model.xml").write_text("<xml/>")
    assert [p.name for p in tmp_path.iterdir()] == ["model_openvino"]
    assert (tmp_path / "model_openvino" / "model.xml").read_text() == "<xml/>"


def test_a_folder_is_not_renamed_onto_a_full_one(tmp_path):
    """Another process's finished folder stays; this one is deleted and the error raised."""
    (tmp_path / "model_openvino").mkdir()
    (tmp_path / "model_openvino" / "model.xml").write_text("theirs")
    with pytest.raises(OSError), atomic_path(tmp_path / "model_openvino") as tmp:
        tmp.mkdir()
        (tmp / "model.xml").write_text("ours")
    assert [p.name for p in tmp_path.iterdir()] == ["model_openvino"]
    assert (tmp_path / "model_openvino" / "model.xml").read_text() == "theirs"
