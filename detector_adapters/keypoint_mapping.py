"""The keypoint tables by detector format, and a detected person mapped to Human3.6M-17.

The tables themselves (names, rules, map_keypoints) live in lifter/joint_formats.py, where the
lifter's data loaders can use them too without importing this layer; they are re-exported here
for the detector side. Where each rule comes from: docs/keypoint_mapping.md.
"""

import numpy as np

from detector_adapters.base import DetectedPerson
from lifter.joint_formats import (  # noqa: F401  (re-exported for the detector side)
    COCO17_NAMES,
    COCO17_TO_H36M17,
    H36M17,
    H36M17_NAMES,
    H36M17_TO_H36M17,
    LSP14_NAMES,
    LSP14_TO_H36M17,
    MEDIAPIPE33_NAMES,
    MEDIAPIPE33_TO_COCO17,
    MEDIAPIPE33_TO_H36M17,
    MPII16_NAMES,
    MPII16_TO_H36M17,
    KeypointMapping,
    map_keypoints,
)

# Keyed by the names of detector_adapters.base.KEYPOINT_FORMATS.
MAPPINGS: dict[str, KeypointMapping] = {
    "coco17": COCO17_TO_H36M17,
    "mpii16": MPII16_TO_H36M17,
    "lsp14": LSP14_TO_H36M17,
    "mediapipe33": MEDIAPIPE33_TO_H36M17,
    "h36m17": H36M17_TO_H36M17,
}


def to_h36m17(person: DetectedPerson) -> tuple[np.ndarray, np.ndarray]:
    """A detected (or annotated) person in any known format -> H36M-17 keypoints (17, 2) px, scores (17,)."""
    return map_keypoints(MAPPINGS[person.keypoint_format], person.keypoints, person.scores)
