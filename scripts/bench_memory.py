"""Peak memory of ``hot-pose VIDEO`` against the video's length, extrapolated to an hour.

A long video is made by looping ``examples/dancer.mp4`` (150 frames, 25 fps) with ffmpeg's
``-stream_loop``, copying the packets (no re-encoding, so it takes a moment), in a
temporary folder. Each length runs ``hot-pose VIDEO --no-render --quiet`` in a fresh child
process. Its peak resident set size comes from ``os.wait4`` (the kernel's ``ru_maxrss`` of
that one child: exact, not a sample). Beside it, the child samples its own RSS every 10 ms
and keeps the highest per stage (2D = decode + pose + tracking, lift, place, write =
result files and rendering), so each stage's growth per frame can be told apart: the
stage that holds the most at 9,000 frames (the lifter's network, whose working memory is
fixed) need not be the one that holds the most at 90,000.

Columns: the peak, the growth per extra frame of the peak and of each stage's sampled
peak between this length and the previous one, the peak at 90,000 frames (an hour at
25 fps): the largest of the stages' peaks each extrapolated linearly from the last two
lengths (each stage's own growth, not the peak's, for the reason above; a stage that
shrank counts as flat), and the spread of the peak over ``--repeat`` runs. The lifter's
working memory is the largest part and varies by 100-250 MB between identical runs (how
the allocator's arenas fill), so a few repeats and their lowest values are what to
compare::

    python scripts/bench_memory.py --repeat 2                # 600, 3000 and 9000 frames
    python scripts/bench_memory.py --frames 1500 4500 --render 600 1500
    python scripts/bench_memory.py --frames 600 3000 -- --imgsz 320   # hot-pose options

``--render N ...`` adds runs with the rendered video (the default output) at those lengths.
The child runs the ``hotcli`` beside this script (``PYTHONPATH`` is set to this source
tree), so a checkout measures its own code. Rows are printed as they finish. The lifter
fills its batches of windows from about 1,100 frames (25 fps) on, so a shorter first
length shows the network's working memory growing, not anything per frame.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "dancer.mp4"
HOUR_FRAMES = 90_000
STAGES = ("2D", "lift", "place", "write")

# Run in the child: hot-pose's command line with a thread sampling VmRSS per stage; the
# stages are marked by wrapping the functions hotcli.api calls for them.
CHILD = r"""
import json, os, sys, threading, time
from hotcli import api
from hotcli.cli import main as cli

stage, peaks = ["start"], {}

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

def sample():
    while True:
        now = rss()
        peaks[stage[0]] = max(peaks.get(stage[0], 0.0), now)
        time.sleep(0.01)

def marked(owner, name, label):
    inner = getattr(owner, name)
    def run(*args, **kwargs):
        before, stage[0] = stage[0], label
        try:
            return inner(*args, **kwargs)
        finally:
            peaks[label] = max(peaks.get(label, 0.0), rss())
            stage[0] = before
    setattr(owner, name, run)

marked(api, "find_people", "2D")
marked(api, "lift_tracks", "lift")
marked(api.HotPose, "_place", "place")
marked(api.VideoResult, "save", "write")
threading.Thread(target=sample, daemon=True).start()
code = cli.main(sys.argv[1:])
with open(os.environ["HOT_POSE_BENCH_PEAKS"], "w") as f:
    json.dump(peaks, f)
sys.exit(code)
"""


def clip_frames(path: Path) -> int:
    """Frames of the clip to loop (the packets probe counts; the same as decode)."""
    sys.path.insert(0, str(ROOT))
    from hotcli.formats.video import probe

    return probe(path).frames


def looped_video(source: Path, frames: int, source_frames: int, folder: Path) -> Path:
    """``source`` played back to back until it has ``frames`` frames (a multiple of its own)."""
    import imageio_ffmpeg

    if frames % source_frames:
        raise SystemExit(f"--frames must be multiples of {source_frames} (the clip's length)")
    out = folder / f"{source.stem}_x{frames // source_frames}{source.suffix}"
    if not out.exists():
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
               "-stream_loop", str(frames // source_frames - 1), "-i", str(source),
               "-map", "0", "-c", "copy", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True)
    return out


def run_child(
    video: Path, out: Path, render: bool, extra: list[str]
) -> tuple[float, dict[str, float], float]:
    """Run hot-pose on ``video`` in a fresh process: (its peak RSS in MB, the sampled peak per
    stage in MB, wall seconds).

    The child is reaped with ``os.wait4``, which gives that one child's ``ru_maxrss``
    (``RUSAGE_CHILDREN`` would be the largest of all children so far).
    """
    args = [str(video), "-o", str(out), "--quiet", *([] if render else ["--no-render"]), *extra]
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as log:
        peaks_file = Path(tmp) / "peaks.json"
        env = {**os.environ, "PYTHONPATH": path, "HOT_POSE_BENCH_PEAKS": str(peaks_file)}
        start = time.perf_counter()
        # a file for the output: the child never blocks on a full pipe
        proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            said = log.read().decode("utf-8", "replace")[-2000:]
            raise SystemExit(f"hot-pose failed on {video} (exit {proc.returncode}):\n{said}")
        peaks = json.loads(peaks_file.read_text())
    return usage.ru_maxrss / 1024, peaks, seconds  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--frames",
        type=int,
        nargs="+",
        default=[600, 3000, 9000],
        help="video lengths in frames without rendering (default: %(default)s)",
    )
    parser.add_argument(
        "--render",
        type=int,
        nargs="*",
        default=[],
        metavar="FRAMES",
        help="lengths to run again with the rendered video (default: none)",
    )
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="runs per length, each in a fresh process; the table gives the "
                        "lowest of each column and the peak's spread (default: 1)")  # fmt: skip
    parser.add_argument("--source", type=Path, default=EXAMPLE, help="clip to loop")
    parser.add_argument("--keep", type=Path, default=None,
                        help="folder for the long videos, kept for the next run (default: a "
                        "temporary folder, deleted)")  # fmt: skip
    parser.add_argument("extra", nargs="*", help="after --: more hot-pose options")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="hot-pose-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        per_clip = clip_frames(args.source)
        plans = [(n, False) for n in args.frames] + [(n, True) for n in args.render]
        print(f"hot-pose peak memory, MB ({ROOT}; stages sampled every 10 ms)")
        names = " ".join(f"{s:>6}" for s in ("all", *STAGES))
        print(f"{'':>14} | {'peak RSS, MB':<34} | {'KB per extra frame':<34} | {'MB at':>7} "
              f"{'peak':>6}")  # fmt: skip
        print(f"{'frames':>7} {'render':>6} | {names} | {names} | {'90,000':>7} {'spread':>6} "
              f"{'wall s':>7}", flush=True)  # fmt: skip
        done: dict[bool, list[tuple[int, float, dict]]] = {False: [], True: []}
        for frames, render in plans:
            video = looped_video(args.source, frames, per_clip, folder)
            out = folder / f"out_{frames}_{int(render)}"
            runs = []
            for _ in range(args.repeat):
                runs.append(run_child(video, out, render, args.extra))
                shutil.rmtree(out, ignore_errors=True)
            peak = min(r[0] for r in runs)
            stages = {s: min(r[1].get(s, 0.0) for r in runs) for s in STAGES}
            seconds = min(r[2] for r in runs)
            spread = max(r[0] for r in runs) - peak
            at = " ".join(f"{v:>6.0f}" for v in (peak, *stages.values()))
            slopes, hour = " ".join(f"{'':>6}" for _ in range(5)), ""
            if done[render]:
                f0, p0, s0 = done[render][-1]
                per = {s: (stages[s] - s0[s]) * 1024 / (frames - f0) for s in STAGES}
                slopes = " ".join(f"{v:>6.1f}" for v in ((peak - p0) * 1024 / (frames - f0),
                                                         *per.values()))  # fmt: skip
                ahead = (HOUR_FRAMES - frames) / 1024  # a stage that shrank: noise, held flat
                hour = f"{max(stages[s] + max(per[s], 0.0) * ahead for s in STAGES):.0f}"
            done[render].append((frames, peak, stages))
            print(f"{frames:>7} {'yes' if render else 'no':>6} | {at} | {slopes} | {hour:>7} "
                  f"{spread:>6.0f} {seconds:>7.0f}", flush=True)  # fmt: skip
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
