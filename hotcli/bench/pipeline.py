"""End-to-end speed of ``hot-pose VIDEO`` as whole processes, beside MediaPipe Pose.

``hot-pose bench --pipeline VIDEO`` runs, on the same video and in one go:

- ``hot-pose VIDEO --no-render`` and ``hot-pose VIDEO`` (rendering on), each as a whole
  child process (``sys.executable -m hotcli.cli.main``, with this process's hot-pose first on
  ``PYTHONPATH`` so the children run the same code): start-up, imports and model loading
  included, as a user waits for them;
- MediaPipe Pose (:mod:`hotcli.bench.mediapipe_peer`, BlazePose full) in its own Python
  (``--mediapipe-python``, default ``~/venv-mediapipe/bin/python``), also as a whole process;
  skipped, with how to set it up, when that Python is not there.

The three are alternated run by run (A B C A B C ...) so that a machine busy with other work
slows them alike, and each row gives the median of ``--runs`` whole-process frame rates
(frames / wall seconds), their range and the ratio to MediaPipe's median; a line per
hot-pose row gives the ratios round by round (each run against the MediaPipe run of its
round) and in how many rounds hot-pose was the faster. The stage rates come from the
children's own ``summary.json`` (``fps_per_stage``, medians over the runs).

Model loading is measured cold and warm. All hot-pose children share a cache folder of the
benchmark's own (``$HOT_POSE_CACHE``, see :func:`hotcli.pose2d.export.cache_dir`), empty at
first, so the user's cache is neither used nor touched: one extra ``--no-render`` run before
the timed ones finds it empty, as the first run after installing does (the OpenVINO exports
are made then, unless the package carries them prebuilt: ``scripts/build_wheel.py``; and
their compiled forms), and the timed runs find it filled. Both report the ``load`` timing
(building the lifter and the pose network) and the whole-process seconds; the cold run's
line says which exports it had to make.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from hotcli.errors import HotPoseError

DEFAULT_MEDIAPIPE_PYTHON = "~/venv-mediapipe/bin/python"
DEFAULT_RUNS = 3
PEER_SCRIPT = Path(__file__).with_name("mediapipe_peer.py")
#: Row keys in table order, with their labels.
ROWS = {
    "no_render": "hot-pose --no-render",
    "render": "hot-pose (rendering)",
    "mediapipe": "MediaPipe Pose (full)",
}
#: In-process stage rates shown, as ``fps_per_stage`` names them, with their headings.
STAGES = {"decode+2d": "decode+2D", "lift": "lift", "render": "render", "total": "total"}


def check_inputs(video: Path, runs: int) -> None:
    """Fail at once, in one line, on what would otherwise fail minutes into the benchmark."""
    if runs < 1:
        raise HotPoseError(f"--runs must be 1 or more, not {runs}")
    if not video.is_file():
        raise HotPoseError(f"{video}: no such video file")


def setup_commands(doc: str | None = None) -> list[str]:
    """The commands that set MediaPipe up, from :mod:`hotcli.bench.mediapipe_peer`'s docstring.

    Read from there (the indented block after ``::``) so the instructions printed for a
    skipped row are the ones that file documents, never a second copy that drifts.
    """
    if doc is None:
        from hotcli.bench import mediapipe_peer

        doc = mediapipe_peer.__doc__ or ""
    commands, inside = [], False
    for line in doc.splitlines():
        if line.rstrip().endswith("::"):
            inside = True
        elif inside and line.startswith("    ") and line.strip():
            commands.append(line.strip())
        elif inside and commands and line.strip():
            break
    return commands


def resolve_mediapipe_python(given: str | None) -> tuple[Path | None, str | None]:
    """``(python, None)`` when MediaPipe's Python is there, else ``(None, why it is skipped)``."""
    path = Path(given or DEFAULT_MEDIAPIPE_PYTHON).expanduser()
    if path.is_file():
        return path, None
    if given:
        return None, f"--mediapipe-python {given} does not exist"
    return None, f"no MediaPipe environment at {DEFAULT_MEDIAPIPE_PYTHON}"


def code_root() -> Path:
    """The folder this process imports ``hotcli`` from: put first on the children's path."""
    import hotcli

    return Path(hotcli.__file__).resolve().parents[1]


def hot_pose_env(cache: Path) -> dict[str, str]:
    """This environment, with this hot-pose first on ``PYTHONPATH`` and the benchmark's cache.

    An editable install may point elsewhere (another checkout); the children must run the
    code being measured.
    """
    env = dict(os.environ)
    paths = [str(code_root())] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["HOT_POSE_CACHE"] = str(cache)
    return env


def peer_env() -> dict[str, str]:
    """This environment without ``PYTHONPATH``: MediaPipe's venv must see only itself."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _run(command: list[str], env: dict[str, str], what: str) -> tuple[float, str]:
    """Run ``command`` to the end; its wall seconds and standard output."""
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else "no message"
        raise HotPoseError(f"{what} failed (exit {done.returncode}): {reason}")
    return seconds, done.stdout


def time_hot_pose(video: Path, render: bool, env: dict[str, str], out_dir: Path) -> dict:
    """One whole ``hot-pose VIDEO`` process: wall seconds, frames and its summary's timings."""
    command = [sys.executable, "-m", "hotcli.cli.main", str(video), "-q", "-o", str(out_dir)]
    if not render:
        command.append("--no-render")
    seconds, _ = _run(command, env, "hot-pose" + ("" if render else " --no-render"))
    summary = json.loads((out_dir / "summary.json").read_text())
    return {
        "seconds": seconds,
        "frames": summary["frames"],
        "timings_s": summary["timings_s"],
        "fps_per_stage": summary["fps_per_stage"],
    }


def time_mediapipe(python: Path, video: Path) -> dict:
    """One whole MediaPipe peer process: wall seconds and the JSON line it prints."""
    seconds, stdout = _run([str(python), str(PEER_SCRIPT), str(video)], peer_env(), "MediaPipe")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise HotPoseError("MediaPipe printed no result line")
    return {"seconds": seconds, **json.loads(lines[-1])}


def spread(values: list[float]) -> dict[str, float]:
    """Median, minimum and maximum: the median resists one run slowed by other work."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def stage_medians(key: str, records: list[dict]) -> dict[str, float | None]:
    """Per-stage frames/s inside the process, median over runs (``None``: not a stage of it).

    hot-pose's come from its ``fps_per_stage``; MediaPipe decodes and finds the pose in one
    loop, which stands under decode+2D, and its ``total_s`` starts after interpreter start-up
    as hot-pose's total starts at model loading. A ``--no-render`` run has no render rate.
    """
    rates: dict[str, float | None] = dict.fromkeys(STAGES)
    if key == "mediapipe":
        for stage, field in (("decode+2d", "process_s"), ("total", "total_s")):
            values = [r["frames"] / r[field] for r in records if r.get(field)]
            rates[stage] = statistics.median(values) if values else None
        return rates
    for stage in STAGES:
        if stage == "render" and key != "render":
            continue
        values = [r["fps_per_stage"][stage] for r in records if stage in r["fps_per_stage"]]
        rates[stage] = statistics.median(values) if values else None
    return rates


def summarise(report: dict) -> list[dict]:
    """The table's rows from the raw runs: whole-process frames/s, ratio to MediaPipe, stages."""
    rows = []
    for key, label in ROWS.items():
        records = report["runs"].get(key) or []
        if not records:
            rows.append({"key": key, "label": label, "skipped": report.get("skipped", {}).get(key)})
            continue
        fps = spread([r["frames"] / r["seconds"] for r in records])
        rows.append({"key": key, "label": label, "runs": len(records),
                     "fps": fps, "stages": stage_medians(key, records)})  # fmt: skip
    peer = next((r for r in rows if r["key"] == "mediapipe" and "fps" in r), None)
    for row in rows:
        if "fps" in row:
            row["ratio"] = row["fps"]["median"] / peer["fps"]["median"] if peer else None
        if peer and "fps" in row and row["key"] != "mediapipe":
            ratios = round_ratios(report["runs"][row["key"]], report["runs"]["mediapipe"])
            row["rounds"] = {**spread(ratios), "faster": sum(r > 1 for r in ratios),
                             "of": len(ratios)}  # fmt: skip
    return rows


def round_ratios(records: list[dict], peer: list[dict]) -> list[float]:
    """Frames/s over MediaPipe's, round by round (each run against the MediaPipe run of its
    round): a drift in the machine's speed over the benchmark moves both sides of a round."""
    return [(r["frames"] / r["seconds"]) / (m["frames"] / m["seconds"])
            for r, m in zip(records, peer, strict=False)]  # fmt: skip


def loading(report: dict) -> dict:
    """Model loading cold (the one run on an empty cache) and warm (medians of the timed
    ``--no-render`` runs): the ``load`` timing and the whole-process seconds."""
    out = {}
    cold = report.get("cold")
    if cold:
        out["cold"] = {"runs": 1, "load_s": cold["timings_s"]["load"], "process_s": cold["seconds"],
                       "exported": cold.get("exported", [])}  # fmt: skip
    warm = report["runs"].get("no_render") or []
    if warm:
        out["warm"] = {"runs": len(warm),
                       "load_s": statistics.median(r["timings_s"]["load"] for r in warm),
                       "process_s": statistics.median(r["seconds"] for r in warm)}  # fmt: skip
    return out


def exported(cache: Path) -> list[str]:
    """The exports a run made in ``cache`` (none when the package carried them prebuilt)."""
    from hotcli.pose2d.export import compiled_cache

    if not cache.is_dir():
        return []
    return sorted(p.name for p in cache.iterdir() if p.name != compiled_cache().name)


def fmt_rate(value: float | None) -> str:
    """Frames/s as the closing line writes them; ``–`` where a stage does not apply."""
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def format_report(report: dict) -> str:
    """The printed table: one row per contestant, then model loading and skipped rows."""
    rows, load = summarise(report), loading(report)
    m = report["machine"]
    lines = [
        f"video: {report['video']} ({report['frames']} frames, "
        f"{report['width']}×{report['height']})",
        f"machine: {m['cpu']}, {m['cpus']} CPUs, load average (1 min) "
        f"{m['load_before']:.1f} before, {m['load_after']:.1f} after; {report['date']}",
        f"whole processes (start-up and model loading included), {report['runs_each']} "
        f"run{'s' if report['runs_each'] != 1 else ''} each, alternated, median frames/s",
        "in the process: stage rates from summary.json, medians (MediaPipe's decode+2D is its "
        "decode and pose loop)",
        "",
    ]
    head = (f"{'':<22} {'frames/s':>8} {'min–max':>11} {'×MediaPipe':>10}  "
            + " ".join(f"{h:>9}" for h in STAGES.values()))  # fmt: skip
    groups = f"{'':<22} {' whole process ':-^31}  {' in the process ':-^39}"
    lines += [groups, head, "-" * len(head)]
    notes = []
    for row in rows:
        if "fps" not in row:
            lines.append(f"{row['label']:<22} skipped: {row.get('skipped') or 'not run'}")
            if row["key"] == "mediapipe":
                notes = ["set MediaPipe up with:", *(f"  {c}" for c in setup_commands()),
                         "then: hot-pose bench --pipeline VIDEO --mediapipe-python "
                         f"{DEFAULT_MEDIAPIPE_PYTHON}"]  # fmt: skip
            continue
        f = row["fps"]
        ratio = "–" if row["ratio"] is None else f"{row['ratio']:.2f}"
        span = f"{fmt_rate(f['min'])}–{fmt_rate(f['max'])}"
        stages = " ".join(f"{fmt_rate(row['stages'][s]):>9}" for s in STAGES)
        lines.append(f"{row['label']:<22} {fmt_rate(f['median']):>8} {span:>11} {ratio:>10}  "
                     f"{stages}")  # fmt: skip
    lines.append("")
    for row in rows:
        if "rounds" in row:
            r = row["rounds"]
            lines.append(f"{row['label']} against MediaPipe round by round: "
                         f"{r['min']:.2f}–{r['max']:.2f} (median {r['median']:.2f}), "
                         f"faster in {r['faster']} of {r['of']}")  # fmt: skip
    for kind, what in (("cold", "cold (empty export cache, 1 run):"),
                       ("warm", "warm (cache filled, median):")):  # fmt: skip
        if kind in load:
            lines.append(f"hot-pose model loading {what:<34} load {load[kind]['load_s']:5.1f} s, "
                         f"whole process {load[kind]['process_s']:5.1f} s")  # fmt: skip
    if "cold" in load:
        made = load["cold"]["exported"]
        lines.append(f"  the cold run exported {', '.join(made)}" if made else
                     "  the cold run exported nothing: both networks came prebuilt in the "
                     "package (scripts/build_wheel.py)")  # fmt: skip
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def machine() -> dict:
    """The CPU's name and count and the 1-minute load average, to say how busy the box was."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from hotcli.device import usable_cpus

    return {"cpu": cpu, "cpus": usable_cpus(), "load_before": _load()}


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def bench_pipeline(video: Path, runs: int = DEFAULT_RUNS, mediapipe_python: str | None = None,
                   log=print) -> dict:  # fmt: skip
    """Run everything (cold load first, then the alternated rounds); the raw report."""
    from hotcli.formats.video import probe

    check_inputs(video, runs)
    info = probe(video)
    python, skipped = resolve_mediapipe_python(mediapipe_python)
    report = {
        "video": str(video), "frames": info.frames, "width": info.width, "height": info.height,
        "runs_each": runs, "machine": machine(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": {key: [] for key in ROWS}, "skipped": {"mediapipe": skipped} if skipped else {},
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hot-pose-bench-") as tmp:
        env = hot_pose_env(Path(tmp) / "cache")
        n = 0

        def hot_pose(render: bool) -> dict:
            nonlocal n
            n += 1
            out = Path(tmp) / f"run{n}"
            record = time_hot_pose(video, render, env, out)
            shutil.rmtree(out, ignore_errors=True)  # rendered videos add up over many runs
            return record

        report["cold"] = hot_pose(render=False)
        report["cold"]["exported"] = exported(Path(env["HOT_POSE_CACHE"]))
        log(f"cold: hot-pose --no-render {report['cold']['seconds']:.1f} s "
            f"(load {report['cold']['timings_s']['load']:.1f} s)")  # fmt: skip
        for r in range(runs):
            for key in ROWS:
                if key == "mediapipe":
                    if python is None:
                        continue
                    try:
                        record = time_mediapipe(python, video)
                    except HotPoseError as exc:
                        python, report["skipped"]["mediapipe"] = None, str(exc)
                        report["runs"]["mediapipe"] = []
                        log(f"run {r + 1}/{runs}: {exc}; MediaPipe skipped from now on")
                        continue
                else:
                    record = hot_pose(render=key == "render")
                report["runs"][key].append(record)
                log(f"run {r + 1}/{runs}: {ROWS[key]} {record['seconds']:.1f} s")
    report["machine"]["load_after"] = _load()
    return report


def main(video: Path, runs: int, mediapipe_python: str | None) -> dict:
    """``hot-pose bench --pipeline``: run, print the table; the report (for ``--json``)."""
    report = bench_pipeline(video, runs, mediapipe_python,
                            log=lambda text: print(text, file=sys.stderr, flush=True))  # fmt: skip
    report["rows"], report["loading"] = summarise(report), loading(report)
    print(format_report(report))
    return report
