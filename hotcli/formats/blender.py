"""Open a BVH file in Blender the way a user would, read the armature back, draw a picture.

    python -m hotcli.formats.blender hot-pose-output/dancer/dancer.bvh --joints joints.json
    python -m hotcli.formats.blender hot-pose-output/dancer/dancer.bvh --render dancer_blender.png

Needs Blender as a Python module (``pip install --no-deps bpy==5.0.1``, Python 3.11; see
the README for why ``--no-deps``). The file is imported with Blender's own BVH importer and
the settings the README gives: scale 0.01 (hot-pose's centimetres to Blender's metres),
forward −Z and up Y (Blender turns the file's Y-up axes into its Z-up ones, which are then
the result's world axes), native rotation orders, the scene's frame rate and length taken
from the file. Runs in a process of its own: ``bpy`` brings its own copies of many native
libraries, so it is kept apart from the rest of hot-pose (no OpenCV or PyTorch here).

``--joints`` writes JSON: the scene's frame rate, the imported action's first and last
frame, and the world position of every bone's head (metres, Blender axes) at the frames
asked for (0-based BVH frames). ``--render`` draws the armature's bones as sticks at a few
frames side by side, with Blender's Workbench engine (no GPU needed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: hot-pose's colours (hotcli.render.draw3d, as RGB): left blue, right orange, centre light grey.
_SIDE_RGB = {"Left": (40, 140, 235), "Right": (255, 150, 30), "": (225, 225, 225)}
#: Metres between the figures of a rendered strip.
_SPACING_M = 1.3
_STICK_RADIUS_M = 0.022


def import_bvh(path: Path, scale: float = 0.01):
    """A fresh scene with ``path`` imported as an armature; returns the armature object."""
    import addon_utils
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable("io_anim_bvh", default_set=True)
    bpy.ops.import_anim.bvh(
        filepath=str(path), target="ARMATURE", global_scale=scale, frame_start=1,
        use_fps_scale=False, update_scene_fps=True, update_scene_duration=True,
        rotate_mode="NATIVE", axis_forward="-Z", axis_up="Y",
    )  # fmt: skip
    return next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")


def joint_report(armature, frames: list[int]) -> dict:
    """Frame rate, action range and bone heads (world, metres) at the 0-based ``frames``."""
    import bpy

    scene = bpy.context.scene
    start, end = armature.animation_data.action.frame_range
    heads = {}
    for frame in frames:
        scene.frame_set(int(round(start)) + frame)
        heads[str(frame)] = {
            bone.name: list(armature.matrix_world @ bone.head) for bone in armature.pose.bones
        }
    return {
        "fps": scene.render.fps / scene.render.fps_base,
        "action_frame_range": [start, end],
        "scene_frame_range": [scene.frame_start, scene.frame_end],
        "heads": heads,
    }


def _material(name: str, rgb: tuple[int, int, int]):
    import bpy

    material = bpy.data.materials.new(name)
    material.diffuse_color = (*[(c / 255) ** 2.2 for c in rgb], 1.0)  # sRGB to linear
    return material


def _sticks(armature, shift: float, materials: dict) -> None:
    """Mesh objects tracing the armature's bones as they are posed now, moved ``shift`` m
    along x: a cylinder from each bone's head to each child's head (or to its end site) and
    a ball at each head, one object per side."""
    import bmesh
    import bpy
    from mathutils import Matrix, Vector

    meshes = {side: bmesh.new() for side in _SIDE_RGB}
    offset = Vector((shift, 0.0, 0.0))
    for bone in armature.pose.bones:
        side = next(s for s in ("Left", "Right", "") if bone.name.startswith(s))
        head = armature.matrix_world @ bone.head + offset
        # A bone with several children (the hips) reaches each of them; a leaf its end site.
        ends = [armature.matrix_world @ c.head + offset for c in bone.children] or [
            armature.matrix_world @ bone.tail + offset
        ]
        bm = meshes[side]
        for end in ends:
            if (end - head).length < 1e-6:
                continue
            turn = (end - head).to_track_quat("Z", "Y").to_matrix().to_4x4()
            bmesh.ops.create_cone(
                bm, cap_ends=True, segments=12, radius1=_STICK_RADIUS_M,
                radius2=_STICK_RADIUS_M, depth=(end - head).length,
                matrix=Matrix.Translation((head + end) / 2) @ turn,
            )  # fmt: skip
        ball = Matrix.Translation(head)
        bmesh.ops.create_uvsphere(bm, u_segments=12, v_segments=8, radius=1.5 * _STICK_RADIUS_M,
                                  matrix=ball)  # fmt: skip
    for side, bm in meshes.items():
        mesh = bpy.data.meshes.new(f"sticks{side}")
        bm.to_mesh(mesh)
        bm.free()
        mesh.materials.append(materials[side])
        bpy.context.scene.collection.objects.link(bpy.data.objects.new(mesh.name, mesh))


def render_strip(armature, frames: list[int], png: Path, size: tuple[int, int]) -> None:
    """Render the armature at the 0-based ``frames`` side by side into ``png``.

    Workbench engine, an orthographic camera in front of the figures (from the filming
    camera's side, a little above), a floor at z = 0.
    """
    import bpy
    from mathutils import Euler

    scene = bpy.context.scene
    start = int(round(armature.animation_data.action.frame_range[0]))
    materials = {side: _material(f"side{side}", rgb) for side, rgb in _SIDE_RGB.items()}
    for i, frame in enumerate(frames):
        scene.frame_set(start + frame)
        _sticks(armature, (i - (len(frames) - 1) / 2) * _SPACING_M, materials)
    armature.hide_render = True

    width_m = len(frames) * _SPACING_M
    bpy.ops.mesh.primitive_plane_add(size=1.0, location=(0.0, 0.0, 0.0))
    floor = bpy.context.object
    floor.scale = (width_m + 1.0, 3.0, 1.0)
    floor.data.materials.append(_material("floor", (120, 118, 114)))

    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    camera.data.type = "ORTHO"
    camera.data.ortho_scale = max(width_m, 2.2 * size[0] / size[1]) * 1.02
    camera.location = (0.0, -8.0, 0.95 + 8.0 * 0.18)
    camera.rotation_euler = Euler((1.39, 0.0, 0.0))
    scene.collection.objects.link(camera)
    scene.camera = camera

    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "MATERIAL"
    scene.display.shading.show_shadows = True
    scene.world = bpy.data.worlds.new("world")
    scene.world.color = (0.02, 0.02, 0.022)
    scene.render.resolution_x, scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.image_settings.compression = 100
    scene.render.filepath = str(png)
    bpy.ops.render.render(write_still=True)


def _frames(text: str) -> list[int]:
    try:
        frames = [int(f) for f in text.split(",") if f.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"frames must be whole numbers, got {text!r}") from None
    if not frames or min(frames) < 0:
        raise argparse.ArgumentTypeError(f"frames must be 0 or more, got {text!r}")
    return frames


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, got {text!r}") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hotcli.formats.blender",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("bvh", type=Path, help="the BVH file")
    parser.add_argument("--scale", type=float, default=0.01,
                        help="Blender units per file unit (default %(default)s: cm to m)",
                        )  # fmt: skip
    parser.add_argument("--joints", type=Path, metavar="JSON", help="write the bone heads here")
    parser.add_argument("--joint-frames", type=_frames, default=[0], metavar="F,F,...",
                        help="0-based frames for --joints (default 0)")  # fmt: skip
    parser.add_argument("--render", type=Path, metavar="PNG", help="render a picture here")
    parser.add_argument("--render-frames", type=_frames, default=None, metavar="F,F,...",
                        help="0-based frames side by side (default: six, evenly spread)",
                        )  # fmt: skip
    parser.add_argument("--size", type=_size, default=(1050, 400), metavar="WxH",
                        help="picture size in pixels (default 1050x400)")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.bvh.is_file():
        print(f"hotcli.formats.blender: error: {args.bvh} is not a file", file=sys.stderr)
        return 2
    try:
        import bpy  # noqa: F401
    except ImportError:
        print("hotcli.formats.blender: error: Blender's bpy module is not installed "
              "(pip install --no-deps bpy==5.0.1)", file=sys.stderr)  # fmt: skip
        return 2
    armature = import_bvh(args.bvh, args.scale)
    if args.joints:
        args.joints.write_text(json.dumps(joint_report(armature, args.joint_frames)))
    if args.render:
        start, end = armature.animation_data.action.frame_range
        count = int(round(end - start)) + 1
        frames = args.render_frames or [round(i * (count - 1) / 5) for i in range(6)]
        render_strip(armature, frames, args.render.resolve(), args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
