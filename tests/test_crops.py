"""Tiles over the frame, crops around people, and merging what they find."""

from __future__ import annotations

import numpy as np

from hotcli.pose2d.crops import best_match, crop_window, dedupe, iou, tile_windows


def test_two_by_two_tiles_cover_the_frame_and_overlap_by_a_quarter():
    tiles = tile_windows(768, 576, (2, 2), overlap=0.25)
    assert tiles.shape == (4, 4)
    assert tiles[:, 0].min() == 0 and tiles[:, 1].min() == 0
    assert tiles[:, 2].max() == 768 and tiles[:, 3].max() == 576
    left, right = tiles[0], tiles[1]
    width = left[2] - left[0]
    assert abs((left[2] - right[0]) - 0.25 * width) <= 1  # shared strip
    covered = np.zeros((576, 768), bool)
    for x0, y0, x1, y1 in tiles:
        covered[y0:y1, x0:x1] = True
    assert covered.all()


def test_one_tile_is_the_whole_frame():
    assert tile_windows(640, 480, (1, 1)).tolist() == [[0, 0, 640, 480]]


def test_a_crop_is_a_square_around_the_person_with_a_margin():
    x0, y0, x1, y1 = crop_window(np.array([300.0, 200.0, 340.0, 300.0]), 768, 576, margin=1.5)
    assert x1 - x0 == y1 - y0 == 150
    assert (x0 + x1) / 2 == 320 and (y0 + y1) / 2 == 250


def test_a_crop_at_the_edge_is_shifted_inside_the_frame_not_cut():
    x0, y0, x1, y1 = crop_window(np.array([0.0, 500.0, 40.0, 576.0]), 768, 576, margin=1.5)
    assert x0 == 0 and y1 == 576 and x1 - x0 == y1 - y0 == 114


def test_a_crop_larger_than_the_frame_is_the_frame():
    window = crop_window(np.array([10.0, 10.0, 500.0, 470.0]), 518, 496, margin=1.5)
    assert window.tolist() == [0, 0, 518, 496]


def test_a_tiny_person_gets_at_least_the_minimum_crop():
    x0, _, x1, _ = crop_window(np.array([100.0, 100.0, 110.0, 120.0]), 768, 576, min_side=64)
    assert x1 - x0 == 64


def test_a_person_seen_twice_by_overlapping_tiles_is_kept_once_from_the_better_view():
    whole = [100, 100, 140, 200]
    half = [100, 100, 140, 150]  # cut by a tile's edge: IoU only 0.5, but inside the whole
    other = [300, 100, 340, 200]
    keep = dedupe(np.array([half, whole, other], float), np.array([0.6, 0.9, 0.8]))
    assert keep.tolist() == [1, 2]


def test_the_crop_keeps_the_detection_of_its_own_person():
    expected = np.array([100.0, 100.0, 140.0, 200.0])
    boxes = np.array([[90, 95, 120, 190], [102, 98, 142, 205], [300, 0, 400, 100]], float)
    assert best_match(boxes, expected) == 1
    assert best_match(boxes[2:], expected) is None
    assert best_match(np.zeros((0, 4)), expected) is None


def test_iou_of_a_box_with_itself_is_one_and_with_a_disjoint_one_zero():
    a = np.array([[0.0, 0, 10, 10]])
    b = np.array([[0.0, 0, 10, 10], [20, 20, 30, 30], [5, 0, 15, 10]])
    assert np.allclose(iou(a, b), [[1.0, 0.0, 1 / 3]])
