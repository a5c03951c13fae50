"""Many videos in one run: ``hot-pose FOLDER/``, several paths, or a glob.

:func:`run_batch` is what :mod:`hotcli.cli.run` calls when the input is not one video file:
it finds the videos and plans their output folders (:mod:`hotcli.batch.discover`), skips
those with complete results unless ``--overwrite``, runs the rest here, in ``--workers N``
processes (:mod:`hotcli.batch.pool`) or on a Ray cluster with ``--ray ADDRESS``
(:mod:`hotcli.batch.ray`), and keeps ``batch_summary.csv`` / ``.json`` current
(:mod:`hotcli.batch.report`). The exit status is 1 when a video failed or was
interrupted; after Ctrl-C the summary is still written (then the command exits 130).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from hotcli.batch.discover import default_output_root, find_videos, plan_jobs
from hotcli.batch.pool import load_models, run_pool, run_sequential
from hotcli.batch.report import (
    FAILED,
    INTERRUPTED,
    NOT_RUN,
    format_table,
    make_row,
    progress_line,
    short_error,
    skipped_row,
    totals,
    write_summary,
)
from hotcli.errors import HotPoseError
from hotcli.options import JobOptions, positive_int

EXIT_FAILED = 1  # a file failed or was interrupted (2 stays "bad input", 130 Ctrl-C)


def add_arguments(group: argparse._ActionsContainer) -> None:
    """The options that only matter for several videos (called by :mod:`hotcli.cli.run`)."""
    group.add_argument("-r", "--recursive", action="store_true",
                       help="also search the subfolders of a folder input")  # fmt: skip
    group.add_argument("--overwrite", action="store_true",
                       help="redo videos with complete results (default: skip them)")  # fmt: skip
    group.add_argument("--workers", type=positive_int, default=1, metavar="N",
                       help="videos processed in parallel on this machine, each process loading "
                       "the models once (default: %(default)s)")  # fmt: skip
    group.add_argument("--ray", default=None, metavar="ADDRESS",
                       help="spread the videos over a Ray cluster: an address, 'auto' (the "
                       "running cluster) or 'local' (start one here), one task per video; "
                       "needs hot-pose[ray] and paths every node can read")  # fmt: skip


def run_batch(args: argparse.Namespace) -> int:
    """Process every video of ``args.inputs``; 0 when none failed, 1 otherwise (Ctrl-C: raises
    KeyboardInterrupt after writing the summary, which the CLI turns into 130)."""
    from hotcli.formats import outputs

    options = JobOptions.from_args(args)
    quiet = bool(getattr(args, "quiet", False))  # one line per video, no per-video bars
    workers = int(getattr(args, "workers", 1) or 1)
    ray_address = getattr(args, "ray", None)
    output_root = Path(args.output_dir) if args.output_dir else default_output_root(args.inputs)

    found = find_videos(args.inputs, bool(getattr(args, "recursive", False)),
                        excluded=[output_root.resolve()])  # fmt: skip
    if not found:
        what = "any of the inputs" if len(args.inputs) > 1 else args.inputs[0]
        hint = "" if getattr(args, "recursive", False) else " (use --recursive for subfolders)"
        raise HotPoseError(f"no videos found in {what}{hint}")
    jobs = plan_jobs(found, output_root)
    rows = [make_row(job, NOT_RUN) for job in jobs]
    todo = []
    for index, job in enumerate(jobs):
        if outputs.is_complete(job.out_dir) and not getattr(args, "overwrite", False):
            rows[index] = skipped_row(job)
        else:
            todo.append((index, job))

    start = time.perf_counter()
    meta = {
        "inputs": list(args.inputs),
        "output_dir": str(output_root),
        "workers": workers,
        "ray": ray_address,
        "options": options.flat(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    last_write = [start]

    def save() -> tuple[Path, Path]:
        meta["totals"] = totals(rows, time.perf_counter() - start)
        return write_summary(output_root, rows, meta)

    # Setup errors (weights, device, Ray) stop the batch with one line before it starts.
    models = ray_session = None
    if todo and ray_address:
        from hotcli.batch import ray

        ray_session = ray.connect(ray_address)
    elif todo and workers == 1:
        models = load_models(options)
    elif todo:
        load_models(options)  # checked here, loaded again by each worker process
    try:
        output_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HotPoseError(f"cannot write to the output folder {output_root}: {reason}") from None
    bar = _progress(len(todo), quiet)

    def record(index: int, row: dict) -> None:
        rows[index] = row
        if row["status"] in (FAILED, INTERRUPTED):
            _remove_empty_parents(jobs[index].out_dir, output_root)
        if bar is not None:
            bar.update(1)
            bar.write(progress_line(row))
        elif row["status"] == FAILED:
            print(f"hot-pose: {row['file']}: {short_error(row)}", file=sys.stderr)
        if time.perf_counter() - last_write[0] > 5:  # keep the summary current, cheaply
            save()
            last_write[0] = time.perf_counter()

    interrupted = False
    try:
        if ray_session is not None:
            ray.run_on_ray(todo, options, ray_session, record)
        elif todo and workers > 1:
            run_pool(todo, options, min(workers, len(todo)), record)
        elif todo:
            run_sequential(todo, options, models, record)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if bar is not None:
            bar.close()
        csv_path, _ = save()
        if not quiet:
            print(format_table(rows, meta["totals"]))
            print(f"summary: {csv_path} (and .json)" + (" — interrupted" if interrupted else ""))
    return EXIT_FAILED if any(r["status"] in (FAILED, INTERRUPTED) for r in rows) else 0


def _progress(total: int, quiet: bool):
    if quiet or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="video", desc="videos", file=sys.stderr)


def _remove_empty_parents(out_dir: Path, output_root: Path) -> None:
    """Drop the mirrored folders a failed video leaves empty (never the output root)."""
    root = output_root.resolve()
    folder = out_dir.resolve()
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
