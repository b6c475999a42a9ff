"""In-the-wild 2D poses from SVMAC_DATA, mapped to the lifter's Human3.6M-17 joints: extra
unsupervised training data (lifter inputs, critic real samples) beside Human3.6M's 2D.

- "mpii": shared/data/mpii2d, 19,919 MPII Human Pose annotations in H36M-17 order but with
  MPII's upper body (lifter.joint_formats.MPII_IN_H36M_ORDER_TO_H36M17);
- "lspet": shared/data/lspet2d, LSP-14 sports poses (lifter.joint_formats.LSP14_TO_H36M17).
  Only the 3,605 of 9,660 poses with all 14 joints annotated are used: a joint whose flag is 0 is
  not "occluded, best guess" as the file's README says but absent, its position a placeholder at
  x <= 0 (measured: all 16,787 flag-0 joints, none of the flag-1 ones), and filling it in from a
  template would feed the critic made-up joints.

The derived joints (Hip, Spine, Thorax, Neck/Nose, Head) come from the same measured rules the
detector adapters use (docs/keypoint_mapping.md); where they still land apart from Human3.6M's
own joints is measured by benchmarks/wild_2d_conventions.py.
"""

from pathlib import Path

import numpy as np

from lifter.data import load_npz
from lifter.errors import SvmacError
from lifter.joint_formats import LSP14_TO_H36M17, MPII_IN_H36M_ORDER_TO_H36M17, map_keypoints

MPII_FILE = "mpii2d/mpii_2d_h36m17_px.npz"
LSPET_FILE = "lspet2d/lspet_2d_lsp14_px.npz"
WILD_SOURCES = ("mpii", "lspet")


def _array(root: Path, name: str, key: str, shape: tuple[int, ...]) -> np.ndarray:
    arrays = load_npz(root / name)
    if key not in arrays or arrays[key].shape[1:] != shape:
        raise SvmacError(f"{root / name} has no {key} array of shape (N, {', '.join(map(str, shape))})")
    return arrays[key].astype(np.float64)


def load_mpii_2d(root: Path) -> np.ndarray:
    """MPII's 2D poses mapped to H36M-17. -> (N, 17, 2) float32 pixels of the MPII photos"""
    poses = _array(root, MPII_FILE, "poses", (17, 2))
    mapped, _ = map_keypoints(MPII_IN_H36M_ORDER_TO_H36M17, poses)
    return mapped.astype(np.float32)


def load_lspet_2d(root: Path) -> np.ndarray:
    """LSPET's fully annotated 2D poses mapped to H36M-17. -> (N, 17, 2) float32 pixels"""
    joints = _array(root, LSPET_FILE, "joints", (14, 3))  # x, y, annotated flag
    complete = joints[(joints[..., 2] == 1).all(-1)]
    mapped, _ = map_keypoints(LSP14_TO_H36M17, complete[..., :2])
    return mapped.astype(np.float32)


LOADERS = {"mpii": load_mpii_2d, "lspet": load_lspet_2d}


def parse_sources(text: str) -> tuple[str, ...]:
    """'mpii,lspet' -> ('mpii', 'lspet'); '' -> (). One-line error for an unknown name."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(set(names) - set(WILD_SOURCES))
    if unknown:
        raise SvmacError(f"unknown in-the-wild 2D source {', '.join(unknown)}; use {', '.join(WILD_SOURCES)}")
    return tuple(dict.fromkeys(names))  # each once, in the order given


def load_wild_2d(root: Path, sources: tuple[str, ...]) -> np.ndarray:
    """The poses of the named sources, concatenated. -> (N, 17, 2) float32 pixels"""
    return np.concatenate([LOADERS[name](root) for name in sources])
