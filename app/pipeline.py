"""Photo -> detected people -> Human3.6M-17 2D joints -> 3D pose, for one image or many.

Detection runs image by image; lifting runs on every person of many images at once, because
the lifter is a small MLP whose cost per call dwarfs its cost per pose.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from detector_adapters.base import DetectedPerson, Detector
from detector_adapters.keypoint_mapping import MAPPINGS, map_keypoints
from lifter.checkpoint import file_sha256, load_generator
from lifter.errors import SvmacError
from lifter.inference import lift_poses, pick_device
from lifter.priors import complete_missing_joints, metric_scale

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WEIGHTS = REPOSITORY_ROOT / "weights" / "svmac_h36m_v2.safetensors"


@dataclass(frozen=True)
class LiftedPerson:
    detection: DetectedPerson  # what the detector returned, in its own keypoint format
    keypoints_2d: np.ndarray  # (17, 2) pixels, H36M-17; joints the source lacked are filled in
    scores: np.ndarray  # (17,) confidence of each joint; 0 for filled-in joints
    imputed: np.ndarray  # (17,) bool: joint filled from the body template, not observed
    pose_3d: np.ndarray  # (17, 3) root-relative camera frame, normalised units (see docs/output_format.md)
    pose_3d_mm: np.ndarray  # (17, 3) the same pose scaled to the training subjects' bone lengths
    camera: np.ndarray  # (2, 3) estimated weak-perspective camera K
    detector_pose_3d: np.ndarray | None  # (17, 3) metres: the detector's own 3D, mapped to H36M-17


@dataclass
class ImageResult:
    path: Path
    image: np.ndarray  # (H, W, 3) uint8 RGB, upright
    people: list[LiftedPerson] = field(default_factory=list)
    not_lifted: list[str] = field(default_factory=list)  # one reason per detected person left out
    detect_seconds: float = 0.0


class Lifter:
    """The SVMAC generator with its weights file's identity."""

    def __init__(self, weights: Path = DEFAULT_WEIGHTS, device: str = "auto", flip_average: bool = False) -> None:
        self.weights = Path(weights)
        self.device = pick_device(device)
        self.flip_average = flip_average
        self.generator = load_generator(self.weights, self.device)
        self.sha256 = file_sha256(self.weights)

    def lift(self, keypoints_2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 17, 2) pixels -> root-relative 3D (N, 17, 3) normalised units, cameras (N, 2, 3)."""
        return lift_poses(self.generator, keypoints_2d.astype(np.float32), flip_average=self.flip_average)


@dataclass(frozen=True)
class PreparedPerson:
    detection: DetectedPerson
    keypoints_2d: np.ndarray  # (17, 2)
    scores: np.ndarray  # (17,)
    imputed: np.ndarray  # (17,)
    detector_pose_3d: np.ndarray | None  # (17, 3)


def prepare(detection: DetectedPerson) -> PreparedPerson:
    """Map a detection to H36M-17 and fill joints it lacks. Raises SvmacError if it cannot be lifted."""
    mapping = MAPPINGS[detection.keypoint_format]
    keypoints, scores = map_keypoints(mapping, detection.keypoints, detection.scores)
    completed, imputed = complete_missing_joints(keypoints)
    world = None
    if detection.world_keypoints is not None:
        world, _ = map_keypoints(mapping, detection.world_keypoints, detection.scores)
        world = world - world[0]  # root-relative, like the lifter's output
    return PreparedPerson(detection, completed, np.where(imputed, 0.0, scores), imputed, world)


def detect_image(detector: Detector, path: Path, image: np.ndarray) -> tuple[list[DetectedPerson], float]:
    start = time.perf_counter()
    # The ground-truth "detector" finds people by the image's file name, not its pixels.
    detect_path = getattr(detector, "detect_path", None)
    people = detect_path(path, image) if detect_path is not None else detector.detect(image)
    return people, time.perf_counter() - start


def lift_results(lifter: Lifter, results: list[ImageResult], detections: list[list[DetectedPerson]]) -> float:
    """Prepare and lift every detected person of several images in one batch; fills results[i].people.

    Returns the seconds spent lifting."""
    prepared: list[tuple[int, PreparedPerson]] = []
    for index, (result, people) in enumerate(zip(results, detections)):
        for number, detection in enumerate(people):
            try:
                prepared.append((index, prepare(detection)))
            except SvmacError as err:
                result.not_lifted.append(f"person {number}: {err}")
    if not prepared:
        return 0.0
    start = time.perf_counter()
    poses, cameras = lifter.lift(np.stack([person.keypoints_2d for _, person in prepared]))
    seconds = time.perf_counter() - start
    scales = metric_scale(poses.astype(np.float64))
    for (index, person), pose, camera, scale in zip(prepared, poses, cameras, scales):
        results[index].people.append(
            LiftedPerson(
                detection=person.detection,
                keypoints_2d=person.keypoints_2d,
                scores=person.scores,
                imputed=person.imputed,
                pose_3d=pose.astype(np.float64),
                pose_3d_mm=pose.astype(np.float64) * scale,
                camera=camera.astype(np.float64),
                detector_pose_3d=person.detector_pose_3d,
            )
        )
    return seconds
