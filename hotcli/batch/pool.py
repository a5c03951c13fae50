"""Running a batch's videos: one after the other, or in a pool of worker processes.

The models load once per process, as a :class:`hotcli.api.HotPose`: :func:`load_models` in
this one, :func:`worker_models` in a worker (pool or Ray), on its first video.
``--workers N`` runs N spawned processes, each with ``cores / N`` threads. Ctrl-C
stops cleanly: videos not started stay ``not run``, running ones are interrupted
(``HotPose.process`` removes their partial results).

:func:`load_models` and :func:`process_job` are the only places a batch calls the library.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hotcli.batch.report import FAILED, INTERRUPTED, OK, make_row
from hotcli.device import set_cpu_threads
from hotcli.errors import HotPoseError

if TYPE_CHECKING:
    from hotcli.api import HotPose
    from hotcli.batch.discover import Job
    from hotcli.options import JobOptions

#: Called with a job's index and its summary line as each video finishes.
Record = Callable[[int, dict], None]


def load_models(options: JobOptions) -> HotPose:
    """The models for ``options``; setup errors (weights, device) surface here as one line."""
    from hotcli.api import HotPose

    return HotPose.from_options(options.run)


def process_job(job: Job, options: JobOptions, models: HotPose) -> dict:
    """Run one video; every error becomes a ``failed`` line (Ctrl-C is left to the caller)."""
    start = time.perf_counter()
    try:
        summary = models.process(job.video, job.out_dir, options)
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


_worker_models: dict[str, HotPose] = {}


def worker_models(options: JobOptions) -> HotPose:
    """A worker process's models: loaded on its first video and kept for the next ones
    (reloaded only if the options change, which one batch never does)."""
    key = repr(options)
    if key not in _worker_models:
        _worker_models.clear()
        _worker_models[key] = load_models(options)
    return _worker_models[key]


def process_in_worker(job: Job, options: JobOptions) -> dict:
    """One video in a worker process (pool or Ray); a failure to load the models fails it."""
    try:
        models = worker_models(options)
    except HotPoseError as exc:
        return make_row(job, FAILED, error=str(exc))
    return process_job(job, options, models)


def interrupted_row(job: Job) -> dict:
    """The line of a video that Ctrl-C stopped while it ran."""
    return make_row(job, INTERRUPTED, error="interrupted (Ctrl-C)")


def run_sequential(
    todo: Sequence[tuple[int, Job]], options: JobOptions, models: HotPose, record: Record
) -> None:
    """One video after the other in this process, with the models loaded once."""
    for index, job in todo:
        try:
            row = process_job(job, options, models)
        except KeyboardInterrupt:
            record(index, interrupted_row(job))
            raise
        record(index, row)


_worker_options: dict[str, JobOptions] = {}


def _init_worker(options: JobOptions, threads: int) -> None:
    """Pool worker start: share the cores, ignore Ctrl-C between videos (see _pool_task)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_cpu_threads(threads)
    _worker_options["options"] = options


def _interrupt_once(signum, frame) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the cleanup
    raise KeyboardInterrupt


def _pool_task(job: Job) -> dict:
    """One video in a pool worker; Ctrl-C is honoured only while a video runs."""
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        return process_in_worker(job, _worker_options["options"])
    except KeyboardInterrupt:
        return interrupted_row(job)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_pool(
    todo: Sequence[tuple[int, Job]], options: JobOptions, workers: int, record: Record
) -> None:
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
