"""The one interface every 2D front-end implements.

A detector takes an RGB uint8 image (H, W, 3) and returns the people it found, each with
keypoints in pixels of that image (x right, y down, origin at the top-left corner of the
top-left pixel), per-joint scores in [0, 1], a bounding box and the name of its keypoint
format. Finding nobody is a normal outcome: an empty list.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Keypoint formats the mapping layer knows (detector_adapters.keypoint_mapping.MAPPINGS).
KEYPOINT_FORMATS: tuple[str, ...] = ("coco17", "mpii16", "lsp14", "mediapipe33", "h36m17")


@dataclass(frozen=True)
class DetectedPerson:
    keypoints: np.ndarray  # (K, 2) float pixels of the input image
    scores: np.ndarray  # (K,) in [0, 1]; 0 = absent / not annotated
    bbox: np.ndarray  # (4,) x0, y0, x1, y1 pixels
    keypoint_format: str  # one of KEYPOINT_FORMATS
    # The detector's own 3D estimate, when it has one (MediaPipe's world landmarks):
    # (K, 3) metres, origin between the hips, x right, y down, z away from the camera.
    world_keypoints: np.ndarray | None = None
    # How sure the detector is that this is a person, in [0, 1] (MediaPipe: its person detector's score).
    score: float | None = None

    def __post_init__(self) -> None:
        if self.keypoint_format not in KEYPOINT_FORMATS:
            raise ValueError(f"unknown keypoint format {self.keypoint_format!r}")
        if self.keypoints.ndim != 2 or self.keypoints.shape[1] != 2:
            raise ValueError(f"keypoints must be (K, 2), got {self.keypoints.shape}")
        if self.scores.shape != self.keypoints.shape[:1]:
            raise ValueError(f"scores must be ({len(self.keypoints)},), got {self.scores.shape}")


def bbox_of(keypoints: np.ndarray, scores: np.ndarray, min_score: float = 0.0) -> np.ndarray:
    """Tight box around the keypoints whose score exceeds min_score (all if none does). -> (4,)"""
    chosen = keypoints[scores > min_score] if np.any(scores > min_score) else keypoints
    return np.concatenate([chosen.min(0), chosen.max(0)]).astype(np.float64)


def box_area(box: np.ndarray) -> float:
    """Area of a (4,) x0, y0, x1, y1 box (0 for an empty one)."""
    return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (4,) x0, y0, x1, y1 boxes."""
    inter = box_area(np.array([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]))
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


class Detector(Protocol):
    name: str  # "mediapipe", "mmpose", "gt"
    keypoint_format: str

    def detect(self, image_rgb: np.ndarray) -> list[DetectedPerson]:
        """image_rgb: (H, W, 3) uint8, RGB channel order."""
        ...
