"""Where the pose network looks in a frame: the whole frame, overlapping tiles, crops.

Pure geometry on pixel boxes (``xyxy``, floats), used by :mod:`hotcli.pose2d.tracking`:

- :func:`tile_windows`: a grid of overlapping windows over the frame. A person 60 px tall
  in a 768-px-wide frame is about 50 px at a 640-px detection size, too small for YOLO; in
  a 2 × 2 tiling the same person is magnified by about 1.4 before detection.
- :func:`crop_window`: a window of the person's shape around a tracked person, with
  room for the motion until the next frame. The network then runs on that crop at the size
  :func:`crop_input_size` gives: a small person is magnified (at least 256 px of input),
  a large one seen no taller than a cap (384 px): for a person filling the frame the
  whole frame costs the network about twice as much, for keypoints that move about 1 % of
  their height (README "Speed").
- :func:`dedupe`: what the windows found, merged: one person seen in two overlapping
  windows (or half of them cut by a tile's edge) is kept once, from the best-scoring one.
- :func:`best_match`: the detection in a crop that is the person the crop was made for;
  :func:`unmatched`: the boxes that are nobody in another list.
"""

from __future__ import annotations

import numpy as np

#: A crop window's shorter side over its longer one, at least. Measured on the example clip
#: (`hot-pose bench --keypoints`, margin 1.2): a window of the person's own shape swapped
#: left and right in 2 % of frames, at least 0.6 in none (square windows: none, at 0.88 times
#: the speed).
MIN_ASPECT = 0.6


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas (N,) of boxes (N, 4) xyxy; 0 for empty ones."""
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection areas (N, M) of boxes a (N, 4) and b (M, 4)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    return np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union (N, M) of boxes a (N, 4) and b (M, 4)."""
    inter = intersections(a, b)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return inter / np.maximum(union, 1e-9)


def tile_windows(width: int, height: int, grid: tuple[int, int] = (2, 2),
                 overlap: float = 0.25) -> np.ndarray:  # fmt: skip
    """(cols × rows, 4) integer xyxy windows covering a ``width`` × ``height`` frame.

    Neighbouring windows share ``overlap`` of a window's side, so a person cut by one
    window's edge is whole in its neighbour (when no taller than the overlap).
    """
    cols, rows = grid
    out = []
    for n, size in ((cols, width), (rows, height)):
        side = size / (n - (n - 1) * overlap) if n > 1 else size
        starts = [round(i * side * (1 - overlap)) for i in range(n)]
        out.append([(s, min(size, round(s + side))) for s in starts])
    return np.array([[x0, y0, x1, y1] for (y0, y1) in out[1] for (x0, x1) in out[0]], int)


def crop_window(box: np.ndarray, width: int, height: int, margin: float = 1.5,
                min_side: float = 64.0) -> np.ndarray:  # fmt: skip
    """An integer xyxy window around ``box`` (4,): the box grown on every side by the same
    room for the motion until the next frame, (``margin`` − 1) / 2 of its longer side.

    The window keeps the person's shape, but its shorter side is at least
    :data:`MIN_ASPECT` of its longer one (room for a limb swung out), and each side at
    least ``min_side``: a standing person's window costs the network about 0.6 of a
    square one's pixels. Shifted to stay inside the frame where it fits; clipped to the
    frame where it does not.
    """
    size = np.array([box[2] - box[0], box[3] - box[1]], float).clip(0)
    sides = size + (margin - 1) * size.max()
    sides = np.maximum(np.maximum(sides, MIN_ASPECT * sides.max()), min_side)
    centres = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    window = []
    for centre, side, limit in zip(centres, sides, (width, height), strict=True):
        side = min(side, limit)
        start = float(np.clip(centre - side / 2, 0, limit - side))
        window.append((round(start), round(start + side)))
    (x0, x1), (y0, y1) = window
    return np.array([x0, y0, x1, y1], int)


def crop_input_size(box: np.ndarray, window: np.ndarray, width: int, height: int,
                    search_size: int, crop_size: int, max_person: int) -> int:  # fmt: skip
    """The network's input size (px, a multiple of 32, the crop's longer side) for the crop
    ``window`` (4,) (:func:`crop_window`) around ``box`` (4,) in a ``width`` × ``height``
    frame.

    The person is seen as large as the whole frame searched at ``search_size`` (its longer
    side, px) shows them, but no taller than ``max_person`` px (beyond that the network is
    as sure, and the cost grows with the square of the size), and the input is at least
    ``crop_size``: a small person is magnified, a large one shrunk to ``max_person``. Above
    ``crop_size``, never above ``search_size``: no crop costs more than the whole frame.
    """
    side = max(window[2] - window[0], window[3] - window[1], 1)
    person = max(box[2] - box[0], box[3] - box[1], 1.0)
    scale = min(search_size / max(width, height), max_person / person)
    size = 32 * int(np.ceil(side * scale / 32))
    return int(max(min(size, search_size), crop_size))


def dedupe(boxes: np.ndarray, scores: np.ndarray, overlap: float = 0.6) -> np.ndarray:
    """Indices of boxes kept, best score first: a box is dropped when another kept box
    covers ``overlap`` of the smaller one's area (intersection over the smaller area, so a
    half person cut at a tile's edge goes with the whole one, unlike plain IoU)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    if not len(order):
        return order.astype(int)
    inter = intersections(boxes, boxes)
    area = box_area(boxes)
    smaller = np.minimum(area[:, None], area[None, :])
    covered = inter >= overlap * np.maximum(smaller, 1e-9)
    keep: list[int] = []
    for i in order:
        if not any(covered[i, k] for k in keep):
            keep.append(int(i))
    return np.array(keep, int)


def best_match(boxes: np.ndarray, expected: np.ndarray, min_iou: float = 0.3) -> int | None:
    """Index of the box (N, 4) overlapping ``expected`` (4,) most, or None below ``min_iou``."""
    if not len(boxes):
        return None
    overlaps = iou(boxes, expected[None])[:, 0]
    best = int(np.argmax(overlaps))
    return best if overlaps[best] >= min_iou else None


def unmatched(boxes: list[np.ndarray] | np.ndarray, among: list[np.ndarray]) -> list[np.ndarray]:
    """The ``boxes`` (4,) that :func:`best_match` pairs with none of ``among`` (boxes (4,))."""
    others = np.array(among, float).reshape(-1, 4)
    return [box for box in boxes if best_match(others, box) is None]
