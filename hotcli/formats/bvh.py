"""BVH animation from a result's 3D joints: the skeleton, rotations from positions, the file.

**Axes and units.** BVH files here use the usual axes: Y up, the rest pose facing +Z, the
character's left on +X. A result's world frame (:mod:`hotcli.lifting.upright`: z up, the camera on
the −y side) maps to them as ``(X, Y, Z) = (x, z, −y)``, so a person facing the camera
faces +Z. Lengths are metres times ``scale`` (100 by default: centimetres).

**Hierarchy.** The 17 Human3.6M joints, rooted at the pelvis (:data:`JOINTS`)::

    Hips ─┬─ RightHipJoint ─ RightUpLeg ─ RightLeg ─ RightFoot ─ (end site)
          ├─ LeftHipJoint ── LeftUpLeg ── LeftLeg ── LeftFoot ── (end site)
          └─ Spine ─ Thorax ─┬─ Neck ─ Head ─ (end site)
                             ├─ LeftShoulder ── LeftArm ── LeftForeArm ── LeftHand ── (end site)
                             └─ RightShoulder ─ RightArm ─ RightForeArm ─ RightHand ─ (end site)

A BVH joint's rotation moves all its children together, so one rotation can place only one
child exactly when the angles between the children change from frame to frame (they do: a
lifter's pelvis, hips and spine are not a rigid triangle). So the pelvis and the thorax
each get extra joints at the same place with a zero offset, one per further child:
``RightHipJoint`` and ``LeftHipJoint`` turn the pelvis-to-hip bones, ``LeftShoulder`` and
``RightShoulder`` the thorax-to-shoulder (collar) bones. Every joint then turns at most one
bone, and each bone's direction is reproduced exactly.

**Offsets** are the person's bone lengths (the median over the frames: hot-pose keeps one
length per bone, so every frame has it) along the rest pose: a T-pose, legs and spine
straight, arms out sideways. End sites carry no measured length: the head's is half the
neck-to-head bone, each hand's a third of the forearm, each foot's points forward with
half the shin's length.

**Rotations from positions.** A bone's direction fixes its joint's rotation up to a twist
about the bone. The twist comes from a second direction, the *reference*, that the joint
carries from its rest direction to the present one, both taken perpendicular to the bone:

==================  ===========================================  ==================
joint               reference                                    at rest
==================  ===========================================  ==================
Hips                right hip → left hip (the hips' axis)        +X
Spine               the mean of the hips' and shoulders' axes    +X
Thorax, Neck        right shoulder → left shoulder               +X
hip joints          pelvis → spine (the body's up)               +Y
shoulders (collar)  spine → thorax (the chest's up)              +Y
UpLeg               the shin: the plane of thigh and shin        shin bends to −Z
Arm                 the forearm: the plane of upper and forearm  forearm bends to +Z
Leg, ForeArm        the hinge axis of the bone above it          the same axis
Head, Hand, Foot    none: they keep their parent's rotation      —
==================  ===========================================  ==================

So knees and elbows turn about one axis (a hinge) and the thighs and upper arms carry the
limb's twist. Where a limb is straight the plane is undefined: as the reference's
perpendicular part shrinks below ``sin 20°`` (:data:`HOLD_BELOW`), the joint's own twist from
the previous frame (relative to its parent) is mixed in, and it takes over entirely when the
limb is straight, so a stretch keeps its twist instead of flipping.

**Channels.** The root has ``Xposition Yposition Zposition`` (the pelvis of
``keypoints_3d_world``: the world trajectory where the result has one, else on the spot
with only the pelvis height changing) and every joint ``Zrotation Xrotation Yrotation``:
the local rotation is ``Rz · Rx · Ry`` (scipy's intrinsic ``"ZXY"``). Angles are made
continuous over time: of the two Euler triples of each rotation, and their 360° turns, the
one nearest the previous frame is written, so curves never jump by 360°.
All rotation maths is :class:`scipy.spatial.transform.Rotation`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from hotcli.atomic import write_atomic
from hotcli.errors import HotPoseError
from hotcli.lifting.skeleton import H36M_BONES, H36M_JOINTS, bone_lengths

#: BVH units per metre by default: centimetres.
DEFAULT_SCALE = 100.0
#: Euler order of every rotation: written ``Zrotation Xrotation Yrotation``.
EULER_ORDER = "ZXY"
#: Below this perpendicular part of the (unit) twist reference, the previous twist is kept.
HOLD_BELOW = float(np.sin(np.radians(20.0)))
#: A result's world axes (z up, camera at −y) to BVH axes (Y up, facing +Z): BVH = M @ world.
WORLD_TO_BVH = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

_X, _Y, _Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
_NX, _NY, _NZ = (-1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, -1.0)
_HIP_AXIS, _SHOULDER_AXIS, _BODY_UP, _CHEST_UP = (1, 4), (14, 11), (0, 7), (7, 8)


@dataclass(frozen=True)
class Joint:
    """One BVH joint.

    ``h36m`` is the Human3.6M joint at its head; it turns the bone ``h36m → tip`` (``tip``
    None: a leaf with an end site). ``rest`` is that bone's direction in the rest pose,
    ``twist`` the Human3.6M joint pairs whose unit directions, summed, give the twist
    reference (empty: the hinge axis of the parent's bone), ``rest_twist`` where it points
    at rest. ``end`` is a leaf's end site direction and its length as a fraction of the bone
    ``end_bone`` (a Human3.6M (parent, child) pair).
    """

    name: str
    parent: int
    h36m: int
    tip: int | None = None
    rest: tuple[float, float, float] = _Y
    twist: tuple[tuple[int, int], ...] = ()
    rest_twist: tuple[float, float, float] = _X
    end: tuple[float, float, float] = _Y
    end_fraction: float = 0.0
    end_bone: tuple[int, int] = (9, 10)


# fmt: off
JOINTS: tuple[Joint, ...] = (
    Joint("Hips", -1, 0, 7, _Y, (_HIP_AXIS,), _X),
    Joint("RightHipJoint", 0, 0, 1, _NX, (_BODY_UP,), _Y),
    Joint("RightUpLeg", 1, 1, 2, _NY, ((2, 3),), _NZ),
    Joint("RightLeg", 2, 2, 3, _NY),
    Joint("RightFoot", 3, 3, end=_Z, end_fraction=0.5, end_bone=(2, 3)),
    Joint("LeftHipJoint", 0, 0, 4, _X, (_BODY_UP,), _Y),
    Joint("LeftUpLeg", 5, 4, 5, _NY, ((5, 6),), _NZ),
    Joint("LeftLeg", 6, 5, 6, _NY),
    Joint("LeftFoot", 7, 6, end=_Z, end_fraction=0.5, end_bone=(5, 6)),
    Joint("Spine", 0, 7, 8, _Y, (_HIP_AXIS, _SHOULDER_AXIS), _X),
    Joint("Thorax", 9, 8, 9, _Y, (_SHOULDER_AXIS,), _X),
    Joint("Neck", 10, 9, 10, _Y, (_SHOULDER_AXIS,), _X),
    Joint("Head", 11, 10, end=_Y, end_fraction=0.5, end_bone=(9, 10)),
    Joint("LeftShoulder", 10, 8, 11, _X, (_CHEST_UP,), _Y),
    Joint("LeftArm", 13, 11, 12, _X, ((12, 13),), _Z),
    Joint("LeftForeArm", 14, 12, 13, _X),
    Joint("LeftHand", 15, 13, end=_X, end_fraction=1 / 3, end_bone=(12, 13)),
    Joint("RightShoulder", 10, 8, 14, _NX, (_CHEST_UP,), _Y),
    Joint("RightArm", 17, 14, 15, _NX, ((15, 16),), _Z),
    Joint("RightForeArm", 18, 15, 16, _NX),
    Joint("RightHand", 19, 16, end=_NX, end_fraction=1 / 3, end_bone=(15, 16)),
)
# fmt: on


def _hinge_rest_axes() -> dict[int, np.ndarray]:
    """For each hinge joint (no twist pairs, not a leaf), its parent's rest hinge axis."""
    axes = {}
    for i, joint in enumerate(JOINTS):
        if joint.tip is not None and not joint.twist:
            parent = JOINTS[joint.parent]
            axes[i] = np.cross(parent.rest, parent.rest_twist)
    return axes


_HINGE_AXES = _hinge_rest_axes()
#: For each Human3.6M joint, the BVH joint whose head is there and turns its outgoing bone
#: (for the pelvis and thorax: Hips and Thorax, not the zero-offset extra joints).
H36M_TO_JOINT: tuple[int, ...] = tuple(
    next(i for i, j in enumerate(JOINTS) if j.h36m == h and JOINTS[j.parent].h36m != h)
    if h != 0
    else 0
    for h in range(len(H36M_JOINTS))
)


def world_to_bvh(points: np.ndarray) -> np.ndarray:
    """Points (..., 3) from a result's world axes (z up) to BVH axes (Y up, facing +Z)."""
    return np.asarray(points, dtype=np.float64) @ WORLD_TO_BVH.T


def bvh_to_world(points: np.ndarray) -> np.ndarray:
    """The inverse of :func:`world_to_bvh`."""
    return np.asarray(points, dtype=np.float64) @ WORLD_TO_BVH


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (..., 3) and their lengths (...); zero vectors stay zero."""
    norm = np.linalg.norm(v, axis=-1)
    safe = np.where(norm > 1e-12, norm, 1.0)
    return np.where((norm > 1e-12)[..., None], v / safe[..., None], 0.0), norm


def _perpendicular(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """The part of ``v`` (..., 3) perpendicular to the unit ``axis`` (..., 3)."""
    return v - np.sum(v * axis, axis=-1, keepdims=True) * axis


def _any_perpendicular(axis: np.ndarray) -> np.ndarray:
    """A unit vector perpendicular to each unit ``axis`` (..., 3), for degenerate frames."""
    helper = np.where(np.abs(axis[..., :1]) < 0.9, np.array(_X), np.array(_Y))
    return _unit(np.cross(axis, helper))[0]


def _frame(direction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Orthonormal frames (..., 3, 3), columns: the unit ``direction``, the unit part of
    ``reference`` perpendicular to it, and their cross product."""
    b = _unit(_perpendicular(reference, direction))[0]
    return np.stack([direction, b, np.cross(direction, b)], axis=-1)


def _aligning(
    direction: np.ndarray, reference: np.ndarray, rest: np.ndarray, rest_ref: np.ndarray
) -> Rotation:
    """The rotations taking ``rest`` exactly onto each unit ``direction`` (T, 3) and
    ``rest_ref`` onto the perpendicular part of each ``reference`` (T, 3)."""
    rest_frame = _frame(np.asarray(rest, float), np.asarray(rest_ref, float))
    return Rotation.from_matrix(_frame(direction, reference) @ rest_frame.T)


def fitted_lengths(keypoints: np.ndarray) -> np.ndarray:
    """Each bone's length (16,) in :data:`H36M_BONES` order: its median over the frames.

    ``keypoints`` (T, 17, 3), any unit. With hot-pose's one length per bone (the default)
    every frame has this length; with ``--free-bones`` the file cannot match every frame.
    """
    return np.median(bone_lengths(np.asarray(keypoints, dtype=np.float64)), axis=0)


def _bone_length(lengths: np.ndarray, parent: int, child: int) -> float:
    return float(lengths[H36M_BONES.index((parent, child))])


def rest_offsets(lengths: np.ndarray) -> np.ndarray:
    """Each joint's OFFSET (21, 3) from its parent in the rest pose, in the units of
    ``lengths`` (16,); zero for the root and the extra joints at the pelvis and thorax."""
    offsets = np.zeros((len(JOINTS), 3))
    for i, joint in enumerate(JOINTS):
        if joint.parent < 0:
            continue
        parent = JOINTS[joint.parent]
        if parent.h36m != joint.h36m:
            length = _bone_length(lengths, parent.h36m, joint.h36m)
            offsets[i] = np.asarray(parent.rest) * length
    return offsets


def end_sites(lengths: np.ndarray) -> dict[int, np.ndarray]:
    """Each leaf joint's end site offset (3,), in the units of ``lengths`` (16,)."""
    return {
        i: np.asarray(j.end) * j.end_fraction * _bone_length(lengths, *j.end_bone)
        for i, j in enumerate(JOINTS)
        if j.tip is None
    }


def _twist_reference(joint: Joint, points: np.ndarray) -> np.ndarray:
    """The measured twist reference (T, 3): the sum of the unit directions of its pairs."""
    return sum(_unit(points[:, b] - points[:, a])[0] for a, b in joint.twist)


def global_rotations(points: np.ndarray) -> list[Rotation]:
    """Each joint's rotation (T,) from the rest pose, in BVH axes, from joint positions.

    ``points`` (T, 17, 3) in BVH axes. Each joint takes its rest bone direction exactly
    onto the present one; the twist about the bone follows the module's table. Frames
    whose reference is nearly parallel to the bone blend in the joint's previous local
    twist (:data:`HOLD_BELOW`), one frame after another; the rest is vectorised.
    """
    points = np.asarray(points, dtype=np.float64)
    frames = len(points)
    rotations: list[Rotation] = []
    for i, joint in enumerate(JOINTS):
        parent = rotations[joint.parent] if joint.parent >= 0 else Rotation.identity(frames)
        if joint.tip is None:
            rotations.append(parent)
            continue
        direction, _ = _unit(points[:, joint.tip] - points[:, joint.h36m])
        if joint.twist:
            rest_ref = np.asarray(joint.rest_twist, dtype=np.float64)
            reference = _unit(_twist_reference(joint, points))[0]
        else:
            rest_ref = _HINGE_AXES[i]
            reference = rotations[joint.parent].apply(rest_ref)
        rotations.append(_with_hold(joint, direction, reference, rest_ref, parent))
    return rotations


def _with_hold(
    joint: Joint, direction: np.ndarray, reference: np.ndarray, rest_ref: np.ndarray,
    parent: Rotation,
) -> Rotation:  # fmt: skip
    """The joint's rotations (T,), keeping the previous twist where ``reference`` fails.

    ``direction`` (T, 3) unit bone directions, ``reference`` (T, 3) unit twist references,
    ``parent`` the parent's rotations (T,). In frame t the reference used is the measured
    one's perpendicular part ``m`` plus ``max(0, HOLD_BELOW − |m|)`` times the unit
    perpendicular part of where the previous frame's local rotation would put the rest
    reference now. Above the threshold that weight is 0 (no lag); below it the held twist
    grows continuously until it is all that is left of a straight limb's.
    """
    rest = np.asarray(joint.rest, dtype=np.float64)
    measured = _perpendicular(reference, direction)
    strength = np.linalg.norm(measured, axis=-1)
    weak = np.flatnonzero(strength < HOLD_BELOW)
    placeholder = np.where((strength < 1e-9)[:, None], _any_perpendicular(direction), measured)
    result = _aligning(direction, placeholder, rest, rest_ref)  # weak frames are redone below
    if len(weak) == 0:
        return result
    matrices = result.as_matrix()
    parent_matrices = parent.as_matrix()
    for t in weak:
        if t == 0:
            carried = parent_matrices[0] @ rest_ref  # no history: no twist from the parent
        else:
            local = parent_matrices[t - 1].T @ matrices[t - 1]
            carried = parent_matrices[t] @ local @ rest_ref
        held = _unit(_perpendicular(carried, direction[t]))[0]
        if not np.any(held):
            held = _any_perpendicular(direction[t])
        blended = measured[t] + (HOLD_BELOW - strength[t]) * held
        if np.linalg.norm(blended) < 1e-9:  # a reversed plane exactly cancels the held one
            blended = held
        matrices[t] = _aligning(direction[t : t + 1], blended[None], rest, rest_ref).as_matrix()[0]
    return Rotation.from_matrix(matrices)


def local_rotations(rotations: list[Rotation]) -> list[Rotation]:
    """Each joint's rotation (T,) relative to its parent's (the BVH channels' rotation)."""
    return [
        rotation if joint.parent < 0 else rotations[joint.parent].inv() * rotation
        for joint, rotation in zip(JOINTS, rotations, strict=True)
    ]


def continuous_euler(rotations: Rotation, order: str = EULER_ORDER) -> np.ndarray:
    """Euler angles (T, 3) in degrees of ``rotations`` (T,), continuous over time.

    scipy returns each frame's angles in their principal ranges, so a turn past 180° jumps
    by 360° and a middle angle past ±90° switches to the other triple. For three distinct
    intrinsic axes, (a, b, c) and (a + 180°, 180° − b, c + 180°) are the same rotation;
    each frame keeps, of these two and their 360° turns, the one nearest the previous
    frame's angles. The first frame keeps scipy's.
    """
    angles = rotations.as_euler(order, degrees=True).reshape(-1, 3)
    other = angles + np.array([180.0, 0.0, 180.0])
    other[:, 1] = 180.0 - angles[:, 1]
    out = angles.copy()
    for t in range(1, len(angles)):
        previous = out[t - 1]
        best, best_distance = None, np.inf
        for candidate in (angles[t], other[t]):
            shifted = candidate + 360.0 * np.round((previous - candidate) / 360.0)
            distance = float(np.abs(shifted - previous).sum())
            if distance < best_distance:
                best, best_distance = shifted, distance
        out[t] = best
    return out


@dataclass
class Motion:
    """A BVH skeleton and its motion, in BVH axes and units.

    ``offsets`` (21, 3) and ``ends`` (leaf index → (3,)) in file units; ``root`` (T, 3) the
    root's position per frame; ``angles`` (T, 21, 3) each joint's Z, X, Y rotation in
    degrees; ``frame_time`` seconds.
    """

    offsets: np.ndarray
    ends: dict[int, np.ndarray]
    root: np.ndarray
    angles: np.ndarray
    frame_time: float

    @property
    def frames(self) -> int:
        return len(self.root)


def check_poses(keypoints_3d_world: np.ndarray, fps: float, what: str = "the poses") -> np.ndarray:
    """The poses as float64 (T, 17, 3), or a :class:`HotPoseError` saying what is wrong."""
    k = np.asarray(keypoints_3d_world, dtype=np.float64)
    if k.ndim != 3 or k.shape[1:] != (len(H36M_JOINTS), 3) or len(k) == 0:
        raise HotPoseError(f"{what}: keypoints_3d_world must be (frames, 17, 3), got {k.shape}")
    bad = ~np.isfinite(k).all(axis=(1, 2))
    if bad.any():
        raise HotPoseError(
            f"{what}: {int(bad.sum())} of {len(k)} frames have missing 3D joints; "
            "a BVH needs every joint in every frame"
        )
    if not (np.isfinite(fps) and fps > 0):
        raise HotPoseError(f"{what}: the frame rate must be positive, got {fps}")
    if (bone_lengths(k) < 1e-6).any():
        raise HotPoseError(f"{what}: some bones have no length, so they have no direction")
    return k


def motion_from_poses(
    keypoints_3d_world: np.ndarray, fps: float, scale: float = DEFAULT_SCALE
) -> Motion:
    """The BVH motion of one person's ``keypoints_3d_world`` (T, 17, 3) metres at ``fps``.

    ``scale`` is file units per metre. Raises :class:`HotPoseError` for unusable poses.
    """
    if not (np.isfinite(scale) and scale > 0):
        raise HotPoseError(f"the BVH scale must be a positive number, got {scale}")
    points = world_to_bvh(check_poses(keypoints_3d_world, fps)) * scale
    lengths = fitted_lengths(points)
    rotations = local_rotations(global_rotations(points))
    angles = np.stack([continuous_euler(r) for r in rotations], axis=1)
    return Motion(rest_offsets(lengths), end_sites(lengths), points[:, 0], angles, 1.0 / fps)


def _children(index: int) -> list[int]:
    return [i for i, j in enumerate(JOINTS) if j.parent == index]


def _hierarchy_lines(motion: Motion, index: int = 0, depth: int = 0) -> list[str]:
    joint, pad = JOINTS[index], "\t" * depth
    kind = "ROOT" if joint.parent < 0 else "JOINT"
    rotation = " ".join(f"{axis}rotation" for axis in EULER_ORDER)
    channels = (
        f"CHANNELS 6 Xposition Yposition Zposition {rotation}"
        if joint.parent < 0
        else f"CHANNELS 3 {rotation}"
    )
    lines = [f"{pad}{kind} {joint.name}", f"{pad}{{",
             f"{pad}\tOFFSET {_numbers(motion.offsets[index])}", f"{pad}\t{channels}"]  # fmt: skip
    for child in _children(index):
        lines += _hierarchy_lines(motion, child, depth + 1)
    if index in motion.ends:
        lines += [f"{pad}\tEnd Site", f"{pad}\t{{",
                  f"{pad}\t\tOFFSET {_numbers(motion.ends[index])}", f"{pad}\t}}"]  # fmt: skip
    return lines + [f"{pad}}}"]


def _numbers(values: np.ndarray) -> str:
    return " ".join(f"{v:.6f}" for v in np.asarray(values, dtype=np.float64).ravel())


def bvh_text(motion: Motion) -> str:
    """The BVH file of ``motion``: HIERARCHY then MOTION, one line per frame.

    Values have 5 decimals (a hundred-thousandth of a degree or of a unit): the joints of a
    metre-long chain move by well under a micrometre from rounding.
    """
    lines = ["HIERARCHY", *_hierarchy_lines(motion), "MOTION", f"Frames: {motion.frames}",
             f"Frame Time: {motion.frame_time:.8f}"]  # fmt: skip
    values = np.concatenate([motion.root, motion.angles.reshape(motion.frames, -1)], axis=1)
    buffer = io.StringIO()
    np.savetxt(buffer, np.round(values, 5) + 0.0, fmt="%.5f")  # + 0.0 turns −0 into 0
    return "\n".join(lines) + "\n" + buffer.getvalue()


def write_bvh(
    path: Path, keypoints_3d_world: np.ndarray, fps: float, scale: float = DEFAULT_SCALE
) -> Path:
    """Write one person's poses (T, 17, 3) metres as a BVH file (temporary name, renamed)."""
    text = bvh_text(motion_from_poses(keypoints_3d_world, fps, scale))
    return write_atomic(Path(path), lambda f: f.write(text.encode()))


def bvh_names(stem: str, track_ids: list[int]) -> dict[int, list[str]]:
    """Each person's BVH file names: ``<stem>.bvh`` for the first (the main person) and,
    when there are several, ``<stem>_track<ID>.bvh`` for each (as ``poses*.npz``)."""
    names = {tid: [] for tid in track_ids}
    if track_ids:
        names[track_ids[0]].append(f"{stem}.bvh")
    if len(track_ids) > 1:
        for tid in track_ids:
            names[tid].append(f"{stem}_track{tid}.bvh")
    return names


def write_person_bvhs(
    out_dir: Path, stem: str, people: list[tuple[int, np.ndarray]], fps: float, scale: float
) -> dict[int, list[str]]:
    """Write the BVH files of ``people`` ((track id, keypoints_3d_world (T, 17, 3) m), the
    main person first) into ``out_dir``; returns each track id's file names."""
    people = [(tid, present_span(keypoints)) for tid, keypoints in people]
    for tid, keypoints in people:  # every person checked before any file is written
        check_poses(keypoints, fps, f"track {tid}")
    names = bvh_names(stem, [tid for tid, _ in people])
    for tid, keypoints in people:
        for name in names[tid]:
            write_bvh(out_dir / name, keypoints, fps, scale)
    return names


def present_span(keypoints: np.ndarray) -> np.ndarray:
    """The frames (T', 17, 3) from a person's first to last complete pose.

    Outside that span the person is not in view (NaN), and nothing is exported there; a
    BVH needs a pose in every frame, so a longer gap inside the span holds the last pose.
    All-NaN input is returned as is (and refused by the writer's check).
    """
    keypoints = np.asarray(keypoints)
    seen = np.flatnonzero(np.isfinite(keypoints).all(axis=(1, 2)))
    if len(seen) == 0:
        return keypoints
    span = keypoints[seen[0] : seen[-1] + 1].copy()
    ok = np.isfinite(span).all(axis=(1, 2))
    last = np.maximum.accumulate(np.where(ok, np.arange(len(span)), 0))
    return span[last]
