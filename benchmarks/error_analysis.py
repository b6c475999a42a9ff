"""Where a lifter's error sits, on S9/S11 (4 cameras, every k-th frame, ground-truth 2D):
per-joint error after alignment, the effect of scaling or mirroring all predicted depths, and
the floor of the lifting model itself (the true depths lifted with X = x Z, root at depth c).

Usage: python benchmarks/error_analysis.py --weights W [--data DIR] [--frame-step 64] [--out FILE.md]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lifter.checkpoint import atomic_write_text, load_generator
from lifter.data import CAMERAS, TEST_SUBJECTS, data_root, load_cameras, load_h36m
from lifter.evaluate import predict_in_mm
from lifter.geometry import lift, mean_root_distance, normalise_2d, root_centre
from lifter.metrics import p_mpjpe, procrustes_align
from lifter.skeleton import JOINT_NAMES


def true_depth_floor(root: Path, poses) -> float:
    """P-MPJPE of the input 2D lifted with the ground-truth depths converted to the lifter's units."""
    cameras = load_cameras(root)
    focal = np.array([cameras[(s, c)].f.mean() for s, c in zip(poses.subject, poses.camera)])
    pose_2d = torch.from_numpy(poses.pose_2d).double()
    pose_3d = torch.from_numpy(poses.pose_3d).double()
    root_depth = pose_3d[:, 0, 2]
    # One lifter unit is root_depth * (2D mean root distance in px) / focal millimetres.
    depth = (pose_3d[..., 2] - root_depth[:, None]) * torch.from_numpy(focal)[:, None]
    depth = depth / (root_depth * mean_root_distance(pose_2d))[:, None]
    lifted = lift(normalise_2d(pose_2d), depth).numpy()
    return float(p_mpjpe(lifted, root_centre(pose_3d).numpy()).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True, type=Path)
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--frame-step", type=int, default=64)
    p.add_argument("--out", type=Path, default=Path("reports/error_analysis.md"))
    args = p.parse_args()
    root = data_root(args.data)
    poses = load_h36m(root, TEST_SUBJECTS, CAMERAS, args.frame_step)
    pred, gt = predict_in_mm(load_generator(args.weights), poses)
    per_pose = p_mpjpe(pred, gt)
    per_joint = np.linalg.norm(procrustes_align(pred, gt) - gt, axis=-1).mean(0)
    mirrored = pred * np.array([1.0, 1.0, -1.0])
    scales = (0.6, 0.8, 1.0, 1.2, 1.4)
    scaled = [float(p_mpjpe(pred * np.array([1.0, 1.0, s]), gt).mean()) for s in scales]
    lines = [
        "# Error analysis\n",
        f"Weights `{args.weights}`; Human3.6M S9/S11, 4 cameras, every {args.frame_step}th frame, ground-truth 2D "
        f"({len(gt)} poses). Produced by `python benchmarks/error_analysis.py {' '.join(sys.argv[1:])}`.\n",
        f"- P-MPJPE: mean {per_pose.mean():.1f} mm, median {np.median(per_pose):.1f}, 90th percentile "
        f"{np.percentile(per_pose, 90):.1f}.",
        f"- Poses closer to the truth with all depths mirrored: {(p_mpjpe(mirrored, gt) < per_pose).mean() * 100:.1f} %.",
        "- All predicted depths scaled by s: "
        + ", ".join(f"s = {s}: {e:.1f} mm" for s, e in zip(scales, scaled))
        + ".",
        f"- Floor of the lifting model (true depths, X = x Z with the root at depth c): "
        f"{true_depth_floor(root, poses):.1f} mm.\n",
        "| joint | " + " | ".join(JOINT_NAMES) + " |",
        "|---|" + "---:|" * len(JOINT_NAMES),
        "| error after alignment (mm) | " + " | ".join(f"{e:.1f}" for e in per_joint) + " |",
    ]
    text = "\n".join(lines) + "\n"
    atomic_write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
