"""app.tracking: ids stay with people through crossings and short occlusions; new people get new ids.

Synthetic walkers (the Human3.6M front template with swinging limbs, moving at walking speed)
for the hand-made cases, and real Human3.6M motion (two subjects' ground-truth 2D overlaid in one
camera) for a case nobody designed.
"""

import copy

import numpy as np
import pytest

from app.track_labels import score_ids
from app.tracking import MIN_CONFIRM_HITS, Tracker, overlap_of_smaller
from lifter.camera import camera_to_pixels, world_to_camera
from lifter.data import POSES_FILE, load_cameras
from lifter.errors import SvmacError
from lifter.priors import FRONT_TEMPLATE_MM

FPS = 30.0
LEGS = [2, 3, 5, 6]  # knees and feet
ARMS = [12, 13, 15, 16]  # elbows and wrists


def walker(frames: int, start_x_m: float, speed_m_s: float, px_per_m: float = 200.0, phase: float = 0.0,
           floor_y_m: float = 3.0) -> np.ndarray:  # fmt: skip
    """(frames, 17, 2) pixels of a person walking sideways: the root moves at speed_m_s, legs and
    arms swing at a 1 Hz stride (opposite sides in opposite phase)."""
    times = np.arange(frames) / FPS
    swing = 0.15 * np.sin(2 * np.pi * times + phase)  # (F,) metres
    pose = np.broadcast_to(FRONT_TEMPLATE_MM / 1000.0, (frames, 17, 2)).copy()  # (F, 17, 2) metres
    pose[:, LEGS[:2], 0] += swing[:, None]
    pose[:, LEGS[2:], 0] -= swing[:, None]
    pose[:, ARMS[:2], 0] -= swing[:, None]
    pose[:, ARMS[2:], 0] += swing[:, None]
    pose[..., 0] += (start_x_m + speed_m_s * times)[:, None]
    pose[..., 1] += floor_y_m - 0.73
    return pose * px_per_m


def detection(keypoints: np.ndarray, rng: np.random.Generator, noise: float = 0.005):
    """A detector's view of one person: joints with noise of `noise` times the person's height
    (a detector's error grows with the person's size in the picture), their box with a margin,
    scores."""
    height = np.ptp(keypoints[:, 1])
    noisy = keypoints + rng.normal(0, noise * height, keypoints.shape)
    low, high = noisy.min(0), noisy.max(0)
    margin = 0.1 * (high - low)
    return np.concatenate([low - margin, high + margin]), noisy, rng.uniform(0.6, 1.0, 17)


def run_tracker(tracker: Tracker, people: list[np.ndarray], present: np.ndarray, seed: int = 0) -> np.ndarray:
    """people: P arrays (F, 17, 2); present (F, P) bool. Detections come in a random order each
    frame. Returns ids (F, P), -1 where a person was not detected."""
    rng = np.random.default_rng(seed)
    frames, count = present.shape
    ids = np.full((frames, count), -1)
    for t in range(frames):
        shown = rng.permutation(np.flatnonzero(present[t]))
        found = [detection(people[p][t], rng) for p in shown]
        boxes = np.array([f[0] for f in found]).reshape(-1, 4)
        keypoints = np.array([f[1] for f in found]).reshape(-1, 17, 2)
        scores = np.array([f[2] for f in found]).reshape(-1, 17)
        for person, track_id in zip(shown, tracker.update(boxes, keypoints, scores)):
            ids[t, person] = track_id
    return ids


def id_switches(ids: np.ndarray) -> int:
    """How often one person's id changes between the frames where it is detected. ids (F,)"""
    seen = ids[ids >= 0]
    return int(np.count_nonzero(np.diff(seen)))


def kept_fraction(ids: np.ndarray) -> float:
    """Share of a person's detected frames that carry its most common id. ids (F,)"""
    seen = ids[ids >= 0]
    return float(np.bincount(seen).max() / len(seen))


def test_id_switch_counting_sees_a_swap():
    ids = np.array([[0, 1], [0, 1], [-1, 1], [1, 0], [1, 0]])  # the two swap at frame 3
    assert [id_switches(ids[:, p]) for p in range(2)] == [1, 1]
    assert kept_fraction(ids[:, 1]) == pytest.approx(3 / 5)


@pytest.mark.parametrize("px_per_m", [40.0, 200.0, 900.0])  # a 70 px to a 1600 px tall person
def test_two_people_walking_through_each_other_keep_their_ids(px_per_m):
    frames = 120
    # Same size, same gait phase: when they overlap the two skeletons are identical, and only the
    # motion says who is who afterwards.
    people = [walker(frames, 0.5, 1.3, px_per_m), walker(frames, 5.5, -1.3, px_per_m)]
    crossing = np.argmin(np.abs(people[0][:, 0, 0] - people[1][:, 0, 0]))
    assert 40 < crossing < 80
    ids = run_tracker(Tracker(FPS), people, np.ones((frames, 2), bool))
    assert [id_switches(ids[:, p]) for p in range(2)] == [0, 0]
    assert set(ids[0]) == {0, 1}


def test_crossing_with_the_farther_person_hidden():
    frames = 120
    people = [walker(frames, 0.5, 1.3), walker(frames, 5.5, -1.1, phase=1.0)]
    present = np.ones((frames, 2), bool)
    overlap = np.abs(people[0][:, 0, 0] - people[1][:, 0, 0]) < 0.5 * 200  # within half a metre
    present[overlap, 1] = False  # behind the other one
    assert 4 <= overlap.sum() <= FPS * 0.5  # an occlusion shorter than max_missing_s
    ids = run_tracker(Tracker(FPS), people, present)
    assert [id_switches(ids[:, p]) for p in range(2)] == [0, 0]
    assert ids[0, 0] != ids[-1, 1]


def test_short_occlusion_keeps_the_id_long_one_and_newcomers_get_new_ids():
    frames = 150
    people = [walker(frames, 0.5, 1.0), walker(frames, -1.5, 0.0)]  # the newcomer stays out of the way
    present = np.ones((frames, 2), bool)
    present[30:40, 0] = False  # 0.33 s behind something: same person, same id
    present[80:120, 0] = False  # 1.33 s away: the track ended, a new id
    present[:60, 1] = False  # the second person walks in at frame 60
    ids = run_tracker(Tracker(FPS, max_missing_s=0.5), people, present)
    assert (ids[:30, 0] == 0).all() and (ids[40:80, 0] == 0).all()
    assert (ids[60:, 1] == 1).all()
    assert (ids[120:, 0] == 2).all()  # ids are never reused


def test_a_jump_across_the_frame_is_not_the_same_person():
    frames = 20
    person = walker(frames, 0.5, 1.0)
    person[10:, ..., 0] += 3 * 200  # three metres in one frame
    ids = run_tracker(Tracker(FPS), [person], np.ones((frames, 1), bool))
    assert (ids[:10, 0] == 0).all() and (ids[10:, 0] == 1).all()


def test_predicted_boxes_follow_constant_velocity():
    tracker = Tracker(FPS, max_missing_s=0.1)  # 3 frames
    keypoints = walker(1, 1.0, 0.0)[0]
    box = np.array([100.0, 50.0, 300.0, 450.0])
    scores = np.ones((1, 17))
    for t in range(4):
        shift = np.array([6.0, 0.0, 6.0, 0.0]) * t
        assert tracker.update(box[None] + shift, keypoints[None] + [6.0 * t, 0.0], scores) == [0]
    np.testing.assert_allclose(tracker.predicted_boxes()[0], box + [24, 0, 24, 0])
    for missed in range(1, 4):
        assert tracker.update(np.zeros((0, 4)), np.zeros((0, 17, 2)), np.zeros((0, 17))) == []
        np.testing.assert_allclose(tracker.predicted_boxes()[0], box + 6 * (3 + missed + 1) * np.array([1, 0, 1, 0]))
    tracker.update(np.zeros((0, 4)), np.zeros((0, 17, 2)), np.zeros((0, 17)))
    assert tracker.predicted_boxes() == {}


def test_overlap_of_smaller_is_the_share_of_the_smaller_box_covered():
    big, small = np.array([0.0, 0.0, 100.0, 200.0]), np.array([50.0, 100.0, 90.0, 300.0])  # areas 20000, 8000
    assert overlap_of_smaller(big, small) == pytest.approx(40 * 100 / 8000)  # half of the small box inside
    assert overlap_of_smaller(small, big) == overlap_of_smaller(big, small)
    assert overlap_of_smaller(big, big + 150) == 0.0 and overlap_of_smaller(big, np.zeros(4)) == 0.0


def test_a_person_lost_over_someone_seen_is_hidden_one_lost_alone_is_not():
    """hidden_tracks: who to search for again (a video detector follows only the people it sees)."""
    tracker = Tracker(FPS, max_missing_s=0.1)  # 3 frames
    front, behind, alone = walker(1, 1.0, 0.0)[0], walker(1, 1.2, 0.0)[0], walker(1, 4.0, 0.0)[0]
    people = [(p, np.concatenate([p.min(0), p.max(0)])) for p in (front, behind, alone)]  # (keypoints, box)
    scores = np.ones((3, 17))
    assert overlap_of_smaller(people[0][1], people[1][1]) >= 0.5 > overlap_of_smaller(people[0][1], people[2][1])
    for seen in range(1, MIN_CONFIRM_HITS + 1):  # 0.1 s at 30 fps: 3 frames
        assert tracker.update(np.stack([b for _, b in people]), np.stack([k for k, _ in people]), scores) == [0, 1, 2]
        assert tracker.hidden_tracks() == []  # everyone seen
        if seen == 1:  # a track seen on one frame only is a possible blip: not searched for
            tracker_of_a_blip = copy.deepcopy(tracker)
            tracker_of_a_blip.update(people[0][1][None], front[None], scores[:1])
            assert tracker_of_a_blip.hidden_tracks() == []
            # and ends on the first frame it misses, where a confirmed one would live on
            assert [t.track_id for t in tracker_of_a_blip.live_tracks(tracker_of_a_blip.frame + 1)] == [0]
    tracker.update(people[0][1][None], front[None], scores[:1])  # only the front person found
    assert [t.track_id for t in tracker.seen_tracks()] == [0]
    assert [t.track_id for t in tracker.hidden_tracks()] == [1]  # lost where 0 is; 2 lost alone
    for _ in range(3):  # hidden as long as the track lives (3 frames missed)
        assert [t.track_id for t in tracker.hidden_tracks()] == [1]
        tracker.update(people[0][1][None], front[None], scores[:1])
    assert tracker.hidden_tracks() == []
    both = tracker.update(np.stack([people[0][1], people[1][1]]), np.stack([front, behind]), scores[:2])
    assert both == [0, 3]  # found again too late: a new id


def test_labelled_people_are_paired_one_to_one_with_skeletons():
    """score_ids: two labelled people 150 px apart and one skeleton between them, nearer the first:
    only the first gets it (the second is not found), and ids and switches are counted per person."""
    labels = {"frames": [0, 3], "people": {"a": [[100, 500], [100, 500]], "b": [[250, 500], [250, 500]]}}

    def skeleton(centre_x: float) -> list:
        return np.tile([centre_x, 500.0], (17, 1)).tolist()

    frames = [
        [{"id": 7, "keypoints_2d": skeleton(100)}, {"id": 8, "keypoints_2d": skeleton(250)}],
        [{"id": 7, "keypoints_2d": skeleton(160)}],  # between the two, nearer a
        [{"id": 9, "keypoints_2d": skeleton(105)}, {"id": 8, "keypoints_2d": skeleton(900)}],  # 8 is nobody's
        [{"id": 7, "keypoints_2d": skeleton(100)}, {"id": 8, "keypoints_2d": skeleton(250)}],
    ]
    record = {"frames": [{"index": i, "people": people} for i, people in enumerate(frames)]}
    scores = score_ids(record, labels, radius_px=200)
    assert scores["a"].ids == [7, 7, 9, 7] and scores["a"].switches == 2 and scores["a"].main_share == 0.75
    assert scores["b"].ids == [8, None, None, 8] and scores["b"].switches == 0 and scores["b"].main_share == 0.5
    assert score_ids(record, labels, radius_px=40)["a"].ids == [7, None, 9, 7]


def test_bad_arguments():
    with pytest.raises(SvmacError):
        Tracker(0.0)
    with pytest.raises(SvmacError):
        Tracker(30.0, max_missing_s=-1)
    with pytest.raises(ValueError):
        Tracker(30.0).update(np.zeros((2, 4)), np.zeros((1, 17, 2)), np.zeros((1, 17)))


def test_two_human36m_walkers_overlaid_keep_their_ids(data_dir):
    """Real motion: S9's and S11's ground-truth walking, projected through camera 54138969 of
    each, in one 1000x1000 picture at 25 fps. They walk the same loop around the room, so they
    pass each other; when their boxes overlap, the one farther from the camera is hidden."""
    camera = "54138969"
    cameras = load_cameras(data_dir)
    people, depths = [], []
    with np.load(data_dir / POSES_FILE) as poses:
        for subject, start in (("S9", 0), ("S11", 500)):  # S11 10 s later, else they walk side by side
            world = poses[f"{subject}/Walking 1"][start : start + 1000 : 2].astype(np.float64)  # (500, 17, 3) at 25 fps
            camera_frame = world_to_camera(world, cameras[(subject, camera)])
            people.append(camera_to_pixels(camera_frame, cameras[(subject, camera)]))
            depths.append(camera_frame[:, 0, 2])
    frames = len(people[0])
    boxes = [np.concatenate([p.min(1), p.max(1)], -1) for p in people]  # (F, 4) each
    low, high = np.maximum(boxes[0][:, :2], boxes[1][:, :2]), np.minimum(boxes[0][:, 2:], boxes[1][:, 2:])
    intersection = np.prod(np.clip(high - low, 0, None), -1)
    area = [np.prod(b[:, 2:] - b[:, :2], -1) for b in boxes]
    overlapping = intersection / np.minimum(*area) > 0.5
    present = np.ones((frames, 2), bool)
    present[overlapping, np.where(depths[0] > depths[1], 0, 1)[overlapping]] = False
    assert overlapping.sum() >= 5  # they do meet

    ids = run_tracker(Tracker(25.0), people, present)
    kept = [kept_fraction(ids[:, p]) for p in range(2)]
    assert min(kept) >= 0.9, kept
    assert np.bincount(ids[:, 0][ids[:, 0] >= 0]).argmax() != np.bincount(ids[:, 1][ids[:, 1] >= 0]).argmax()
