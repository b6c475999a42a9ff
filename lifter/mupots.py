"""MuPoTS-3D from SVMAC_DATA (mupots/mupots_h36m17.npz): real 3D people, indoors and outdoors,
with the exact 2D projection of their joints, already in Human3.6M-17 order. A second mocap
dataset the lifter never trains on: the cross-dataset benchmark (benchmarks/cross_dataset.py).

Only the annotation rows MuPoTS marks valid are kept, and only the 15 joints its README scores:
Neck/Nose and Head have no MuPoTS counterpart (they are approximations there), so they feed the
lifter's 2D input but are never scored.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifter.data import load_npz
from lifter.errors import SvmacError
from lifter.inference import to_reference_scale
from lifter.metrics import auc, joint_errors, p_mpjpe, pck, procrustes_align
from lifter.skeleton import BONES, JOINT_NAMES, ROOT

MUPOTS_FILE = "mupots/mupots_h36m17.npz"


@dataclass
class MupotsSet:
    pose_2d: np.ndarray  # (N, 17, 2) float32 pixels, the exact projection of pose_3d
    pose_3d: np.ndarray  # (N, 17, 3) float64 camera frame, millimetres, root-relative (Hip at 0)
    sequence: np.ndarray  # (N,) str, "TS1" ... "TS20"
    indoor: np.ndarray  # (N,) bool, TS1-TS5
    scored: np.ndarray  # (17,) bool, the 15 joints scored

    def __len__(self) -> int:
        return len(self.pose_2d)

    def select(self, keep: np.ndarray) -> "MupotsSet":
        """The poses where keep (N,) bool is true."""
        return MupotsSet(self.pose_2d[keep], self.pose_3d[keep], self.sequence[keep], self.indoor[keep], self.scored)


def sequence_order(names) -> list[str]:
    """'TS1', 'TS2', ..., 'TS20' in numeric order."""
    return sorted(set(names), key=lambda name: int(name[2:]))


def load_mupots(root: Path) -> MupotsSet:
    """The valid MuPoTS rows of the data folder root, with a one-line error when the file is absent
    or not the expected one."""
    arrays = load_npz(root / MUPOTS_FILE)
    needed = ("pose_2d_px", "pose_3d_mm", "valid", "sequence", "indoor", "joint_scored", "joint_names")
    missing = [key for key in needed if key not in arrays]
    if missing:
        raise SvmacError(f"{root / MUPOTS_FILE} lacks {', '.join(missing)}")
    if tuple(arrays["joint_names"]) != JOINT_NAMES:
        raise SvmacError(f"{root / MUPOTS_FILE} is not in Human3.6M-17 joint order")
    valid = arrays["valid"].astype(bool)
    return MupotsSet(
        pose_2d=arrays["pose_2d_px"][valid].astype(np.float32),
        pose_3d=arrays["pose_3d_mm"][valid].astype(np.float64),
        sequence=arrays["sequence"][valid],
        indoor=arrays["indoor"][valid].astype(bool),
        scored=arrays["joint_scored"].astype(bool),
    )


def score(pred: np.ndarray, data: MupotsSet) -> dict[str, float]:
    """Metrics of root-relative predictions (N, 17, 3) (any scale) on the scored joints.

    p_mpjpe: per-pose similarity Procrustes without reflection (the headline, as on Human3.6M);
    p_mpjpe_reflection: the alignment may mirror (ElePose-style). pck150 and auc: after the same
    Procrustes alignment, like the paper's Table 3 ("scaling and rigid alignment");
    pck150_scaled and auc_scaled: only scaled to the truth's mean joint-to-root distance, root at
    the origin, like its Table 2 (no rigid alignment). Means over all poses given.
    """
    scored = data.scored
    pred, gt = pred[:, scored].astype(np.float64), data.pose_3d[:, scored]
    scaled = to_reference_scale(pred - pred[:, :1], gt - gt[:, :1])
    aligned_errors = joint_errors(procrustes_align(pred, gt), gt)  # (N, 15)
    scaled_errors = joint_errors(scaled, gt - gt[:, :1])
    return {
        "p_mpjpe": float(aligned_errors.mean()),
        "p_mpjpe_reflection": float(p_mpjpe(pred, gt, allow_reflection=True).mean()),
        "pck150": pck(aligned_errors),
        "auc": auc(aligned_errors),
        "mpjpe_scaled": float(scaled_errors.mean()),
        "pck150_scaled": pck(scaled_errors),
        "auc_scaled": auc(scaled_errors),
        "poses": int(len(gt)),
    }


def flat_pose(data: MupotsSet) -> np.ndarray:
    """The sanity floor: the 2D input with zero depth, root-relative. -> (N, 17, 3)"""
    flat = np.concatenate([data.pose_2d, np.zeros_like(data.pose_2d[..., :1])], -1).astype(np.float64)
    return flat - flat[:, ROOT : ROOT + 1]


def with_bone_lengths(pose_3d: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Rebuild (N, 17, 3) poses from the root outwards keeping every bone's direction but giving
    it the given length (16,), one per lifter.skeleton.BONES entry."""
    rebuilt = np.zeros_like(pose_3d)
    rebuilt[:, ROOT] = pose_3d[:, ROOT]
    for (parent, child), length in zip(BONES, lengths):  # BONES lists each parent before its children
        direction = pose_3d[:, child] - pose_3d[:, parent]
        direction /= np.linalg.norm(direction, axis=-1, keepdims=True).clip(min=1e-9)
        rebuilt[:, child] = rebuilt[:, parent] + length * direction
    return rebuilt
