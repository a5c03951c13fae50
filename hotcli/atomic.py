"""Files that appear complete or not at all: write under a temporary name, then rename.

A crash, an error or Ctrl-C while a result is written must never leave a truncated file
under its final name (a later run would take it for a finished one), nor a stray
temporary file. The temporary name lies beside the final one, in the same folder and so on
the same filesystem, where the rename is atomic. It starts with a dot (hidden, and never
searched for videos) and ends in the final name's suffix, for writers that choose a format
by it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def temporary_name(path: Path) -> Path:
    """A fresh hidden name beside ``path`` that keeps its suffix (``.clip.1a2b3c4d.tmp.gif``)."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write a file or a folder to, for writers that take
    a path (``torch.save``, ``savefig``, an exporter); renamed to ``path`` when the block ends
    without error, deleted when it raises or when the rename fails.

    A file replaces an older file of the same name. Renaming a folder onto a folder that is
    not empty fails (with ``OSError``), so a caller that means to replace one removes the old
    folder last thing in the block; one that keeps a folder another process made meanwhile
    catches the error.
    """
    path = Path(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write`` on a binary file opened beside ``path`` and rename it into place."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "xb") as f:
        write(f)
    return path


def _remove(path: Path) -> None:
    """Delete what a failed write left at ``path``: a file, a folder, or nothing."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
