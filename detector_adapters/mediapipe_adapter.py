"""The default detector: MediaPipe Pose 0.10.21, whose models ship inside the wheel (offline).

Every person in the image: the BlazePose person detector finds them (detector_adapters.person_detector),
then the pose landmark model (`PoseLandmarkByRoiCpu`, the one the legacy `Pose` solution runs for its
single person) gives each one 33 landmarks with a visibility score, and MediaPipe's own 3D world
landmarks (metres, origin between the hips), kept as a peer to compare the lifter with.
"""

import copy
from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from detector_adapters.base import DetectedPerson, bbox_of, box_area, box_iou
from detector_adapters.mediapipe_graphs import quiet_stderr, solution
from detector_adapters.person_detector import (
    PersonDetector,
    PersonRegion,
    region_from_box,
    region_from_keypoints,
)

# A box from a tracker is tight around the visible joints; the landmark model wants the whole
# body with a margin, as the person detector's regions have: their side is about this many times
# a tight box's long side (tests/test_mediapipe_adapter.py checks detect_in_boxes agrees with detect).
BOX_TO_REGION = 1.35
# Two results are one person found twice (from two views of the image) when their visible joints
# lie this close, as a fraction of the person's box diagonal.
SAME_PERSON_DISTANCE = 0.1
NOSE = 0  # in mediapipe33
# A box a tracker predicts is the person a video detector returned last frame when they overlap this much.
FOLLOW_IOU = 0.3

# The landmark model's is-there-a-person score and threshold, inside the PoseLandmarkByRoiCpu subgraph.
PRESENCE_STREAM = "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__pose_presence_score"
PRESENCE_THRESHOLD = "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__ThresholdingCalculator.threshold"
LANDMARK_GRAPH = """
input_stream: "IMAGE:image"
input_stream: "ROI:roi"
input_side_packet: "MODEL_COMPLEXITY:model_complexity"
input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
output_stream: "LANDMARKS:landmarks"
output_stream: "WORLD_LANDMARKS:world_landmarks"
output_stream: "AUXILIARY_LANDMARKS:auxiliary_landmarks"
node {
  calculator: "PoseLandmarkByRoiCpu"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  input_side_packet: "MODEL_COMPLEXITY:model_complexity"
  input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
  output_stream: "LANDMARKS:landmarks"
  output_stream: "WORLD_LANDMARKS:world_landmarks"
  output_stream: "AUXILIARY_LANDMARKS:auxiliary_landmarks"
}
"""


# One person found: (the person, the landmark model's presence score, the region its landmarks imply).
Found = tuple[DetectedPerson, float, PersonRegion]


class MediaPipeDetector:
    name = "mediapipe"
    keypoint_format = "mediapipe33"

    def __init__(
        self,
        max_people: int = 10,
        min_detection_confidence: float = 0.5,
        min_presence: float = 0.5,
        turns: tuple[int, ...] = (1, 2, 3),
        tiles: int = 1,
        refine: bool = True,
        thorough: bool = False,
        second_look_score: float = 0.4,
    ) -> None:
        """max_people: keep the largest this many. min_detection_confidence: the person detector's
        threshold; min_presence: the landmark model's own is-there-a-person threshold. turns, tiles:
        the person detector's extra views (detector_adapters.person_detector.PersonDetector).
        refine: run the landmark model a second time on the region its first answer implies (what
        MediaPipe's own tracking does between frames), which fits the body better than the person
        detector's region (benchmarks/lsp_detector.py measures both). thorough: look at a photo's
        quarter turns always; otherwise first at its upright views only (people mostly stand upright),
        which costs about two thirds of the CPU time and was as accurate on the LSP photos
        (benchmarks/lsp_detector.py). Either way a photo where
        nobody is found gets a second look: every view (an athlete upside down or lying), keeping the
        people the person detector scores at least second_look_score (at most min_detection_confidence)."""
        if max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {max_people}")
        if second_look_score > min_detection_confidence:
            raise ValueError(
                f"second_look_score {second_look_score} is above min_detection_confidence {min_detection_confidence}"
            )
        self.max_people, self.refine, self.thorough = max_people, refine, thorough
        # A video detector's memory (for_video): each returned person's box and landmark region.
        self._followed: list[tuple[np.ndarray, PersonRegion]] | None = None
        self._people = PersonDetector(min_detection_confidence, tiles=tiles, turns=turns)
        # A photo's second look, None where it would see what the first did. A lower threshold gets its
        # own graph: the person detector merges overlapping detections weighted by their scores, so
        # lowering the first look's would also move the boxes it finds.
        self._second_look: PersonDetector | None = None
        if second_look_score < min_detection_confidence:
            self._second_look = PersonDetector(second_look_score, tiles=tiles, turns=turns)
        elif turns and not thorough:
            self._second_look = self._people
        # model_complexity 1 is the landmark model inside the wheel; 0 and 2 would try to download one.
        self._landmarks = solution(
            LANDMARK_GRAPH,
            outputs=["landmarks", "world_landmarks", "auxiliary_landmarks", PRESENCE_STREAM],
            side_inputs={"model_complexity": 1, "enable_segmentation": False},
            calculator_params={PRESENCE_THRESHOLD: min_presence},
        )
        with quiet_stderr():  # the interpreter starts (and talks) on the first frame
            blank = PersonRegion(np.array([32.0, 32.0]), 64.0, 0.0)
            self._landmarks.process({"image": np.zeros((64, 64, 3), np.uint8), "roi": to_rect(blank, 64, 64)})

    def close(self) -> None:
        self._people.close()
        if self._second_look not in (None, self._people):
            self._second_look.close()
        self._landmarks.close()

    def for_video(self, fine_search_every: int = 6, min_score: float = 0.6) -> "MediaPipeDetector":
        """The same running models set up for a clip's successive frames (close only the detector it
        came from). It remembers where the landmarks put each person it returned (MediaPipe's own
        tracking: the region their hips and body point imply) and looks there first on the next call:
        one landmark pass per person followed. detect searches with the person detector only for faces
        other than the followed ones' (a person behind another is still found), without quarter turns
        (people in videos stand upright), at min_score, over tiles as wide as the frame (tiles 1) and, on
        the fine searches, also half as wide (tiles 2: people a quarter of the frame's height, at four
        times the cost). The first search is fine; a fine search that finds someone new makes the next
        search fine too (people are still coming into view, or small ones the person detector scored
        low a moment ago are scored higher now); one that finds nobody new doubles the number of
        searches to the next, up to fine_search_every. benchmarks/video_tracking.py measures the choice."""
        if fine_search_every < 1:
            raise ValueError(f"fine_search_every must be at least 1, got {fine_search_every}")
        video = copy.copy(self)
        video._people = self._people.with_views(tiles=1, turns=(), min_score=min_score)
        video._fine_people = self._people.with_views(tiles=2, turns=(), min_score=min_score)
        video._followed, video._fine_search_every = [], fine_search_every
        video._searches_to_fine, video._fine_gap = 0, 1  # the first search is fine
        return video

    def detect(self, image_rgb: np.ndarray) -> list[DetectedPerson]:
        """(H, W, 3) uint8 RGB -> every person found (at most max_people), largest box first, mediapipe33.

        score: the person detector's (for a video detector's followed people, the landmark model's presence)."""
        check_image(image_rgb)
        found: list[Found] = []
        if self._followed is not None:
            for _, region in self._followed:
                person = self._person_in(image_rgb, region, refine=False)
                self._add_new(found, person and (replace(person[0], score=person[1]), *person[1:]))
        views = self._search_views()
        followed = len(found)
        self._search(image_rgb, views.find(image_rgb, turned=self.thorough), found)
        if self._followed is not None and views is self._fine_people:
            self._schedule_fine_search(found_someone_new=len(found) > followed)
        if not found and self._followed is None and self._second_look is not None:
            self._search(image_rgb, self._second_look.find(image_rgb), found)  # a photo's second look
        found.sort(key=lambda f: -box_area(f[0].bbox))
        return self._remember(found[: self.max_people])

    def _search(self, image: np.ndarray, people: list[list[PersonRegion]], found: list["Found"]) -> None:
        """Adds to found (the people followed so far) each new person of the person detector's."""
        followed = [person for person, _, _ in found]
        for regions in people:
            # A face followed already, of a body followed already (the person detector also boxes half a
            # body on its own; the face box of someone seen from behind can be as big as their upper body
            # and hold the face of a person they hide).
            if any(inside(person.keypoints[NOSE], regions[0].face_box) and inside(regions[0].center, person.bbox)
                   for person in followed):  # fmt: skip
                continue
            self._add_new(found, self._first_person_in(image, regions))

    def _search_views(self) -> PersonDetector:
        """A photo detector's views; a video detector's, fine or not as scheduled (for_video)."""
        if self._followed is None:
            return self._people
        if self._searches_to_fine > 0:
            self._searches_to_fine -= 1
            return self._people
        return self._fine_people

    def _schedule_fine_search(self, found_someone_new: bool) -> None:
        """After a video detector's fine search: the next one at once when it found someone new, else
        after twice as many searches as last time, at most fine_search_every."""
        self._fine_gap = 1 if found_someone_new else min(2 * self._fine_gap, self._fine_search_every)
        self._searches_to_fine = self._fine_gap - 1

    @staticmethod
    def _add_new(found: list["Found"], candidate: "Found | None") -> None:
        if candidate is not None and not any(same_person(candidate[0], other) for other, _, _ in found):
            found.append(candidate)

    def _remember(self, found: list["Found | None"]) -> list[DetectedPerson | None]:
        """A video detector keeps where the landmarks put each person, for the next frame."""
        if self._followed is not None:
            self._followed = [(f[0].bbox, f[2]) for f in found if f is not None]
        return [None if f is None else f[0] for f in found]

    def _first_person_in(self, image: np.ndarray, regions: list[PersonRegion]) -> "Found | None":
        """One person's regions, best-scored view first: the first where the landmark model sees someone
        (a view may have aligned the body wrongly), with that view's detector score."""
        for region in regions:
            found = self._person_in(image, region, self.refine)
            if found is not None:
                return replace(found[0], score=region.score), found[1], found[2]
        return None

    def detect_in_boxes(self, image_rgb: np.ndarray, boxes: np.ndarray) -> list[DetectedPerson | None]:
        """Landmarks of the person in each box (N, 4) x0, y0, x1, y1 px, skipping the person detector
        (a video's boxes predicted from the previous frame). A video detector looks where the previous
        frame's landmarks put the person it returned in the box's place, moved with the box, and gives
        None at once for a box where it returned nobody (lost earlier: its next search looks for them).
        Where the landmark model sees nobody, it looks in the box itself, then the person detector
        around it (a box that lost the legs, a turned body); None where it finds nobody either.

        score: the landmark model's presence score."""
        check_image(image_rgb)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        return self._remember([self._person_in_box(image_rgb, box) for box in boxes])

    def follow_back(self, images_rgb: Iterable[np.ndarray], box: np.ndarray) -> Iterator[DetectedPerson]:
        """The person in box (4,) x0, y0, x1, y1 px of a frame, followed through the frames before it
        (newest first), each from where the landmarks put them in the one after, as detect_in_boxes follows
        people forward: yields the person on each frame, lazily, until the landmark model first loses them
        or sees someone whose box overlaps the previous one less than FOLLOW_IOU (it jumped to somebody
        else). Leaves a video detector's memory of its last frame as it was.

        score: the landmark model's presence score."""
        region, refine = region_from_box(np.asarray(box, np.float64), BOX_TO_REGION), self.refine
        last_box = np.asarray(box, np.float64)
        for image in images_rgb:
            check_image(image)
            found = self._person_in(image, region, refine)
            if found is None or box_iou(found[0].bbox, last_box) < FOLLOW_IOU:
                return
            yield replace(found[0], score=found[1])
            region, last_box, refine = found[2], found[0].bbox, False

    def _person_in_box(self, image: np.ndarray, box: np.ndarray) -> "Found | None":
        found = None
        if self._followed is not None:
            region = self._followed_region(box)
            if region is None:
                return None  # lost before the previous frame: a video detector leaves them to its next search
            found = self._person_in(image, region, refine=False)
        if found is None:
            found = self._person_in(image, region_from_box(box, BOX_TO_REGION), self.refine)
        if found is None:
            region = self._people.find_near(image, box)
            found = None if region is None else self._person_in(image, region, self.refine)
        return None if found is None else (replace(found[0], score=found[1]), found[1], found[2])

    def _followed_region(self, box: np.ndarray) -> PersonRegion | None:
        """The remembered landmark region of the person whose last box overlaps box most (at least
        FOLLOW_IOU), moved as the box moved from it; None for a photo detector or nobody there."""
        overlaps = [(box_iou(last_box, box), last_box, region) for last_box, region in self._followed or []]
        best = max(overlaps, key=lambda o: o[0], default=None)
        if best is None or best[0] < FOLLOW_IOU:
            return None
        shift = (box[:2] + box[2:] - best[1][:2] - best[1][2:]) / 2  # (2,) px
        return replace(best[2], center=best[2].center + shift)

    def _person_in(self, image: np.ndarray, region: PersonRegion, refine: bool) -> "Found | None":
        """The landmark model on a region of the image, refined once when asked.
        -> (the person, the landmark model's presence score, the region its landmarks imply), or None."""
        found = self._landmarks_in(image, region)
        if found is not None and refine:
            found = self._landmarks_in(image, found[3]) or found
        return None if found is None else (*self._to_person(*found[:3], image.shape[1::-1]), found[3])

    def _landmarks_in(
        self, image: np.ndarray, region: PersonRegion
    ) -> tuple[np.ndarray, np.ndarray, float, PersonRegion] | None:
        """The landmark model on one region -> (landmarks (33, 3): x, y px and visibility; world (33, 3) m;
        presence score; the region the landmarks imply), or None when it sees nobody there."""
        # Only the region's surroundings are handed to the graph: copying a whole video frame into
        # it for each person would cost more than the model.
        half = region.size / 2 * (abs(np.cos(region.rotation)) + abs(np.sin(region.rotation)))
        height, width = image.shape[:2]
        x0, y0 = (max(0, int(np.floor(c - half))) for c in region.center)
        x1 = min(width, int(np.ceil(region.center[0] + half)))
        y1 = min(height, int(np.ceil(region.center[1] + half)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        moved = PersonRegion(region.center - [x0, y0], region.size, region.rotation)
        with quiet_stderr():  # per-frame glog warnings
            result = self._landmarks.process({"image": crop, "roi": to_rect(moved, x1 - x0, y1 - y0)})
        if result.landmarks is None:
            return None
        # Normalised coordinates are fractions of the crop: back to the image's pixels.
        size, offset = [x1 - x0, y1 - y0], [x0, y0]
        landmarks = np.array([[lm.x, lm.y, lm.visibility] for lm in result.landmarks.landmark])  # (33, 3)
        landmarks[:, :2] = landmarks[:, :2] * size + offset
        world = np.array([[lm.x, lm.y, lm.z] for lm in result.world_landmarks.landmark])  # (33, 3) m
        # The two auxiliary landmarks are the hips' midpoint and the body point, as the detector's.
        hips, body_point = (np.array([[lm.x, lm.y] for lm in result.auxiliary_landmarks.landmark]) * size + offset)[:2]
        return landmarks, world, float(getattr(result, PRESENCE_STREAM)), region_from_keypoints(hips, body_point)

    def _to_person(
        self, landmarks: np.ndarray, world: np.ndarray, presence: float, image_size: tuple[int, int]
    ) -> tuple[DetectedPerson, float]:
        """image_size: (width, height) px."""
        keypoints = landmarks[:, :2]  # (33, 2) px
        # Hidden joints are extrapolated, sometimes far outside the image: visibility says so.
        scores = np.clip(landmarks[:, 2], 0.0, 1.0)  # (33,)
        person = DetectedPerson(
            keypoints=keypoints,
            scores=scores,
            # Of the person in the image: a visible joint extrapolated past the edge does not widen it.
            bbox=np.clip(bbox_of(keypoints, scores, min_score=0.5), 0, np.tile(image_size, 2)),
            keypoint_format=self.keypoint_format,
            world_keypoints=world,
        )
        return person, presence


def check_image(image_rgb: np.ndarray) -> None:
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image_rgb.shape} {image_rgb.dtype}")


def to_rect(region: PersonRegion, width: int, height: int):
    """A region in px of a width x height image -> MediaPipe's NormalizedRect."""
    from mediapipe.framework.formats import rect_pb2

    return rect_pb2.NormalizedRect(
        x_center=region.center[0] / width,
        y_center=region.center[1] / height,
        width=region.size / width,
        height=region.size / height,
        rotation=region.rotation,
    )


def inside(point: np.ndarray, box: np.ndarray) -> bool:
    """Whether a point (2,) px lies in a box (4,) x0, y0, x1, y1 px."""
    return bool(np.all((box[:2] <= point) & (point <= box[2:])))


def same_person(a: DetectedPerson, b: DetectedPerson) -> bool:
    """Two results for one person: their joints visible in both lie within SAME_PERSON_DISTANCE box diagonals."""
    both = (a.scores > 0.5) & (b.scores > 0.5)
    if not both.any():
        return False
    diagonal = max(np.hypot(*(a.bbox[2:] - a.bbox[:2])), np.hypot(*(b.bbox[2:] - b.bbox[:2])), 1.0)
    distance = np.median(np.linalg.norm(a.keypoints[both] - b.keypoints[both], axis=-1))
    return bool(distance < SAME_PERSON_DISTANCE * diagonal)
