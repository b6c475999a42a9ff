"""svmac-eval: P-MPJPE, MPJPE, PCK@150 mm and AUC on Human3.6M S9/S11, per action.

Predictions are scale-free; they are brought to the ground truth's scale (mean joint-to-root
distance) before MPJPE, PCK and AUC. P-MPJPE aligns scale, rotation and translation per pose;
it is the headline. Beside it, "P-MPJPE, reflection allowed" also lets the alignment mirror the
pose where that fits better in the least-squares sense, as ElePose's evaluation does
(reflection='best'); it is given only so that such published numbers can be compared like for like.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lifter.checkpoint import atomic_write, atomic_write_text, check_writable, file_sha256, load_generator
from lifter.data import INPUT_SOURCES, PROTOCOLS, TEST_PROTOCOLS, TEST_SUBJECTS, PoseSet, data_root, load_h36m
from lifter.errors import SvmacError, exit_on_user_error
from lifter.geometry import root_centre
from lifter.inference import lift_poses, pick_device, to_reference_scale
from lifter.metrics import auc, joint_errors, p_mpjpe, pck

METRICS = ("p_mpjpe", "p_mpjpe_reflection", "mpjpe", "pck150", "auc")


@dataclass
class Evaluation:
    input_source: str
    protocol: str
    poses: PoseSet
    pred_mm: np.ndarray  # (N, 17, 3) root-relative, camera frame, ground-truth scale
    gt_mm: np.ndarray  # (N, 17, 3) root-relative
    flip_average: bool = False


def metrics_of(pred_mm: np.ndarray, gt_mm: np.ndarray) -> dict[str, float]:
    errors = joint_errors(pred_mm, gt_mm)  # (N, 17)
    return {
        "p_mpjpe": float(p_mpjpe(pred_mm, gt_mm).mean()),
        "p_mpjpe_reflection": float(p_mpjpe(pred_mm, gt_mm, allow_reflection=True).mean()),
        "mpjpe": float(errors.mean()),
        "pck150": pck(errors),
        "auc": auc(errors),
        "poses": int(len(gt_mm)),
    }


def flat_p_mpjpe(poses: PoseSet, gt_mm: np.ndarray) -> float:
    """The sanity floor: the input 2D with zero depth, Procrustes-aligned to the ground truth."""
    flat = np.concatenate([poses.pose_2d, np.zeros_like(poses.pose_2d[..., :1])], axis=-1).astype(np.float64)
    flat = root_centre(torch.from_numpy(flat)).numpy()
    return float(p_mpjpe(flat, gt_mm).mean())


def summarise(ev: Evaluation) -> dict:
    per_action = {
        action: metrics_of(ev.pred_mm[ev.poses.action == action], ev.gt_mm[ev.poses.action == action])
        for action in sorted(set(ev.poses.action))
    }
    # The literature's "Avg": the mean of the per-action means.
    average = {metric: float(np.mean([m[metric] for m in per_action.values()])) for metric in METRICS}
    return {
        "input": ev.input_source,
        "protocol": ev.protocol,
        "flip_average": ev.flip_average,
        "cameras": list(PROTOCOLS[ev.protocol].cameras),
        "frame_step": PROTOCOLS[ev.protocol].frame_step,
        "subjects": sorted(set(ev.poses.subject)),
        "sequences": len({(s, q) for s, q in zip(ev.poses.subject, ev.poses.sequence)}),
        "missing_detections": list(ev.poses.missing_detections),
        "per_action": per_action,
        "average_over_actions": average,
        "all_poses": metrics_of(ev.pred_mm, ev.gt_mm),
        "flat_pose_p_mpjpe": flat_p_mpjpe(ev.poses, ev.gt_mm),
    }


def predict_in_mm(generator, poses: PoseSet, flip_average: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Lift the poses' 2D; return (prediction at ground-truth scale, ground truth), both
    root-relative camera-frame millimetres (N, 17, 3)."""
    gt_mm = root_centre(torch.from_numpy(poses.pose_3d).double()).numpy()
    pred, _ = lift_poses(generator, poses.pose_2d, flip_average=flip_average)
    return to_reference_scale(pred, gt_mm), gt_mm


def evaluate(
    generator,
    root: Path,
    input_source: str,
    protocol: str,
    subjects: tuple[str, ...],
    actions: tuple[str, ...] | None,
    flip_average: bool = False,
) -> Evaluation:
    proto = PROTOCOLS[protocol]
    poses = load_h36m(root, subjects, proto.cameras, proto.frame_step, input_source, actions)
    return Evaluation(input_source, protocol, poses, *predict_in_mm(generator, poses, flip_average), flip_average)


def input_label(summary: dict) -> str:
    return summary["input"] + (" + flip" if summary.get("flip_average") else "")


def markdown_table(summaries: list[dict]) -> str:
    actions = sorted({a for s in summaries for a in s["per_action"]})
    lines = []
    for metric, label in (("p_mpjpe", "P-MPJPE (mm)"),
                          ("p_mpjpe_reflection", "P-MPJPE, reflection allowed (mm; ElePose-style, not the headline)"),
                          ("mpjpe", "MPJPE (mm, GT scale)"),
                          ("pck150", "PCK@150 mm (%)"), ("auc", "AUC 0-150 mm (%)")):  # fmt: skip
        lines.append(f"**{label}**\n")
        lines.append("| input | protocol | " + " | ".join(actions) + " | Avg | all poses |")
        lines.append("|---|---|" + "---:|" * (len(actions) + 2))
        for s in summaries:
            cells = [f"{s['per_action'][a][metric]:.1f}" if a in s["per_action"] else "-" for a in actions]
            cells += [f"{s['average_over_actions'][metric]:.1f}", f"{s['all_poses'][metric]:.1f}"]
            lines.append(f"| {input_label(s)} | {s['protocol']} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("| input | protocol | poses | sequences | flat-pose P-MPJPE (mm) |")
    lines.append("|---|---|---:|---:|---:|")
    for s in summaries:
        lines.append(f"| {input_label(s)} | {s['protocol']} | {s['all_poses']['poses']} | {s['sequences']} | "
                     f"{s['flat_pose_p_mpjpe']:.1f} |")  # fmt: skip
    for s in summaries:
        if s["missing_detections"]:
            lines.append(
                f"\n{s['input']} / {s['protocol']}: no 2D detections for {', '.join(s['missing_detections'])}."
            )
    return "\n".join(lines) + "\n"


def save_predictions(path: Path, ev: Evaluation) -> None:
    arrays = {
        "pred_mm": ev.pred_mm.astype(np.float32),
        "subject": ev.poses.subject,
        "action": ev.poses.action,
        "sequence": ev.poses.sequence,
        "camera": ev.poses.camera,
        "frame": ev.poses.frame,
    }
    atomic_write(path, lambda tmp: np.savez_compressed(open(tmp, "wb"), **arrays))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="svmac-eval", description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True, type=Path, help="generator .safetensors")
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--input", nargs="+", default=list(INPUT_SOURCES), choices=INPUT_SOURCES,
                   help="2D input: gt (projected ground truth), sh (Stacked-Hourglass detections)")  # fmt: skip
    p.add_argument("--protocol", nargs="+", default=list(TEST_PROTOCOLS), choices=list(PROTOCOLS),
                   help="standard: 4 cameras, every frame; released: camera 54138969, every 5th frame; "
                        "validation (with --subjects S1 S5 S6 S7 S8): svmac-train's validation subset, "
                        "4 cameras, every 64th frame")  # fmt: skip
    p.add_argument("--subjects", nargs="+", default=list(TEST_SUBJECTS))
    p.add_argument("--actions", nargs="+", help="only these actions (default: all)")
    p.add_argument("--flip-average", action="store_true",
                   help="test-time flip augmentation: average the lifts of each pose and of its mirror image")  # fmt: skip
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    p.add_argument("--json", type=Path, help="write the full results as JSON")
    p.add_argument("--markdown", type=Path, help="write the tables as Markdown")
    p.add_argument("--save-predictions", type=Path, metavar="FILE.npz",
                   help="write pred_mm (N,17,3) with subject/action/sequence/camera/frame (one input and protocol)")  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    return p


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.save_predictions and (len(args.input) > 1 or len(args.protocol) > 1):
        raise SvmacError("--save-predictions needs exactly one --input and one --protocol")
    for path in (args.json, args.markdown, args.save_predictions):
        check_writable(path, args.overwrite)
    root = data_root(args.data)
    generator = load_generator(args.weights, pick_device(args.device))
    summaries = []
    for input_source in args.input:
        for protocol in args.protocol:
            ev = evaluate(generator, root, input_source, protocol, tuple(args.subjects),
                          tuple(args.actions) if args.actions else None, args.flip_average)  # fmt: skip
            summaries.append(summarise(ev))
            average = summaries[-1]["average_over_actions"]
            print(f"{input_label(summaries[-1])} / {protocol}: P-MPJPE {average['p_mpjpe']:.1f} mm "
                  f"(reflection allowed: {average['p_mpjpe_reflection']:.1f} mm) over {len(ev.gt_mm)} poses",
                  file=sys.stderr)  # fmt: skip
            if args.save_predictions:
                save_predictions(args.save_predictions, ev)
    table = markdown_table(summaries)
    print(table)
    result = {"weights": str(args.weights), "weights_sha256": file_sha256(args.weights), "results": summaries}
    if args.json:
        atomic_write_text(args.json, json.dumps(result, indent=1) + "\n")
    if args.markdown:
        atomic_write_text(args.markdown, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
