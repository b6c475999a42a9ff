"""Named tables that map a detector's keypoint format to the Human3.6M-17 joints.

Each H36M-17 joint is a weighted mean of source joints (weights sum to 1). A derived joint is
no more confident than its least confident source.
"""

from dataclasses import dataclass

import numpy as np

from lifter.skeleton import JOINT_NAMES, NUM_JOINTS

MPII16_NAMES: tuple[str, ...] = (
    "RAnkle", "RKnee", "RHip", "LHip", "LKnee", "LAnkle", "Pelvis", "Thorax",
    "UpperNeck", "HeadTop", "RWrist", "RElbow", "RShoulder", "LShoulder", "LElbow", "LWrist",
)  # fmt: skip


@dataclass(frozen=True)
class KeypointMapping:
    source_format: str
    source_names: tuple[str, ...]
    # For each H36M-17 joint, in order: ((source joint name, weight), ...)
    rules: tuple[tuple[tuple[str, float], ...], ...]

    def weight_matrix(self) -> np.ndarray:
        """(17, S) matrix W with h36m = W @ source."""
        weights = np.zeros((NUM_JOINTS, len(self.source_names)))
        for target, rule in enumerate(self.rules):
            for name, weight in rule:
                weights[target, self.source_names.index(name)] = weight
        return weights


# MPII-16 (also the Stacked-Hourglass order of the H36M detections) -> H36M-17.
# MPII's thorax sits between the hips and shoulders' midpoint, its upper neck where H36M puts
# the Thorax; H36M's Spine, Neck/Nose and Head lie between MPII joints. The weights of the
# three blended joints are least-squares fits of the SH detections to the ground-truth 2D of
# H36M S1, S5-S8 (benchmarks/fit_mpii_derived_joints.py, reports/mpii_derived_joints.md).
MPII16_TO_H36M17 = KeypointMapping(
    source_format="mpii16",
    source_names=MPII16_NAMES,
    rules=(
        (("Pelvis", 1.0),),  # Hip
        (("RHip", 1.0),),
        (("RKnee", 1.0),),
        (("RAnkle", 1.0),),  # RFoot
        (("LHip", 1.0),),
        (("LKnee", 1.0),),
        (("LAnkle", 1.0),),  # LFoot
        (("Pelvis", 0.42), ("Thorax", 0.58)),  # Spine
        (("UpperNeck", 1.0),),  # Thorax
        (("UpperNeck", 0.78), ("HeadTop", 0.22)),  # Neck/Nose
        (("UpperNeck", 0.52), ("HeadTop", 0.48)),  # Head
        (("LShoulder", 1.0),),
        (("LElbow", 1.0),),
        (("LWrist", 1.0),),
        (("RShoulder", 1.0),),
        (("RElbow", 1.0),),
        (("RWrist", 1.0),),
    ),
)
assert len(MPII16_TO_H36M17.rules) == len(JOINT_NAMES)


def map_keypoints(
    mapping: KeypointMapping, keypoints: np.ndarray, scores: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Map (..., S, 2) keypoints and (..., S) scores to H36M-17: (..., 17, 2), (..., 17).

    Without scores every source joint counts as fully confident.
    """
    weights = mapping.weight_matrix()  # (17, S)
    mapped = np.einsum("ts,...sd->...td", weights, keypoints.astype(np.float64))
    if scores is None:
        scores = np.ones(keypoints.shape[:-1])
    used = weights > 0  # (17, S)
    mapped_scores = np.where(used, scores[..., None, :], np.inf).min(-1)  # (..., 17)
    return mapped, mapped_scores
