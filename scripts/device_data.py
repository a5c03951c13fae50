"""A compact copy of the Human3.6M files for a lent GPU machine, and its unpacking there.

The device tool sends the repository and the paths a call names in ``carry``, 64 MiB in
all; ``../shared/data`` stays behind, and its two arrays files (117 MB) would not fit.
``pack`` writes ``.device-data/`` (ignored by git: it is derived from Human3.6M, which
must never be committed): every pose array quantised (3D to 0.1 mm, 2D to a quarter of a
pixel), stored as its first frame and then frame-to-frame steps, LZMA-compressed, about
30 MB, and ``cameras.json`` as it is. ``unpack`` rebuilds ``h36m_3d.npz``,
``h36m_sh2d.npz`` and ``cameras.json`` where it is told; each value is within half a
quantisation step of the original. Only detections of views that have 3D are kept.

    python scripts/device_data.py pack                  # here: ../shared/data/h36m -> .device-data
    python3 scripts/device_data.py unpack --out /tmp/h36m   # there (scripts/device_train.sh)
"""

from __future__ import annotations

import argparse
import io
import lzma
import shutil
from pathlib import Path

import numpy as np

from hotcli.atomic import atomic_path, write_atomic

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "h36m"
PACK = ROOT / ".device-data"
#: file name → (units per metre or per pixel): 3D in 0.1 mm, 2D in quarter pixels.
STEPS = {"h36m_3d.npz": 1e4, "h36m_sh2d.npz": 4.0}


def encode(values: np.ndarray, per_unit: float) -> tuple[np.ndarray, np.ndarray]:
    """(T, ...) floats → first frame (int32) and frame-to-frame steps (int16), quantised."""
    q = np.round(np.asarray(values, dtype=np.float64) * per_unit).astype(np.int64)
    steps = np.diff(q, axis=0)
    if not np.isfinite(values).all() or (len(steps) and np.abs(steps).max() > 32767):
        raise ValueError("values must be finite, with steps under 32767 units a frame")
    return q[:1].astype(np.int32), steps.astype(np.int16)


def decode(first: np.ndarray, steps: np.ndarray, per_unit: float) -> np.ndarray:
    """The inverse of :func:`encode`: float32 (T, ...), within half a unit of the original."""
    q = np.concatenate([first.astype(np.int64), steps.astype(np.int64)], axis=0)
    return (np.cumsum(q, axis=0) / per_unit).astype(np.float32)


def pack(data: Path, out: Path) -> Path:
    poses = np.load(data / "h36m_3d.npz")
    arrays: dict[str, np.ndarray] = {}
    for name, per_unit in STEPS.items():
        source = np.load(data / name)
        for key in source.files:
            if name != "h36m_3d.npz" and key.rsplit("/", 1)[0] not in poses.files:
                continue  # detections of a sequence without 3D
            arrays[f"{name}|{key}|first"], arrays[f"{name}|{key}|steps"] = encode(
                source[key], per_unit
            )
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    out.mkdir(parents=True, exist_ok=True)
    target = write_atomic(out / "h36m.npz.xz", lambda f: f.write(lzma.compress(buffer.getvalue())))
    _copy(data / "cameras.json", out / "cameras.json")
    return target


def unpack(packed: Path, out: Path) -> None:
    arrays = np.load(io.BytesIO(lzma.decompress((packed / "h36m.npz.xz").read_bytes())))
    out.mkdir(parents=True, exist_ok=True)
    for name, per_unit in STEPS.items():
        keys = [k.split("|")[1] for k in arrays.files if k.startswith(f"{name}|")]
        values = {
            key: decode(arrays[f"{name}|{key}|first"], arrays[f"{name}|{key}|steps"], per_unit)
            for key in dict.fromkeys(keys)
        }
        with atomic_path(out / name) as tmp:
            np.savez(tmp, **values)
    _copy(packed / "cameras.json", out / "cameras.json")


def _copy(source: Path, target: Path) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("verb", choices=("pack", "unpack"))
    parser.add_argument("--data", type=Path, default=DATA, help="pack: the h36m folder")
    parser.add_argument("--pack", type=Path, default=PACK, help="the packed folder")
    parser.add_argument("--out", type=Path, default=None, help="unpack: where the files go")
    args = parser.parse_args(argv)
    if args.verb == "pack":
        target = pack(args.data, args.pack)
        print(f"{target}: {target.stat().st_size / 1e6:.1f} MB")
    else:
        if args.out is None:
            parser.error("unpack needs --out")
        unpack(args.pack, args.out)
        print(f"unpacked into {args.out}")


if __name__ == "__main__":
    main()
