"""End to end on the four real Human3.6M fixture frames: photo -> 2D -> 3D, against their true 3D.

Rows: the lifter on MediaPipe's 2D (the product's default path), the lifter on the frames'
ground-truth 2D (separates detector error from lifter error), and MediaPipe's own 3D world
landmarks mapped to the same 17 joints (the peer). P-MPJPE in mm after similarity alignment,
per frame and mean. Four frames are an end-to-end check, not a benchmark of accuracy: the
lifter's accuracy is measured on the full S9/S11 test set (reports/h36m_gt_eval.md).

Usage: python benchmarks/h36m_fixture_end_to_end.py [--data DIR] [--weights W] [--out reports/h36m_fixture_end_to_end]
"""

import argparse
import platform
from pathlib import Path

import numpy as np
import torch

from app.pipeline import DEFAULT_WEIGHTS, ImageResult, Lifter, detect_image, lift_results
from detector_adapters.base import DetectedPerson, bbox_of
from detector_adapters.image_io import load_image
from detector_adapters.mediapipe_adapter import MediaPipeDetector
from lifter.checkpoint import write_report
from lifter.data import data_root
from lifter.metrics import p_mpjpe

FIXTURES = Path("fixtures") / "h36m"


def lift_all(lifter: Lifter, paths: list[Path], images: list[np.ndarray], people: list[list[DetectedPerson]]):
    results = [ImageResult(path, image) for path, image in zip(paths, images)]
    lift_results(lifter, results, people)
    return [r.people[0] if r.people else None for r in results]


def error_of(pose_mm: np.ndarray | None, truth_mm: np.ndarray) -> float:
    return float("nan") if pose_mm is None else float(p_mpjpe(pose_mm[None], truth_mm[None])[0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--out", type=Path, default=Path("reports") / "h36m_fixture_end_to_end")
    args = p.parse_args()
    root = data_root(args.data) / FIXTURES
    with np.load(root / "test_h36m_body3d.npz") as data:
        names, parts, truths = data["imgname"], data["part"], data["S"][..., :3] * 1000.0  # (4, 17, 3) mm

    lifter, detector = Lifter(args.weights, "cpu"), MediaPipeDetector()
    paths = [root / str(name) for name in names]
    images = [load_image(path) for path in paths]
    detected = [detect_image(detector, path, image)[0] for path, image in zip(paths, images)]
    ground_truth_2d = [
        [DetectedPerson(part[:, :2], part[:, 2], bbox_of(part[:, :2], part[:, 2]), "h36m17")] for part in parts
    ]
    on_detections = lift_all(lifter, paths, images, detected)
    on_ground_truth = lift_all(lifter, paths, images, ground_truth_2d)

    rows = []
    for name, truth, det, gt in zip(names, truths, on_detections, on_ground_truth):
        rows.append(
            {
                "frame": Path(str(name)).name,
                "svmac_on_mediapipe_2d": error_of(None if det is None else det.pose_3d_mm, truth),
                "svmac_on_ground_truth_2d": error_of(gt.pose_3d_mm, truth),
                "mediapipe_world_landmarks": error_of(
                    None if det is None or det.detector_pose_3d is None else det.detector_pose_3d * 1000.0, truth
                ),
            }
        )
    columns = ("svmac_on_mediapipe_2d", "svmac_on_ground_truth_2d", "mediapipe_world_landmarks")
    means = {c: float(np.nanmean([r[c] for r in rows])) for c in columns}
    machine = f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    report = {"machine": machine, "weights": args.weights.name, "sha256": lifter.sha256, "frames": rows, "mean": means}

    lines = [
        "# End to end on the four Human3.6M fixture frames",
        "",
        f"P-MPJPE in mm (similarity-aligned) against the frames' true 3D. Weights `{args.weights.name}` "
        f"(sha256 {lifter.sha256[:12]}…), MediaPipe Pose 0.10.21 (model complexity 1), CPU ({machine}).",
        "Produced by `python benchmarks/h36m_fixture_end_to_end.py` with `SVMAC_DATA` set.",
        "",
        "| frame | SVMAC on MediaPipe 2D | SVMAC on true 2D | MediaPipe's own 3D |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {r['frame']} | " + " | ".join(f"{r[c]:.1f}" for c in columns) + " |" for r in rows]
    lines += ["| **mean** | " + " | ".join(f"**{means[c]:.1f}**" for c in columns) + " |", ""]
    lines += [
        "Four frames say whether the pipeline works end to end and how the three compare on them; they are",
        "too few to rank methods. The lifter's accuracy on the full S9/S11 test set is in `reports/h36m_gt_eval.md`.",
        "All four frames are from training subjects (S1, S5, S7, S8): the lifter saw their 2D poses during",
        "training (2D only), never their 3D.",
    ]
    write_report(args.out, "\n".join(lines) + "\n", report)


if __name__ == "__main__":
    main()
