"""Cross-dataset benchmark on MuPoTS-3D: ground-truth 2D -> 3D with each shipped weights file.

The analogue of the paper's Table 3 (trained on Human3.6M, scored on another dataset), on
MuPoTS-3D rather than MPI-INF-3DHP: 20 sequences (TS1-5 indoor, TS6-20 outdoor), the valid
person-instances, the 15 joints both skeletons share. Per sequence and averaged, against the
flat pose (the 2D input with zero depth) and the floor of Human3.6M's proportions (every true
bone direction kept, every bone given the Human3.6M training subjects' mean length).
Writes reports/cross_dataset.md and .json.

Usage: python benchmarks/cross_dataset.py [--weights W.safetensors ...] [--data DIR] [--out reports/cross_dataset]
"""

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

from lifter.checkpoint import file_sha256, load_generator, write_report
from lifter.data import data_root
from lifter.inference import lift_poses
from lifter.mupots import MupotsSet, flat_pose, load_mupots, score, sequence_order, with_bone_lengths
from lifter.priors import MEAN_BONE_LENGTHS_MM

DEFAULT_WEIGHTS = (Path("weights/svmac_h36m_gt.safetensors"), Path("weights/svmac_h36m_sh.safetensors"))
FLAT, FLOOR = "flat pose", "H36M proportions, true directions"
COLUMNS = (("p_mpjpe", "P-MPJPE (mm)"), ("pck150", "PCK@150 (%)"), ("auc", "AUC (%)"),
           ("p_mpjpe_reflection", "P-MPJPE, reflection allowed (mm)"),
           ("pck150_scaled", "PCK@150, no alignment (%)"), ("auc_scaled", "AUC, no alignment (%)"))  # fmt: skip


def score_groups(pred: np.ndarray, data: MupotsSet) -> dict:
    """Scores over all valid poses, indoor and outdoor, each sequence, and the mean of the sequences."""
    groups = {"all poses": np.ones(len(data), bool), "indoor (TS1-5)": data.indoor, "outdoor (TS6-20)": ~data.indoor}
    result = {name: score(pred[keep], data.select(keep)) for name, keep in groups.items()}
    per_sequence = {seq: score(pred[data.sequence == seq], data.select(data.sequence == seq))
                    for seq in sequence_order(data.sequence)}  # fmt: skip
    result["mean of sequences"] = {
        metric: float(np.mean([s[metric] for s in per_sequence.values()])) for metric, _ in COLUMNS
    }
    return {"averages": result, "per_sequence": per_sequence}


def markdown(rows: dict[str, dict], data: MupotsSet, command: str, machine: str) -> str:
    names = list(rows)
    lines = [
        "# Cross-dataset: Human3.6M-trained lifters on MuPoTS-3D (ground-truth 2D)\n",
        f"Produced by `{command}` on {machine}. Data: `mupots/mupots_h36m17.npz` of SVMAC_DATA "
        f"(MuPoTS-3D, not MPI-INF-3DHP: published 3DHP numbers are not comparable): 20 sequences, "
        f"the {len(data):,} valid person-instances, 2D input = the exact projection of the 3D joints "
        f"(all 17 joints, Neck/Nose and Head approximated by MuPoTS's head points), scored on the "
        f"{int(data.scored.sum())} joints both skeletons share (Neck/Nose and Head not scored). "
        "Single lift, no flip averaging.\n",
        "Metrics: P-MPJPE after per-pose similarity Procrustes without reflection (the headline); "
        "PCK@150 mm and AUC (0-150 mm) after the same alignment, as in the paper's Table 3 "
        "(\"scaling and rigid alignment\"; the paper, trained on Human3.6M, reports P-MPJPE 80.3, PCK 86.9, "
        "AUC 51.7 on MPI-INF-3DHP); the reflection-allowed P-MPJPE (ElePose-style, for like-for-like "
        "comparisons only); PCK and AUC with no alignment, only scaled to the truth's mean joint-to-root "
        "distance (the paper's Table 2 style). "
        f"'{FLAT}': the 2D input with zero depth. '{FLOOR}': every true bone direction with the "
        "Human3.6M training subjects' mean bone lengths (lifter.priors), the floor a lifter that "
        "has learned Human3.6M's proportions cannot beat (MuPoTS shins are about 24 % shorter).\n",
    ]
    for group in ("all poses", "mean of sequences", "indoor (TS1-5)", "outdoor (TS6-20)"):
        lines.append(f"**{group}**\n")
        lines.append("| 3D from | " + " | ".join(label for _, label in COLUMNS) + " |")
        lines.append("|---|" + "---:|" * len(COLUMNS))
        for name in names:
            values = rows[name]["averages"][group]
            lines.append(f"| {name} | " + " | ".join(f"{values[m]:.1f}" for m, _ in COLUMNS) + " |")
        lines.append("")
    sequences = sequence_order(data.sequence)
    for metric, label in COLUMNS[:3]:
        lines.append(f"**{label} per sequence**\n")
        lines.append("| 3D from | " + " | ".join(sequences) + " |")
        lines.append("|---|" + "---:|" * len(sequences))
        for name in names:
            cells = [f"{rows[name]['per_sequence'][s][metric]:.1f}" for s in sequences]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    counts = [str(int((data.sequence == s).sum())) for s in sequences]
    lines.append("| poses | " + " | ".join(counts) + " |\n|---|" + "---:|" * len(sequences))
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", nargs="+", type=Path, default=list(DEFAULT_WEIGHTS))
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--out", type=Path, default=Path("reports/cross_dataset"))
    args = p.parse_args()
    data = load_mupots(data_root(args.data))
    rows = {}
    for weights in args.weights:
        pred, _ = lift_poses(load_generator(weights), data.pose_2d)
        rows[f"`{weights}`"] = {"weights_sha256": file_sha256(weights), **score_groups(pred, data)}
        print(f"{weights}: P-MPJPE {rows[f'`{weights}`']['averages']['all poses']['p_mpjpe']:.1f} mm", file=sys.stderr)
    rows[FLAT] = score_groups(flat_pose(data), data)
    rows[FLOOR] = score_groups(with_bone_lengths(data.pose_3d, MEAN_BONE_LENGTHS_MM), data)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU, "
               f"torch {torch.__version__}, shared with other jobs")  # fmt: skip
    command = "python benchmarks/cross_dataset.py " + " ".join(sys.argv[1:])
    write_report(args.out, markdown(rows, data, command.strip(), machine),
                 {"command": command.strip(), "machine": machine, "poses": len(data), "results": rows})  # fmt: skip


if __name__ == "__main__":
    main()
