"""Following people by optical flow (app.flow_follow): the flow on a real frame moved by a known amount, the
rules that turn it into a person, and the tracker matching on where flow put someone. The real case, the
cam03 man the landmark model gives up for the woman, is in test_video."""

from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from app.flow_follow import FlowStep, flow_step, follow_points, followed_person  # noqa: E402
from app.tracking import Tracker  # noqa: E402
from app.video_io import iter_frames  # noqa: E402
from detector_adapters.base import DetectedPerson  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pose2sim_cam01.mp4"
SHIFT = np.array([3.0, -2.0])  # px: right and up


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    """The bundled clip's first frame, (1920, 1088, 3) RGB: people walking in a gym."""
    return next(iter_frames(EXAMPLE))[2]


def moved_by(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The image translated by shift (2,) px (sub-pixel, bilinear)."""
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    return cv2.warpAffine(image, matrix, image.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_flow_follows_a_known_motion_and_lets_go_of_what_changed(frame):
    gray = cv2.cvtColor(frame[600:1400, 100:900], cv2.COLOR_RGB2GRAY)  # (800, 800): people and the floor
    corners = cv2.goodFeaturesToTrack(gray, 60, 0.01, 20).reshape(-1, 2)  # textured points, as joints are
    corners = corners[np.all((corners > 60) & (corners < 740), axis=1)]
    current = moved_by(gray, SHIFT)
    current[:, :400] = np.random.default_rng(0).integers(0, 256, (800, 400), dtype=np.uint8)  # nothing to follow
    changed, kept = corners[:, 0] < 360, corners[:, 0] > 440  # a window's width away from the edge of the noise
    moved, followed = follow_points(gray, current, corners)
    assert not followed[changed].any() and followed[kept].mean() >= 0.9
    good = followed & kept
    np.testing.assert_allclose(moved[good] - corners[good], np.tile(SHIFT, (good.sum(), 1)), atol=0.25)


def person(keypoints: np.ndarray, scores: np.ndarray) -> DetectedPerson:
    box = np.concatenate([keypoints.min(0), keypoints.max(0)])
    return DetectedPerson(keypoints, scores, box, "coco17", world_keypoints=np.ones((17, 3)), score=0.9)


def test_flow_step_carries_the_joints_the_last_detection_saw(frame):
    rng = np.random.default_rng(1)
    keypoints = np.column_stack([rng.uniform(300, 700, 17), rng.uniform(700, 1300, 17)])
    detected = np.where(np.arange(17) < 13, 0.9, 0.1)  # the last four were not seen
    step = flow_step(person(keypoints, detected), frame, moved_by(frame, SHIFT), detected)
    assert step is not None and not step.followed[13:].any()
    np.testing.assert_allclose(step.moved[13:], keypoints[13:])  # not carried: where they were
    np.testing.assert_allclose(step.shift, SHIFT, atol=0.25)
    assert step.image_size == (1088, 1920)


def test_a_followed_person_has_flow_joints_body_motion_for_the_rest_and_no_person_score():
    keypoints = np.arange(34, dtype=np.float64).reshape(17, 2) + 100
    last = person(keypoints, np.full(17, 0.8))
    followed = np.arange(17) < 10  # 10 of the 17 joints the detection saw
    moved = keypoints + [5.0, 1.0]
    moved[3] += [2.0, -2.0]  # a limb swinging on its own
    step = FlowStep(moved, followed, np.array([5.0, 1.0]), (640, 480))
    carried = followed_person(last, step, last.scores)
    np.testing.assert_allclose(carried.keypoints[:10], moved[:10])
    np.testing.assert_allclose(carried.keypoints[10:], keypoints[10:] + [5.0, 1.0])  # with the body
    np.testing.assert_array_equal(carried.scores, np.where(followed, 0.8, 0.0))
    np.testing.assert_allclose(carried.bbox, last.bbox + [5.0, 1.0, 5.0, 1.0])
    assert carried.score is None and carried.world_keypoints is last.world_keypoints
    too_few = FlowStep(moved, np.arange(17) < 8, np.array([5.0, 1.0]), (640, 480))
    assert followed_person(last, too_few, last.scores) is None  # 8 of 17: under half


def test_the_tracker_matches_on_where_flow_put_a_person():
    """A person walking right stops: the constant-velocity guess expects them further on, where someone
    else now stands; flow says they stayed."""
    skeleton = np.column_stack([np.linspace(0, 40, 17), np.linspace(0, 160, 17)])  # (17, 2), 40 x 160 px

    def detection(x: float) -> tuple[np.ndarray, np.ndarray]:
        points = skeleton + [x, 100.0]
        return np.concatenate([points.min(0), points.max(0)]), points

    def run(followed: bool) -> int:
        tracker = Tracker(fps=30.0)
        for x in (100.0, 120.0, 140.0, 160.0):  # 20 px per frame
            box, points = detection(x)
            [walker] = tracker.update(box[None], points[None], np.ones((1, 17)))
        boxes, points = zip(detection(160.0), detection(185.0))  # stopped; another person where expected
        flow = {walker: (detection(160.0)[1], np.ones(17, bool))} if followed else None
        ids = tracker.update(np.stack(boxes), np.stack(points), np.ones((2, 17)), flow)
        return ids.index(walker)

    assert run(followed=False) == 1 and run(followed=True) == 0
