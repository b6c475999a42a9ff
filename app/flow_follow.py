"""Following people by optical flow through frames where the landmark model gives them up for someone else.

A one-person landmark model returns one skeleton per region. Where two people overlap and only one of
them shows a face, it returns that one for both regions (pose2sim cam03: the man, seen from behind,
leaning over the woman), and the other person is lost although their body is in full view. Their
pixels are still there: pyramidal Lucas-Kanade flow (OpenCV) carries each of their joints from the
previous frame into this one, and a round trip (this frame back to the previous one) keeps only the
joints it follows both ways.

FlowFollowing does this for each confirmed person who overlaps someone, unless someone larger (likely in
front of them) overlaps them: flow would follow that person across them. The tracker compares detections
with where flow carried the person's joints instead of a constant-velocity guess; a detection whose
shoulders and hips disagree with the flow's is someone else's skeleton and is dropped; where no detection is
theirs, the flow's skeleton is their row (with no person score), for at most MAX_FOLLOW_S in a row: flow
cannot tell when a person walks away behind someone, so the detector has to find them again by then.
"""

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from app.pipeline import PreparedPerson, prepare
from detector_adapters.base import DetectedPerson, box_iou
from lifter.errors import SvmacError
from lifter.skeleton import JOINT_NAMES

if TYPE_CHECKING:  # app.tracking loads scipy: only when a clip is tracked
    from app.tracking import Tracker

# Lucas-Kanade: a 31 px window over 4 pyramid levels follows motions up to ~16 x 31 px per frame.
WINDOW_PX = 31
PYRAMID_LEVELS = 4
# A joint is followed when the round trip brings it back within this many pixels of where it was.
MAX_ROUND_TRIP_PX = 2.0
# Share of the joints the last detection saw (SEEN_SCORE) that flow must follow both ways to keep the person.
MIN_FOLLOWED_SHARE = 0.5
# Around the person's box, this much of its size on each side is handed to the flow (not the whole frame).
MARGIN = 0.25
# A person followed by flow for this long without the detector finding them is let go.
MAX_FOLLOW_S = 1.0
# Joint scores below this were not seen by the detector: they are carried, not counted.
SEEN_SCORE = 0.5
# A detection matched to a person flow follows is theirs only if its shoulders and hips lie within this share
# of the person's size (box diagonal) of the flow's: flow and the landmark model agree to ~0.02 on one
# person's torso, while a skeleton merged with someone else's is pulled ~0.1 away (pose2sim cam03).
AGREE_SHARE = 0.05
# People whose boxes share this much of the smaller one overlap: the landmark model starts to pull one's
# skeleton towards the other's face well before their bodies cover each other (pose2sim cam03: at 0.3).
OVERLAP = 0.1
# Shoulders and hips (H36M-17): where a detection and flow's skeleton are compared.
TORSO = [JOINT_NAMES.index(name) for name in ("LShoulder", "RShoulder", "LHip", "RHip")]


def gray_crop(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB, box (4,) x0, y0, x1, y1 px inside it -> (h, w) uint8 grey."""
    import cv2

    x0, y0, x1, y1 = box.astype(int)
    return cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)


def flow_region(box: np.ndarray, width: int, height: int) -> np.ndarray:
    """The person's box grown by MARGIN of its size on each side, inside the frame. -> (4,) int px"""
    grow = MARGIN * np.tile(box[2:] - box[:2], 2) * [-1, -1, 1, 1]
    region = np.clip(np.round(box + grow), 0, [width, height, width, height])
    return region.astype(np.int64)


def follow_points(previous: np.ndarray, current: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (K, 2) px of the grey image `previous` followed into `current` (same size).
    -> (points (K, 2) px, followed (K,) bool: found both ways and back within MAX_ROUND_TRIP_PX)."""
    import cv2

    settings = {
        "winSize": (WINDOW_PX, WINDOW_PX),
        "maxLevel": PYRAMID_LEVELS,
        "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
    }
    start = np.ascontiguousarray(points, np.float32).reshape(-1, 1, 2)
    moved, found, _ = cv2.calcOpticalFlowPyrLK(previous, current, start, None, **settings)
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(current, previous, moved, None, **settings)
    round_trip = np.linalg.norm((back - start).reshape(-1, 2), axis=1)
    followed = (found.ravel() == 1) & (found_back.ravel() == 1) & (round_trip <= MAX_ROUND_TRIP_PX)
    return moved.reshape(-1, 2).astype(np.float64), followed


@dataclass(frozen=True)
class FlowStep:
    """A person's joints carried by flow from the previous frame into this one."""

    moved: np.ndarray  # (K, 2) px: each carried joint where its own flow put it (others where they were)
    followed: np.ndarray  # (K,) bool: carried joints flow found both ways
    shift: np.ndarray  # (2,) px: the body's motion, the median of the followed joints' motions
    image_size: tuple[int, int]  # (width, height) px


def flow_step(
    last: DetectedPerson, previous_rgb: np.ndarray, current_rgb: np.ndarray, detected_scores: np.ndarray
) -> FlowStep | None:
    """Flow on the joints `last` (the person on the previous frame) had where their last detection saw them
    (detected_scores (K,) >= SEEN_SCORE; even those flow lost on an earlier frame, which may come back),
    inside their box and a margin. None when it follows none of them."""
    height, width = current_rgb.shape[:2]
    region = flow_region(np.asarray(last.bbox, np.float64), width, height)
    if np.any(region[2:] - region[:2] < 2):
        return None
    origin = region[:2].astype(np.float64)
    inside = np.all((last.keypoints >= origin) & (last.keypoints < region[2:]), axis=1)
    carried = (detected_scores >= SEEN_SCORE) & inside
    if not carried.any():
        return None
    moved, followed = follow_points(
        gray_crop(previous_rgb, region), gray_crop(current_rgb, region), last.keypoints[carried] - origin
    )
    if not followed.any():
        return None
    rows = np.flatnonzero(carried)
    positions, found = last.keypoints.astype(np.float64), np.zeros(len(last.keypoints), bool)
    positions[rows], found[rows] = moved + origin, followed
    shift = np.median(positions[found] - last.keypoints[found], axis=0)
    return FlowStep(positions, found, shift, (width, height))


def followed_person(last: DetectedPerson, step: FlowStep, detected_scores: np.ndarray) -> DetectedPerson | None:
    """`last` moved into this frame by `step`, or None when flow followed under MIN_FOLLOWED_SHARE of the
    joints its last detection saw (detected_scores (K,) >= SEEN_SCORE).

    Followed joints get their detected score; the others move with the body and get score 0, so that
    smoothing fills them from the frames around. The box moves with the body and keeps its size. score
    (the person detector's) is None: no detector found them here. The detector's own 3D (world_keypoints)
    stays the last it gave."""
    followed = step.followed
    if followed.sum() < MIN_FOLLOWED_SHARE * np.sum(detected_scores >= SEEN_SCORE):
        return None
    keypoints = np.where(followed[:, None], step.moved, last.keypoints + step.shift)
    scores = np.where(followed, detected_scores, 0.0)
    box = np.clip(np.asarray(last.bbox, np.float64) + np.tile(step.shift, 2), 0, np.tile(step.image_size, 2))
    return replace(last, keypoints=keypoints, scores=scores, bbox=box, score=None)


class FlowFollowing:
    """A clip's people who overlap someone, followed by flow from frame to frame (the module's docstring):
    predict before the tracker matches a frame's detections, settle after."""

    def __init__(self, fps: float, duplicate_iou: float) -> None:
        self.max_frames = max(1, math.floor(MAX_FOLLOW_S * fps))
        self.duplicate_iou = duplicate_iou  # boxes overlapping this much are one person
        self.previous_rgb: np.ndarray | None = None
        self.last: dict[int, DetectedPerson] = {}  # track id -> its person on the previous frame
        self.followed_for: dict[int, int] = {}  # track id -> frames carried by flow alone, in a row
        self.detected_scores: dict[int, np.ndarray] = {}  # track id -> its last detection's joint scores (K,)
        self.flowed: dict[int, PreparedPerson] = {}  # track id -> the flow's skeleton on this frame

    def predict(self, tracker: "Tracker", rgb: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Before tracker.update: track id -> (keypoints (17, 2), visible (17,)) where flow carries the joints
        of each confirmed person seen on the previous frame overlapping someone else seen there (or carried
        by flow there), unless someone larger overlaps them."""
        from app.tracking import box_size, overlap_of_smaller

        self.flowed = {}
        if self.previous_rgb is None:
            self.previous_rgb = rgb
            return {}
        tracks = {t.track_id: t for t in tracker.tracks}
        for track_id, last in self.last.items():
            track = tracks.get(track_id)
            if track is None or not tracker.confirmed(track):
                continue
            overlapping = [p.bbox for i, p in self.last.items() if i != track_id and
                           overlap_of_smaller(last.bbox, p.bbox) >= OVERLAP]  # fmt: skip
            if not overlapping and self.followed_for.get(track_id, 0) == 0:
                continue  # apart from everyone: the landmark model does not confuse them
            if any(box_size(box) > box_size(last.bbox) for box in overlapping):
                continue  # someone larger, likely in front: flow would follow them across this person
            scores = self.detected_scores.get(track_id, last.scores)
            step = flow_step(last, self.previous_rgb, rgb, scores)
            person = None if step is None else followed_person(last, step, scores)
            if person is None:
                continue
            try:
                self.flowed[track_id] = prepare(person)
            except SvmacError:
                continue
        self.previous_rgb = rgb
        return {i: (p.keypoints_2d, tracker.visible(p.keypoints_2d, p.scores)) for i, p in self.flowed.items()}

    def settle(self, tracker: "Tracker", found: dict[int, PreparedPerson]) -> dict[int, PreparedPerson]:
        """After tracker.update; found: track id -> PreparedPerson matched on this frame. -> the same with,
        for each person flow followed: flow's skeleton where the matched detection disagrees with it (someone
        else's skeleton given for their region: dropped), or where nothing matched, unless it lands on someone
        seen (duplicate_iou) or flow alone has carried them for MAX_FOLLOW_S; the tracker takes the same."""
        from app.tracking import box_size

        settled = dict(found)
        tracks = {t.track_id: t for t in tracker.tracks}
        carried = set()
        for track_id, person in self.flowed.items():
            if track_id not in tracks or self.followed_for.get(track_id, 0) >= self.max_frames:
                continue
            visible = tracker.visible(person.keypoints_2d, person.scores)
            box = person.detection.bbox
            matched = found.get(track_id)
            if matched is not None:
                gap = np.linalg.norm(matched.keypoints_2d[TORSO] - person.keypoints_2d[TORSO], axis=-1).mean()
                if gap <= AGREE_SHARE * box_size(box):
                    continue
                tracker.correct(tracks[track_id], box, person.keypoints_2d, visible)
            else:
                others = [p.detection.bbox for i, p in found.items() if i != track_id]
                if any(box_iou(box, other) >= self.duplicate_iou for other in others):
                    continue
                tracker.follow(tracks[track_id], box, person.keypoints_2d, visible)
            settled[track_id] = person
            carried.add(track_id)
        self.followed_for = {i: self.followed_for.get(i, 0) + 1 for i in carried}
        self.last = {i: p.detection for i, p in settled.items()}
        detected = {i: p.detection.scores for i, p in found.items() if i not in carried}
        self.detected_scores = {
            i: detected.get(i, self.detected_scores.get(i, settled[i].detection.scores)) for i in settled
        }
        return settled
