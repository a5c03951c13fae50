"""Drawing skeletons with OpenCV: the 2D overlay and a 3D panel with its own projection.

Why not matplotlib: a new 3D figure per frame (the published demo's way) renders a few
frames a second. Here the view is fixed for the whole clip, so every joint of every
frame is projected once up front, the ground grid, camera marker and legend are drawn
once into a background image, and each frame only copies that background and draws a
few dozen antialiased lines into a reused canvas.

Colours are the same in both panels (BGR): the person's left limbs blue, right limbs
orange, the trunk and head light grey. Joints below a confidence threshold are drawn
hollow; frames filled in because the person was not detected are drawn greyed with an
"interpolated" tag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from hotcli.lifting.skeleton import H36M_BONES, bone_side

Colour = tuple[int, int, int]

LEFT_COLOUR: Colour = (235, 140, 40)
RIGHT_COLOUR: Colour = (30, 150, 255)
CENTRE_COLOUR: Colour = (225, 225, 225)
MARKED_COLOUR: Colour = (150, 150, 150)
BACKGROUND: Colour = (32, 30, 28)
GRID_COLOUR: Colour = (78, 76, 72)
SHADOW_COLOUR: Colour = (52, 50, 48)
CAMERA_COLOUR: Colour = (80, 210, 235)
TEXT_COLOUR: Colour = (210, 210, 210)
OUTLINE_COLOUR: Colour = (20, 20, 20)

BONES = np.array(H36M_BONES, dtype=np.int64)
_SIDE_COLOUR = {"left": LEFT_COLOUR, "right": RIGHT_COLOUR, "centre": CENTRE_COLOUR}
BONE_COLOURS: tuple[Colour, ...] = tuple(_SIDE_COLOUR[bone_side(p, c)] for p, c in H36M_BONES)
#: Joints whose recent path is drawn when a trail is asked for: ankles and wrists.
TRAIL_JOINTS: tuple[int, ...] = (3, 6, 13, 16)
TRAIL_COLOURS: tuple[Colour, ...] = (RIGHT_COLOUR, LEFT_COLOUR, LEFT_COLOUR, RIGHT_COLOUR)
GRID_STEP_M = 0.5
#: The pelvis's path on the ground in a scene (``--trail``).
ROOT_PATH_COLOUR: Colour = (120, 220, 120)

_SHIFT = 4  # cv2 sub-pixel bits: coordinates are passed as integers × 16
_ONE = 1 << _SHIFT
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def dimmed(colour: Colour, amount: float = 0.55) -> Colour:
    """Blend a colour towards grey, for joints and frames the tracker filled in."""
    return tuple(int(c * (1 - amount) + MARKED_COLOUR[0] * amount) for c in colour)  # type: ignore[return-value]


DIMMED_BONE_COLOURS = tuple(dimmed(c) for c in BONE_COLOURS)


def _fixed(points: np.ndarray) -> np.ndarray:
    """Float pixels → cv2 fixed-point integers (antialiased, sub-pixel placement)."""
    points = np.nan_to_num(np.asarray(points, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return np.round(np.clip(points, -1e6, 1e6) * _ONE).astype(np.int64)


def _finite_xy(p: np.ndarray) -> bool:
    return bool(np.isfinite(p[0]) and np.isfinite(p[1]) and abs(p[0]) < 1e6 and abs(p[1]) < 1e6)


def stroke_width(width: int, height: int) -> int:
    """Line width for a frame of this size: about 3 px at 720p, never below 2."""
    return max(2, round(min(width, height) / 240))


def draw_skeleton_2d(
    image: np.ndarray,
    keypoints: np.ndarray,
    scores: np.ndarray | None,
    interpolated: bool,
    min_score: float = 0.3,
    label: str | None = None,
) -> None:
    """Draw one person's (17, 2) pixel keypoints on ``image`` in place.

    Bones touching a joint below ``min_score`` are thinner and greyed and the joint is a
    hollow circle; an interpolated frame greys everything and is tagged.
    """
    h, w = image.shape[:2]
    lw = stroke_width(w, h)
    radius = lw + 1
    pts = _fixed(np.asarray(keypoints, dtype=np.float64))
    ok = np.array([_finite_xy(p) for p in np.asarray(keypoints, dtype=np.float64)])
    weak = np.zeros(len(pts), bool) if scores is None else np.asarray(scores) < min_score
    if interpolated:
        weak[:] = True
    drawn = [(b, p, c) for b, (p, c) in enumerate(BONES) if ok[p] and ok[c]]
    for _, p, c in drawn:  # a dark outline keeps the colours readable on any background
        cv2.line(image, tuple(pts[p]), tuple(pts[c]), OUTLINE_COLOUR, lw + 2, cv2.LINE_AA, _SHIFT)
    for b, p, c in drawn:
        marked = weak[p] or weak[c]
        colour = DIMMED_BONE_COLOURS[b] if marked else BONE_COLOURS[b]
        width = max(1, lw - 1) if marked else lw
        cv2.line(image, tuple(pts[p]), tuple(pts[c]), colour, width, cv2.LINE_AA, _SHIFT)
    for j in np.flatnonzero(ok):
        centre = tuple(pts[j])
        if weak[j]:
            cv2.circle(
                image, centre, radius * _ONE, MARKED_COLOUR, max(1, lw // 2), cv2.LINE_AA, _SHIFT
            )
        else:
            cv2.circle(image, centre, radius * _ONE, (255, 255, 255), -1, cv2.LINE_AA, _SHIFT)
    tags = [t for t in (label, "interpolated" if interpolated else None) if t]
    if tags and ok.any():
        scale = max(0.4, min(w, h) / 1400)
        x = int(np.min(keypoints[ok, 0]))
        y = int(np.min(keypoints[ok, 1])) - 2 * radius
        text = "  ".join(tags)
        (tw, th), base = cv2.getTextSize(text, _FONT, scale, 1)
        x = min(max(0, x), max(0, w - tw))
        y = min(max(th + base, y), h - base)
        cv2.rectangle(image, (x - 2, y - th - 2), (x + tw + 2, y + base), OUTLINE_COLOUR, -1)
        cv2.putText(image, text, (x, y), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


@dataclass(frozen=True)
class ViewCamera:
    """A fixed virtual camera looking at the world (z up) from azimuth/elevation.

    Azimuth 0 looks from where the filming camera stands (world −y, so the view matches
    the video); positive azimuth walks the viewpoint counter-clockwise seen from above
    (towards the image's right). Perspective with the eye ``distance`` metres from
    ``target``; ``scale`` px per metre at the target's depth; ``centre`` the pixel the
    target lands on.
    """

    azimuth: float
    elevation: float
    target: tuple[float, float, float]
    distance: float
    scale: float = 1.0
    centre: tuple[float, float] = (0.0, 0.0)

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Screen right, screen up and viewing direction in world axes."""
        a, e = math.radians(self.azimuth), math.radians(self.elevation)
        eye_dir = np.array([math.cos(e) * math.sin(a), -math.cos(e) * math.cos(a), math.sin(e)])
        forward = -eye_dir
        right = np.cross(forward, [0.0, 0.0, 1.0])
        norm = np.linalg.norm(right)
        right = right / norm if norm > 1e-9 else np.array([1.0, 0.0, 0.0])
        up = np.cross(right, forward)
        return right, up, forward

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (..., 3) → pixels (..., 2) and depth (..., ) from the eye."""
        right, up, forward = self.axes()
        rel = np.asarray(points, dtype=np.float64) - np.asarray(self.target)
        depth = rel @ forward + self.distance
        safe = np.maximum(depth, 0.05 * self.distance)
        k = self.scale * self.distance / safe
        px = self.centre[0] + (rel @ right) * k
        py = self.centre[1] - (rel @ up) * k
        return np.stack([px, py], axis=-1), depth


def _ground_grid(x_min: float, x_max: float, y_min: float, y_max: float) -> np.ndarray:
    """Grid line segments (N, 2, 3) on z = 0 every GRID_STEP_M metres."""
    xs = np.arange(x_min, x_max + 1e-6, GRID_STEP_M)
    ys = np.arange(y_min, y_max + 1e-6, GRID_STEP_M)
    lines = [[(x, y_min, 0.0), (x, y_max, 0.0)] for x in xs]
    lines += [[(x_min, y, 0.0), (x_max, y, 0.0)] for y in ys]
    return np.array(lines, dtype=np.float64)


def _camera_marker(x: float, y: float, size: float) -> np.ndarray:
    """Segments (N, 2, 3) of a flat camera icon on the ground at (x, y) looking towards +y."""
    apex = np.array([x, y, 0.0])
    left = apex + size * np.array([-0.55, 1.0, 0.0])
    right = apex + size * np.array([0.55, 1.0, 0.0])
    b = size * 0.35
    body = [
        apex + np.array(d) for d in ((-b, 0, 0), (b, 0, 0), (b, -1.4 * b, 0), (-b, -1.4 * b, 0))
    ]
    segs = [(apex, left), (apex, right), (left, right)]
    segs += [(body[i], body[(i + 1) % 4]) for i in range(4)]
    return np.array(segs, dtype=np.float64)


def _standing_camera(height: float, size: float) -> np.ndarray:
    """Segments (N, 2, 3): the camera icon at (0, 0, ``height``) looking +y, on a pole."""
    icon = _camera_marker(0.0, 0.0, size) + np.array([0.0, 0.0, height])
    pole = np.array([[[0.0, 0.0, 0.0], [0.0, 0.0, height]]])
    return np.concatenate([icon, pole])


class SkeletonPanel:
    """The 3D view of one or more people over a clip, drawn frame by frame into a reused canvas.

    Two ways to arrange people. Given ``camera_height`` (poses in the video's one world
    frame, :mod:`hotcli.scene.ground`), the panel shows the scene: everyone where they are on
    one ground grid that covers every path and the camera, which stands at (0, 0,
    ``camera_height``); a trail draws each person's pelvis path on the ground. Without it
    (root-relative poses that carry no position in the room), several people stand side
    by side along world x in the order given (the caller sorts them left to right as in
    the image), each over their own grid cell, and a trail follows ankles and wrists.
    The view scale is fitted once over the whole clip (robust extents of every pose), so
    it stays steady.
    """

    def __init__(
        self,
        worlds: Sequence[np.ndarray],
        size: tuple[int, int],
        azimuth: float = 35.0,
        elevation: float = 15.0,
        marked: Sequence[np.ndarray] | None = None,
        trail: int = 0,
        legend: bool = True,
        camera_height: float | None = None,
    ) -> None:
        self.width, self.height = int(size[0]), int(size[1])
        self.trail = max(0, int(trail))
        self.frames = max((len(w) for w in worlds), default=0)
        self.marked = [np.asarray(m, bool) for m in marked] if marked is not None else None
        worlds = [np.asarray(w, dtype=np.float64) for w in worlds]
        self.scene = camera_height is not None
        height = self._height(worlds)
        if camera_height is not None:
            self.worlds = worlds
            grid, marker, exact, target, distance = self._scene_layout(worlds, camera_height)
        else:
            grid, marker, exact, target, distance = self._side_by_side_layout(worlds, height)
        self.view = self._fit(
            ViewCamera(azimuth, elevation, target, distance),
            np.concatenate([exact] + [self._sample(w) for w in self.worlds]),
            robust_from=len(exact),
        )
        # Everything the view shows, projected once: joints, their shadows on the floor.
        self.pixels = [self.view.project(w)[0] for w in self.worlds]
        self.depths = [self.view.project(w)[1] for w in self.worlds]
        self.shadows = [self.view.project(w * np.array([1.0, 1.0, 0.0]))[0] for w in self.worlds]
        self.fixed = [_fixed(p) for p in self.pixels]
        self.fixed_shadows = [_fixed(p) for p in self.shadows]

        self.line_width = max(2, round(min(self.width, self.height) / 170))
        self.background = np.empty((self.height, self.width, 3), np.uint8)
        self.background[:] = BACKGROUND
        self._draw_static(grid, marker, legend)
        self.canvas = self.background.copy()

    def _side_by_side_layout(
        self, worlds: list[np.ndarray], height: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float, float], float]:
        """Grid, camera marker, points that must fit, view target and distance; sets worlds.

        Each person owns a round zone of floor (their robust reach); the camera icon sits
        just in front of the zones; the grid extends past both and is cropped by the panel.
        """
        zone = self._reach(worlds) + 0.15
        spacing = 2 * zone + 0.3
        offsets = (np.arange(len(worlds)) - (len(worlds) - 1) / 2) * spacing
        self.worlds = [w + np.array([dx, 0.0, 0.0]) for w, dx in zip(worlds, offsets, strict=True)]
        x_span = (offsets.max() - offsets.min()) / 2 if len(offsets) else 0.0
        half = math.ceil((zone + 0.6) / GRID_STEP_M) * GRID_STEP_M
        grid = _ground_grid(-x_span - half, x_span + half, -half, half)
        marker = _camera_marker(0.0, -zone - 0.3, 0.3)
        circle = np.linspace(0, 2 * math.pi, 24, endpoint=False)
        ring = np.stack([np.cos(circle), np.sin(circle), np.zeros_like(circle)], -1) * zone
        floor = np.concatenate([ring + np.array([dx, 0.0, 0.0]) for dx in offsets] or [ring])
        exact = np.concatenate([floor, marker.reshape(-1, 3)])
        target = (0.0, 0.0, 0.45 * height)
        return grid, marker, exact, target, 3.5 * max(zone + x_span, 0.6 * height)

    @staticmethod
    def _scene_layout(
        worlds: list[np.ndarray], camera_height: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float, float], float]:
        """Grid, camera marker, points that must fit, view target and distance of a scene.

        The grid covers the robust extent of every joint on the ground and the camera's
        foot point, with half a metre to spare.
        """
        points = [w.reshape(-1, 3) for w in worlds if w.size]
        xy = np.concatenate(points)[:, :2] if points else np.zeros((0, 2))
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy):
            lo = np.minimum(np.percentile(xy, 0.5, axis=0), 0.0)
            hi = np.maximum(np.percentile(xy, 99.5, axis=0), 0.0)
        else:
            lo, hi = np.array([-1.0, 0.0]), np.array([1.0, 2.0])
        lo = np.floor((lo - 0.5) / GRID_STEP_M) * GRID_STEP_M
        hi = np.ceil((hi + 0.5) / GRID_STEP_M) * GRID_STEP_M
        grid = _ground_grid(lo[0], hi[0], lo[1], hi[1])
        extent = float(np.max(hi - lo))
        height = max(float(camera_height), 0.0)
        marker = _standing_camera(height, float(np.clip(0.04 * extent, 0.15, 0.6)))
        corners = np.array([[lo[0], lo[1], 0.0], [hi[0], lo[1], 0.0], [lo[0], hi[1], 0.0],
                            [hi[0], hi[1], 0.0]])  # fmt: skip
        exact = np.concatenate([corners, marker.reshape(-1, 3)])
        centre = 0.5 * (lo + hi)
        target = (float(centre[0]), float(centre[1]), 0.5)
        return grid, marker, exact, target, 2.0 * extent + 2.0

    @staticmethod
    def _reach(worlds: Sequence[np.ndarray]) -> float:
        """Robust horizontal reach of the joints from the pelvis over the clip (at least 0.5 m)."""
        radii = [np.linalg.norm(w[..., :2], axis=-1).ravel() for w in worlds if w.size]
        radii = np.concatenate(radii) if radii else np.zeros(1)
        radii = radii[np.isfinite(radii)]
        return max(0.5, float(np.percentile(radii, 99))) if radii.size else 0.5

    @staticmethod
    def _height(worlds: Sequence[np.ndarray]) -> float:
        tops = [np.fmax.reduce(w[..., 2], axis=1) for w in worlds if w.size]
        tops = np.concatenate(tops) if tops else np.zeros(1)
        tops = tops[np.isfinite(tops)]
        return float(np.clip(np.percentile(tops, 95), 0.5, 3.0)) if tops.size else 1.7

    @staticmethod
    def _sample(world: np.ndarray, limit: int = 2000) -> np.ndarray:
        step = max(1, len(world) // limit)
        pts = world[::step].reshape(-1, 3)
        return pts[np.isfinite(pts).all(axis=1)]

    def _fit(self, view: ViewCamera, points: np.ndarray, robust_from: int) -> ViewCamera:
        """Scale and centre so the floor zones, marker and (robustly) every pose fit."""
        px, _ = view.project(points)
        exact, poses = px[:robust_from], px[robust_from:]
        lo, hi = exact.min(axis=0), exact.max(axis=0)
        if len(poses):
            lo = np.minimum(lo, np.percentile(poses, 0.5, axis=0))
            hi = np.maximum(hi, np.percentile(poses, 99.5, axis=0))
        margin = 0.06 * min(self.width, self.height)
        (_, text_h), _ = cv2.getTextSize("camera", _FONT, self._font_scale(), 1)
        legend_room = max(0.07 * self.height, 2.5 * text_h + 14)  # legend + camera label
        span = np.maximum(hi - lo, 1e-6)
        scale = min(
            (self.width - 2 * margin) / span[0], (self.height - 2 * margin - legend_room) / span[1]
        )
        mid = 0.5 * (lo + hi) * scale
        centre = (self.width / 2 - mid[0], (self.height - legend_room) / 2 - mid[1])
        return ViewCamera(view.azimuth, view.elevation, view.target, view.distance, scale, centre)

    def _draw_static(self, grid: np.ndarray, marker: np.ndarray, legend: bool) -> None:
        img = self.background
        for a, b in _fixed(self.view.project(grid)[0]):
            cv2.line(img, tuple(a), tuple(b), GRID_COLOUR, 1, cv2.LINE_AA, _SHIFT)
        marker_px = self.view.project(marker)[0]
        for a, b in _fixed(marker_px):
            cv2.line(img, tuple(a), tuple(b), CAMERA_COLOUR, 2, cv2.LINE_AA, _SHIFT)
        scale = self._font_scale()
        corners = marker_px.reshape(-1, 2)
        (tw, th), _ = cv2.getTextSize("camera", _FONT, scale, 1)
        org = (int(corners[:, 0].mean() - tw / 2), int(corners[:, 1].max()) + th + 6)
        self._text(img, "camera", org, scale, CAMERA_COLOUR)
        if legend:
            y = self.height - int(0.03 * self.height) - 2
            x = int(0.03 * self.width) + 2
            for name, colour in (("left", LEFT_COLOUR), ("right", RIGHT_COLOUR)):
                seg = int(2.2 * self.line_width) + 8
                cv2.line(img, (x, y - 4), (x + seg, y - 4), colour, self.line_width, cv2.LINE_AA)
                x += seg + 4
                (tw, _), _ = cv2.getTextSize(name, _FONT, scale, 1)
                self._text(img, name, (x, y), scale, TEXT_COLOUR)
                x += tw + 14
            self._text(img, f"grid {GRID_STEP_M:g} m", (x, y), scale, (140, 140, 140))

    def _font_scale(self) -> float:
        return max(0.35, min(self.width, self.height) / 1500)

    @staticmethod
    def _text(
        img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: Colour
    ) -> None:
        cv2.putText(img, text, org, _FONT, scale, colour, 1, cv2.LINE_AA)

    def render(self, t: int) -> np.ndarray:
        """The panel for frame ``t`` (a reused array: copy it if you keep it)."""
        img = self.canvas
        np.copyto(img, self.background)
        lw = self.line_width
        for i, fixed in enumerate(self.fixed):
            if t >= len(fixed):
                continue
            pose = fixed[t]
            ok = np.isfinite(self.pixels[i][t]).all(axis=1)
            shadow = self.fixed_shadows[i][t]
            for p, c in BONES:
                if ok[p] and ok[c]:
                    cv2.line(
                        img,
                        tuple(shadow[p]),
                        tuple(shadow[c]),
                        SHADOW_COLOUR,
                        lw,
                        cv2.LINE_AA,
                        _SHIFT,
                    )
            if self.trail:
                self._draw_trail(img, i, t)
            marked = self.marked is not None and t < len(self.marked[i]) and self.marked[i][t]
            depth = self.depths[i][t]
            order = np.argsort(-(depth[BONES[:, 0]] + depth[BONES[:, 1]]))
            radius = (lw // 2 + 1) * _ONE
            for b in order:
                p, c = BONES[b]
                if not (ok[p] and ok[c]):
                    continue
                colour = DIMMED_BONE_COLOURS[b] if marked else BONE_COLOURS[b]
                cv2.line(img, tuple(pose[p]), tuple(pose[c]), colour, lw, cv2.LINE_AA, _SHIFT)
                cv2.circle(img, tuple(pose[c]), radius, colour, -1, cv2.LINE_AA, _SHIFT)
        return img

    def _draw_trail(self, img: np.ndarray, person: int, t: int) -> None:
        start = max(0, t - self.trail)
        if t - start < 1:
            return
        if self.scene:
            self._draw_root_path(img, person, start, t)
            return
        path = self.fixed[person][start : t + 1]
        ok = np.isfinite(self.pixels[person][start : t + 1]).all(axis=-1)
        n = len(path) - 1
        for joint, colour in zip(TRAIL_JOINTS, TRAIL_COLOURS, strict=True):
            for s in range(n):
                if not (ok[s, joint] and ok[s + 1, joint]):
                    continue
                fade = 0.25 + 0.75 * (s + 1) / n
                faded = tuple(
                    int(b + (c - b) * fade) for c, b in zip(colour, BACKGROUND, strict=True)
                )
                cv2.line(
                    img,
                    tuple(path[s, joint]),
                    tuple(path[s + 1, joint]),
                    faded,
                    max(1, self.line_width // 2),
                    cv2.LINE_AA,
                    _SHIFT,
                )

    def _draw_root_path(self, img: np.ndarray, person: int, start: int, t: int) -> None:
        """The pelvis's path on the ground over frames ``start``..``t``, fading with age."""
        path = self.fixed_shadows[person][start : t + 1, 0]
        ok = np.isfinite(self.shadows[person][start : t + 1, 0]).all(axis=-1)
        n = len(path) - 1
        for s in range(n):
            if not (ok[s] and ok[s + 1]):
                continue
            fade = 0.25 + 0.75 * (s + 1) / n
            faded = tuple(
                int(b + (c - b) * fade) for c, b in zip(ROOT_PATH_COLOUR, BACKGROUND, strict=True)
            )
            cv2.line(img, tuple(path[s]), tuple(path[s + 1]), faded, max(1, self.line_width // 2),
                     cv2.LINE_AA, _SHIFT)  # fmt: skip

    def joint_pixels(self, t: int, person: int = 0) -> np.ndarray:
        """Pixel positions (17, 2) of a person's joints in frame ``t`` (for tests and labels)."""
        return self.pixels[person][t]
