"""hot-pose bench --pipeline: argument errors, the table's maths, the order of runs, the
MediaPipe row when its Python is missing, and real child processes.

The maths and the orchestration run on fabricated timings (the child processes replaced), so
they are fast and need no MediaPipe. One real ``hot-pose`` child runs on a 10-frame cut of
the example clip. The whole benchmark on the example clip (a cold export and two whole runs,
about two minutes on a busy 2-core machine) runs only with ``HOT_POSE_BENCH_TEST=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hotcli.bench import pipeline
from hotcli.cli import main as cli
from tests.conftest import run_ffmpeg


def hot_pose_record(seconds: float, load: float, render: float | None = None) -> dict:
    """What :func:`pipeline.time_hot_pose` returns for a 150-frame video."""
    # A --no-render run's summary has a render rate from a near-zero time: never shown.
    fps = {"decode+2d": 15.0, "lift": 200.0, "total": 12.0, "render": render or 7e7}
    return {"seconds": seconds, "frames": 150, "timings_s": {"load": load}, "fps_per_stage": fps}


def mediapipe_record(seconds: float) -> dict:
    return {"seconds": seconds, "frames": 150, "frames_with_pose": 150, "load_s": 0.05,
            "process_s": 3.0, "total_s": 5.0}  # fmt: skip


def fabricated_report(mediapipe: bool = True) -> dict:
    return {
        "video": "clip.mp4", "frames": 150, "width": 640, "height": 480, "runs_each": 3,
        "date": "2026-12-06 12:00 UTC",
        "machine": {"cpu": "Test CPU", "cpus": 2, "load_before": 3.0, "load_after": 4.0},
        "cold": {**hot_pose_record(40.0, 8.0), "exported": ["a_openvino_model", "b_lifter"]},
        "runs": {
            "no_render": [hot_pose_record(15, 1.0), hot_pose_record(10, 2.0),
                          hot_pose_record(30, 1.5)],
            "render": [hot_pose_record(20, 1.0, 90), hot_pose_record(25, 1.0, 80),
                       hot_pose_record(15, 1.0, 100)],
            "mediapipe": [mediapipe_record(s) for s in (5, 6, 3)] if mediapipe else [],
        },
        "skipped": {} if mediapipe else {"mediapipe": "no MediaPipe environment at X"},
    }  # fmt: skip


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--pipeline", "no/such/video.mp4"], "no such video file"),
     (["--pipeline", "examples/dancer.mp4", "--runs", "0"], "--runs must be 1 or more"),
     (["--runs", "-2"], "--runs must be 1 or more")],
)  # fmt: skip
def test_bad_arguments_are_one_line(extra, message, capsys) -> None:
    code, out, err = run_cli(["bench", *extra], capsys)
    assert code == 2 and out == ""
    assert err.startswith("hot-pose: error: ") and err.count("\n") == 1 and message in err


def test_rows_give_medians_ranges_and_ratios_to_mediapipe() -> None:
    rows = {r["key"]: r for r in pipeline.summarise(fabricated_report())}
    # no render: 150 frames in 15, 10, 30 s -> 10, 15, 5 frames/s; MediaPipe 30, 25, 50.
    assert rows["no_render"]["fps"] == {"median": 10.0, "min": 5.0, "max": 15.0}
    assert rows["mediapipe"]["fps"] == {"median": 30.0, "min": 25.0, "max": 50.0}
    assert rows["no_render"]["ratio"] == pytest.approx(1 / 3)
    assert rows["render"]["ratio"] == pytest.approx(7.5 / 30)
    assert rows["mediapipe"]["ratio"] == 1.0
    # round by round: 10/30, 15/25, 5/50 (no render); 7.5/30, 6/25, 10/50 (rendering)
    assert rows["no_render"]["rounds"] == pytest.approx(
        {"median": 1 / 3, "min": 0.1, "max": 0.6, "faster": 0, "of": 3}
    )
    assert rows["render"]["rounds"]["median"] == pytest.approx(0.24)
    assert "rounds" not in rows["mediapipe"]
    assert rows["render"]["stages"]["render"] == 90
    assert rows["no_render"]["stages"] == {"decode+2d": 15.0, "lift": 200.0, "render": None,
                                           "total": 12.0}  # fmt: skip
    # MediaPipe: its decode and pose loop (3 s) and its in-process total (5 s).
    assert rows["mediapipe"]["stages"] == {"decode+2d": 50.0, "lift": None, "render": None,
                                           "total": 30.0}  # fmt: skip


def test_loading_is_the_cold_run_and_the_median_warm_run() -> None:
    load = pipeline.loading(fabricated_report())
    assert load["cold"] == {"runs": 1, "load_s": 8.0, "process_s": 40.0,
                            "exported": ["a_openvino_model", "b_lifter"]}  # fmt: skip
    assert load["warm"] == {"runs": 3, "load_s": 1.5, "process_s": 15.0}


def test_table_prints_every_row_and_loading() -> None:
    text = pipeline.format_report(fabricated_report())
    lines = {line.split("  ")[0].strip(): line for line in text.splitlines()}
    assert lines["hot-pose --no-render"].split()[2:5] == ["10.0", "5.0–15.0", "0.33"]
    assert lines["hot-pose (rendering)"].split()[2:5] == ["7.5", "6.0–10.0", "0.25"]
    assert lines["MediaPipe Pose (full)"].split()[3:6] == ["30.0", "25.0–50.0", "1.00"]
    assert "7e+07" not in text and "70000000" not in text
    words = " ".join(text.split())
    assert "cold (empty export cache, 1 run): load 8.0 s, whole process 40.0 s" in words
    assert "the cold run exported a_openvino_model, b_lifter" in words
    assert "warm (cache filled, median): load 1.5 s, whole process 15.0 s" in words
    assert "load average (1 min) 3.0 before, 4.0 after" in text
    assert ("hot-pose --no-render against MediaPipe round by round: 0.10–0.60 (median 0.33), "
            "faster in 0 of 3") in words  # fmt: skip


def test_missing_mediapipe_row_says_skipped_and_how_to_set_it_up() -> None:
    python, why = pipeline.resolve_mediapipe_python("/no/such/python")
    assert python is None and "/no/such/python does not exist" in why
    text = pipeline.format_report(fabricated_report(mediapipe=False))
    row = next(line for line in text.splitlines() if line.startswith("MediaPipe"))
    assert "skipped: no MediaPipe environment at X" in row
    commands = pipeline.setup_commands()
    assert len(commands) == 3 and all(c in text for c in commands)
    assert commands[0] == "python -m venv ~/venv-mediapipe"
    assert "mediapipe==0.10.14" in commands[1] and commands[2].endswith("mediapipe_peer.py VIDEO")
    assert "--mediapipe-python" in text
    no_render = next(line for line in text.splitlines() if line.startswith("hot-pose --no"))
    assert no_render.split()[4] == "–"  # no ratio without MediaPipe


@pytest.fixture
def fake_children(monkeypatch):
    """Replace the child processes; record what ran, in order, with which cache."""
    calls = []

    def hot_pose(video, render, env, out_dir):
        calls.append(("render" if render else "no_render", env["HOT_POSE_CACHE"], out_dir))
        return hot_pose_record(10.0 + len(calls), 1.0, 90.0 if render else None)

    def mediapipe(python, video):
        calls.append(("mediapipe", str(python), None))
        return mediapipe_record(5.0)

    monkeypatch.setattr(pipeline, "time_hot_pose", hot_pose)
    monkeypatch.setattr(pipeline, "time_mediapipe", mediapipe)
    return calls


def test_runs_alternate_after_one_cold_run_on_a_fresh_cache(fake_children, example_video,
                                                            tmp_path) -> None:  # fmt: skip
    python = tmp_path / "python"
    python.touch()
    report = pipeline.bench_pipeline(example_video, 2, str(python), log=lambda _: None)
    order = [c[0] for c in fake_children]
    assert order == ["no_render"] + ["no_render", "render", "mediapipe"] * 2
    caches = {c[1] for c in fake_children if c[0] != "mediapipe"}
    assert len(caches) == 1 and not Path(caches.pop()).exists()  # its own, removed after
    outs = [c[2] for c in fake_children if c[2] is not None]
    assert len(set(outs)) == len(outs)  # each run writes to a folder of its own
    assert report["cold"]["seconds"] == 11.0 and len(report["runs"]["mediapipe"]) == 2
    assert report["frames"] == 150 and report["skipped"] == {}
    assert report["cold"]["exported"] == []  # the stand-in children export nothing


def test_missing_or_failing_mediapipe_is_skipped_not_fatal(fake_children, example_video,
                                                           monkeypatch) -> None:  # fmt: skip
    report = pipeline.bench_pipeline(example_video, 2, "/no/such/python", log=lambda _: None)
    assert "mediapipe" not in [c[0] for c in fake_children]
    assert report["skipped"]["mediapipe"] == "--mediapipe-python /no/such/python does not exist"

    def broken(python, video):
        raise pipeline.HotPoseError("MediaPipe failed (exit 1): No module named 'mediapipe'")

    monkeypatch.setattr(pipeline, "time_mediapipe", broken)
    report = pipeline.bench_pipeline(example_video, 2, os.__file__, log=lambda _: None)
    assert "No module named 'mediapipe'" in report["skipped"]["mediapipe"]
    assert report["runs"]["mediapipe"] == [] and len(report["runs"]["render"]) == 2


def test_children_run_this_checkout_with_the_given_cache(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PYTHONPATH", f"/elsewhere{os.pathsep}")
    env = pipeline.hot_pose_env(tmp_path / "cache")
    assert env["PYTHONPATH"].split(os.pathsep) == [str(pipeline.code_root()), "/elsewhere"]
    assert (pipeline.code_root() / "hotcli" / "bench" / "pipeline.py").is_file()
    assert env["HOT_POSE_CACHE"] == str(tmp_path / "cache")
    assert "PYTHONPATH" not in pipeline.peer_env()


def test_a_real_child_process_reports_its_stages(example_video, tmp_path) -> None:
    """One whole `hot-pose CLIP --no-render` child on 10 frames, with the usual cache."""
    from hotcli.pose2d.export import cache_dir

    clip = tmp_path / "ten.mp4"
    run_ffmpeg("-i", str(example_video), "-frames:v", "10", "-an", str(clip))
    record = pipeline.time_hot_pose(clip, False, pipeline.hot_pose_env(cache_dir()),
                                    tmp_path / "out")  # fmt: skip
    assert record["frames"] == 10 and record["seconds"] > record["timings_s"]["total"] > 0
    assert {"decode+2d", "lift", "total"} <= set(record["fps_per_stage"])


@pytest.mark.skipif(
    os.environ.get("HOT_POSE_BENCH_TEST") != "1",
    reason="the whole benchmark takes minutes; set HOT_POSE_BENCH_TEST=1",
)
def test_whole_benchmark_on_the_example_clip(example_video, tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    argv = ["bench", "--pipeline", str(example_video), "--runs", "1",
            "--mediapipe-python", str(tmp_path / "none"), "--json", str(out)]  # fmt: skip
    code, stdout, err = run_cli(argv, capsys)
    assert code == 0, err[-2000:]
    report = json.loads(out.read_text())
    rows = {r["key"]: r for r in report["rows"]}
    assert rows["no_render"]["fps"]["median"] > 0 and rows["render"]["stages"]["render"] > 0
    assert "skipped" in rows["mediapipe"] and "skipped:" in stdout
    assert report["loading"]["cold"]["load_s"] > report["loading"]["warm"]["load_s"]
