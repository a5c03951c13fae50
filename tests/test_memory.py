"""Memory that must not grow with a video's length (issue #23), on synthetic runs.

Traced memory (``tracemalloc``, which sees NumPy's arrays) is measured over two lengths of
the same synthetic input; the growth per extra frame is what an hour of video multiplies.
Each test also checks the numbers are what the whole-array way gives.
"""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from hotcli.formats import outputs
from hotcli.lifting.lifter import Lifter, PersonMotion
from hotcli.options import Pose2DOptions
from hotcli.pipeline import place_in_scene
from hotcli.pose2d.posenet import Detections
from hotcli.pose2d.reassociate import _candidates, join_cost, join_fragments
from hotcli.pose2d.tracking import DetectionLog, PeopleFinder, Track, build_track, track_people
from hotcli.scene.camera import video_intrinsics
from hotcli.scene.world import WorldOptions, place_persons
from tests.scene import Scene, observe, walker
from tests.test_lift import PerFrame

FRAME = np.zeros((240, 320, 3), np.uint8)


class Crowd:
    """A stand-in pose network: one person walking to and fro in every frame, and every 40
    frames someone else for 5 frames somewhere new (many short tracks, as in a street)."""

    def __init__(self) -> None:
        self.t = -1
        self.rng = np.random.default_rng(0)
        self.shape = self.rng.uniform(-15, 15, (17, 2)).astype(np.float32)
        self.other = np.zeros(2, np.float32)

    def __call__(self, image: np.ndarray, imgsz: int) -> Detections:
        self.t += 1
        centres = [np.array([160 + 80 * np.sin(self.t / 50), 120], np.float32)]
        if self.t % 40 == 0:
            self.other = self.rng.uniform([30, 40], [290, 200]).astype(np.float32)
        if self.t % 40 < 5:
            centres.append(self.other)
        boxes = np.array([[x - 20, y - 40, x + 20, y + 40] for x, y in centres], np.float32)
        keypoints = np.stack([c + self.shape for c in centres])
        n = len(centres)
        return Detections(boxes, np.full(n, 0.9, np.float32), keypoints,
                          np.full((n, 17), 0.8, np.float32))  # fmt: skip


def traced_peak(run) -> tuple[int, object]:
    """Peak traced bytes above the start while ``run()`` runs, and its result."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        result = run()
        return tracemalloc.get_traced_memory()[1] - start, result
    finally:
        tracemalloc.stop()


def growth_per_frame(run, short: int, long: int) -> float:
    """Bytes of peak traced memory per extra frame between ``run(short)`` and ``run(long)``."""
    run(short)  # imports and first-use allocations out of the way
    low, _ = traced_peak(lambda: run(short))
    high, _ = traced_peak(lambda: run(long))
    return (high - low) / (long - short)


def test_detection_log_grows_in_chunks_and_gives_back_every_detection():
    log = DetectionLog()
    rng = np.random.default_rng(0)
    rows = [
        (3 * i, rng.normal(size=(17, 2)), rng.random(17), rng.normal(size=4)) for i in range(5000)
    ]
    for row in rows:
        log.append(*row)
    frames, keypoints, scores, boxes = log.arrays()
    assert frames.tolist() == [r[0] for r in rows] and keypoints.dtype == np.float32
    np.testing.assert_array_equal(keypoints, np.float32([r[1] for r in rows]))
    np.testing.assert_array_equal(boxes, np.float32([r[3] for r in rows]))
    row = 8 + 17 * 2 * 4 + 17 * 4 + 4 * 4
    assert log.count == 5000 and log.nbytes < (5000 + DetectionLog.MAX_CHUNK) * row
    few = DetectionLog()
    few.append(0, *rows[0][1:])
    assert few.nbytes < 4000  # a brief false detection costs one small chunk


def test_tracking_memory_grows_by_the_detections_only():
    search = Pose2DOptions.reference(imgsz=320)

    def run(n: int) -> list[Track]:
        return track_people([FRAME] * n, n, Crowd(), progress=False, search=search)

    tracks = run(1200)
    assert len(tracks) > 10  # the walker and the passers-by
    main = tracks[0]
    assert main.detected_frames == 1200 and main.keypoints.shape == (1200, 17, 2)
    brief = tracks[-1]
    assert brief.detected_frames <= 5 and brief.det_keypoints.shape == (brief.detected_frames,
                                                                           17, 2)  # fmt: skip
    assert brief.interpolated.shape == (1200,) and brief.scores.shape == (1200, 17)
    # 228 bytes a detection plus chunk slack; whole-video arrays per track and a tuple of
    # arrays per frame (before) were several KB a frame with this many tracks
    assert growth_per_frame(run, 600, 1800) < 700


def test_the_trackers_state_stays_bounded():
    """The tracker forgets lost tracks after its buffer and keeps nothing of ended ones."""
    finder = PeopleFinder(Crowd(), Pose2DOptions.reference(imgsz=320))
    for _ in range(1200):
        finder(FRAME)
    tracker = finder.tracker
    assert len(tracker.tracked) <= 3 and len(tracker.lost) <= 3


def test_tracks_from_detections_match_the_dense_arrays():
    det = {f: (np.full((17, 2), f, np.float32), np.full(17, 1.5, np.float32),
               np.array([0, 0, 10, 20 + f], np.float32)) for f in (2, 3, 7)}  # fmt: skip
    sparse = build_track(5, det, 10)
    dense = Track(5, sparse.keypoints, sparse.scores, sparse.interpolated, sparse.boxes)
    for t in (sparse, dense):
        assert t.frames.tolist() == [2, 3, 7] and t.detected_frames == 3
        np.testing.assert_array_equal(t.det_scores, 1.0)  # clipped to [0, 1]
        np.testing.assert_array_equal(t.det_boxes[:, 3], [22, 23, 27])
    np.testing.assert_allclose(sparse.keypoints[:, 0, 0], [2, 2, 2, 3, 4, 5, 6, 7, 7, 7])


def test_joining_looks_only_at_fragments_close_in_time():
    rng = np.random.default_rng(3)
    tracks = []
    for tid in range(1, 80):
        start = int(rng.integers(0, 2000))
        frames = range(start, start + int(rng.integers(3, 40)))
        x0 = rng.uniform(0, 600)
        det = {f: (np.full((17, 2), x0, np.float32), np.full(17, 0.8, np.float32),
                   np.array([x0 + 2 * (f - start), 100, x0 + 2 * (f - start) + 40, 220],
                            np.float32)) for f in frames}  # fmt: skip
        tracks.append(build_track(tid, det, 2100))
    max_gap = 20
    pairs = {(a.track_id, b.track_id) for a, b in _candidates(tracks, max_gap)}
    finite = {(a.track_id, b.track_id) for a in tracks for b in tracks
              if a is not b and np.isfinite(join_cost(a, b, max_gap))}  # fmt: skip
    assert finite <= pairs and len(pairs) < len(tracks) ** 2 / 10
    joined, joins = join_fragments(tracks, fps=10.0)
    assert len(joined) == len(tracks) - joins
    assert sum(t.detected_frames for t in joined) == sum(t.detected_frames for t in tracks)


def test_lifting_holds_little_per_frame_and_gives_the_same_poses():
    model = PerFrame(frames=27)
    lifter = Lifter(model=model, device="cpu", flip=True, batch=4)
    rng = np.random.default_rng(0)
    pixels = rng.uniform(50, 450, size=(12000, 17, 2)).astype(np.float32)

    def run(n: int) -> np.ndarray:
        return lifter.lift(pixels[:n], 640, 480, fps=25.0)

    # float32 sequences, windows blended as they come, float64 only piece by piece; the
    # whole-array way held ~3.5 KB a frame in float64 copies
    assert growth_per_frame(run, 3000, 12000) < 2000
    lifter.fixed_bones = False
    out = run(500)
    np.testing.assert_allclose(out, model.expected(pixels[:500].astype(np.float64), True),
                               atol=5e-5)  # fmt: skip


def _person(t: int, present: np.ndarray, seed: int) -> tuple[PersonMotion, Scene]:
    scene, rng = Scene(), np.random.default_rng(seed)
    cam, rel, pix = observe(scene, walker(t, 25.0, (-2.0, 5.0), (2.0, 6.0)), rng)
    rel = np.where(present[:, None, None], rel, np.nan).astype(np.float32)
    pix = np.where(present[:, None, None], pix, np.nan).astype(np.float32)
    scores = np.where(present[:, None], 0.9, 0.0).astype(np.float32)
    interpolated = (rng.random(t) < 0.05) & present
    return PersonMotion(1, pix, scores, interpolated, rel, rel, present=present), scene


def test_placing_a_brief_person_costs_their_frames_not_the_videos():
    people = {}
    for t in (600, 3000, 12000):
        present = np.zeros(t, bool)
        present[100:400] = True
        people[t] = _person(t, present, 4)

    def run(t: int):
        person, scene = people[t]
        camera = video_intrinsics(scene.width, scene.height, focal_length=scene.focal)
        return place_in_scene([person], camera, 25.0, WorldOptions())

    # only the output arrays (float32, NaN outside the 300 frames) grow with the video; over
    # the whole video the scene's float64 arrays were ~4 KB a frame
    assert growth_per_frame(run, 3000, 12000) < 1000
    placed, _ = run(600)
    person, scene = people[600]
    camera = video_intrinsics(scene.width, scene.height, focal_length=scene.focal)
    whole, _ = place_persons([person.keypoints_3d], [person.keypoints_2d], [person.scores],
                             [~person.interpolated], [person.present], camera, 25.0)  # fmt: skip
    for key in ("keypoints_3d", "keypoints_3d_world", "root_camera", "keypoints_3d_camera"):
        got = getattr(placed[0], key)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, getattr(whole[0], key).astype(np.float32), key)
    np.testing.assert_array_equal(placed[0].foot_contact, whole[0].foot_contact)
    assert placed[0].foot_contact[:100].sum() == 0


@pytest.mark.parametrize("chunk", [3, outputs.JSON_CHUNK_FRAMES])
def test_poses_json_is_written_in_pieces_as_one_document(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(outputs, "JSON_CHUNK_FRAMES", chunk)
    t = 10
    rng = np.random.default_rng(1)
    k3 = rng.normal(size=(t, 17, 3)).astype(np.float32)
    k3[2] = np.nan
    contact = rng.random((t, 2)) < 0.5
    person = PersonMotion(4, rng.normal(size=(t, 17, 2)).astype(np.float32),
                          rng.random((t, 17)).astype(np.float32), rng.random(t) < 0.3, k3, k3,
                          present=rng.random(t) < 0.8, root_camera=k3[:, 0],
                          keypoints_3d_camera=k3, foot_contact=contact)  # fmt: skip
    camera = {"focal_length_px": 400.0, "principal_point_px": [320.0, 240.0],
              "height_m": 1.5, "tilt_degrees": 9.0}  # fmt: skip
    arrays = outputs.person_arrays(person, 25.0, 640, 480, camera)
    path = outputs.write_person_json(tmp_path / "poses.json", arrays)
    # what one json.dumps of the whole document gives (the way it was written before)
    doc = {name: outputs._to_json(name, np.asarray(value)) for name, value in arrays.items()}
    doc["camera"] = dict(zip(doc.pop("camera_keys"), doc["camera"], strict=True))
    doc["frames"] = t
    expected = json.dumps(doc, indent=None, separators=(",", ":"), allow_nan=False) + "\n"
    assert path.read_text() == expected
    assert json.loads(expected)["keypoints_3d"][2][0] == [None, None, None]


def test_writing_poses_json_needs_memory_for_a_piece_not_the_video(tmp_path):
    def run(t: int):
        zeros = np.zeros((t, 17, 3), np.float32)
        person = PersonMotion(1, np.zeros((t, 17, 2), np.float32), np.ones((t, 17), np.float32),
                              np.zeros(t, bool), zeros, zeros, present=np.ones(t, bool),
                              root_camera=zeros[:, 0], keypoints_3d_camera=zeros,
                              foot_contact=np.zeros((t, 2), bool))  # fmt: skip
        arrays = outputs.person_arrays(person, 25.0, 640, 480)
        return traced_peak(lambda: outputs.write_person_json(tmp_path / "p.json", arrays))[0]

    small, large = run(4 * outputs.JSON_CHUNK_FRAMES), run(16 * outputs.JSON_CHUNK_FRAMES)
    assert large < 1.3 * small  # the JSON of all of it at once was ~17 KB a frame
