"""What a batch reports: one line per video, the totals, ``batch_summary.csv`` / ``.json``.

**Statuses.** ``ok``; ``failed`` (the error says why; the batch goes on and the exit status
is 1); ``skipped`` (a complete result exists: :func:`hotcli.formats.outputs.is_complete`;
``--overwrite`` redoes it); ``interrupted`` (Ctrl-C came while it ran) and ``not run``
(Ctrl-C came before it started). ``batch_summary.csv`` and ``batch_summary.json`` in the
output folder list every video found; the batch rewrites them atomically as files finish
and once more at the end, also after Ctrl-C.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hotcli.atomic import write_atomic

if TYPE_CHECKING:
    from hotcli.batch.discover import Job

SUMMARY_STEM = "batch_summary"
COLUMNS = ("file", "status", "frames", "persons", "seconds", "frames_per_s", "error", "output")
OK, FAILED, SKIPPED, INTERRUPTED, NOT_RUN = "ok", "failed", "skipped", "interrupted", "not run"
STATUSES = (OK, FAILED, SKIPPED, INTERRUPTED, NOT_RUN)


def make_row(job: Job, status: str, **fields: object) -> dict:
    """One line of the batch summary (missing values are ``None``)."""
    row: dict = dict.fromkeys(COLUMNS)
    row.update(file=str(job.video), status=status, error="", output=job.name)
    row.update(fields)
    return row


def skipped_row(job: Job) -> dict:
    """A done video's line, with its frame and person counts read from its summary."""
    from hotcli.formats import outputs

    try:
        summary = json.loads((job.out_dir / outputs.SUMMARY_NAME).read_text())
        frames, persons = int(summary["frames"]), len(summary["persons"])
    except (OSError, ValueError, KeyError, TypeError):
        frames = persons = None
    return make_row(job, SKIPPED, frames=frames, persons=persons)


def totals(rows: Sequence[dict], wall_seconds: float) -> dict:
    """Counts per status and the batch's throughput over the videos processed in this run."""
    counts = {status: sum(r["status"] == status for r in rows) for status in STATUSES}
    frames = sum(r["frames"] or 0 for r in rows if r["status"] == OK)
    minutes = wall_seconds / 60
    return {
        "videos": len(rows),
        **counts,
        "frames_processed": frames,
        "wall_seconds": round(wall_seconds, 3),
        "videos_per_minute": round(counts[OK] / minutes, 3) if minutes > 0 else None,
        "frames_per_s": round(frames / wall_seconds, 2) if wall_seconds > 0 else None,
    }


def write_summary(output_root: Path, rows: Sequence[dict], meta: dict) -> tuple[Path, Path]:
    """``batch_summary.csv`` and ``.json`` in ``output_root``, each written atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if r[k] is None else r[k] for k in COLUMNS} for r in rows)
    data = text.getvalue().encode()
    csv_path = write_atomic(output_root / f"{SUMMARY_STEM}.csv", lambda f: f.write(data))
    doc = json.dumps({**meta, "videos": list(rows)}, indent=2, allow_nan=False).encode()
    json_path = write_atomic(output_root / f"{SUMMARY_STEM}.json", lambda f: f.write(doc + b"\n"))
    return csv_path, json_path


def format_table(rows: Sequence[dict], total: dict, width: int = 48) -> str:
    """The closing table: one line per video, then the totals."""

    def cut(text: str, n: int, keep_end: bool = True) -> str:
        if len(text) <= n:
            return text
        return "…" + text[-(n - 1) :] if keep_end else text[: n - 1] + "…"

    def num(value, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    names = [cut(r["file"], width) for r in rows]
    w = max([4, *map(len, names)])
    lines = [
        f"{'file':<{w}}  {'status':<11} {'frames':>6} {'persons':>7} {'s':>7} {'fps':>7}  error"
    ]
    for name, r in zip(names, rows, strict=True):
        error = cut(short_error(r), 70, keep_end=False)
        lines.append(
            f"{name:<{w}}  {r['status']:<11} {num(r['frames'], 'd'):>6} "
            f"{num(r['persons'], 'd'):>7} {num(r['seconds'], '.1f'):>7} "
            f"{num(r['frames_per_s'], '.1f'):>7}  {error}".rstrip()
        )
    counts = ", ".join(f"{total[s]} {s}" for s in STATUSES if total[s])
    rate = ""
    if total[OK]:
        rate = (f" · {total['frames_processed']} frames in {total['wall_seconds']:.1f} s · "
                f"{total['videos_per_minute']:.1f} videos/min · "
                f"{total['frames_per_s']:.1f} frames/s")  # fmt: skip
    lines.append(f"{total['videos']} videos: {counts}{rate}")
    return "\n".join(lines)


def short_error(row: dict) -> str:
    """The error without the file name it usually starts with (shown beside it anyway)."""
    error = row["error"] or ""
    if not error.startswith(row["file"]):
        return error
    rest = error[len(row["file"]) :]
    return rest.removeprefix(":").strip() if rest[:1] in (":", " ") else error


def progress_line(row: dict) -> str:
    """The line printed as a video finishes: its status, file and what came of it."""
    detail = short_error(row) if row["status"] != OK else (
        f"{row['frames']} frames, {row['persons']} person(s), {row['seconds']:.1f} s"
    )  # fmt: skip
    return f"{row['status']:<11} {row['file']}: {detail}"
