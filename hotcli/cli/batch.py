"""Many videos in one run: ``hot-pose FOLDER/``, several paths, or a glob.

:func:`run_batch` is what :mod:`hotcli.cli.run` calls when the input is not one video file.

**Finding videos.** A folder is searched for files with a video extension
(:data:`VIDEO_EXTENSIONS`); ``--recursive`` descends into subfolders. A file with a video
extension is always listed, even when it is not a video: it is then reported as failed
("not a video" from :func:`hotcli.formats.video.probe`) instead of being silently dropped, because
a ``.mp4`` that does not play is something the user wants to know about. Files with other
extensions are listed only when their first bytes carry a video container signature
(MP4/MOV, AVI, Matroska/WebM, FLV, ASF/WMV, MPEG), which costs one 64-byte read; obvious
non-videos (text, data, images, the tool's own outputs) are not even opened. ``.ts`` is
listed only by content, as TypeScript sources share the extension. Hidden files and
folders, folders that hold a hot-pose result (``summary.json`` or ``poses.npz``) and the
output folder, when it lies inside the input tree, are never searched, so a second run
does not process the first run's ``<stem>_pose.mp4``. A path named explicitly is always listed.

**Where results go.** ``<output-dir>/<path of the video relative to its input folder,
without the extension>/`` mirrors the input tree. The default output folder is
``hot-pose-output/<folder name>/`` for one folder and ``hot-pose-output/`` otherwise (with
several folders each gets its own subfolder there, named after it). Two videos that would
share a folder (``a.mp4`` and ``a.mov``) keep their extension in the name (``a_mp4``).

**Statuses.** ``ok``; ``failed`` (the error says why; the batch goes on and the exit status
is 1); ``skipped`` (a complete result exists: :func:`hotcli.formats.outputs.is_complete`; use
``--overwrite`` to redo it); ``interrupted`` (Ctrl-C came while it ran) and ``not run``
(Ctrl-C came before it started). ``batch_summary.csv`` and ``batch_summary.json`` in the
output folder list every video found, are rewritten atomically as files finish and once
more at the end, also after Ctrl-C (then the command exits 130).

**Speed.** Models load once per process (:func:`hotcli.pipeline.load_models`).
``--workers N`` runs N processes, each with ``cores / N`` torch threads. ``--ray ADDRESS``
sends one task per video to a Ray cluster (:mod:`hotcli.cli.raybatch`).
"""

from __future__ import annotations

import argparse
import csv
import glob
import io
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from hotcli.cli.run import positive_int
from hotcli.errors import HotPoseError

SUMMARY_STEM = "batch_summary"
DEFAULT_OUTPUT_ROOT = Path("hot-pose-output")
COLUMNS = ("file", "status", "frames", "persons", "seconds", "frames_per_s", "error", "output")
OK, FAILED, SKIPPED, INTERRUPTED, NOT_RUN = "ok", "failed", "skipped", "interrupted", "not run"
STATUSES = (OK, FAILED, SKIPPED, INTERRUPTED, NOT_RUN)
EXIT_FAILED = 1  # a file failed or was interrupted (2 stays "bad input", 130 Ctrl-C)

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .mov .qt .avi .mkv .webm .mpg .mpeg .m2v .mpe .wmv .asf .flv .f4v .3gp .3g2 "
    ".ogv .mts .m2ts .vob .mxf .dv .divx .y4m".split()
)
#: Never opened while searching: not videos, and common in folders of clips and results.
NOT_VIDEO_EXTENSIONS = frozenset(
    ".txt .md .rst .json .jsonl .csv .tsv .yaml .yml .xml .html .npz .npy .pt .pth .onnx .pkl "
    ".py .sh .log .pdf .zip .gz .tar .png .jpg .jpeg .gif .bmp .tif .tiff .webp .svg .wav .mp3 "
    ".aac .flac .ogg .m4a .srt .vtt .ini .cfg .toml".split()
)
RESULT_MARKERS = ("summary.json", "poses.npz", f"{SUMMARY_STEM}.json")


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


# ------------------------------------------------------------------------------ discovery


@dataclass(frozen=True)
class Job:
    """One video and the folder its results go to."""

    video: Path
    out_dir: Path
    name: str  # the output folder relative to the batch's output root (shown in the summary)


_SIGNATURES = (
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"FLV\x01"),
    (0, bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")),  # ASF / WMV
    (0, b"\x00\x00\x01\xba"),  # MPEG program stream
    (0, b"\x00\x00\x01\xb3"),  # MPEG video elementary stream
    (0, b"YUV4MPEG2"),
)


def has_video_signature(path: Path) -> bool:
    """Whether the file starts like a video container (a cheap check, not a full probe)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:1] == b"\x47":  # MPEG transport stream: a sync byte every 188 bytes
                f.seek(188)
                return f.read(1) == b"\x47"
    except OSError:
        return False
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return True  # ISO base media (MP4, MOV, 3GP)
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return True
    return any(head[at : at + len(sig)] == sig for at, sig in _SIGNATURES)


def is_video_candidate(path: Path) -> bool:
    """The listing rule for files met while searching a folder (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return True
    if suffix in NOT_VIDEO_EXTENSIONS:
        return False
    return has_video_signature(path)  # any other extension, .ts (also TypeScript) among them


def _is_excluded(folder: Path, excluded: Sequence[Path]) -> bool:
    if any((folder / marker).is_file() for marker in RESULT_MARKERS):
        return True
    resolved = folder.resolve()
    return any(resolved == e or e in resolved.parents for e in excluded)


def walk_folder(folder: Path, recursive: bool, excluded: Sequence[Path] = ()) -> list[Path]:
    """Video candidates in ``folder`` (and below when ``recursive``), in a stable order."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        if _is_excluded(here, excluded):
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        for name in sorted(files):
            path = here / name
            if not name.startswith(".") and path.is_file() and is_video_candidate(path):
                found.append(path)
    return found


def _glob_base(pattern: str) -> Path:
    """The folder part of a glob before its first wildcard (``clips/**/*.mp4`` → ``clips``)."""
    parts: list[str] = []
    for part in Path(pattern).parts[:-1]:
        if glob.has_magic(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _folder_name(folder: Path) -> str:
    return folder.resolve().name or "root"


def find_videos(
    inputs: Sequence[str], recursive: bool = False, excluded: Sequence[Path] = ()
) -> list[tuple[Path, Path]]:
    """``(video, output path relative to the output root, without extension)`` per video.

    A path that does not exist and a pattern that matches nothing are errors (a typo in
    the command is better reported before hours of work than in the summary).
    """
    several = len(inputs) > 1
    found: list[tuple[Path, Path]] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            prefix = Path(_folder_name(path)) if several else Path()
            found += [
                (v, prefix / v.relative_to(path)) for v in walk_folder(path, recursive, excluded)
            ]
        elif path.is_file():
            found.append((path, Path(path.name)))
        elif glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise HotPoseError(f"no file matches {text}")
            base = _glob_base(text)
            for match in map(Path, matches):
                if match.is_dir():
                    videos = walk_folder(match, recursive, excluded)
                elif not match.name.startswith(".") and is_video_candidate(match):
                    videos = [match]
                else:
                    videos = []
                found += [(v, _relative(v, base)) for v in videos]
        else:
            raise HotPoseError(f"no such file or folder: {text}")
    return found


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return Path(path.name)


def plan_jobs(found: Iterable[tuple[Path, Path]], output_root: Path) -> list[Job]:
    """Drop repeated videos and give each a distinct output folder under ``output_root``."""
    unique: dict[Path, tuple[Path, Path]] = {}
    for video, rel in found:
        unique.setdefault(video.resolve(), (video, rel))
    pairs = list(unique.values())
    stems = [rel.with_suffix("") for _, rel in pairs]
    clashing = {s for s in stems if stems.count(s) > 1}
    names: list[Path] = []
    for (_, rel), stem in zip(pairs, stems, strict=True):
        if stem in clashing:
            stem = rel.with_name(rel.name.replace(".", "_"))
        name, n = stem, 2
        while name in names:
            name, n = stem.with_name(f"{stem.name}-{n}"), n + 1
        names.append(name)
    return [
        Job(video, output_root / name, name.as_posix())
        for (video, _), name in zip(pairs, names, strict=True)
    ]


def default_output_root(inputs: Sequence[str]) -> Path:
    """``hot-pose-output/<folder name>/`` for one folder, else ``hot-pose-output/``."""
    if len(inputs) == 1 and Path(inputs[0]).is_dir():
        return DEFAULT_OUTPUT_ROOT / _folder_name(Path(inputs[0]))
    return DEFAULT_OUTPUT_ROOT


# ------------------------------------------------------------------------------ one video


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


def process_job(job: Job, options, models) -> dict:
    """Run one video; every error becomes a ``failed`` line (Ctrl-C is left to the caller)."""
    from hotcli import pipeline

    start = time.perf_counter()
    try:
        summary = pipeline.process_video(job.video, job.out_dir, options, models)
    except HotPoseError as exc:
        return make_row(job, FAILED, seconds=_seconds(start), error=str(exc))
    except Exception as exc:  # an unexpected failure of one file must not stop the batch
        error = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        return make_row(job, FAILED, seconds=_seconds(start), error=error)
    seconds = _seconds(start)
    frames = int(summary["frames"])
    return make_row(job, OK, frames=frames, persons=len(summary["persons"]), seconds=seconds,
                    frames_per_s=round(frames / seconds, 2) if seconds > 0 else None)  # fmt: skip


def _seconds(start: float) -> float:
    return round(time.perf_counter() - start, 3)


# ---------------------------------------------------------------------------------- runners

Record = Callable[[int, dict], None]


def run_sequential(todo: Sequence[tuple[int, Job]], options, models, record: Record) -> None:
    """One video after the other in this process, with the models loaded once."""
    for index, job in todo:
        try:
            row = process_job(job, options, models)
        except KeyboardInterrupt:
            record(index, make_row(job, INTERRUPTED, error="interrupted (Ctrl-C)"))
            raise
        record(index, row)


_worker_state: dict = {}


def _init_worker(options, threads: int) -> None:
    """Pool worker start: share the cores, ignore Ctrl-C between videos (see _pool_task)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(threads)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:  # pragma: no cover - opencv is a dependency
        pass
    _worker_state.update(options=options, models=None)


def _interrupt_once(signum, frame) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the cleanup
    raise KeyboardInterrupt


def _pool_task(job: Job) -> dict:
    """One video in a pool worker; the models are loaded on the worker's first video."""
    from hotcli.pipeline import load_models

    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        options = _worker_state["options"]
        if _worker_state["models"] is None:
            try:
                _worker_state["models"] = load_models(options)
            except HotPoseError as exc:
                return make_row(job, FAILED, error=str(exc))
        return process_job(job, options, _worker_state["models"])
    except KeyboardInterrupt:
        return make_row(job, INTERRUPTED, error="interrupted (Ctrl-C)")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_pool(todo: Sequence[tuple[int, Job]], options, workers: int, record: Record) -> None:
    """``workers`` spawned processes, each loading the models once and using its share of cores.

    On Ctrl-C the videos not started are cancelled, the running ones are interrupted
    (their partial results are cleaned up by the pipeline) and reported as such.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from hotcli.device import usable_cpus

    threads = max(1, usable_cpus() // workers)
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker, initargs=(options, threads),
    )  # fmt: skip
    # No more videos in flight than workers: the executor queues submitted work where
    # cancel() cannot reach it, and Ctrl-C must not let queued videos start.
    queue = iter(todo)
    futures: dict = {}

    def submit_next() -> None:
        for index, job in queue:
            futures[executor.submit(_pool_task, job)] = (index, job)
            return

    try:
        for _ in range(workers):
            submit_next()
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                index, job = futures.pop(future)
                record(index, _future_row(future, job))
                submit_next()
    except KeyboardInterrupt:
        # A Ctrl-C in a terminal reaches the workers too; a signal sent to this process
        # alone does not, so pass it on (a worker ignores a second one).
        for pid in list(getattr(executor, "_processes", None) or {}):
            try:
                os.kill(pid, signal.SIGINT)
            except OSError:
                pass
        executor.shutdown(wait=True, cancel_futures=True)
        for future, (index, job) in futures.items():
            if future.done() and not future.cancelled():
                record(index, _future_row(future, job))
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _future_row(future, job: Job) -> dict:
    exc = future.exception()
    if exc is None:
        return future.result()
    return make_row(job, FAILED, error=f"worker process failed: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------- summary


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
    from hotcli.atomic import write_atomic

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


# -------------------------------------------------------------------------------- the batch


def run_batch(args: argparse.Namespace) -> int:
    """Process every video of ``args.inputs``; 0 when none failed, 1 otherwise (Ctrl-C: raises
    KeyboardInterrupt after writing the summary, which the CLI turns into 130)."""
    from hotcli.formats import outputs
    from hotcli.options import RunOptions
    from hotcli.pipeline import load_models

    options = RunOptions.from_args(args)
    quiet = bool(getattr(args, "quiet", False))
    options.quiet = True  # one line per video from here instead of per-video progress bars
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
        "options": asdict(options),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    last_write = [start]

    def save() -> tuple[Path, Path]:
        meta["totals"] = totals(rows, time.perf_counter() - start)
        return write_summary(output_root, rows, meta)

    # Setup errors (weights, device, Ray) stop the batch with one line before it starts.
    models = ray_session = None
    if todo and ray_address:
        from hotcli.cli import raybatch

        ray_session = raybatch.connect(ray_address)
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
            bar.write(_progress_line(row))
        elif row["status"] == FAILED:
            print(f"hot-pose: {row['file']}: {short_error(row)}", file=sys.stderr)
        if time.perf_counter() - last_write[0] > 5:  # keep the summary current, cheaply
            save()
            last_write[0] = time.perf_counter()

    interrupted = False
    try:
        if ray_session is not None:
            raybatch.run_on_ray(todo, options, ray_session, record)
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


def short_error(row: dict) -> str:
    """The error without the file name it usually starts with (shown beside it anyway)."""
    error = row["error"] or ""
    if not error.startswith(row["file"]):
        return error
    rest = error[len(row["file"]) :]
    return rest.removeprefix(":").strip() if rest[:1] in (":", " ") else error


def _progress_line(row: dict) -> str:
    detail = short_error(row) if row["status"] != OK else (
        f"{row['frames']} frames, {row['persons']} person(s), {row['seconds']:.1f} s"
    )  # fmt: skip
    return f"{row['status']:<11} {row['file']}: {detail}"


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
