"""app.look_back: the bounded memory of recent frames, and following a person back through it."""

import numpy as np

from app.look_back import MAX_BYTES, RecentFrames, follow_back
from app.video import TrackRows, append_row, with_earlier_rows
from app.video_io import Frame
from detector_adapters.base import DetectedPerson


def frame(index: int, side: int = 8) -> Frame:
    return Frame(index, index / 30, np.zeros((side, side, 3), np.uint8))


def person_at(x0: float) -> DetectedPerson:
    keypoints = np.tile([x0 + 50.0, 300.0], (33, 1)) + np.linspace(-50, 50, 66).reshape(33, 2)  # (33, 2)
    return DetectedPerson(keypoints, np.ones(33), np.array([x0, 200.0, x0 + 100, 400.0]), "mediapipe33")


class Walking:
    """A person 10 px further left on each earlier frame; records the frames it was shown."""

    def __init__(self):
        self.shown = []

    def follow_back(self, images, box):
        for step, image in enumerate(images, start=1):
            self.shown.append(step)
            yield person_at(box[0] - 10 * step)


def test_recent_frames_keep_the_newest_within_the_frame_and_byte_limits():
    recent = RecentFrames(max_frames=3)
    for index in range(5):
        recent.add(frame(index), [])
    assert [kept.frame.index for kept in recent.before(10)] == [4, 3, 2]
    assert [kept.frame.index for kept in recent.before(4)] == [3, 2]
    side = int(np.sqrt(MAX_BYTES / 3 / 2.5)) + 1  # 2.5 such frames would fill the memory
    big = RecentFrames(max_frames=10)
    for index in range(5):
        big.add(frame(index, side), [])
    assert [kept.frame.index for kept in big.before(10)] == [4, 3]


def test_following_back_stops_where_someone_else_already_is():
    recent = RecentFrames(max_frames=10)
    for index in range(6):
        # frame 2 holds another person where the walker would be on it (x0 = 500 - 10 * 3 = 470)
        recent.add(frame(index), [np.array([465.0, 200.0, 565.0, 400.0])] if index == 2 else [])
    walker = Walking()
    found = follow_back(walker, recent, 5, np.array([500.0, 200.0, 600.0, 400.0]), duplicate_iou=0.6)
    assert [index for index, _ in found] == [3, 4]  # oldest first
    assert [p.bbox[0] for _, p in found] == [480.0, 490.0]
    assert walker.shown == [1, 2, 3]  # nothing looked at after the stop
    # what was found is recorded on its frames: a second walker there is a duplicate at once
    assert follow_back(Walking(), recent, 5, np.array([500.0, 200.0, 600.0, 400.0]), duplicate_iou=0.6) == []


def test_earlier_rows_go_in_front_of_the_track():
    from app.pipeline import prepare

    track = TrackRows()
    for index in (7, 8):
        append_row(track, index, prepare(person_at(500.0)))
    longer = with_earlier_rows(track, [(5, person_at(480.0)), (6, person_at(490.0))])
    assert longer.frames == [5, 6, 7, 8]
    assert [b[0] for b in longer.bbox] == [480.0, 490.0, 500.0, 500.0]
    assert all(len(getattr(longer, name)) == 4 for name in ("keypoints_2d", "scores", "imputed", "detector_keypoints"))
    assert with_earlier_rows(track, []) is track
