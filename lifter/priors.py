"""Human body priors measured on the Human3.6M training subjects (S1, S5, S6, S7, S8).

- MEAN_BONE_LENGTHS_MM: gives the scale-free lifter's output a size in millimetres, assuming
  the person has the training subjects' average body size.
- FRONT_TEMPLATE_MM: the average pose seen from the front, used only to fill in 2D joints an
  annotation does not have, so the lifter always gets 17 joints.

The constants are recomputed from the data by `python -m lifter.priors --data DIR` and checked
against it by tests/test_priors.py.
"""

import argparse
from pathlib import Path

import numpy as np

from lifter.data import POSES_FILE, TRAIN_SUBJECTS, data_root, load_npz
from lifter.errors import SvmacError
from lifter.metrics import similarity_fit
from lifter.skeleton import BONES, LEFT_JOINTS, RIGHT_JOINTS, ROOT

# One per lifter.skeleton.BONES entry (parent -> child), mean over every 10th training frame.
MEAN_BONE_LENGTHS_MM = np.array(
    [134.5, 449.9, 445.9, 134.5, 449.9, 445.9, 239.3, 255.4, 116.3, 115.0, 149.3, 280.4, 249.6, 149.3, 280.4, 249.6]
)  # fmt: skip

# (17, 2) mm, root at the origin, x = the person's left (image right when facing the camera), y down.
FRONT_TEMPLATE_MM = np.array(
    [
        [0.0, 0.0], [-133.3, -4.9], [-118.2, 330.4], [-96.3, 715.4], [133.3, 4.9], [129.2, 333.2],
        [110.3, 729.1], [-3.4, -218.2], [-8.3, -448.6], [-14.5, -508.2], [-22.9, -602.3], [126.2, -398.6],
        [246.6, -198.8], [191.1, -128.1], [-140.5, -393.4], [-255.2, -200.0], [-206.6, -173.4],
    ]
)  # fmt: skip

FRAME_STEP = 10


def compute_priors(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """-> (mean bone lengths (16,) mm, front template (17, 2) mm) from the training subjects."""
    poses = load_npz(root / POSES_FILE)
    keys = [key for key in sorted(poses) if key.split("/")[0] in TRAIN_SUBJECTS]
    world = np.concatenate([poses[key][::FRAME_STEP] for key in keys]).astype(np.float64)  # (N, 17, 3), z up
    world = world - world[:, ROOT : ROOT + 1]
    bones = np.stack([np.linalg.norm(world[:, child] - world[:, parent], axis=-1) for parent, child in BONES], 1)

    # Turn each pose about the vertical so its right-to-left hip line is the +x axis: seen from
    # the front, the person's left is then on the right of the picture, as a camera sees it.
    hips = world[:, LEFT_JOINTS[0], :2] - world[:, RIGHT_JOINTS[0], :2]  # (N, 2)
    angle = np.arctan2(hips[:, 1], hips[:, 0])[:, None]  # (N, 1)
    x = np.cos(angle) * world[..., 0] + np.sin(angle) * world[..., 1]  # (N, 17)
    y_down = -world[..., 2]
    template = np.stack([x, y_down], -1).mean(0)  # (17, 2)
    return bones.mean(0), template


def metric_scale(pose_3d: np.ndarray) -> np.ndarray:
    """Factor that gives (..., 17, 3) poses the training subjects' total bone length. -> (...,)"""
    lengths = np.stack([np.linalg.norm(pose_3d[..., c, :] - pose_3d[..., p, :], axis=-1) for p, c in BONES], -1)
    return MEAN_BONE_LENGTHS_MM.sum() / np.maximum(lengths.sum(-1), 1e-12)


def fit_transform(source: np.ndarray, target: np.ndarray, affine: bool) -> np.ndarray:
    """Least-squares map of (M, 2) source points onto target points: (3, 2) matrix A with
    target ~ [source, 1] @ A. Affine when asked (absorbs the foreshortening of a turned body),
    otherwise a similarity (scale, rotation, translation)."""
    if affine:
        design = np.concatenate([source, np.ones((len(source), 1))], 1)
        return np.linalg.lstsq(design, target, rcond=None)[0]
    scale, rotation, src_mean, tgt_mean = similarity_fit(source[None], target[None])
    linear = scale[0] * rotation[0]  # (2, 2), applied as source @ linear
    return np.concatenate([linear, tgt_mean[0] - src_mean[0] @ linear], 0)


# An affine fit needs enough joints to be trustworthy; a similarity needs two.
MIN_JOINTS_AFFINE = 8
MIN_JOINTS = 4


def complete_missing_joints(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill non-finite joints of (17, 2) keypoints from the front template fitted to the others.

    Returns (completed (17, 2), imputed (17,) bool). Raises SvmacError if fewer than MIN_JOINTS
    joints are known: the pose cannot be placed then.
    """
    known = np.isfinite(keypoints).all(-1)
    if known.all():
        return keypoints.copy(), ~known
    if known.sum() < MIN_JOINTS:
        raise SvmacError(f"only {known.sum()} of 17 joints located; at least {MIN_JOINTS} are needed")
    transform = fit_transform(FRONT_TEMPLATE_MM[known], keypoints[known], affine=known.sum() >= MIN_JOINTS_AFFINE)
    filled = np.concatenate([FRONT_TEMPLATE_MM, np.ones((17, 1))], 1) @ transform
    completed = np.where(known[:, None], keypoints, filled)
    return completed, ~known


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lifter.priors", description="Recompute the body priors.")
    parser.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    args = parser.parse_args(argv)
    try:
        bones, template = compute_priors(data_root(args.data))
    except SvmacError as err:
        parser.exit(2, f"error: {err}\n")
    np.set_printoptions(suppress=True)
    print("MEAN_BONE_LENGTHS_MM =", np.round(bones, 1).tolist())
    print("FRONT_TEMPLATE_MM =", np.round(template, 1).tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
