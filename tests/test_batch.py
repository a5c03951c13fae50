"""`hot-pose FOLDER/`: finding videos, mirrored results, statuses, summary, resuming, Ctrl-C.

The end-to-end tests build a folder in tmp_path with two short real clips cut from the
example video (plus a copy in a nested folder), a truncated mp4, a text file named .mp4 and
a README, and run the real pipeline on it (2D pose at 320 px, no rendering) through the CLI.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from hotcli.api import HotPose
from hotcli.batch import report
from hotcli.batch.discover import Job, default_output_root, find_videos, plan_jobs
from hotcli.cli import main as cli
from hotcli.formats import outputs
from tests.conftest import EXAMPLE_VIDEO, ROOT, need_clip, run_cli, run_ffmpeg

FAST = ["--no-render", "--imgsz", "320", "--device", "cpu"]


def read_summary(folder: Path) -> tuple[list[dict], dict]:
    with open(folder / "batch_summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    doc = json.loads((folder / "batch_summary.json").read_text())
    assert [r["file"] for r in rows] == [r["file"] for r in doc["videos"]]
    return rows, doc


def by_output(rows: list[dict]) -> dict[str, dict]:
    return {r["output"]: r for r in rows}


# ---------------------------------------------------------------------------- discovery

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42" + bytes(100)
MKV_HEAD = b"\x1a\x45\xdf\xa3" + bytes(100)


def make_tree(root: Path) -> Path:
    """A folder of fake files: only names and first bytes matter for discovery."""
    (root / "in" / "sub" / "deeper").mkdir(parents=True)
    (root / "in" / ".hidden").mkdir()
    files = {
        "in/a.mp4": MP4_HEAD,
        "in/a.MOV": MP4_HEAD,  # same stem as a.mp4
        "in/notes.mp4": b"not a video",  # a video extension is listed anyway
        "in/readme.txt": b"hello",
        "in/clip.bin": MKV_HEAD,  # no video extension, but a Matroska file
        "in/data.bin": b"\x00" * 200,
        "in/code.ts": b"export const x = 1;\n" * 20,  # TypeScript, not MPEG-TS
        "in/stream.ts": (b"\x47" + bytes(187)) * 3,
        "in/.partial.mp4": MP4_HEAD,
        "in/.hidden/x.mp4": MP4_HEAD,
        "in/sub/b.mkv": MKV_HEAD,
        "in/sub/deeper/c.avi": b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(100),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root / "in"


def names(found, base: Path) -> list[str]:
    return [v.relative_to(base).as_posix() for v, _ in found]


def test_find_videos_by_extension_and_content(tmp_path):
    folder = make_tree(tmp_path)
    flat = find_videos([str(folder)])
    assert names(flat, folder) == ["a.MOV", "a.mp4", "clip.bin", "notes.mp4", "stream.ts"]
    deep = find_videos([str(folder)], recursive=True)
    assert names(deep, folder)[-2:] == ["sub/b.mkv", "sub/deeper/c.avi"]
    assert [rel.as_posix() for _, rel in deep][-1] == "sub/deeper/c.avi"


def test_output_folders_mirror_the_tree_and_never_clash(tmp_path):
    folder = make_tree(tmp_path)
    jobs = plan_jobs(find_videos([str(folder)], recursive=True), tmp_path / "out")
    got = {j.video.name: j.name for j in jobs}
    assert got["a.mp4"] == "a_mp4" and got["a.MOV"] == "a_MOV"  # same stem: keep the extension
    assert got["c.avi"] == "sub/deeper/c" and got["clip.bin"] == "clip"
    assert all(j.out_dir == tmp_path / "out" / j.name for j in jobs)
    # the same file twice (folder and explicit path) is processed once
    again = plan_jobs(find_videos([str(folder), str(folder / "a.mp4")]), tmp_path / "out")
    assert sum(j.video.name == "a.mp4" for j in again) == 1
    # several folders: each gets its own subfolder
    assert {j.name for j in again} >= {"in/a_mp4", "in/notes"}


def test_output_folder_inside_the_input_is_not_searched(tmp_path):
    folder = make_tree(tmp_path)
    out = folder / "results"
    (out / "old").mkdir(parents=True)
    (out / "old" / "render.mp4").write_bytes(MP4_HEAD)
    (folder / "sub" / "done").mkdir()
    (folder / "sub" / "done" / "render.mp4").write_bytes(MP4_HEAD)
    (folder / "sub" / "done" / "summary.json").write_text("{}")  # another run's result
    found = names(find_videos([str(folder)], True, excluded=[out.resolve()]), folder)
    assert not [n for n in found if "render" in n]


def test_globs_and_missing_inputs(tmp_path):
    from hotcli.errors import HotPoseError

    folder = make_tree(tmp_path)
    found = find_videos([str(folder / "**" / "*.m*")], recursive=True)
    assert sorted(rel.as_posix() for _, rel in found) == ["a.mp4", "notes.mp4", "sub/b.mkv"]
    with pytest.raises(HotPoseError, match="no file matches"):
        find_videos([str(folder / "*.webm")])
    with pytest.raises(HotPoseError, match="no such file"):
        find_videos([str(folder), str(tmp_path / "nowhere.mp4")])


def test_folder_without_videos_is_an_error(tmp_path, capsys):
    (tmp_path / "only.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "v.mp4").write_bytes(MP4_HEAD)
    assert cli.main([str(tmp_path), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no videos found" in err and "--recursive" in err


def test_default_output_root():
    assert default_output_root([str(ROOT / "tests")]) == Path("hot-pose-output/tests")
    assert default_output_root(["a.mp4", "b.mp4"]) == Path("hot-pose-output")


def test_summary_files_and_table(tmp_path):
    job = Job(Path("clips/x.mp4"), tmp_path / "x", "x")
    rows = [
        report.make_row(job, "ok", frames=50, persons=1, seconds=2.0, frames_per_s=25.0),
        report.make_row(job, "failed", seconds=0.1, error="clips/x.mp4: not a video"),
        report.make_row(job, "not run"),
    ]
    total = report.totals(rows, wall_seconds=4.0)
    assert total["ok"] == 1 and total["failed"] == 1 and total["not run"] == 1
    assert total["videos_per_minute"] == 15.0 and total["frames_per_s"] == 12.5
    report.write_summary(tmp_path, rows, {"totals": total})
    csv_rows, doc = read_summary(tmp_path)
    assert [r["status"] for r in csv_rows] == ["ok", "failed", "not run"]
    assert csv_rows[1]["error"] == "clips/x.mp4: not a video" and csv_rows[2]["frames"] == ""
    assert doc["videos"][0]["frames"] == 50 and doc["totals"]["frames_processed"] == 50
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    table = report.format_table(rows, total)
    assert "not a video" in table and "15.0 videos/min" in table and "12.5 frames/s" in table


def test_ray_missing_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import sys

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "v.mp4").write_bytes(MP4_HEAD)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails
    assert cli.main([str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--ray", "auto"]) == 2
    assert "hot-pose[ray]" in capsys.readouterr().err


def fake_folder(root: Path, count: int = 2) -> Path:
    folder = root / "in"
    folder.mkdir()
    for i in range(count):
        (folder / f"v{i}.mp4").write_bytes(MP4_HEAD)
    return folder


def test_setup_errors_stop_the_batch_with_one_line(tmp_path, capsys):
    folder = fake_folder(tmp_path)
    argv = [str(folder), "-o", str(tmp_path / "o"), "--weights", str(tmp_path / "none.pt")]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("hot-pose: error: ") and "lifter weights" in captured.err
    assert "videos:" not in captured.out  # no table for a batch that never started


def test_skip_and_overwrite(tmp_path, monkeypatch):
    """The resume logic alone, with a stand-in for the pipeline."""
    calls = []

    class FakeHotPose:
        def process(self, video, out_dir, options):
            calls.append(Path(video).name)
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            summary = {"frames": 5, "persons": [{"track_id": 1}]}
            outputs.write_summary(Path(out_dir), summary)
            return summary

    monkeypatch.setattr(HotPose, "from_options", staticmethod(lambda run: FakeHotPose()))
    argv = [str(fake_folder(tmp_path)), "-o", str(tmp_path / "o"), "-q"]
    statuses = []
    for extra in ([], [], ["--overwrite"]):
        assert run_cli(argv + extra)[0] == 0
        statuses.append([r["status"] for r in read_summary(tmp_path / "o")[0]])
    assert statuses == [["ok", "ok"], ["skipped", "skipped"], ["ok", "ok"]]
    assert calls == ["v0.mp4", "v1.mp4"] * 2


# ------------------------------------------------------------------------- end to end


def cut(source: Path, target: Path, start_s: float, frames: int, scale: str = "iw:ih") -> None:
    """A short H.264 cut of ``source`` (no audio), made with imageio-ffmpeg's ffmpeg."""
    run_ffmpeg("-ss", str(start_s), "-i", str(source), "-frames:v", str(frames), "-an",
               "-vf", f"scale={scale}", "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv420p", str(target))  # fmt: skip


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Two real 40-frame clips of different content and size."""
    need_clip()
    folder = tmp_path_factory.mktemp("clips")
    cut(EXAMPLE_VIDEO, folder / "a.mp4", 0.0, 40)
    cut(EXAMPLE_VIDEO, folder / "b.mp4", 2.0, 40, scale="trunc(iw*3/8)*2:-2")
    return folder


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory, clips, lifter_weights):
    """The issue's folder, processed once with two worker processes."""
    folder = tmp_path_factory.mktemp("batch") / "videos"
    (folder / "nested").mkdir(parents=True)
    shutil.copy(clips / "a.mp4", folder / "a.mp4")
    shutil.copy(clips / "b.mp4", folder / "b.mp4")
    shutil.copy(clips / "a.mp4", folder / "nested" / "c.mp4")
    data = (clips / "a.mp4").read_bytes()
    (folder / "broken.mp4").write_bytes(data[: len(data) * 2 // 5])  # truncated: no index
    (folder / "notes.mp4").write_text("a text file with a video's name\n" * 10)
    cut(clips / "a.mp4", folder / "empty.mp4", 0.0, 15, scale="64:64,geq=128:128:128")
    (folder / "README.txt").write_text("not listed\n")
    out = folder.parent / "out"
    argv = [str(folder), "-o", str(out), "--recursive", "--workers", "2",
            "--weights", str(lifter_weights), *FAST]  # fmt: skip
    start = time.perf_counter()
    code, stdout, stderr = run_cli(argv)
    return {"folder": folder, "out": out, "argv": argv, "code": code, "stdout": stdout,
            "stderr": stderr, "seconds": time.perf_counter() - start}  # fmt: skip


def test_folder_results_statuses_and_exit_code(folder_run):
    out = folder_run["out"]
    assert folder_run["code"] == 1, folder_run["stderr"][-3000:]  # some files failed
    rows, doc = read_summary(out)
    rows = by_output(rows)
    assert set(rows) == {"a", "b", "broken", "notes", "empty", "nested/c"}  # not README.txt
    for name in ("a", "b", "nested/c"):
        row = rows[name]
        assert row["status"] == "ok" and row["error"] == "", row
        assert int(row["frames"]) == 40 and int(row["persons"]) == 1
        assert float(row["seconds"]) > 0 and float(row["frames_per_s"]) > 0
        assert outputs.is_complete(out / name) and (out / name / "poses.npz").is_file()
        summary = json.loads((out / name / "summary.json").read_text())
        assert Path(summary["video"]).name == Path(row["file"]).name
    assert rows["nested/c"]["file"].endswith(os.path.join("nested", "c.mp4"))
    for name in ("broken", "notes"):
        assert rows[name]["status"] == "failed" and rows[name]["error"], rows[name]
        assert name + ".mp4" in rows[name]["error"] and "video" in rows[name]["error"]
    assert rows["empty"]["status"] == "failed" and "no person" in rows["empty"]["error"]
    for name in ("broken", "notes", "empty"):
        assert not (out / name).exists()  # nothing that looks like a result
    assert doc["totals"]["ok"] == 3 and doc["totals"]["failed"] == 3
    assert doc["totals"]["frames_processed"] == 120 and doc["workers"] == 2
    table = folder_run["stdout"]
    assert "broken.mp4" in table and "failed" in table and "videos/min" in table
    assert not [p for p in out.rglob(".*")]  # no temporary files left


def test_second_run_skips_what_is_done(folder_run):
    out = folder_run["out"]
    done = {n: (out / n / "summary.json").stat().st_mtime_ns for n in ("a", "b", "nested/c")}
    argv = [a for a in folder_run["argv"] if a not in ("--workers", "2")]
    start = time.perf_counter()
    code, stdout, stderr = run_cli(argv)
    seconds = time.perf_counter() - start
    assert code == 1, stderr[-2000:]  # the broken files are tried again and fail again
    rows = by_output(read_summary(out)[0])
    assert {n: rows[n]["status"] for n in done} == dict.fromkeys(done, "skipped")
    assert rows["a"]["frames"] == "40" and rows["a"]["persons"] == "1"
    assert {rows[n]["status"] for n in ("broken", "notes", "empty")} == {"failed"}
    assert {n: (out / n / "summary.json").stat().st_mtime_ns for n in done} == done
    assert seconds < max(10.0, folder_run["seconds"] / 2)


def test_ctrl_c_writes_the_summary_and_leaves_nothing_complete(
    tmp_path, clips, lifter_weights, monkeypatch
):
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(clips / "a.mp4", folder / "a.mp4")
    shutil.copy(clips / "b.mp4", folder / "b.mp4")
    shutil.copy(clips / "a.mp4", folder / "c.mp4")
    real_write_summary = outputs.write_summary
    calls = []

    def write_summary_then_ctrl_c(out_dir, summary):
        calls.append(out_dir)
        if len(calls) == 2:  # Ctrl-C on the second video, after its pose files are written
            raise KeyboardInterrupt
        return real_write_summary(out_dir, summary)

    monkeypatch.setattr(outputs, "write_summary", write_summary_then_ctrl_c)
    out = tmp_path / "out"
    argv = [str(folder), "-o", str(out), "--weights", str(lifter_weights), *FAST]
    code, stdout, stderr = run_cli(argv)
    assert code == 130, stderr[-2000:]
    rows = by_output(read_summary(out)[0])
    assert [rows[n]["status"] for n in ("a", "b", "c")] == ["ok", "interrupted", "not run"]
    assert outputs.is_complete(out / "a") and not outputs.is_complete(out / "b")
    assert not (out / "c").exists()
    assert "interrupted" in stdout

    monkeypatch.setattr(outputs, "write_summary", real_write_summary)
    code, _, stderr = run_cli([*argv, "-q"])
    assert code == 0, stderr[-2000:]
    rows = by_output(read_summary(out)[0])
    assert [rows[n]["status"] for n in ("a", "b", "c")] == ["skipped", "ok", "ok"]


def test_ray_local_cluster(tmp_path, clips, lifter_weights):
    pytest.importorskip("ray")
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(clips / "b.mp4", folder / "b.mp4")
    out = tmp_path / "out"
    argv = [str(folder), "-o", str(out), "--ray", "local", "--weights", str(lifter_weights),
            *FAST]  # fmt: skip
    code, _, stderr = run_cli(argv)
    assert code == 0, stderr[-3000:]
    rows, doc = read_summary(out)
    assert [(r["output"], r["status"], r["frames"]) for r in rows] == [("b", "ok", "40")]
    assert doc["ray"] == "local" and outputs.is_complete(out / "b")
