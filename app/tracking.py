"""Stable ids for the people of a clip: frame-by-frame assignment of detections to tracks.

Each live track predicts where its person will be (constant velocity of the box, the joints
carried along with it); the detections of a frame are matched to the predictions by the
Hungarian method on a cost that compares whole skeletons, and pairs costlier than a gate are
never matched. Distances are divided by the person's size, so the same settings work for a
person 100 px or 1000 px tall. A track that finds no detection keeps predicting for up to
max_missing_s (a short occlusion), then ends; a detection that matches no track starts a new
one. Ids start at 0 and are never reused.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from detector_adapters.base import box_area
from lifter.errors import SvmacError
from lifter.skeleton import NUM_JOINTS

DEFAULT_MAX_MISSING_S = 1.0
# Gate on the matching cost (mean joint distance in person sizes, plus the log size change): a
# walker moves ~0.03 sizes per frame at 30 fps, neighbours side by side are >= ~0.2 apart.
DEFAULT_MAX_COST = 0.5
# Matching on joints needs a few joints seen in both; otherwise box centres are compared.
MIN_SHARED_JOINTS = 4
# Weight of the newest frame-to-frame motion in the velocity (the rest: the previous estimate);
# detected joints jitter, so one frame's motion alone overshoots.
VELOCITY_UPDATE = 0.5
NO_MATCH = 1e6
# A track lost while this much of its box (or of the other's, the smaller) lay in the box of someone
# seen: hidden behind that person, or merged with them by a landmark model that gave one skeleton
# for two people (pose2sim cam03: the man leaning over the woman).
HIDDEN_OVERLAP = 0.5
# A track is confirmed once seen for this long (app.video drops shorter tracks as detector blips: the
# same 0.1 s), and on 3 frames at least. Until then it ends as soon as it misses a frame: a false
# person of a few frames (often a second skeleton on someone's body) would otherwise live on for
# max_missing_s and could take that person's detection when their pose happens to look like the
# blip's again (pose2sim cam02: the man's id split 76/24 that way). Only a confirmed track is searched
# for when hidden (a search on every frame).
DEFAULT_CONFIRM_S = 0.1
MIN_CONFIRM_HITS = 3


@dataclass
class Track:
    track_id: int
    box: np.ndarray  # (4,) x0, y0, x1, y1 pixels, where last seen
    keypoints: np.ndarray  # (17, 2) pixels, where last seen
    visible: np.ndarray  # (17,) bool: joints seen with a good score when last seen
    velocity: np.ndarray  # (2,) the body's motion, pixels per frame
    last_frame: int
    hits: int = 1

    def predicted_box(self, frame: int) -> np.ndarray:
        """(4,): the last box moved with the body (its size kept)."""
        return self.box + np.tile(self.velocity, 2) * (frame - self.last_frame)

    def predicted_keypoints(self, frame: int) -> np.ndarray:
        """(17, 2): the joints moved with the body (the pose itself is not extrapolated)."""
        return self.keypoints + self.velocity * (frame - self.last_frame)


def box_size(boxes: np.ndarray) -> np.ndarray:
    """A person's size in pixels: the diagonal of the box. (..., 4) -> (...,)"""
    return np.hypot(boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1])


def box_centre(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) -> (..., 2)"""
    return (boxes[..., :2] + boxes[..., 2:]) / 2


def overlap_of_smaller(a: np.ndarray, b: np.ndarray) -> float:
    """The intersection of two (4,) x0, y0, x1, y1 boxes over the smaller one's area (1: one holds the other)."""
    inter = box_area(np.array([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]))
    smaller = min(box_area(a), box_area(b))
    return inter / smaller if smaller > 0 else 0.0


def match_cost(
    box_a: np.ndarray, keypoints_a: np.ndarray, visible_a: np.ndarray,
    box_b: np.ndarray, keypoints_b: np.ndarray, visible_b: np.ndarray,
) -> float:  # fmt: skip
    """How unlike two skeletons are, in units of the person's size (0 = identical).

    The mean distance of the joints both show (the box centres when they share too few),
    divided by the mean of the two box diagonals, plus |log| of the ratio of the diagonals so a
    near, large person is not matched to a far, small one at the same spot.
    """
    size_a, size_b = max(box_size(box_a), 1e-6), max(box_size(box_b), 1e-6)
    shared = visible_a & visible_b
    if shared.sum() >= MIN_SHARED_JOINTS:
        distance = np.linalg.norm(keypoints_a[shared] - keypoints_b[shared], axis=-1).mean()
    else:
        distance = np.linalg.norm(box_centre(box_a) - box_centre(box_b))
    return float(distance / ((size_a + size_b) / 2) + abs(np.log(size_a / size_b)))


class Tracker:
    """Assigns every detection of each successive frame a track id.

    fps: the clip's frame rate (turns max_missing_s into frames); max_missing_s: how long a track
    survives without a matching detection; max_cost: the gate of match_cost; min_score: joints
    below this score are not compared; confirm_s: how long a track must be seen before it survives a
    missed frame.
    """

    def __init__(
        self,
        fps: float,
        max_missing_s: float = DEFAULT_MAX_MISSING_S,
        max_cost: float = DEFAULT_MAX_COST,
        min_score: float = 0.5,
        confirm_s: float = DEFAULT_CONFIRM_S,
    ) -> None:
        if not np.isfinite(fps) or fps <= 0:
            raise SvmacError(f"cannot track people at {fps} frames per second")
        if max_missing_s < 0:
            raise SvmacError(f"max_missing_s must be >= 0, got {max_missing_s}")
        self.max_missing = int(round(max_missing_s * fps))  # frames a track may go unseen
        self.confirm_hits = max(MIN_CONFIRM_HITS, int(np.ceil(confirm_s * fps)))  # frames seen to confirm it
        self.max_cost = max_cost
        self.min_score = min_score
        self.frame = -1  # index of the last frame given to update
        self.tracks: list[Track] = []
        self.next_id = 0

    def confirmed(self, track: Track) -> bool:
        """Seen on confirm_hits frames: it survives missed frames and is searched for when hidden."""
        return track.hits >= self.confirm_hits

    def visible(self, keypoints: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Joints compared when matching: scored at least min_score, at a finite place. (..., 17, 2), (..., 17)
        -> (..., 17) bool"""
        return (scores >= self.min_score) & np.isfinite(keypoints).all(-1)

    def live_tracks(self, frame: int) -> list[Track]:
        """Tracks that may still be matched at this frame (not unseen for longer than allowed; a track not
        confirmed yet, not unseen at all)."""
        return [
            t for t in self.tracks if frame - t.last_frame - 1 <= (self.max_missing if self.confirmed(t) else 0)
        ]  # fmt: skip

    def predicted_boxes(self) -> dict[int, np.ndarray]:
        """Where each live track's person is expected in the next frame: id -> (4,) x0, y0, x1, y1."""
        frame = self.frame + 1
        return {t.track_id: t.predicted_box(frame) for t in self.live_tracks(frame)}

    def seen_tracks(self) -> list[Track]:
        """The tracks matched in the last frame given to update."""
        return [t for t in self.tracks if t.last_frame == self.frame]

    def hidden_tracks(self) -> list[Track]:
        """Live confirmed tracks (confirm_s), missed in the last frame where they overlapped
        (HIDDEN_OVERLAP) someone seen in it: people a detector that only follows the people it sees would
        not look for again."""
        seen = self.seen_tracks()
        return [
            t for t in self.live_tracks(self.frame + 1)
            if t.last_frame < self.frame and self.confirmed(t)
            and any(overlap_of_smaller(t.box, s.box) >= HIDDEN_OVERLAP for s in seen)
        ]  # fmt: skip

    def update(
        self,
        boxes: np.ndarray,
        keypoints: np.ndarray,
        scores: np.ndarray,
        followed: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> list[int]:
        """The next frame's N detections: boxes (N, 4), keypoints (N, 17, 2), scores (N, 17). followed: track
        id -> (keypoints (17, 2), visible (17,)) where optical flow carried that track's joints into this frame,
        compared instead of the constant-velocity prediction.
        Returns one track id per detection, in order."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, NUM_JOINTS, 2)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1, NUM_JOINTS)
        if not len(boxes) == len(keypoints) == len(scores):
            raise ValueError(f"{len(boxes)} boxes, {len(keypoints)} keypoint sets and {len(scores)} score sets")
        self.frame += 1
        self.tracks = self.live_tracks(self.frame)
        visible = self.visible(keypoints, scores)  # (N, 17)

        costs = np.full((len(self.tracks), len(boxes)), NO_MATCH)  # (tracks, detections)
        followed = followed or {}
        for row, track in enumerate(self.tracks):
            box, joints, seen = track.predicted_box(self.frame), track.predicted_keypoints(self.frame), track.visible
            if track.track_id in followed:
                joints, seen = followed[track.track_id]
            for column in range(len(boxes)):
                cost = match_cost(box, joints, seen, boxes[column], keypoints[column], visible[column])
                if cost <= self.max_cost:
                    costs[row, column] = cost
        ids = [-1] * len(boxes)
        for row, column in zip(*linear_sum_assignment(costs)):
            if costs[row, column] < NO_MATCH:
                self.follow(self.tracks[row], boxes[column], keypoints[column], visible[column])
                ids[column] = self.tracks[row].track_id
        for column, track_id in enumerate(ids):
            if track_id < 0:
                ids[column] = self.start(boxes[column], keypoints[column], visible[column])
        return ids

    def follow(self, track: Track, box: np.ndarray, keypoints: np.ndarray, visible: np.ndarray) -> None:
        """Move a matched track to its new detection and update its velocity."""
        elapsed = self.frame - track.last_frame
        shared = visible & track.visible
        # The body's motion is the mean motion of the joints seen both times: swinging limbs
        # cancel out in it, while they shake the box's edges.
        if shared.sum() >= MIN_SHARED_JOINTS:
            motion = (keypoints[shared] - track.keypoints[shared]).mean(0) / elapsed  # (2,) px per frame
        else:
            motion = (box_centre(box) - box_centre(track.box)) / elapsed
        # Joints not seen now keep their last position, moved with the body, for the next match.
        carried = track.predicted_keypoints(self.frame)
        track.keypoints = np.where(visible[:, None], keypoints, carried)
        track.visible = visible | (track.visible & np.isfinite(carried).all(-1))
        if track.hits == 1:
            track.velocity = motion
        else:
            track.velocity = VELOCITY_UPDATE * motion + (1 - VELOCITY_UPDATE) * track.velocity
        track.box, track.last_frame, track.hits = box.copy(), self.frame, track.hits + 1

    def correct(self, track: Track, box: np.ndarray, keypoints: np.ndarray, visible: np.ndarray) -> None:
        """Put box and keypoints in place of what this frame's match gave a track (a detection found to be
        someone else's); its velocity and count stay."""
        track.box, track.keypoints, track.visible = box.copy(), keypoints.copy(), visible.copy()

    def start(self, box: np.ndarray, keypoints: np.ndarray, visible: np.ndarray) -> int:
        track = Track(self.next_id, box.copy(), keypoints.copy(), visible.copy(), np.zeros(2), self.frame)
        self.tracks.append(track)
        self.next_id += 1
        return track.track_id
