"""The photo pipeline on every real photo with 3D ground truth: photo -> 2D -> 3D, per lifter weights file.

Two groups of fixture photos (shared/data/fixtures), reported apart:
- Human3.6M: four frames of the training subjects S1, S5, S7, S8 (the lifter saw their 2D poses in
  training, never their 3D);
- MPI-INF-3DHP: two test frames (TS1, TS2) of a dataset the lifter never saw (held out), mapped to
  Human3.6M-17 by lifter.joint_formats and scored on the 15 joints both skeletons share.

For each weights file: the lifter on MediaPipe's 2D (the product's default path) and on the frames'
true 2D (separates the detector's error from the lifter's); once: MediaPipe's own 3D world
landmarks mapped to the same joints (the peer). P-MPJPE in mm (similarity-aligned, no reflection),
on all scored joints and on the 12 limb joints (aligned on those alone: the joints every format
names alike), per frame and mean. Six frames tell how the weights compare on the product's path;
they are too few to rank close results.

Usage: python benchmarks/photo_pipeline.py [--weights W [W ...]] [--data DIR] [--out reports/photo_pipeline]
"""

import argparse
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import mediapipe
import numpy as np
import torch

from app.pipeline import DEFAULT_WEIGHTS, ImageResult, LiftedPerson, Lifter, detect_image, lift_results
from detector_adapters.base import DetectedPerson, bbox_of
from detector_adapters.image_io import load_image
from detector_adapters.mediapipe_adapter import MediaPipeDetector
from lifter.checkpoint import write_report
from lifter.data import data_root, load_npz
from lifter.errors import SvmacError, exit_on_user_error
from lifter.joint_formats import MPI_INF_3DHP17_SHARED, MPI_INF_3DHP17_TO_H36M17, map_keypoints
from lifter.metrics import p_mpjpe
from lifter.skeleton import JOINT_NAMES, LEFT_JOINTS, RIGHT_JOINTS

H36M_FIXTURES = Path("fixtures") / "h36m"
MPI_INF_3DHP_FIXTURES = Path("fixtures") / "mpi_inf_3dhp"
H36M_GROUP = "Human3.6M (training subjects S1, S5, S7, S8)"
MPI_INF_3DHP_GROUP = "MPI-INF-3DHP (held out)"
# In Human3.6M-17 the limbs are exactly the sided joints: hips, knees, ankles, shoulders, elbows, wrists.
LIMB_JOINTS: tuple[int, ...] = tuple(sorted(LEFT_JOINTS + RIGHT_JOINTS))
JOINT_SETS = ("all", "limbs")
JOINT_SET_TITLES = {"all": "all scored joints", "limbs": "the 12 limb joints"}
INPUTS = (("mediapipe_2d", "MediaPipe 2D"), ("true_2d", "true 2D"))
PEER = "MediaPipe's own 3D"


@dataclass(frozen=True)
class Frame:
    group: str
    path: Path
    true_2d: np.ndarray  # (17, 2) pixels, H36M-17
    true_2d_scores: np.ndarray  # (17,) 1 inside the picture, 0 outside
    truth_mm: np.ndarray  # (17, 3) camera frame, millimetres, H36M-17
    scored: tuple[int, ...]  # the joints with a true counterpart in the dataset's skeleton


def h36m_frames(root: Path) -> list[Frame]:
    data = load_npz(root / H36M_FIXTURES / "test_h36m_body3d.npz")
    return [
        Frame(H36M_GROUP, root / H36M_FIXTURES / str(name), part[:, :2], part[:, 2], s[:, :3] * 1000.0,
              tuple(range(len(JOINT_NAMES))))
        for name, part, s in zip(data["imgname"], data["part"], data["S"])
    ]  # fmt: skip


def mpi_inf_3dhp_frames(root: Path) -> list[Frame]:
    """The 3DHP frames with 2D and 3D mapped to H36M-17 by the same table."""
    data = load_npz(root / MPI_INF_3DHP_FIXTURES / "test_3dhp_test.npz")
    shared = tuple(JOINT_NAMES.index(name) for name in MPI_INF_3DHP17_SHARED)
    frames = []
    for name, part, s in zip(data["imgname"], data["part"], data["S"]):  # (17, 3), (17, 4) native order
        pose_2d, scores = map_keypoints(MPI_INF_3DHP17_TO_H36M17, part[:, :2], part[:, 2])
        truth_m, _ = map_keypoints(MPI_INF_3DHP17_TO_H36M17, s[:, :3])
        frames.append(Frame(MPI_INF_3DHP_GROUP, root / MPI_INF_3DHP_FIXTURES / str(name), pose_2d, scores,
                            truth_m * 1000.0, shared))  # fmt: skip
    return frames


def error_mm(pose_mm: np.ndarray | None, truth_mm: np.ndarray, joints: tuple[int, ...]) -> float:
    """P-MPJPE of one pose (17, 3) against the truth (17, 3), aligned and scored on joints; NaN if no pose."""
    if pose_mm is None:
        return float("nan")
    return float(p_mpjpe(pose_mm[None, joints], truth_mm[None, joints])[0])


def errors_mm(pose_mm: np.ndarray | None, frame: Frame) -> dict[str, float]:
    return {
        "all": error_mm(pose_mm, frame.truth_mm, frame.scored),
        "limbs": error_mm(pose_mm, frame.truth_mm, LIMB_JOINTS),
    }


def nearest_person(people: list[LiftedPerson], frame: Frame) -> LiftedPerson | None:
    """The detected person whose limb joints lie nearest the annotated person's (a photo may show others)."""
    if not people:
        return None
    distances = [np.linalg.norm(p.keypoints_2d[list(LIMB_JOINTS)] - frame.true_2d[list(LIMB_JOINTS)], axis=-1).mean()
                 for p in people]  # fmt: skip
    return people[int(np.argmin(distances))]


def lift(lifter: Lifter, frames: list[Frame], images: list[np.ndarray], people: list[list[DetectedPerson]]):
    """The annotated person of each frame as lifted from the given detections (None where none was found)."""
    results = [ImageResult(frame.path, image) for frame, image in zip(frames, images)]
    lift_results(lifter, results, people)
    return [nearest_person(result.people, frame) for result, frame in zip(results, frames)]


def true_2d_people(frames: list[Frame]) -> list[list[DetectedPerson]]:
    return [
        [DetectedPerson(f.true_2d, f.true_2d_scores, bbox_of(f.true_2d, f.true_2d_scores), "h36m17")] for f in frames
    ]


def short_name(weights: Path) -> str:
    return weights.stem


def measure(frames: list[Frame], weights_files: list[Path]) -> tuple[list[dict], dict[str, str]]:
    """Per frame: the peer's errors and each weights file's on both inputs; and each file's sha256."""
    lifters = [Lifter(weights, "cpu") for weights in weights_files]  # a bad file fails before detection
    detector = MediaPipeDetector()
    images = [load_image(frame.path) for frame in frames]
    detected = [detect_image(detector, frame.path, image)[0] for frame, image in zip(frames, images)]
    rows = [{"group": f.group, "frame": f.path.name, "person_found": False, PEER: {}, "svmac": {}} for f in frames]
    sha256 = {}
    for weights, lifter in zip(weights_files, lifters):
        sha256[short_name(weights)] = lifter.sha256
        on_detections = lift(lifter, frames, images, detected)
        on_truth = lift(lifter, frames, images, true_2d_people(frames))
        for row, frame, det, gt in zip(rows, frames, on_detections, on_truth):
            row["person_found"] = det is not None
            peer = None if det is None or det.detector_pose_3d is None else det.detector_pose_3d * 1000.0
            row[PEER] = errors_mm(peer, frame)
            row["svmac"][short_name(weights)] = {
                "mediapipe_2d": errors_mm(None if det is None else det.pose_3d_mm, frame),
                "true_2d": errors_mm(gt.pose_3d_mm, frame),
            }
    return rows, sha256


def mean(values: list[float]) -> float:
    """Mean of the finite values, NaN if none is (NaN marks a frame where MediaPipe found nobody)."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def group_means(rows: list[dict], names: list[str]) -> dict:
    """Mean over a group's frames (those where MediaPipe found the person, for its columns)."""
    return {
        PEER: {s: mean([r[PEER][s] for r in rows]) for s in JOINT_SETS},
        "svmac": {
            n: {i: {s: mean([r["svmac"][n][i][s] for r in rows]) for s in JOINT_SETS} for i, _ in INPUTS} for n in names
        },
    }


def cell(value: float, bold: bool = False) -> str:
    if not np.isfinite(value):
        return "—"
    return f"**{value:.1f}**" if bold else f"{value:.1f}"


def summary_table(means: dict, names: list[str]) -> list[str]:
    """Rows = weights (and the peer), columns = input x joint set; the best of each column in bold."""
    columns = [(i, s) for i, _ in INPUTS for s in JOINT_SETS]
    best = {c: min(means["svmac"][n][c[0]][c[1]] for n in names) for c in columns}
    lines = ["| 3D from | " + " | ".join(f"{label}, {s}" for i, label in INPUTS for s in JOINT_SETS) + " |",
             "|---|" + "---:|" * len(columns)]  # fmt: skip
    for n in names:
        values = [means["svmac"][n][i][s] for i, s in columns]
        lines.append(f"| SVMAC `{n}` | " + " | ".join(cell(v, v == best[c]) for v, c in zip(values, columns)) + " |")
    peer = [means[PEER][s] for s in JOINT_SETS]
    lines.append(f"| {PEER} (peer) | " + " | ".join(cell(v) for v in peer) + " | — | — |")
    return lines


def per_frame_table(rows: list[dict], names: list[str], joint_set: str) -> list[str]:
    header = [f"`{n}` {label}" for n in names for _, label in INPUTS] + [PEER]
    lines = ["| frame | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
    for r in rows:
        values = [r["svmac"][n][i][joint_set] for n in names for i, _ in INPUTS] + [r[PEER][joint_set]]
        lines.append(f"| {r['frame']} | " + " | ".join(cell(v) for v in values) + " |")
    return lines


def markdown(rows: list[dict], means: dict, names: list[str], sha256: dict, command: str, machine: str) -> str:
    lines = [
        "# The photo pipeline on real photos with 3D ground truth\n",
        f"Produced by `{command}` on {machine}. Data: the fixture photos of SVMAC_DATA "
        f"(`fixtures/h36m`, `fixtures/mpi_inf_3dhp`). Detector: MediaPipe Pose {mediapipe.__version__} "
        "through `MediaPipeDetector()` (the demo's default); where it finds several people, the one nearest "
        "the annotated person counts. Lifter: single lift, no flip averaging. Weights: "
        + ", ".join(f"`{n}` (sha256 {sha256[n][:12]}…)" for n in names)
        + ".\n",
        "P-MPJPE in mm after per-pose similarity alignment without reflection (lifter.metrics.p_mpjpe). "
        "'all': every joint with a true counterpart (Human3.6M: 17; MPI-INF-3DHP: the 15 both skeletons "
        "share, its Neck/Nose and Head being approximations); 'limbs': the 12 hip, knee, ankle, shoulder, "
        "elbow and wrist joints, aligned on those alone (the joints every keypoint format names alike). "
        "'MediaPipe 2D': the product's path, photo -> MediaPipe -> SVMAC; 'true 2D': the frame's "
        f"annotated 2D -> SVMAC (the lifter's own share of the error); '{PEER}': MediaPipe's world "
        "landmarks from the same detector call, mapped to the same joints. Best SVMAC value of each column in bold.\n",
        "The two groups say different things: the Human3.6M frames are of training subjects (the lifter "
        "saw their 2D poses in training, never their 3D), the MPI-INF-3DHP frames come from a dataset the "
        "lifter never saw (held out: other people, cameras, skeleton proportions). Six frames show how "
        "weights compare on the product's path; they are too few to rank close results (the accuracy "
        "benchmarks are reports/h36m_gt_eval.md and reports/cross_dataset.md).\n",
    ]
    for group in (H36M_GROUP, MPI_INF_3DHP_GROUP):
        group_rows = [r for r in rows if r["group"] == group]
        found = sum(r["person_found"] for r in group_rows)
        lines += [f"## {group}: mean of {len(group_rows)} frames\n"]
        if found < len(group_rows):
            lines += [f"MediaPipe found the person in {found} of {len(group_rows)} frames; its means are over those.\n"]
        lines += summary_table(means[group], names) + [""]
    lines += ["## Per frame\n"]
    if any(f["frame"] == "TS2_001850.jpg" for f in rows):
        lines += ["In TS2_001850.jpg both wrists lie outside the picture (the true 2D input places them there).\n"]
    for group in (H36M_GROUP, MPI_INF_3DHP_GROUP):
        group_rows = [r for r in rows if r["group"] == group]
        for joint_set in JOINT_SETS:
            lines += (
                [f"**{group}, {JOINT_SET_TITLES[joint_set]}**\n"] + per_frame_table(group_rows, names, joint_set) + [""]
            )
    return "\n".join(lines)


@exit_on_user_error
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, nargs="+", default=[DEFAULT_WEIGHTS], help="lifter weights files to compare")
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--out", type=Path, default=Path("reports") / "photo_pipeline")
    args = p.parse_args()
    names = [short_name(w) for w in args.weights]
    if len(set(names)) != len(names):
        raise SvmacError(f"weights files must have distinct names: {', '.join(map(str, args.weights))}")
    root = data_root(args.data)
    frames = h36m_frames(root) + mpi_inf_3dhp_frames(root)
    rows, sha256 = measure(frames, args.weights)
    means = {g: group_means([r for r in rows if r["group"] == g], names) for g in (H36M_GROUP, MPI_INF_3DHP_GROUP)}
    machine = (f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU used, torch {torch.__version__} "
               f"({torch.get_num_threads()} threads), shared with other jobs")  # fmt: skip
    command = "python benchmarks/photo_pipeline.py " + " ".join(sys.argv[1:])
    report = {"machine": machine, "command": command, "mediapipe": mediapipe.__version__,
              "weights": {n: {"file": str(w), "sha256": sha256[n]} for n, w in zip(names, args.weights)},
              "limb_joints": [JOINT_NAMES[j] for j in LIMB_JOINTS], "mean": means, "frames": rows}  # fmt: skip
    write_report(args.out, markdown(rows, means, names, sha256, command.strip(), machine) + "\n", report)


if __name__ == "__main__":
    sys.exit(main())
