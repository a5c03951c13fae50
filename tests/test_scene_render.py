"""The 3D panel as one scene: persons where they are on one ground, the camera standing."""

from __future__ import annotations

import numpy as np

from hotcli.render.draw3d import BACKGROUND, ROOT_PATH_COLOUR, SkeletonPanel
from tests.scene import walker

FPS = 25.0


def test_persons_stand_where_they_are_and_move_over_the_ground():
    a = walker(50, FPS, (-2.0, 5.0), (2.0, 5.0))
    twin = a.copy()
    scene = SkeletonPanel([a, twin], (400, 400), camera_height=1.5, legend=False)
    np.testing.assert_allclose(scene.joint_pixels(10, 0), scene.joint_pixels(10, 1))
    side = SkeletonPanel([a, twin], (400, 400), legend=False)  # root-relative layout
    assert np.abs(side.joint_pixels(10, 0) - side.joint_pixels(10, 1)).max() > 20
    walked = np.linalg.norm(scene.joint_pixels(49, 0)[0] - scene.joint_pixels(0, 0)[0])
    assert walked > 0.2 * 400  # 4 m across a scene about 6 m wide
    pixels = np.concatenate([scene.joint_pixels(t, 0) for t in range(50)])
    assert pixels.min() >= 0 and pixels.max() <= 400  # the view frames the whole path


def test_a_person_who_is_not_present_is_not_drawn():
    world = walker(30, FPS, (0.0, 4.0), (1.0, 4.0))
    world[:10] = np.nan
    panel = SkeletonPanel([world], (300, 300), camera_height=1.6, legend=False)
    np.testing.assert_array_equal(panel.render(5), panel.background)
    assert (panel.render(15) != panel.background).any()


def test_the_trail_draws_the_pelvis_path_on_the_ground():
    world = walker(40, FPS, (-1.0, 4.0), (1.0, 6.0))
    plain = SkeletonPanel([world], (300, 300), camera_height=1.6, legend=False)
    trail = SkeletonPanel([world], (300, 300), camera_height=1.6, legend=False, trail=30)
    a, b = plain.render(35).copy(), trail.render(35)
    changed = np.any(a != b, axis=-1)
    assert changed.sum() > 50
    green = np.abs(b[changed].astype(int) - ROOT_PATH_COLOUR).sum(axis=-1) < 60
    assert green.any()
    assert not np.any(np.all(b[changed] == BACKGROUND, axis=-1))
