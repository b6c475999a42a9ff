"""Where each 2D source's derived joints land, after mapping to Human3.6M-17: Human3.6M's own
ground-truth 2D, its Stacked-Hourglass detections, and the in-the-wild MPII and LSPET poses.

Hip, Spine, Thorax, Neck/Nose and Head are placed by rules (lifter/joint_formats.py) from
joints each source names differently; a lifter trained on one placement and fed another is
biased. Measured on upright poses seen roughly from the front or back (torso within 15 degrees of
the image vertical, shoulder width over 0.6 torso lengths), so that the pose mix matters less:
the median height of each joint above the shoulders' midpoint, along the hips-to-shoulders
axis, in torso lengths (hips' midpoint to shoulders' midpoint).
Writes reports/wild_2d_conventions.md and .json.

Usage: python benchmarks/wild_2d_conventions.py [--data DIR] [--frame-step 50] [--out reports/wild_2d_conventions]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from lifter.checkpoint import write_report
from lifter.data import CAMERAS, TRAIN_SUBJECTS, data_root, load_h36m
from lifter.skeleton import JOINT_NAMES
from lifter.wild_2d import load_lspet_2d, load_mpii_2d

DERIVED = ("Hip", "Spine", "Thorax", "Neck/Nose", "Head")
J = {name: i for i, name in enumerate(JOINT_NAMES)}
MAX_TILT_DEG = 15.0
MIN_SHOULDER_WIDTH = 0.6


def heights_above_shoulders(pose_2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 17, 2) pixels, y down -> (heights (M, 5) of DERIVED in torso lengths, kept (N,) bool)."""
    hips = (pose_2d[:, J["LHip"]] + pose_2d[:, J["RHip"]]) / 2
    shoulders = (pose_2d[:, J["LShoulder"]] + pose_2d[:, J["RShoulder"]]) / 2
    torso = shoulders - hips  # (N, 2)
    length = np.linalg.norm(torso, axis=-1)
    up = torso / length.clip(min=1e-9)[:, None]
    width = np.linalg.norm(pose_2d[:, J["LShoulder"]] - pose_2d[:, J["RShoulder"]], axis=-1) / length.clip(min=1e-9)
    kept = (-up[:, 1] > np.cos(np.radians(MAX_TILT_DEG))) & (width > MIN_SHOULDER_WIDTH)
    offsets = pose_2d[kept][:, [J[name] for name in DERIVED]] - shoulders[kept, None]  # (M, 5, 2)
    return (offsets * up[kept, None]).sum(-1) / length[kept, None], kept


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--frame-step", type=int, default=50, help="every k-th Human3.6M frame")
    p.add_argument("--out", type=Path, default=Path("reports/wild_2d_conventions"))
    args = p.parse_args()
    root = data_root(args.data)
    sources = {
        "Human3.6M ground-truth 2D": load_h36m(root, TRAIN_SUBJECTS, CAMERAS, args.frame_step, "gt").pose_2d,
        "Human3.6M Stacked-Hourglass 2D": load_h36m(root, TRAIN_SUBJECTS, CAMERAS, args.frame_step, "sh").pose_2d,
        "MPII (mpii2d)": load_mpii_2d(root),
        "LSPET (lspet2d, complete poses)": load_lspet_2d(root),
    }
    rows = {}
    for name, poses in sources.items():
        heights, kept = heights_above_shoulders(poses.astype(np.float64))
        rows[name] = {"poses": int(len(poses)), "upright_frontal": int(kept.sum()),
                      "median_height": dict(zip(DERIVED, np.median(heights, 0).round(3).tolist()))}  # fmt: skip
    reference = rows["Human3.6M ground-truth 2D"]["median_height"]
    lines = [
        "# Derived joints of each 2D source, mapped to Human3.6M-17\n",
        f"Produced by `python benchmarks/wild_2d_conventions.py {' '.join(sys.argv[1:])}`. Human3.6M: training "
        f"subjects S1, S5-S8, 4 cameras, every {args.frame_step}th frame. Upright poses seen roughly from the front "
        f"or back (torso within {MAX_TILT_DEG:g}° of the image vertical, shoulder width over {MIN_SHOULDER_WIDTH} "
        "torso lengths). Cells: median height above the shoulders' midpoint along the hips-to-shoulders axis, in "
        "torso lengths (Hip is -1 by construction when it is the hips' midpoint); in brackets the difference from "
        "Human3.6M's own joint (ground-truth 2D row).\n",
        "| source | poses | upright, frontal | " + " | ".join(DERIVED) + " |",
        "|---|---:|---:|" + "---:|" * len(DERIVED),
    ]
    for name, row in rows.items():
        cells = [f"{v:+.3f} ({v - reference[k]:+.3f})" for k, v in row["median_height"].items()]
        lines.append(f"| {name} | {row['poses']} | {row['upright_frontal']} | " + " | ".join(cells) + " |")
    write_report(args.out, "\n".join(lines) + "\n", {"frame_step": args.frame_step, "sources": rows})


if __name__ == "__main__":
    main()
