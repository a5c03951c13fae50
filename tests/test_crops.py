"""Tiles over the frame, crops around people, and merging what they find."""

from __future__ import annotations

import numpy as np
import pytest

from hotcli.options import Pose2DOptions
from hotcli.pose2d.crops import (
    best_match,
    crop_input_size,
    crop_window,
    dedupe,
    iou,
    tile_windows,
    unmatched,
)
from hotcli.pose2d.posenet import Detections, input_size


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


def test_a_crop_has_the_persons_shape_with_the_same_room_on_every_side():
    # 80 x 100 px: 25 px on every side (margin 1.5 of the longer side)
    x0, y0, x1, y1 = crop_window(np.array([280.0, 200.0, 360.0, 300.0]), 768, 576, margin=1.5)
    assert (x1 - x0, y1 - y0) == (130, 150)
    assert (x0 + x1) / 2 == 320 and (y0 + y1) / 2 == 250


def test_a_thin_persons_crop_is_at_least_three_fifths_as_wide_as_tall():
    x0, y0, x1, y1 = crop_window(np.array([300.0, 200.0, 320.0, 300.0]), 768, 576, margin=1.5)
    assert (x1 - x0, y1 - y0) == (90, 150)


def test_a_crop_at_the_edge_is_shifted_inside_the_frame_not_cut():
    x0, y0, x1, y1 = crop_window(np.array([0.0, 500.0, 40.0, 576.0]), 768, 576, margin=1.5)
    assert x0 == 0 and y1 == 576 and (x1 - x0, y1 - y0) == (78, 114)


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


def test_unmatched_boxes_are_those_that_overlap_no_box_of_the_other_list():
    a, b = np.array([0, 0, 10, 20.0]), np.array([100, 0, 110, 20.0])
    moved = np.array([2, 0, 12, 20.0])  # the same person a little later
    assert [list(x) for x in unmatched([a, b], [moved])] == [list(b)]
    assert unmatched([a, b], []) == [a, b] and unmatched([], [a]) == []


def test_iou_of_a_box_with_itself_is_one_and_with_a_disjoint_one_zero():
    a = np.array([[0.0, 0, 10, 10]])
    b = np.array([[0.0, 0, 10, 10], [20, 20, 30, 30], [5, 0, 15, 10]])
    assert np.allclose(iou(a, b), [[1.0, 0.0, 1 / 3]])


def crop_input(box, width, height, max_person=384):
    """The input size for the crop :func:`crop_window` makes around ``box`` (margin 1.2)."""
    window = crop_window(box, width, height, margin=1.2)
    return crop_input_size(box, window, width, height, 640, 256, max_person)


def test_a_small_person_gets_the_smallest_crop_which_magnifies_them():
    # 1280x720 searched at 640: the whole frame shows everyone at half size.
    small = np.array([600.0, 300.0, 640.0, 400.0])  # 100 px tall: crop 120 px → 256 px
    assert crop_input(small, 1280, 720) == 256


def test_a_large_person_is_seen_as_in_the_whole_frame_but_no_taller_than_the_cap():
    # 600 px tall in 1280x720: the whole frame at 640 shows 300 px; the crop (720 px) at 384
    mid = np.array([400.0, 100.0, 700.0, 700.0])
    assert crop_input(mid, 1280, 720) == 384
    # the example clip: 450 px tall in 518x496, 556 px in the whole frame at 640; capped at
    # 384 px, the crop (340 x 496, the frame's height) goes in at 448 (384 / 450 × 496,
    # rounded up to 32)
    large = np.array([40.0, 20.0, 290.0, 470.0])
    size = crop_input(large, 518, 496)
    assert size == 448 and 384 <= 450 * size / 496 < 450 * 640 / 518
    assert crop_input(large, 518, 496, max_person=1000) == 640  # never above imgsz


def test_the_whole_frame_goes_in_at_imgsz_on_its_longer_side_padded_to_32():
    assert input_size(1280, 720, 640) == (640, 384)
    assert input_size(518, 496, 640) == (640, 640)
    assert input_size(720, 1280, 640) == (384, 640)


class WhitePeople:
    """A stand-in pose network: each white rectangle of the image it is given is a person."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []  # image shapes
        self.sizes: list[int] = []  # the network sizes asked for

    def __call__(self, image: np.ndarray, imgsz: int) -> Detections:
        import cv2

        self.calls.append(image.shape[:2])
        self.sizes.append(imgsz)
        mask = (image[..., 0] > 128).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h, _ in stats[1:count]], np.float32)
        n = len(boxes)
        if not n:
            return Detections.empty()
        t = np.linspace(0, 1, 17, dtype=np.float32)
        kps = np.stack(
            [
                boxes[:, None, 0] + t * (boxes[:, None, 2] - boxes[:, None, 0]),
                boxes[:, None, 1] + t * (boxes[:, None, 3] - boxes[:, None, 1]),
            ],
            -1,
        )
        return Detections(boxes, np.full(n, 0.9, np.float32), kps, np.ones((n, 17), np.float32))


def frame_with(boxes, width=1280, height=720) -> np.ndarray:
    frame = np.zeros((height, width, 3), np.uint8)
    for x0, y0, x1, y1 in boxes:
        frame[y0:y1, x0:x1] = 255
    return frame


def test_a_large_person_gets_a_smaller_crop_between_whole_frame_searches():
    from hotcli.pose2d.tracking import PeopleFinder

    net = WhitePeople()
    finder = PeopleFinder(net, Pose2DOptions(detect_every=8))
    for _ in range(9):
        assert len(finder(frame_with([(400, 60, 700, 660)]))) <= 1
    whole = [i for i, shape in enumerate(net.calls) if shape == (720, 1280)]
    assert whole == [0, 8] and net.sizes[0] == net.sizes[8] == 640  # no tiles
    # between them one crop around the person (0.6 as wide as the frame is tall), 384 px
    assert set(net.calls[1:8]) == {(720, 432)} and set(net.sizes[1:8]) == {384}


def test_a_frame_smaller_than_imgsz_is_searched_and_cropped_at_its_own_size():
    from hotcli.pose2d.tracking import PeopleFinder

    net = WhitePeople()
    finder = PeopleFinder(net, Pose2DOptions(detect_every=8))
    dancer = [(140, 60, 315, 410)]  # 350 px tall in the example clip's 518 x 496
    for _ in range(2):
        finder(frame_with(dancer, 518, 496))
    assert net.calls[0] == (496, 518) and net.sizes[0] == 518  # not enlarged to 640
    # the crop (the person plus 0.2 of their height, 420 x 252) at 1:1, not enlarged to the
    # 384 px cap: 448 px, its longer side rounded up to 32
    assert net.calls[1] == (420, 252) and net.sizes[1] == 448


def test_the_reference_enlarges_small_frames_as_ultralytics_does():
    assert Pose2DOptions().search_size(518, 496) == 518
    assert Pose2DOptions().search_size(1280, 720) == 640
    assert Pose2DOptions.reference(640).search_size(518, 496) == 640
    assert Pose2DOptions(enlarge=True).search_size(518, 496) == 640


def test_large_people_whose_crops_cost_more_than_the_frame_get_the_whole_frame():
    from hotcli.pose2d.tracking import PeopleFinder

    net = WhitePeople()
    finder = PeopleFinder(net, Pose2DOptions(detect_every=8))
    people = [(100, 60, 400, 660), (500, 60, 800, 660), (900, 60, 1200, 660)]
    for _ in range(4):
        finder(frame_with(people))
    assert net.calls == [(720, 1280)] * 4  # three 384 px crops: more than 640 × 384


def test_small_people_get_tiles_then_crops_between_searches():
    from hotcli.pose2d.tracking import PeopleFinder

    net = WhitePeople()
    finder = PeopleFinder(net, Pose2DOptions(detect_every=8, crop_size=256, tiles="auto"))
    people = [(100, 300, 140, 400), (900, 350, 940, 450)]
    found = [finder(frame_with(people)) for _ in range(9)]
    whole = [i for i, shape in enumerate(net.calls) if shape == (720, 1280)]
    assert len(whole) == 2  # frames 0 and 8
    assert whole[1] - whole[0] == 5 + 7 * 2  # frame 0: whole + 4 tiles; frames 1-7: 2 crops
    assert all(max(shape) < 200 for shape in net.calls[5 : whole[1]])  # crops around each
    assert all(len(f) == 2 for f in found[2:])


def test_tiles_stop_once_only_large_people_are_found():
    from hotcli.pose2d.tracking import PeopleFinder

    net = WhitePeople()
    finder = PeopleFinder(net, Pose2DOptions(detect_every=1, crop_size=0, tiles="auto"))
    finder(frame_with([]))  # nobody: tiles too
    assert len(net.calls) == 5
    finder(frame_with([(400, 60, 700, 660)]))  # searched with tiles (the last found nobody)
    assert len(net.calls) == 10
    finder(frame_with([(400, 60, 700, 660)]))  # a large person only: the whole frame
    assert len(net.calls) == 11


@pytest.mark.parametrize(
    ("fps", "searches"), [(10.0, [0, 5, 15, 25]), (25.0, [0, 12]), (None, [0, 12])]
)
def test_searches_come_every_half_second_then_every_second_while_nobody_new_comes(fps, searches):
    from hotcli.pose2d.tracking import PeopleFinder

    net = WhitePeople()
    finder = PeopleFinder(net, Pose2DOptions(), fps=fps)
    for _ in range(30):
        finder(frame_with([(400, 60, 700, 660)]))
    assert [i for i, shape in enumerate(net.calls) if shape == (720, 1280)] == searches
    assert Pose2DOptions(detect_every=3).search_intervals(fps) == (3, 3)


def test_small_people_are_searched_for_every_half_second_even_when_nobody_new_comes():
    from hotcli.pose2d.tracking import PeopleFinder

    net = WhitePeople()
    finder = PeopleFinder(net, Pose2DOptions(), fps=10.0)
    searches = []
    for n in range(30):  # 100 px tall in a 720 px frame: small, found again by searches
        calls = len(net.calls)
        finder(frame_with([(400, 300, 440, 400)]))
        if (720, 1280) in net.calls[calls:]:
            searches.append(n)
    assert searches == [0, 5, 10, 15, 20, 25]


def test_a_search_that_finds_someone_new_brings_the_next_one_back_to_half_a_second():
    from hotcli.pose2d.tracking import PeopleFinder

    net = WhitePeople()
    finder = PeopleFinder(net, Pose2DOptions(), fps=10.0)
    first, second = (100, 60, 400, 660), (800, 60, 1100, 660)
    searches = []
    for n in range(40):  # the second person walks in at frame 8
        calls = len(net.calls)
        finder(frame_with([first, second] if n >= 8 else [first]))
        if (720, 1280) in net.calls[calls:]:
            searches.append(n)
    # nobody new at 5: the next at 15, which finds the second person; then 20, 30
    assert searches == [0, 5, 15, 20, 30]


class SideBySide(WhitePeople):
    """The stand-in network, able to run two images side by side: :meth:`submit` starts one
    and returns its answer to wait for; ``log`` says in which order frames' images were
    started and their answers read."""

    streams = 2

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.background = 0  # images started by submit

    def submit(self, image: np.ndarray, imgsz: int):
        self.background += 1
        dets = self(image, imgsz)
        self.log.append("start")

        def result() -> Detections:
            self.log.append("read")
            return dets

        return result


def walking(n: int) -> np.ndarray:
    """Frame n of a large person walking right, 4 px a frame."""
    return frame_with([(400 + 4 * n, 60, 700 + 4 * n, 660)])


@pytest.mark.parametrize(
    ("streams", "fps", "depth"),
    [(1, 25.0, 1), (2, 10.0, 1), (2, 16.0, 1), (2, 20.0, 2), (2, 25.0, 3), (2, None, 3),
     (2, 60.0, 3), (4, 60.0, 5)],
)  # fmt: skip
def test_frames_in_flight_are_one_more_than_the_streams_within_the_crop_lag(streams, fps, depth):
    from hotcli.pose2d.tracking import CROP_LAG_SECONDS, frames_in_flight

    assert frames_in_flight(streams, fps) == depth
    assert depth == 1 or depth / (fps or 25.0) <= CROP_LAG_SECONDS


def test_at_25_fps_two_frames_are_started_before_the_one_before_them_is_finished():
    from hotcli.pose2d.tracking import PeopleFinder

    net = SideBySide()
    finder = PeopleFinder(net, Pose2DOptions(), fps=25.0)
    assert finder.depth == 3
    assert finder.push(walking(0)) == []  # in flight
    # nobody followed yet: frame 0 is finished once frame 1 is started beside it
    assert len(finder.push(walking(1))) == 1
    assert finder.push(walking(2)) == []  # the dancer is followed: three in flight
    assert len(finder.push(walking(3))) == 1  # frame 1, finished once frame 3 was started
    assert net.log == ["start", "start", "read", "start", "start", "read"]
    people = [finder.push(walking(n)) for n in range(4, 30)]
    assert all(len(done) == 1 and len(done[0]) == 1 for done in people)
    assert [len(people) for people in finder.flush()] == [1, 1]  # frames 28 and 29
    assert finder.flush() == [] and net.background == len(net.calls) == 30


def test_with_frames_in_flight_the_crops_follow_a_walking_person_and_searches_keep_time():
    from hotcli.pose2d.tracking import PeopleFinder

    net = SideBySide()
    finder = PeopleFinder(net, Pose2DOptions(), fps=25.0)
    found = list(finder.run(walking(n) for n in range(40)))
    assert len(found) == 40 and all(len(people) == 1 for people in found[1:])
    boxes = np.array([next(iter(people.values()))[2] for people in found[1:]])
    assert np.allclose(boxes[:, 0], 400 + 4 * np.arange(1, 40))  # crops never cut them
    # frame 1 is started before frame 0 is finished, so with nobody followed yet it is a
    # search too, but not frame 2 (no more searches in flight than streams); then the
    # schedule is the one of a frame at a time (half a second, then 1 s)
    searches = [i for i, shape in enumerate(net.calls) if shape == (720, 1280)]
    assert searches == [0, 1, 12, 37]


@pytest.mark.parametrize(("fps", "streams"), [(10.0, 2), (25.0, 1)])
def test_a_frame_at_a_time_at_10_fps_or_without_streams(fps, streams):
    from hotcli.pose2d.tracking import PeopleFinder

    net = SideBySide()
    net.streams = streams
    finder = PeopleFinder(net, Pose2DOptions(), fps=fps)
    assert finder.depth == 1
    assert len(finder.push(walking(0))) == 1 and finder.flush() == []
    for n in range(1, 5):  # one person: a lone crop, on all the threads
        finder.push(walking(n))
    assert net.background == 0


@pytest.mark.parametrize("fps", [10.0, 25.0])
def test_several_people_go_a_frame_at_a_time_their_crops_side_by_side(fps):
    from hotcli.pose2d.tracking import PeopleFinder

    net = SideBySide()
    finder = PeopleFinder(net, Pose2DOptions(crop_size=256), fps=fps)
    people = [(100, 300, 140, 400), (600, 300, 640, 400)]  # small: crops magnify them
    for _ in range(4):
        found = finder.push(frame_with(people))
    assert len(found) == 1 and len(found[0]) == 2  # this frame's, finished at once
    assert net.calls[-2:] == [net.calls[-1]] * 2 and net.calls[-1] != (720, 1280)
    assert net.log[-4:] == ["start", "start", "read", "read"]  # both started, then read


def test_with_frames_in_flight_someone_new_is_followed_from_the_frame_after_the_search():
    from hotcli.pose2d.tracking import PeopleFinder

    net = SideBySide()
    finder = PeopleFinder(net, Pose2DOptions(), fps=25.0)
    newcomer = (900, 60, 1200, 660)
    frames = [frame_with([(100, 60, 400, 660)] + ([newcomer] if n >= 5 else [])) for n in range(20)]
    found = list(finder.run(frames))
    # the search at frame 12 finds them; frames 13 and 14, started before that search was
    # finished, crop them too once it is, so the new track is confirmed there (not dropped
    # until the next search)
    assert [len(people) for people in found[12:]] == [1] + [2] * 7
