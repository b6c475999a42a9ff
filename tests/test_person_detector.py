"""The person detector's geometry (views of the image mapped back, regions, merging) and its use on a real frame."""

import numpy as np
import pytest

from detector_adapters.base import box_area, box_iou
from detector_adapters.person_detector import (
    PersonRegion,
    group_by_person,
    region_from_box,
    region_from_keypoints,
    square_tiles,
    unturn,
)


def test_box_overlap_by_hand():
    a, b = np.array([0.0, 0.0, 4.0, 2.0]), np.array([2.0, 1.0, 6.0, 5.0])
    assert box_area(a) == 8.0 and box_area(np.array([3.0, 3.0, 1.0, 5.0])) == 0.0
    assert box_iou(a, b) == pytest.approx(2.0 / (8.0 + 16.0 - 2.0))  # they share a 2 x 1 corner
    assert box_iou(a, a) == 1.0 and box_iou(a, np.array([5.0, 5.0, 6.0, 6.0])) == 0.0


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_unturn_maps_each_pixel_of_a_turned_image_back_to_the_same_pixel(turns):
    rng = np.random.default_rng(turns)
    image = rng.integers(0, 255, (7, 11), dtype=np.uint8)  # height 7, width 11: not square on purpose
    turned = np.rot90(image, turns)
    rows, cols = np.mgrid[: turned.shape[0], : turned.shape[1]]
    centres = np.stack([cols + 0.5, rows + 0.5], axis=-1)  # (h', w', 2) pixel centres of the turned image
    back = unturn(centres, turns, width=11, height=7)
    x, y = np.floor(back[..., 0]).astype(int), np.floor(back[..., 1]).astype(int)
    np.testing.assert_array_equal(image[y, x], turned)


def test_regions_follow_mediapipes_alignment_rule():
    # Body point straight above the hips: upright, square of 2.5x their distance.
    upright = region_from_keypoints(np.array([100.0, 200.0]), np.array([100.0, 120.0]))
    assert upright.rotation == pytest.approx(0.0)
    assert upright.size == pytest.approx(200.0)
    np.testing.assert_allclose(upright.center, [100, 200])
    # Head to the right of the hips: the crop must turn a quarter to make the body upright.
    lying = region_from_keypoints(np.array([100.0, 200.0]), np.array([180.0, 200.0]))
    assert lying.rotation == pytest.approx(np.pi / 2)
    upside_down = region_from_keypoints(np.array([100.0, 200.0]), np.array([100.0, 280.0]))
    assert abs(upside_down.rotation) == pytest.approx(np.pi)


def test_region_from_box_is_an_upright_square_around_its_centre():
    region = region_from_box(np.array([10.0, 20.0, 50.0, 120.0]), scale=1.5)
    np.testing.assert_allclose(region.center, [30, 70])
    assert region.size == pytest.approx(150.0) and region.rotation == 0.0


def test_tiles_cover_a_portrait_frame_and_stay_inside_it():
    width, height = 1088, 1920
    for side in (1088, 544):
        tiles = square_tiles(width, height, side)
        covered = np.zeros((height, width), bool)
        for x0, y0, s in tiles:
            assert 0 <= x0 and 0 <= y0 and x0 + s <= width and y0 + s <= height
            covered[y0 : y0 + s, x0 : x0 + s] = True
        assert covered.all()
    assert len(square_tiles(width, height, 1088)) == 3
    assert square_tiles(640, 600, 600) == []  # nearly square: the whole image is the view


def face_region(x: float, y: float, size: float, score: float) -> PersonRegion:
    return PersonRegion(np.array([x, y + size / 3]), size, 0.0, score, np.array([x - 10, y - 10, x + 10, y + 10]))


def test_regions_are_grouped_by_person_best_first():
    first_view = [face_region(100, 100, 300, 0.7), face_region(400, 100, 300, 0.9)]
    second_view = [face_region(102, 101, 310, 0.8)]  # the first person again, found by another view
    third_view = [PersonRegion(np.array([105.0, 195.0]), 280.0, 0.1, 0.6, np.array([0.0, 0.0, 5.0, 5.0]))]
    groups = group_by_person(first_view + second_view + third_view)  # the third: same body, face elsewhere
    assert [[r.score for r in group] for group in groups] == [[0.9], [0.8, 0.7, 0.6]]


def first_frame(data_dir) -> np.ndarray:
    """Frame 0 of the real pose2sim clip cam01: (1920, 1088, 3) RGB, two people in full view."""
    cv2 = pytest.importorskip("cv2")
    capture = cv2.VideoCapture(str(data_dir / "video" / "pose2sim_multiperson" / "cam01.mp4"))
    ok, frame = capture.read()
    capture.release()
    assert ok
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def test_a_turned_image_finds_the_people_where_they_are(data_dir):
    """On a real 1088x1920 frame with two people in full view (cam01, frame 0 of the pose2sim clip):
    the tiles find both, and the same frame upside down, looked at turned, gives the same places."""
    pytest.importorskip("mediapipe")
    from detector_adapters.person_detector import PersonDetector

    image = first_frame(data_dir)
    height, width = image.shape[:2]
    detector = PersonDetector(turns=())
    turned = PersonDetector(tiles=0, turns=(2,))
    try:
        upright = [regions[0] for regions in detector.find(image)]
        upside_down = np.ascontiguousarray(image[::-1, ::-1])
        from_turn = [r for regions in turned.find(upside_down) for r in regions if abs(abs(r.rotation) - np.pi) < 0.5]
    finally:
        detector.close()
        turned.close()
    assert len(upright) == 2
    assert all(abs(r.rotation) < 0.5 for r in upright)  # both stand upright
    assert len(from_turn) >= 1  # the turned view sees upright people, whose crops must turn half way
    for region in from_turn:  # in the upside-down image's pixels: a half turn brings them back
        hips = np.array([width, height]) - region.center
        nearest = min(np.linalg.norm(hips - other.center) for other in upright)
        assert nearest < 0.1 * region.size


ROI_GRAPH = """
input_stream: "IMAGE:image"
output_stream: "DETECTIONS:detections"
output_stream: "ROI:roi"
node { calculator: "PoseDetectionCpu" input_stream: "IMAGE:image" output_stream: "DETECTIONS:detections" }
node {
  calculator: "SplitDetectionVectorCalculator"
  input_stream: "detections"
  output_stream: "detection"
  options { [mediapipe.SplitVectorCalculatorOptions.ext] { ranges { begin: 0 end: 1 } element_only: true } }
}
node { calculator: "ImagePropertiesCalculator" input_stream: "IMAGE_CPU:image" output_stream: "SIZE:size" }
node {
  calculator: "PoseDetectionToRoi"
  input_stream: "DETECTION:detection"
  input_stream: "IMAGE_SIZE:size"
  output_stream: "ROI:roi"
}
"""


@pytest.mark.parametrize("turns", [0, 1, 2])
def test_region_from_keypoints_is_mediapipes_own_region(packaged_photo, turns):
    """MediaPipe's PoseDetectionToRoi subgraph, run on a real detection, gives the same square."""
    pytest.importorskip("mediapipe")
    from detector_adapters.image_io import load_image
    from detector_adapters.mediapipe_graphs import solution

    image = np.ascontiguousarray(np.rot90(load_image(packaged_photo), turns))
    height, width = image.shape[:2]
    graph = solution(ROI_GRAPH, outputs=["detections", "roi"])
    try:
        result = graph.process({"image": image})
    finally:
        graph.close()
    hips, body_point = (np.array([[k.x, k.y] for k in result.detections[0].location_data.relative_keypoints[:2]])
                        * [width, height])  # fmt: skip
    ours = region_from_keypoints(hips, body_point)
    theirs = result.roi
    np.testing.assert_allclose(ours.center, [theirs.x_center * width, theirs.y_center * height], rtol=1e-5)
    assert ours.size == pytest.approx(theirs.width * width, rel=1e-5)
    assert ours.size == pytest.approx(theirs.height * height, rel=1e-5)
    assert np.cos(ours.rotation - theirs.rotation) == pytest.approx(1.0, abs=1e-6)


def test_find_near_a_box_gives_the_person_in_it(data_dir):
    """What detect_in_boxes falls back on: the person detector on a square around one box only."""
    pytest.importorskip("mediapipe")
    from detector_adapters.person_detector import PersonDetector

    image = first_frame(data_dir)
    man, wall = np.array([255.0, 410.0, 555.0, 1155.0]), np.array([700.0, 0.0, 1000.0, 300.0])  # checked by eye
    detector = PersonDetector(turns=())
    try:
        region = detector.find_near(image, man)
        on_the_wall = detector.find_near(image, wall)
    finally:
        detector.close()
    assert region is not None and region.score >= 0.5
    assert man[0] <= region.center[0] <= man[2] and man[1] <= region.center[1] <= man[3]
    assert 0.8 * (man[3] - man[1]) < region.size < 2.5 * (man[3] - man[1])  # the whole body with a margin
    assert on_the_wall is None


def test_other_views_share_the_model_and_keep_only_surer_people(data_dir):
    pytest.importorskip("mediapipe")
    from detector_adapters.person_detector import PersonDetector

    image = first_frame(data_dir)
    detector = PersonDetector(turns=())
    try:
        everyone = detector.with_views(tiles=2, turns=(), min_score=0.5).find(image)
        sure = detector.with_views(tiles=2, turns=(), min_score=0.8).find(image)
        with pytest.raises(ValueError, match="below"):
            detector.with_views(tiles=2, turns=(), min_score=0.3)
        assert detector.tiles == 1 and detector.min_score == 0.5  # the original keeps its views
    finally:
        detector.close()
    best = [regions[0].score for regions in everyone]
    assert len(everyone) > len(sure) >= 2  # tiles 2 find doubtful people (a floor mark, a half body)
    assert [regions[0].score for regions in sure] == [s for s in best if s >= 0.8]
    assert all(region.score >= 0.8 for regions in sure for region in regions)


def test_find_can_leave_out_the_quarter_turns(packaged_photo, monkeypatch):
    """turned=False runs the person detector on the upright view only, and finds there what the whole
    search finds upright (the turned views can only add regions)."""
    pytest.importorskip("mediapipe")
    from detector_adapters.image_io import load_image
    from detector_adapters.person_detector import PersonDetector

    image = load_image(packaged_photo)
    detector = PersonDetector(tiles=0, turns=(1, 2, 3))
    turns_looked_at, in_view = [], detector._in_view
    monkeypatch.setattr(detector, "_in_view", lambda *a: turns_looked_at.append(a[3]) or in_view(*a))
    try:
        [upright] = detector.find(image, turned=False)
        assert turns_looked_at == [0]
        [everywhere] = detector.find(image)
        assert sorted(turns_looked_at) == [0, 0, 1, 2, 3]  # the views run side by side, in any order
    finally:
        detector.close()
    assert len(upright) == 1 and len(everywhere) > 1  # she is found in turned views too
    same = [r for r in everywhere if np.allclose(r.center, upright[0].center) and r.size == upright[0].size]
    assert len(same) == 1 and same[0].score == upright[0].score


def test_views_side_by_side_find_what_they_find_one_after_another(packaged_photo, monkeypatch):
    """Several views run at once, each on a graph of its own: the same regions, in the same order, as one
    graph looking at them in turn; and the process's stderr is its own again afterwards (silencing it is
    a process-wide swap that the threads must not do themselves)."""
    pytest.importorskip("mediapipe")
    import os

    from detector_adapters import person_detector
    from detector_adapters.image_io import load_image

    image = load_image(packaged_photo)
    stderr_before = os.fstat(2)
    found = {}
    for workers in (1, 2):
        monkeypatch.setattr(person_detector, "default_inference_threads", lambda workers=workers: workers)
        detector = person_detector.PersonDetector(tiles=0, turns=(1, 2, 3))
        try:
            assert len(detector._graphs) == 1  # the others start when first needed
            found[workers] = detector.find(image)
            assert len(detector._graphs) == workers
        finally:
            detector.close()
    assert os.path.samestat(os.fstat(2), stderr_before)
    regions = {w: [(r.center.tolist(), r.size, r.rotation, r.score) for g in found[w] for r in g] for w in found}
    assert len(regions[1]) > 1 and regions[2] == regions[1]
