"""ByteTrack in numpy: which detection is which person from one frame to the next.

The algorithm and settings of Ultralytics' ``bytetrack.yaml`` (Zhang et al., ECCV 2022),
written here so a run does not import Ultralytics, which imports torch (about 2 s of every
run on the 2-core CPU). Given the same detections it gives the same ids (a test replays
Ultralytics' tracker beside it).

Per frame:

1. Every track's box moves on by a constant-velocity Kalman filter over (centre x, centre
   y, aspect w/h, height) (:class:`BoxFilter`).
2. Confident detections (score ≥ :data:`HIGH`) are matched to the confirmed and lost tracks
   by box overlap weighted by the detection score (an optimal assignment, ``lap.lapjv``).
3. Tracks still unmatched try the weak detections (:data:`LOW` < score < :data:`HIGH`) by
   overlap alone: a person half hidden keeps their id. Tracks matched by neither are lost.
4. Tracks seen once (unconfirmed) try the confident detections left; unmatched, they end.
5. Confident detections left over start tracks (confirmed at their second detection, or at
   once on the first frame); tracks lost for more than :data:`BUFFER` frames end.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

#: Detection scores: confident from HIGH, weak above LOW; new tracks need NEW.
HIGH, LOW, NEW = 0.25, 0.1, 0.25
#: Largest assignment cost (1 − overlap, × score for confident detections) per stage.
MATCH_COST, WEAK_MATCH_COST, UNCONFIRMED_MATCH_COST = 0.8, 0.5, 0.7
#: Frames a lost track is remembered, waiting to be found again.
BUFFER = 30
#: A tracked and a lost track whose boxes overlap more than 1 − this are one person twice.
DUPLICATE_COST = 0.15

TRACKED, LOST, REMOVED = "tracked", "lost", "removed"


class BoxFilter:
    """Constant-velocity Kalman filter over boxes as (x, y, a, h) and their velocities.

    Noise scales with the box height (a large, near person moves more pixels per frame);
    the aspect ratio gets small fixed noise. Means are (8,), covariances (8, 8), float64.
    """

    POSITION, VELOCITY = 1 / 20, 1 / 160  # noise per unit of box height

    def __init__(self) -> None:
        self.motion = np.eye(8)
        self.motion[:4, 4:] = np.eye(4)

    def start(self, xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = xyah[3]
        p, v = 2 * self.POSITION * h, 10 * self.VELOCITY * h
        std = np.array([p, p, 1e-2, p, v, v, 1e-5, v])
        return np.r_[xyah, np.zeros(4)], np.diag(std**2)

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means (N, 8) and covariances (N, 8, 8) one frame on."""
        h = mean[:, 3]
        p, v, one = self.POSITION * h, self.VELOCITY * h, np.ones_like(h)
        std = np.stack([p, p, 1e-2 * one, p, v, v, 1e-5 * one, v], 1)
        noise = np.zeros_like(cov)
        noise[:, range(8), range(8)] = std**2
        return mean @ self.motion.T, self.motion @ cov @ self.motion.T + noise

    def correct(
        self, mean: np.ndarray, cov: np.ndarray, xyah: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One track's state after measuring its box ``xyah`` (4,)."""
        h = mean[3]
        std = np.array([self.POSITION * h, self.POSITION * h, 1e-1, self.POSITION * h])
        projected = cov[:4, :4] + np.diag(std**2)
        gain = np.linalg.solve(projected, cov[:, :4].T).T
        mean = mean + (xyah - mean[:4]) @ gain.T
        return mean, cov - gain @ projected @ gain.T


def xyxy_to_xyah(box: np.ndarray) -> np.ndarray:
    """(4,) corners → centre x, centre y, width / height, height."""
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2, box[1] + h / 2, w / h, h], np.float64)


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    w, h = xyah[2] * xyah[3], xyah[3]
    return np.array([xyah[0] - w / 2, xyah[1] - h / 2, xyah[0] + w / 2, xyah[1] + h / 2])


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union (N, M) of xyxy boxes (N, 4) and (M, 4), in float32 with
    Ultralytics' epsilon (not :func:`hotcli.pose2d.crops.iou`, float64): the assignment's
    thresholds then fall exactly where Ultralytics' do."""
    a, b = np.asarray(a, np.float32).reshape(-1, 4), np.asarray(b, np.float32).reshape(-1, 4)
    wh = np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2])
    inter = wh.clip(0).prod(-1)
    area_a, area_b = (a[:, 2:] - a[:, :2]).prod(-1), (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-7)


def assign(cost: np.ndarray, limit: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Least-cost one-to-one matching of rows to columns, pairs costing more than ``limit``
    left out: (matches, unmatched rows, unmatched columns)."""
    import lap

    rows, cols = cost.shape
    if not cost.size:
        return [], list(range(rows)), list(range(cols))
    _, row_to_col, col_to_row = lap.lapjv(cost, extend_cost=True, cost_limit=limit)
    matches = [(r, int(c)) for r, c in enumerate(row_to_col) if c >= 0]
    return matches, [r for r in range(rows) if row_to_col[r] < 0], \
        [c for c in range(cols) if col_to_row[c] < 0]  # fmt: skip


@dataclass(eq=False)
class Tracklet:
    """One person followed: Kalman state, status and the detection it last matched."""

    mean: np.ndarray  # (8,) x, y, a, h and their velocities
    cov: np.ndarray  # (8, 8)
    track_id: int
    first_frame: int
    last_frame: int  # last frame it matched a detection
    score: float
    detection: int  # index of that detection in its frame
    state: str = TRACKED
    confirmed: bool = False
    removed_at: int | None = None  # the frame it ended in

    @property
    def xyxy(self) -> np.ndarray:
        """The filter's box (4,) now."""
        return xyah_to_xyxy(self.mean[:4])


@dataclass(eq=False)
class ByteTracker:
    """Track ids for the detections of consecutive frames: call :meth:`update` per frame."""

    frame: int = 0
    tracked: list[Tracklet] = field(default_factory=list)  # confirmed and unconfirmed
    lost: list[Tracklet] = field(default_factory=list)
    filter: BoxFilter = field(default_factory=BoxFilter)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def followed_boxes(self) -> list[np.ndarray]:
        """Boxes (4,) where the tracked people are expected: confirmed tracks and new ones."""
        return [t.xyxy for t in self.tracked]

    def update(
        self, boxes: np.ndarray, scores: np.ndarray, frame: np.ndarray | None = None
    ) -> list[tuple[int, int]]:
        """This frame's detections (boxes (N, 4) xyxy, scores (N,)) → (track id, detection
        index) for every confirmed person matched in this frame. ``frame`` (the image) is
        not read: trackers that follow camera motion (BoT-SORT) do."""
        self.frame += 1
        boxes, scores = np.asarray(boxes, np.float32), np.asarray(scores, np.float32)
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        strong = np.flatnonzero(valid & (scores >= HIGH))
        weak = np.flatnonzero(valid & (scores > LOW) & (scores < HIGH))
        unconfirmed = [t for t in self.tracked if not t.confirmed]
        pool = [t for t in self.tracked if t.confirmed]
        pool += [t for t in self.lost if t not in pool]
        self._predict(pool)
        matched: list[Tracklet] = []  # tracked before, or new
        found: list[Tracklet] = []  # lost before

        # confident detections against confirmed and lost tracks (overlap × score)
        cost = 1 - box_iou([t.xyxy for t in pool], boxes[strong]) * scores[strong]
        pairs, free_tracks, free_strong = assign(cost, MATCH_COST)
        for ti, di in pairs:
            self._match(pool[ti], boxes, scores, strong[di], matched, found)
        # weak detections against the tracks still followed (overlap alone)
        left = [pool[i] for i in free_tracks if pool[i].state == TRACKED]
        pairs, unmatched, _ = assign(1 - box_iou([t.xyxy for t in left], boxes[weak]),
                                     WEAK_MATCH_COST)  # fmt: skip
        for ti, di in pairs:
            self._match(left[ti], boxes, scores, weak[di], matched, found)
        for i in unmatched:
            left[i].state = LOST
        # tracks seen once against the confident detections left
        rest = strong[free_strong]
        cost = 1 - box_iou([t.xyxy for t in unconfirmed], boxes[rest]) * scores[rest]
        pairs, dropped, free_rest = assign(cost, UNCONFIRMED_MATCH_COST)
        for ti, di in pairs:
            self._match(unconfirmed[ti], boxes, scores, rest[di], matched, found)
        for i in dropped:
            unconfirmed[i].state, unconfirmed[i].removed_at = REMOVED, self.frame
        for d in rest[free_rest]:
            if scores[d] >= NEW:
                matched.append(self._start(boxes[d], scores[d], int(d)))
        for t in self.lost:
            if self.frame - t.last_frame > BUFFER and t.removed_at is None:
                t.state, t.removed_at = REMOVED, self.frame
        self._keep(matched + found)
        return [(t.track_id, t.detection) for t in self.tracked if t.confirmed]

    def _predict(self, tracks: list[Tracklet]) -> None:
        if not tracks:
            return
        mean = np.stack([t.mean for t in tracks])
        mean[[t.state != TRACKED for t in tracks], 7] = 0  # a lost box stops growing
        mean, cov = self.filter.predict(mean, np.stack([t.cov for t in tracks]))
        for t, m, c in zip(tracks, mean, cov, strict=True):
            t.mean, t.cov = m, c

    def _match(self, track: Tracklet, boxes: np.ndarray, scores: np.ndarray, d,
               matched: list[Tracklet], found: list[Tracklet]) -> None:  # fmt: skip
        """Correct ``track`` with detection ``d``; list it as matched, or found if it was lost."""
        (matched if track.state == TRACKED else found).append(track)
        track.mean, track.cov = self.filter.correct(track.mean, track.cov, xyxy_to_xyah(boxes[d]))
        track.state, track.confirmed, track.removed_at = TRACKED, True, None
        track.last_frame, track.score, track.detection = self.frame, float(scores[d]), int(d)

    def _start(self, box: np.ndarray, score: float, d: int) -> Tracklet:
        mean, cov = self.filter.start(xyxy_to_xyah(box))
        return Tracklet(mean, cov, next(self._ids), self.frame, self.frame, float(score), d,
                        confirmed=self.frame == 1)  # fmt: skip

    def _keep(self, matched: list[Tracklet]) -> None:
        """The tracked and lost lists after this frame; a person in both is kept once.

        A lost track that ends in this frame stays in the lost list (and can still be found)
        for one more frame, as in ByteTrack's reference code.
        """
        tracked = [t for t in self.tracked if t.state == TRACKED]
        tracked += [t for t in matched if t not in tracked]
        lost = [t for t in self.lost if t not in tracked
                and (t.state == LOST or t.removed_at == self.frame)]  # fmt: skip
        lost += [t for t in self.tracked if t.state == LOST]
        if tracked and lost:
            cost = 1 - box_iou([t.xyxy for t in tracked], [t.xyxy for t in lost])
            drop_tracked, drop_lost = set(), set()
            for p, q in zip(*np.nonzero(cost < DUPLICATE_COST), strict=True):
                if (tracked[p].last_frame - tracked[p].first_frame
                        > lost[q].last_frame - lost[q].first_frame):  # fmt: skip
                    drop_lost.add(q)  # the longer-lived one stays
                else:
                    drop_tracked.add(p)
            tracked = [t for i, t in enumerate(tracked) if i not in drop_tracked]
            lost = [t for i, t in enumerate(lost) if i not in drop_lost]
        self.tracked, self.lost = tracked, lost
