"""The default detector on real photos: the packaged one always, the shared fixtures when SVMAC_DATA is set."""

import numpy as np
import pytest

pytest.importorskip("mediapipe")

from detector_adapters.base import box_iou as iou  # noqa: E402
from detector_adapters.image_io import load_image  # noqa: E402
from detector_adapters.mediapipe_adapter import MediaPipeDetector  # noqa: E402

NOSE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP = 0, 11, 12, 23


@pytest.fixture(scope="module")
def detector():
    detector = MediaPipeDetector()
    yield detector
    detector.close()


def visible_inside(person, image, min_score=0.5, border=0.0) -> np.ndarray:
    """Whether each joint MediaPipe calls visible lies in the image grown by border (a fraction of its size)."""
    height, width = image.shape[:2]
    visible = person.keypoints[person.scores > min_score]
    low, high = -border * np.array([width, height]), (1 + border) * np.array([width, height])
    return ((visible >= low) & (visible <= high)).all(-1)


def test_finds_the_person_in_a_packaged_photo(detector, packaged_photo):
    image = load_image(packaged_photo)
    people = detector.detect(image)
    assert len(people) == 1
    person = people[0]
    assert person.keypoint_format == "mediapipe33"
    assert person.keypoints.shape == (33, 2) and person.scores.shape == (33,)
    assert person.world_keypoints.shape == (33, 3) and np.isfinite(person.world_keypoints).all()
    # MediaPipe may call a joint just past the frame visible (her elbows, cut off by the bottom edge).
    assert visible_inside(person, image, border=0.15).all()
    assert visible_inside(person, image).mean() > 0.9
    assert 0.5 <= person.score <= 1.0  # the person detector's
    assert person.scores[[NOSE, LEFT_SHOULDER, RIGHT_SHOULDER]].min() > 0.9
    # She faces the camera: her left shoulder is on the right of the picture, below her nose.
    assert person.keypoints[LEFT_SHOULDER, 0] > person.keypoints[NOSE, 0] > person.keypoints[RIGHT_SHOULDER, 0]
    assert person.keypoints[LEFT_SHOULDER, 1] > person.keypoints[NOSE, 1]
    x0, y0, x1, y1 = person.bbox
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 600


def test_no_person_is_an_empty_list(detector):
    assert detector.detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_small_photos_answer_in_their_own_pixels(detector, packaged_photo):
    image = load_image(packaged_photo)
    small = image[::4, ::4].copy()  # 150 x 128 px
    [full] = detector.detect(image)
    [reduced] = detector.detect(small)
    shoulders = [LEFT_SHOULDER, RIGHT_SHOULDER]
    np.testing.assert_allclose(
        reduced.keypoints[shoulders] * 4, full.keypoints[shoulders], atol=20
    )  # 5 px in the small image


def test_rejects_a_non_rgb_array(detector):
    with pytest.raises(ValueError, match="uint8 RGB"):
        detector.detect(np.zeros((10, 10), np.uint8))


def fixture_photos(root):
    return sorted((root / "fixtures").rglob("*.jpg")) + sorted((root / "lsp" / "images").glob("*.jpg"))


def test_finds_people_in_the_fixture_photos(detector, data_dir):
    photos = fixture_photos(data_dir)
    assert len(photos) >= 50
    found = 0
    for path in photos:
        image = load_image(path)
        people = detector.detect(image)
        if people:
            found += 1
            # Visible joints lie in the photo; MediaPipe also calls a joint just past the frame
            # visible (a knee cut off by the bottom edge), so allow a 10 % border.
            visible = people[0].keypoints[people[0].scores > 0.5]
            height, width = image.shape[:2]
            inside = (visible >= 0).all(-1) & (visible[:, 0] <= width) & (visible[:, 1] <= height)
            assert inside.mean() >= 0.8
            assert (np.abs(visible - [width / 2, height / 2]) <= [0.6 * width, 0.6 * height]).all()
    # Every photo shows a person; MediaPipe misses a few of the small LSP sports photos.
    assert found >= 0.85 * len(photos), f"found people in {found} of {len(photos)} photos"


def test_max_people_must_be_positive():
    with pytest.raises(ValueError, match="max_people"):
        MediaPipeDetector(max_people=0)


def test_an_upside_down_photo_gives_the_same_joints(detector, packaged_photo):
    """The turned views find her upside down, and the joints land where the upright photo has them."""
    image = load_image(packaged_photo)
    height, width = image.shape[:2]
    [upright] = detector.detect(image)
    upside_down = detector.detect(np.ascontiguousarray(image[::-1, ::-1]))
    assert len(upside_down) == 1
    back = np.array([width, height]) - upside_down[0].keypoints  # (33, 2) in the upright photo's pixels
    face_and_shoulders = [NOSE, LEFT_SHOULDER, RIGHT_SHOULDER]
    np.testing.assert_allclose(back[face_and_shoulders], upright.keypoints[face_and_shoulders], atol=25)


def test_a_photo_is_looked_at_upright_first_and_thorough_turns_it_always(detector, packaged_photo, monkeypatch):
    """The default runs the person detector once on an upright photo where it finds someone (no tiles on a
    512x600 photo); thorough adds the three quarter turns, and both give her the same joints."""
    image = load_image(packaged_photo)
    thorough = MediaPipeDetector(thorough=True)
    turns_looked_at, people = {}, {}
    try:
        for name, which in (("default", detector), ("thorough", thorough)):
            log, in_view = turns_looked_at.setdefault(name, []), which._people._in_view
            # _in_view(view, x0, y0, turns, ...): one call per run of the person detector
            monkeypatch.setattr(which._people, "_in_view", lambda *a, log=log, f=in_view: log.append(a[3]) or f(*a))
            [people[name]] = which.detect(image)
    finally:
        thorough.close()
    # The views run side by side: in any order.
    assert {name: sorted(log) for name, log in turns_looked_at.items()} == {"default": [0], "thorough": [0, 1, 2, 3]}
    face_and_shoulders = [NOSE, LEFT_SHOULDER, RIGHT_SHOULDER]
    # The same joints within 25 px (her shoulders are 350 px apart): thorough may start from a turned view.
    np.testing.assert_allclose(
        people["default"].keypoints[face_and_shoulders], people["thorough"].keypoints[face_and_shoulders], atol=25
    )


def test_second_look_score_cannot_be_above_the_first_looks():
    with pytest.raises(ValueError, match="second_look_score"):
        MediaPipeDetector(min_detection_confidence=0.5, second_look_score=0.6)


# LSP athletes the upright views miss (checked by eye: a cartwheel, a gymnast upside down on the bars,
# and a small diver): the second look finds each where the annotation puts them.
NOBODY_UPRIGHT = ("im06721.jpg", "im07198.jpg", "im00414.jpg")


def median_error_in_torsos(person, annotated) -> float:
    """Median distance of the 17 H36M joints to the annotation's, in torso sizes (left shoulder to right hip)."""
    from detector_adapters.keypoint_mapping import to_h36m17
    from lifter.skeleton import JOINT_NAMES

    found, truth = to_h36m17(person)[0], to_h36m17(annotated)[0]
    torso = np.linalg.norm(truth[JOINT_NAMES.index("LShoulder")] - truth[JOINT_NAMES.index("RHip")])
    return float(np.median(np.linalg.norm(found - truth, axis=-1)) / torso)


def test_a_photo_where_nobody_is_found_upright_gets_a_second_look(detector, data_dir):
    """Real LSP photos: the upright views find nobody; the second look (every quarter turn, people the
    person detector scores >= 0.4) finds the athlete, joints near the annotation (measured medians
    0.14-0.19 torso sizes). The diver (im00414) needs the lower score: at 0.5 every view misses him."""
    from detector_adapters.ground_truth import read_lsp

    annotations = read_lsp(data_dir / "lsp" / "lsp_joints.npz")
    upright_only = MediaPipeDetector(turns=(), second_look_score=0.5)
    sure_only = MediaPipeDetector(thorough=True, second_look_score=0.5)
    try:
        for name in NOBODY_UPRIGHT:
            image = load_image(data_dir / "lsp" / "images" / name)
            assert upright_only.detect(image) == [], name
            [athlete] = detector.detect(image)
            assert median_error_in_torsos(athlete, annotations[name][0]) < 0.25, name
        assert sure_only.detect(load_image(data_dir / "lsp" / "images" / "im00414.jpg")) == []
    finally:
        upright_only.close()
        sure_only.close()


def test_nobody_in_a_box_of_an_empty_image_is_none(detector):
    image = np.full((480, 640, 3), 128, np.uint8)
    assert detector.detect_in_boxes(image, np.array([[100.0, 50.0, 300.0, 450.0]])) == [None]
    assert detector.detect_in_boxes(image, np.zeros((0, 4))) == []


def video_frames(data_dir, count: int) -> list[np.ndarray]:
    """The first frames of a real 1088x1920 clip with two people in full view (and one at the back)."""
    cv2 = pytest.importorskip("cv2")
    capture = cv2.VideoCapture(str(data_dir / "video" / "pose2sim_multiperson" / "cam01.mp4"))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        assert ok
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


# Cam01, frame 0, checked by eye: the woman in grey in front (lower right) and the bare-chested man
# on the walkway behind her (left), whole bodies; a woman far at the back (upper left), small.
WOMAN_IN_FRONT = np.array([515.0, 865.0, 945.0, 1720.0])
MAN = np.array([255.0, 410.0, 555.0, 1155.0])
WOMAN_AT_THE_BACK = np.array([15.0, 335.0, 120.0, 755.0])


def test_finds_every_person_of_a_video_frame_largest_first(detector, data_dir):
    [image] = video_frames(data_dir, 1)
    people = detector.detect(image)
    assert len(people) == 2
    areas = [np.prod(p.bbox[2:] - p.bbox[:2]) for p in people]
    assert areas == sorted(areas, reverse=True)
    assert iou(people[0].bbox, WOMAN_IN_FRONT) > 0.8 and iou(people[1].bbox, MAN) > 0.8
    assert iou(people[0].bbox, people[1].bbox) < 0.2  # two people, not one found twice
    for person in people:
        assert 0.5 <= person.score <= 1.0
        # Her head is above her hips, in her own box; her world landmarks are metric (hips ~0.2-0.4 m apart).
        assert person.keypoints[NOSE, 1] < person.keypoints[LEFT_HIP, 1]
        x0, y0, x1, y1 = person.bbox
        hips = person.keypoints[[LEFT_HIP, LEFT_HIP + 1]]
        assert ((hips >= [x0, y0]) & (hips <= [x1, y1])).all()
        assert 0.15 < np.linalg.norm(person.world_keypoints[LEFT_HIP] - person.world_keypoints[LEFT_HIP + 1]) < 0.45


def test_max_people_keeps_the_largest(data_dir):
    [image] = video_frames(data_dir, 1)
    single = MediaPipeDetector(max_people=1, turns=())
    try:
        [person] = single.detect(image)
    finally:
        single.close()
    assert iou(person.bbox, WOMAN_IN_FRONT) > 0.8


def test_finer_tiles_find_the_small_person_at_the_back(data_dir):
    [image] = video_frames(data_dir, 1)
    fine = MediaPipeDetector(tiles=2, turns=())
    try:
        people = fine.detect(image)
    finally:
        fine.close()
    for expected in (WOMAN_IN_FRONT, MAN, WOMAN_AT_THE_BACK):
        assert max(iou(p.bbox, expected) for p in people) > 0.7


def test_boxes_from_the_previous_frame_give_the_people_detect_finds(detector, data_dir):
    """What the video path does: the previous frame's boxes instead of the person detector."""
    frames = video_frames(data_dir, 4)
    previous = detector.detect(frames[2])
    now = detector.detect(frames[3])
    in_boxes = detector.detect_in_boxes(frames[3], np.array([p.bbox for p in previous]))
    assert len(in_boxes) == len(previous) == len(now) == 2
    for person, found in zip(now, in_boxes):  # the same order: both sorted by size, and nobody moved much
        assert found is not None and found.score > 0.9  # the landmark model's presence score
        diagonal = np.linalg.norm(person.bbox[2:] - person.bbox[:2])
        both = (person.scores > 0.5) & (found.scores > 0.5)
        assert both.sum() >= 20
        distance = np.linalg.norm(person.keypoints[both] - found.keypoints[both], axis=-1)
        assert np.median(distance) < 0.03 * diagonal


def test_a_video_detector_finds_the_woman_at_the_back_and_follows_everyone_with_one_pass(detector, data_dir):
    """for_video: frame 0's search (tiles 2) finds all three people; on the next frames each person is
    followed in the region the previous landmarks imply: one landmark run per person, joints where a
    thorough detect puts them."""
    frames = video_frames(data_dir, 3)
    video = detector.for_video()
    people = video.detect(frames[0])
    assert len(people) == 3
    for expected, person in zip((WOMAN_IN_FRONT, MAN, WOMAN_AT_THE_BACK), people):  # largest first
        assert iou(person.bbox, expected) > 0.7
    runs = []
    landmarks_in = video._landmarks_in
    video._landmarks_in = lambda image, region: runs.append(region) or landmarks_in(image, region)
    for frame in frames[1:]:
        runs.clear()
        followed = video.detect_in_boxes(frame, np.array([p.bbox for p in people]))
        assert len(runs) == 3 and all(person is not None for person in followed)
        people = followed
    runs.clear()  # a box where it followed nobody (someone lost earlier) waits for the next search
    assert video.detect_in_boxes(frames[2], np.array([[700.0, 0.0, 1000.0, 300.0]])) == [None] and runs == []
    thorough = detector.detect(frames[2])  # the woman in front and the man, refined regions
    for person, found in zip(thorough, people):
        diagonal = np.linalg.norm(person.bbox[2:] - person.bbox[:2])
        both = (person.scores > 0.5) & (found.scores > 0.5)
        assert both.sum() >= 20
        assert np.median(np.linalg.norm(person.keypoints[both] - found.keypoints[both], axis=-1)) < 0.03 * diagonal
    # The photo detector it came from keeps no memory: its boxes still start from the box alone.
    assert detector._followed is None


def test_a_video_detector_searches_finely_again_while_it_finds_someone_new(detector):
    """The first search is fine (tiles 2); after a fine search that found someone new the next one is
    fine too, after one that found nobody new the wait doubles, up to fine_search_every searches."""
    video = detector.for_video(fine_search_every=6)

    def fine_searches(count: int) -> list[bool]:
        return [video._search_views() is video._fine_people for _ in range(count)]

    assert fine_searches(1) == [True]
    video._schedule_fine_search(found_someone_new=True)
    assert fine_searches(1) == [True]
    for wait in (2, 4, 6, 6):
        video._schedule_fine_search(found_someone_new=False)
        assert fine_searches(wait) == [False] * (wait - 1) + [True]
    video._schedule_fine_search(found_someone_new=True)
    assert fine_searches(1) == [True]
    assert detector._search_views() is detector._people  # a photo detector: always its own views


def test_a_person_is_followed_back_through_earlier_frames(detector, data_dir):
    """follow_back: the people a video detector finds on frame 5, followed back through frames 4..0, are
    where the photo detector finds them on each; the video detector's memory of frame 5 is left alone;
    a box over nobody yields nobody, and no frame is looked at after the first loss."""
    frames = video_frames(data_dir, 6)
    video = detector.for_video()
    people = video.detect(frames[5])
    memory = list(video._followed)
    for person, expected in zip(people[:2], (WOMAN_IN_FRONT, MAN)):
        back = list(video.follow_back(frames[4::-1], person.bbox))
        assert len(back) == 5
        for frame, found in zip(frames[4::-1], back):
            photo = max(detector.detect(frame), key=lambda p: iou(p.bbox, found.bbox))
            assert iou(photo.bbox, found.bbox) > 0.8 and found.score > 0.9
        assert iou(back[-1].bbox, expected) > 0.7
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(video._followed, memory))
    looked = []
    nobody = video.follow_back((looked.append(i) or frame for i, frame in enumerate(frames[4::-1])), [700, 0, 1000, 300])
    assert list(nobody) == [] and looked == [0]


def test_a_video_detectors_search_skips_the_people_it_follows(detector, data_dir):
    """On a search frame the followed people are found where they were; the person detector's regions
    inside their boxes (a half body found again) get no landmark run."""
    frames = video_frames(data_dir, 2)
    video = detector.for_video()
    first = video.detect(frames[0])
    video._schedule_fine_search(found_someone_new=False)  # a coarse search next (fine ones see more people)
    runs = []
    landmarks_in = video._landmarks_in
    video._landmarks_in = lambda image, region: runs.append(region) or landmarks_in(image, region)
    second = video.detect(frames[1])
    assert len(second) == len(first) == 3
    assert len(runs) == 3  # one pass for each followed person, none for anyone new
    for a, b in zip(first, second):
        assert iou(a.bbox, b.bbox) > 0.8


def test_each_model_runs_on_the_threads_asked_for():
    from detector_adapters.mediapipe_graphs import default_inference_threads, solution
    from detector_adapters.person_detector import DETECTION_GRAPH

    graph = solution(DETECTION_GRAPH, outputs=["detections"], calculator_params={}, threads=3)
    try:
        assert [options.delegate.xnnpack.num_threads for options in graph.inference_options] == [3]
    finally:
        graph.close()
    assert 1 <= default_inference_threads() <= 4
    with pytest.raises(ValueError, match="threads"):
        solution(DETECTION_GRAPH, outputs=["detections"], threads=0)


def test_landmarks_do_not_depend_on_the_number_of_threads(packaged_photo, monkeypatch):
    from detector_adapters import mediapipe_graphs

    image = load_image(packaged_photo)
    found = {}
    for threads in (1, 2):
        monkeypatch.setattr(mediapipe_graphs, "default_inference_threads", lambda threads=threads: threads)
        detector = MediaPipeDetector()
        try:
            [found[threads]] = detector.detect(image)
        finally:
            detector.close()
    np.testing.assert_allclose(found[2].keypoints, found[1].keypoints, atol=0.05)  # px
    np.testing.assert_allclose(found[2].scores, found[1].scores, atol=1e-3)


def test_thread_count_is_set_where_a_node_keeps_its_options():
    """An inference node's options may sit in its proto2 options or packed in its proto3 node_options."""
    from mediapipe.calculators.tensor.inference_calculator_pb2 import InferenceCalculatorOptions
    from mediapipe.framework import calculator_pb2

    from detector_adapters.mediapipe_graphs import set_inference_threads

    proto2 = calculator_pb2.CalculatorGraphConfig.Node(calculator="InferenceCalculatorCpu")
    set_inference_threads(proto2, 3, InferenceCalculatorOptions)
    assert proto2.options.Extensions[InferenceCalculatorOptions.ext].delegate.xnnpack.num_threads == 3

    proto3 = calculator_pb2.CalculatorGraphConfig.Node(calculator="InferenceCalculatorCpu")
    proto3.node_options.add().Pack(InferenceCalculatorOptions(model_path="model.tflite"))
    set_inference_threads(proto3, 2, InferenceCalculatorOptions)
    [packed] = proto3.node_options
    unpacked = InferenceCalculatorOptions()
    assert packed.Unpack(unpacked)
    assert unpacked.delegate.xnnpack.num_threads == 2 and unpacked.model_path == "model.tflite"
    assert not proto3.HasField("options")  # not both: SolutionBase refuses to modify a node that has both
