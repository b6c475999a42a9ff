"""Every person in an image: MediaPipe's BlazePose person detector, over several views of the image.

The detector (`pose_detection.tflite`, in the wheel) sees a 224x224 letterboxed copy of what it is
given. It predicts a face box, a score, the hips' midpoint and a point that, with the hips, spans
the whole body. A tall frame shrinks everybody (a 1088x1920 portrait video frame becomes 127x224 px)
and the detector was trained on upright people (athletes upside down or lying are missed), so it
also looks at square tiles of the image and at the image turned by quarter turns; what every view
finds is mapped back to the image and merged. benchmarks/multiperson_detector.py and
benchmarks/lsp_detector.py measure what each view adds.

The views are independent, so they run side by side, each on its own copy of the detector's graph with
one thread: on 2 cores (the LSP and fixture photos, 3.6 views each) this took a photo's detection, person
detector and landmarks, from 140-150 to 105-115 ms, with the same people found. One graph on two
threads gained less: its threads spin after each run and slow the landmark model's, and the other way
round.
"""

import copy
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from detector_adapters.base import box_iou
from detector_adapters.mediapipe_graphs import default_inference_threads, quiet_stderr, solution

# MediaPipe's PoseDetectionToRoi: the landmark model's square crop is 1.25x the circle through the
# body point centred on the hips (its diameter is twice their distance), turned so the body is upright.
ROI_SCALE = 1.25
# MediaPipe's own merging of detections of one person (its NonMaxSuppressionCalculator threshold).
SAME_FACE_IOU = 0.3
# Or when their hips lie within this fraction of the smaller body square and the squares' sizes
# differ less than this ratio: two people that close are one in front of the other, and the first
# found hides the second from the landmark model anyway.
SAME_BODY_DISTANCE = 0.2
SAME_BODY_SIZE_RATIO = 1.5
DETECTOR_SIDE = 224  # pose_detection.tflite's input: 224x224

DETECTION_GRAPH = """
input_stream: "IMAGE:image"
output_stream: "DETECTIONS:detections"
node {
  calculator: "PoseDetectionCpu"
  input_stream: "IMAGE:image"
  output_stream: "DETECTIONS:detections"
}
"""


@dataclass(frozen=True)
class PersonRegion:
    """Where the landmark model should look for one person: a square, turned so the body is upright."""

    center: np.ndarray  # (2,) px: the hips' midpoint
    size: float  # px, side of the square
    rotation: float  # radians, MediaPipe's convention: the turn that makes the body upright, in (-pi, pi]
    score: float | None = None  # the person detector's score, None when the region came from elsewhere
    face_box: np.ndarray | None = None  # (4,) x0, y0, x1, y1 px, what the person detector boxed


def region_from_keypoints(hips: np.ndarray, body_point: np.ndarray, **fields) -> PersonRegion:
    """MediaPipe's alignment rule: hips (2,) px and the body point (2,) px -> the body's upright square."""
    dx, dy = body_point - hips
    rotation = np.pi / 2 - np.arctan2(-dy, dx)  # 0 when the body point lies straight above the hips
    rotation = rotation - 2 * np.pi * np.floor((rotation + np.pi) / (2 * np.pi))
    size = 2 * np.hypot(dx, dy) * ROI_SCALE
    return PersonRegion(np.asarray(hips, np.float64), float(size), float(rotation), **fields)


def region_from_box(box: np.ndarray, scale: float) -> PersonRegion:
    """An upright square around a box (4,) x0, y0, x1, y1 px: side = scale x its longer side."""
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    return PersonRegion(np.array([(x0 + x1) / 2, (y0 + y1) / 2]), float(scale * max(x1 - x0, y1 - y0)), 0.0)


def unturn(points: np.ndarray, turns: int, width: int, height: int) -> np.ndarray:
    """Points (..., 2) px in np.rot90(image, turns) -> the same points in image (width x height px)."""
    x, y = points[..., 0], points[..., 1]
    if turns % 4 == 1:  # a quarter turn counter-clockwise took (x, y) to (y, width - x)
        x, y = width - y, x
    elif turns % 4 == 2:
        x, y = width - x, height - y
    elif turns % 4 == 3:  # clockwise: (x, y) -> (height - y, x)
        x, y = y, height - x
    return np.stack([x, y], axis=-1)


def square_tiles(width: int, height: int, side: int) -> list[tuple[int, int, int]]:
    """Squares (x0, y0, side) covering the image, overlapping by about half a side; none if one square
    would hold nearly all of it (the whole image is already the detector's view)."""
    if max(width, height) < 1.25 * side:
        return []
    starts = [
        np.linspace(0, length - side, max(1, int(np.ceil(2 * length / side)) - 1)).round().astype(int)
        for length in (width, height)
    ]
    return [(int(x0), int(y0), side) for y0 in starts[1] for x0 in starts[0]]


class PersonDetector:
    """BlazePose person detection over the whole image, square tiles of a long image and quarter turns.

    tiles: 0, the whole image only; 1, also squares as wide as its short side along a long image
    (a person standing in a portrait video frame); 2, also squares half that side (people a quarter of
    the frame's height and less). Each tile costs one more run of the detector (~10 ms).
    turns: quarter turns (counter-clockwise) of the whole image to look at besides the upright view,
    e.g. (2,) for upside-down people, (1, 2, 3) for any; each costs one more run of the detector.
    """

    def __init__(self, min_score: float = 0.5, tiles: int = 1, turns: tuple[int, ...] = (1, 2, 3)) -> None:
        if tiles not in (0, 1, 2):
            raise ValueError(f"tiles must be 0, 1 or 2, got {tiles}")
        self.tiles, self.turns, self.min_score = tiles, tuple(turns), min_score
        self._params = {"posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh": min_score}
        self._workers = default_inference_threads()
        # Each running view takes a graph of its own from here and puts it back when done. One graph to
        # start with; the others when views first run side by side (each costs ~0.1 s to start).
        self._graphs: list = []
        self._idle_graphs: queue.SimpleQueue = queue.SimpleQueue()
        with quiet_stderr():  # the interpreter starts (and talks) on the first frame
            self._add_graphs(1)
        self._pool = None
        if self._workers > 1:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="person-detector")

    def _add_graphs(self, count: int) -> None:
        """Start graphs until there are count (at most one per worker)."""
        while len(self._graphs) < min(count, self._workers):
            graph = solution(DETECTION_GRAPH, outputs=["detections"], calculator_params=self._params, threads=1)
            graph.process({"image": np.zeros((64, 64, 3), np.uint8)})
            self._graphs.append(graph)
            self._idle_graphs.put(graph)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for graph in self._graphs:
            graph.close()

    def with_views(self, tiles: int, turns: tuple[int, ...], min_score: float) -> "PersonDetector":
        """The same running detector looking at other views and keeping people scored at least min_score
        (no higher than its own threshold: no second model is loaded): close only the detector it came from."""
        if tiles not in (0, 1, 2):
            raise ValueError(f"tiles must be 0, 1 or 2, got {tiles}")
        if min_score < self.min_score:
            raise ValueError(f"min_score {min_score} is below the running detector's threshold {self.min_score}")
        other = copy.copy(self)
        other.tiles, other.turns, other.min_score = tiles, tuple(turns), min_score
        return other

    def find(self, image_rgb: np.ndarray, turned: bool = True) -> list[list[PersonRegion]]:
        """(H, W, 3) uint8 RGB -> per person, the regions the views found for it (image px), best score
        first; people by their best score. turned: False looks at the upright views only (the whole
        image and its tiles), leaving out the quarter turns."""
        height, width = image_rgb.shape[:2]
        short = min(width, height)
        sides = [short, short // 2][: self.tiles]
        tiles = [tile for side in sides for tile in square_tiles(width, height, side)]
        # The detector sees 224 px whatever it is given; handing it a big frame costs more (copying
        # and resizing inside the graph) than its model. Shrink once, so the smallest tile is about 224 px.
        scale = min(1.0, DETECTOR_SIDE / (min(sides) if tiles else max(width, height)))
        small = image_rgb
        if scale < 1.0:
            small = cv2.resize(image_rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        views = [(small, 0, 0, 0)]
        for x0, y0, side in tiles:
            x0, y0, side = (int(round(v * scale)) for v in (x0, y0, side))
            views.append((small[y0 : y0 + side, x0 : x0 + side], x0, y0, 0))
        for turns in self.turns if turned else ():
            views.append((np.rot90(small, turns), 0, 0, turns, *small.shape[1::-1]))
        found = [region for regions in self._in_views(views) for region in regions]
        return group_by_person([scaled(region, 1 / scale) for region in found if region.score >= self.min_score])

    def _in_views(self, views: list[tuple]) -> list[list[PersonRegion]]:
        """_in_view of each view (its arguments), side by side where there are several, in order."""
        # Silenced here, once: quiet_stderr swaps the process's stderr, which threads must not do at once.
        with quiet_stderr():
            if self._pool is None or len(views) == 1:
                return [self._in_view(*view) for view in views]
            self._add_graphs(len(views))
            return list(self._pool.map(lambda view: self._in_view(*view), views))

    def find_near(self, image_rgb: np.ndarray, box: np.ndarray) -> PersonRegion | None:
        """The best-scoring person whose hips lie in box (4,) x0, y0, x1, y1 px grown by a quarter on each
        side (a box may hold the upper body only), looking only at a square around it (a video's
        predicted box the landmark model found empty), or None."""
        height, width = image_rgb.shape[:2]
        center = (box[:2] + box[2:]) / 2
        half = max(box[2] - box[0], box[3] - box[1])  # a square twice the box's long side
        x0, y0 = (max(0, int(c - half)) for c in center)
        x1, y1 = min(width, int(center[0] + half)), min(height, int(center[1] + half))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        scale = min(1.0, DETECTOR_SIDE / max(x1 - x0, y1 - y0))
        view = cv2.resize(image_rgb[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        [in_view] = self._in_views([(view, 0, 0, 0)])
        found = [scaled(region, 1 / scale) for region in in_view]
        margin = (box[2:] - box[:2]) / 4
        hips = [r.center + [x0, y0] for r in found]  # in image px
        inside = [r for r, h in zip(found, hips) if np.all((box[:2] - margin <= h) & (h <= box[2:] + margin))]
        if not inside:
            return None
        best = max(inside, key=lambda r: r.score)
        offset = np.array([x0, y0], np.float64)
        return PersonRegion(best.center + offset, best.size, best.rotation, best.score, best.face_box + np.tile(offset, 2))

    def _in_view(
        self, view: np.ndarray, x0: int, y0: int, turns: int, width: int = 0, height: int = 0
    ) -> list[PersonRegion]:
        """Detections in a view of the image (a crop at x0, y0, or the whole image turned) in image px, on
        whichever graph is idle (callers silence stderr: _in_views)."""
        view_height, view_width = view.shape[:2]
        graph = self._idle_graphs.get()
        try:
            detections = graph.process({"image": np.ascontiguousarray(view)}).detections or []
        finally:
            self._idle_graphs.put(graph)
        regions = []
        for detection in detections:
            location = detection.location_data
            box = location.relative_bounding_box
            points = np.array(
                [[k.x, k.y] for k in location.relative_keypoints[:2]]
                + [[box.xmin, box.ymin], [box.xmin + box.width, box.ymin + box.height]]
            ) * [view_width, view_height]  # (4, 2): hips, body point, face box corners
            if turns:
                points = unturn(points, turns, width, height)
            points += [x0, y0]
            face = np.concatenate([points[2:].min(0), points[2:].max(0)])
            regions.append(region_from_keypoints(points[0], points[1], score=float(detection.score[0]), face_box=face))
        return regions


def scaled(region: PersonRegion, factor: float) -> PersonRegion:
    """The region in an image resized by factor."""
    face = None if region.face_box is None else region.face_box * factor
    return PersonRegion(region.center * factor, region.size * factor, region.rotation, region.score, face)


def same_person(a: PersonRegion, b: PersonRegion) -> bool:
    """Two detections of one person (from two views): their face boxes overlap as MediaPipe's own
    merging asks, or their bodies' squares nearly coincide (a face seen in one view only)."""
    if box_iou(a.face_box, b.face_box) > SAME_FACE_IOU:
        return True
    small, large = sorted((a.size, b.size))
    near = np.linalg.norm(a.center - b.center) < SAME_BODY_DISTANCE * small
    return bool(near and large < SAME_BODY_SIZE_RATIO * small)


def group_by_person(regions: list[PersonRegion]) -> list[list[PersonRegion]]:
    """The regions of each person, best score first; people ordered by their best score."""
    groups: list[list[PersonRegion]] = []
    for region in sorted(regions, key=lambda r: -r.score):
        group = next((g for g in groups if same_person(region, g[0])), None)
        if group is None:
            groups.append([region])
        else:
            group.append(region)
    return groups
