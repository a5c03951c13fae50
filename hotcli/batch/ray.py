"""``hot-pose FOLDER --ray ADDRESS``: one Ray task per video, spread over a cluster.

Ray (the optional extra ``hot-pose[ray]``) does the scheduling, retries off and placement:
each video is a task asking for one CPU, and one GPU with ``--device cuda``. Tasks run in
Ray's worker processes, which are reused between videos (``max_calls=0``, also for GPU
tasks where Ray's default is one call per process), so each process loads the models on
its first video and keeps them. Results come back through ``ray.wait`` as tasks finish, so
the batch summary fills as the cluster works.

Every node must see the input and output paths (a shared filesystem) and have hot-pose
installed; the paths are made absolute before they are sent. ``ADDRESS`` is a Ray address
(``ray://host:10001``, ``host:6379``), ``auto`` for the cluster this machine is part of, or
``local`` to start a private Ray instance on this machine.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from hotcli.batch.discover import Job
from hotcli.batch.pool import interrupted_row, process_in_worker
from hotcli.batch.report import FAILED, make_row
from hotcli.errors import HotPoseError, first_line
from hotcli.options import JobOptions

CPUS_PER_TASK = 1


def _import_ray():
    try:
        import ray
    except ImportError:
        raise HotPoseError(
            "--ray needs Ray, which is not installed: pip install 'hot-pose[ray]'"
        ) from None
    return ray


def _video_task(job: Job, options: JobOptions) -> dict:
    """Runs in a Ray worker: one video, with the models kept in the worker process."""
    from hotcli.device import set_cpu_threads

    set_cpu_threads(CPUS_PER_TASK)
    try:
        return process_in_worker(job, options)
    except KeyboardInterrupt:  # ray.cancel() of a running task
        return interrupted_row(job)


def _absolute(job: Job) -> Job:
    return Job(job.video.resolve(), job.out_dir.resolve(), job.name)


@dataclasses.dataclass
class RaySession:
    """A connection made by :func:`connect`; ``started_here`` says who shuts Ray down."""

    address: str
    started_here: bool


def connect(address: str) -> RaySession:
    """Join the cluster at ``address`` (or start a local one), with one clear error if not."""
    ray = _import_ray()
    if ray.is_initialized():
        return RaySession(address, started_here=False)
    try:
        if address == "local":
            ray.init(include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    except Exception as exc:  # ConnectionError, ValueError, RuntimeError from Ray
        raise HotPoseError(f"cannot connect to the Ray cluster at {address!r}: {exc}") from None
    return RaySession(address, started_here=True)


def run_on_ray(
    todo: Sequence[tuple[int, Job]],
    options: JobOptions,
    session: RaySession,
    record: Callable[[int, dict], None],
) -> None:
    """Process ``todo`` as one Ray task per video, calling ``record`` as videos finish."""
    ray = _import_ray()
    try:
        refs = {}
        weights = options.run.weights
        if weights and Path(weights).exists():  # a path every node resolves alike
            options = replace(
                options, run=replace(options.run, weights=str(Path(weights).resolve()))
            )
        gpus = 1 if str(options.run.device).startswith("cuda") else 0
        task = ray.remote(num_cpus=CPUS_PER_TASK, num_gpus=gpus, max_calls=0, max_retries=0)(
            _video_task
        )
        refs = {task.remote(_absolute(job), options): (index, job) for index, job in todo}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                index, job = refs[ref]
                row = _task_row(ray, ref, job) or make_row(job, FAILED, error="cancelled")
                record(index, row)
    except KeyboardInterrupt:
        _cancel(ray, refs, record)
        raise
    finally:
        if session.started_here:
            ray.shutdown()


def _cancel(ray, refs: dict, record: Callable[[int, dict], None]) -> None:
    """Cancel what is left; running tasks get a KeyboardInterrupt and clean up."""
    pending = [ref for ref in refs if not ray.wait([ref], timeout=0)[0]]
    for ref in pending:
        ray.cancel(ref)
    done, _ = ray.wait(pending, num_returns=len(pending), timeout=30) if pending else ([], [])
    for ref in done:
        index, job = refs[ref]
        row = _task_row(ray, ref, job)
        if row is not None:  # a cancelled task that never ran stays "not run"
            record(index, row)


def _task_row(ray, ref, job: Job) -> dict | None:
    """The task's summary line; None when it was cancelled before it ran."""
    try:
        return ray.get(ref)
    except ray.exceptions.TaskCancelledError:
        return None
    except ray.exceptions.RayError as exc:  # the worker died, or the node was lost
        message = first_line(exc)
        return make_row(job, FAILED, error=f"Ray task failed: {message}")
