"""Following a person found late back through the frames just before.

The person detector searches a clip's frames only now and then (app.video), and scores a small or
half-hidden person low for a while before it finds them: the frames between their coming into view and
the search that found them would have nobody for them. Once their track is confirmed (no detector
blip), the landmark model follows them back through the last frames, still in memory, from where it
first saw them (MediaPipeDetector.follow_back). The frames kept are few and bounded in bytes, so memory
does not grow with the clip; a causal run (a live stream cannot redraw frames already shown) does not
look back.
"""

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from app.video_io import Frame
from detector_adapters.base import box_iou

# At most this much memory of decoded frames (a 1088x1920 frame is 6.3 MB, a 4K one 25 MB).
MAX_BYTES = 128 * 2**20


@dataclass
class KeptFrame:
    frame: Frame
    boxes: list[np.ndarray] = field(default_factory=list)  # (4,) each: the people placed on it so far


class RecentFrames:
    """The last decoded frames (at most max_frames and MAX_BYTES), with the boxes of the people on each."""

    def __init__(self, max_frames: int) -> None:
        self.max_frames = max_frames
        self._kept: deque[KeptFrame] = deque()

    def add(self, frame: Frame, boxes: list[np.ndarray]) -> None:
        self._kept.append(KeptFrame(frame, list(boxes)))
        room = max(1, min(self.max_frames, MAX_BYTES // max(frame.rgb.nbytes, 1)))
        while len(self._kept) > room:
            self._kept.popleft()

    def before(self, index: int) -> list[KeptFrame]:
        """The kept frames earlier than frame index, newest first."""
        return [kept for kept in reversed(self._kept) if kept.frame.index < index]


def follow_back(detector, recent: RecentFrames, first_index: int, box: np.ndarray, duplicate_iou: float) -> list:
    """The person whose track starts at frame first_index in box (4,), followed back through the kept
    frames before it, stopping at the first frame where the detector loses them or finds them where
    another person already is (boxes overlapping duplicate_iou or more).
    -> [(frame index, DetectedPerson)], oldest first; the boxes are recorded on their frames."""
    earlier = recent.before(first_index)
    people = []
    # follow_back is lazy: frames after the first stop are never looked at.
    for kept, person in zip(earlier, detector.follow_back((kept.frame.rgb for kept in earlier), box)):
        if any(box_iou(person.bbox, other) >= duplicate_iou for other in kept.boxes):
            break
        kept.boxes.append(np.asarray(person.bbox, np.float64))
        people.append((kept.frame.index, person))
    return people[::-1]
