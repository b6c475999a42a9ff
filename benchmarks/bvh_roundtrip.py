"""BVH round trip on Human3.6M S9/S11: write each sequence with app.bvh, read it back with an
independent reader (pybvh's forward kinematics), compare the joints.

Two kinds of poses, both in camera 54138969's frame, root-relative: the ground-truth 3D, and
svmac's own lifted output (the released weights lifting the ground-truth 2D, scaled to
millimetres by the bone-length prior as svmac-demo does). Each read back is compared with the
bone-length-regularised poses (the writer's only permitted change: median bone lengths, left and
right averaged) and with the poses as given. Also: how often each Euler order would sit near its
lock (why app.bvh uses EULER_ORDER), and how far linear interpolation of the written channels
strays half way between frames (a flipped Euler branch would show as ~180 degrees).

Writes reports/bvh_roundtrip.md and .json.
Usage: python benchmarks/bvh_roundtrip.py [--data DIR] [--weights W] [--frame-step 1]
       python benchmarks/bvh_roundtrip.py --measure-rest   (app.bvh's NOSE_REST and HEAD_REST)
"""

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from app.bvh import (
    BVH_JOINTS,
    CAMERA_TO_BVH,
    EULER_ORDER,
    HEAD_REST,
    NOSE_REST,
    PHOTO_FRAME_TIME_S,
    local_rotations,
    regularised_bone_lengths,
    regularised_pose,
    unit,
    write_bvh,
)
from app.clip import PoseTrack
from app.pipeline import DEFAULT_WEIGHTS
from lifter.checkpoint import load_generator, write_report
from lifter.data import POSES_FILE, TEST_SUBJECTS, TRAIN_SUBJECTS, data_root, load_h36m, load_npz
from lifter.errors import SvmacError, exit_on_user_error
from lifter.inference import lift_poses
from lifter.metrics import p_mpjpe
from lifter.priors import metric_scale

CAMERA = "54138969"
FPS = 50.0  # Human3.6M's frame rate
TARGET_MM = 5.0  # the bound on the mean joint error after regularisation
LOCK_MARGIN_DEG = 15.0  # "near the lock": the middle Euler angle within this of +-90 degrees
TAIT_BRYAN_ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


def pose_track(pose_mm: np.ndarray) -> PoseTrack:
    """A fully seen track of camera-frame poses (F, 17, 3) mm, as the video pipeline would make."""
    count = len(pose_mm)
    return PoseTrack(0, np.arange(count), np.zeros((count, 4)), np.zeros((count, 17, 2)), np.ones((count, 17)),
                     np.zeros((count, 17), bool), pose_mm / 1000.0, pose_mm, np.zeros((count, 2, 3)))  # fmt: skip


def reader_joints(path: Path) -> np.ndarray:
    """pybvh's forward kinematics of a file, in its own axes and units: (F, 17, 3) cm, Y up."""
    import pybvh  # the independent reader, a test dependency

    bvh = pybvh.read_bvh_file(path)
    positions = bvh.joint_positions()  # (F, J, 3)
    out = np.empty((len(positions), 17, 3))
    for joint in BVH_JOINTS:
        if joint.source is not None:
            out[:, joint.source] = positions[:, bvh.joint_names.index(joint.name)]
    return out


def read_back(path: Path) -> np.ndarray:
    """pybvh's forward kinematics of a file: (F, 17, 3) root-relative camera-frame mm."""
    joints = reader_joints(path)
    return (joints - joints[:, :1]) * 10.0 @ CAMERA_TO_BVH  # the axis change is its own inverse


def euler_midpoint_error_deg(path: Path) -> tuple[float, float]:
    """Largest gap between linearly interpolated channels and the true (slerp) rotation half way
    between consecutive frames, over joints and frames, and how far that joint turned between
    those two frames. -> (gap, turn) degrees."""
    import pybvh

    angles = np.degrees(pybvh.read_bvh_file(path).joint_angles)  # (F, J, 3)
    if len(angles) < 2:
        return 0.0, 0.0
    start = Rotation.from_euler(EULER_ORDER, angles[:-1].reshape(-1, 3), degrees=True)
    end = Rotation.from_euler(EULER_ORDER, angles[1:].reshape(-1, 3), degrees=True)
    step = start.inv() * end
    half = start * Rotation.from_rotvec(step.as_rotvec() / 2)
    linear = Rotation.from_euler(EULER_ORDER, ((angles[:-1] + angles[1:]) / 2).reshape(-1, 3), degrees=True)
    gap = np.degrees((half.inv() * linear).magnitude())
    worst = int(np.argmax(gap))
    return float(gap[worst]), float(np.degrees(step[worst].magnitude()))


def round_trip(sequences: dict[str, np.ndarray], folder: Path) -> tuple[dict, np.ndarray]:
    """Write and read back every sequence. -> (errors in mm over all joints of all frames, the
    poses read back (N, 17, 3) in sequence order)."""
    to_target, to_input, midpoint, back, frames = [], [], [], [], 0
    write_s = read_s = 0.0
    for name, pose in sequences.items():
        path = folder / (name.replace("/", "_").replace(" ", "_") + ".bvh")
        start = time.perf_counter()
        write_bvh(path, pose_track(pose), FPS, overwrite=True)
        write_s += time.perf_counter() - start
        start = time.perf_counter()
        got = read_back(path)
        read_s += time.perf_counter() - start
        target = regularised_pose(pose, regularised_bone_lengths(pose, np.ones(pose.shape[:2], bool)))
        to_target.append(np.linalg.norm(got - target, axis=-1).ravel())
        to_input.append(np.linalg.norm(got - pose, axis=-1).ravel())
        midpoint.append(euler_midpoint_error_deg(path))  # (gap, turn)
        back.append(got)
        frames += len(pose)
        path.unlink()
    to_target, to_input = np.concatenate(to_target), np.concatenate(to_input)
    summary = {
        "sequences": len(sequences),
        "frames": frames,
        "mean_error_to_regularised_mm": float(to_target.mean()),
        "max_error_to_regularised_mm": float(to_target.max()),
        "mean_error_to_input_mm": float(to_input.mean()),
        "p95_error_to_input_mm": float(np.percentile(to_input, 95)),
        "max_euler_midpoint_error_deg": max(midpoint)[0],
        "turn_between_those_frames_deg": max(midpoint)[1],
        "write_seconds": round(write_s, 1),
        "read_seconds": round(read_s, 1),
    }
    return summary, np.concatenate(back)


def near_lock_fractions(poses: np.ndarray) -> dict[str, dict[str, float]]:
    """For each Euler order: the share of joint rotations (joints with a bone) and of frames with
    any joint whose middle angle is within LOCK_MARGIN_DEG of +-90. poses (N, 17, 3) camera mm."""
    local, _, _ = local_rotations(poses @ CAMERA_TO_BVH / 10.0, np.ones(poses.shape[:2], bool))
    turning = [joint.name for joint in BVH_JOINTS if joint.name not in ("RFoot", "LFoot", "Head", "LWrist", "RWrist")]
    quaternions = np.stack([local[name].as_quat() for name in turning], 1).reshape(-1, 4)
    out = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Gimbal lock detected")
        for order in TAIT_BRYAN_ORDERS:
            middle = Rotation.from_quat(quaternions).as_euler(order, degrees=True)[:, 1].reshape(len(poses), -1)
            near = np.abs(middle) > 90.0 - LOCK_MARGIN_DEG
            out[order] = {"joint_rotations": float(near.mean()), "frames": float(near.any(1).mean())}
    return out


def camera_sequences(root: Path, frame_step: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Ground truth and 2D of every S9/S11 sequence in CAMERA's frame: name -> (F, 17, 3) mm, (F, 17, 2) px."""
    poses = load_h36m(root, TEST_SUBJECTS, (CAMERA,), frame_step, "gt")
    truth, pixels = {}, {}
    for subject, sequence in sorted({(s, q) for s, q in zip(poses.subject, poses.sequence)}):
        rows = (poses.subject == subject) & (poses.sequence == sequence)
        pose = poses.pose_3d[rows].astype(np.float64)
        truth[f"{subject}/{sequence}"] = pose - pose[:, :1]
        pixels[f"{subject}/{sequence}"] = poses.pose_2d[rows]
    return truth, pixels


def lifted_sequences(weights: Path, pixels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """svmac's 3D for each sequence's 2D, in millimetres by the bone-length prior (as svmac-demo)."""
    generator = load_generator(weights, "cpu")
    out = {}
    for name, pose_2d in pixels.items():
        pose, _ = lift_poses(generator, pose_2d)
        pose = pose.astype(np.float64)
        out[name] = pose * metric_scale(pose)[:, None, None]
    return out


def measure_rest(root: Path) -> None:
    """Mean direction of the neck bone in the Spine's frame and of the head bone in the Thorax's,
    over the training subjects (every 10th frame): app.bvh's NOSE_REST and HEAD_REST."""
    poses = load_npz(root / POSES_FILE)
    world = np.concatenate([poses[k][::10] for k in sorted(poses) if k.split("/")[0] in TRAIN_SUBJECTS])
    y_up = np.stack([world[..., 0], world[..., 2], -world[..., 1]], -1).astype(np.float64)  # z up -> y up
    y_up -= y_up[:, :1]
    local, _, _ = local_rotations(y_up, np.ones(y_up.shape[:2], bool))
    for name, rest, constant in (("Thorax", NOSE_REST, "NOSE_REST"), ("NeckNose", HEAD_REST, "HEAD_REST")):
        directions = local[name].apply(np.tile(unit(np.asarray(rest)), (len(y_up), 1)))
        print(f"{constant}: mean {np.round(unit(directions.mean(0)), 3).tolist()} (app.bvh has {list(rest)})")


def markdown(record: dict) -> str:
    gt, lifted, locks = record["ground_truth"], record["lifted"], record["near_lock"]
    frames_used = "every frame" if record["frame_step"] == 1 else f"every {record['frame_step']}th frame"

    def row(label: str, r: dict) -> str:
        ok = "yes" if r["mean_error_to_regularised_mm"] <= TARGET_MM else "NO"
        return (f"| {label} | {r['sequences']} | {r['frames']} | {r['mean_error_to_regularised_mm']:.4f} | "
                f"{r['max_error_to_regularised_mm']:.4f} | {ok} | {r['mean_error_to_input_mm']:.2f} | "
                f"{r['p95_error_to_input_mm']:.2f} | {r['max_euler_midpoint_error_deg']:.2f} "
                f"({r['turn_between_those_frames_deg']:.0f}) | "
                f"{r['write_seconds']} / {r['read_seconds']} |")  # fmt: skip

    lock_rows = "\n".join(
        f"| {order}{' (app.bvh)' if order == EULER_ORDER else ''} | {100 * v['joint_rotations']:.2f} % | "
        f"{100 * v['frames']:.1f} % |"
        for order, v in locks.items()
    )
    return (
        "# BVH round trip: Human3.6M S9/S11 written by app.bvh, read back by pybvh\n\n"
        f"Produced by `{record['command']}` on {record['machine']}.\n"
        f"Data: Human3.6M S9 and S11 (59 of the 60 sequences; S9 \"Discussion 1\" is missing from our data), "
        f"camera {CAMERA}'s frame, {frames_used} at 50 fps. Reader: pybvh "
        f"{record['pybvh']} (its own parser and forward kinematics). Lifted poses: `{record['weights']}` "
        "on the ground-truth 2D, scaled to millimetres by the bone-length prior as svmac-demo does.\n\n"
        "Errors are per joint, over every joint of every frame, root-relative. *Regularised*: the same "
        "poses with each bone at its median length over the sequence, left and right averaged (the "
        f"writer's only permitted change); target: mean at most {TARGET_MM:g} mm. *As given*: what the "
        "regularisation itself moves the joints. *Midpoint*: the largest angle between linearly "
        "interpolated Euler channels and the true rotation half way between two frames (a flipped "
        "Euler branch, a body turning 180 degrees between frames, would show as ~180); in brackets, how far "
        "that joint really turned between those two frames (single-frame lifting jitters: a large turn "
        "between two frames 20 ms apart is the lifter's, and linear Euler interpolation strays most there).\n\n"
        "| poses | sequences | frames | mean to regularised (mm) | max to regularised (mm) | within target | "
        "mean to as given (mm) | 95th pct to as given (mm) | midpoint (deg) | write / read (s) |\n"
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n"
        f"{row('ground truth', gt)}\n{row('svmac lifted', lifted)}\n\n"
        f"P-MPJPE of the lifted poses against the ground truth: {record['lifted_p_mpjpe_mm']:.2f} mm as lifted, "
        f"{record['lifted_bvh_p_mpjpe_mm']:.2f} mm as read back from the BVH files (the regularised bones).\n\n"
        f"## Euler order\n\nShare of the ground-truth joint rotations (and of frames with any) whose middle "
        f"Euler angle lies within {LOCK_MARGIN_DEG:g} degrees of +-90 (gimbal lock), with app.bvh's rest pose "
        "and frames; one order serves every joint of a file:\n\n"
        f"| order | joint rotations | frames |\n|---|---:|---:|\n{lock_rows}\n\n"
        f"A photo has no frame rate: its one-frame file says {PHOTO_FRAME_TIME_S:.6f} s (30 fps).\n"
    )


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--frame-step", type=int, default=1)
    p.add_argument("--measure-rest", action="store_true", help="print the mean neck and head directions and stop")
    p.add_argument("--out", type=Path, default=Path("reports/bvh_roundtrip"))
    args = p.parse_args(argv)
    root = data_root(args.data)
    if args.measure_rest:
        measure_rest(root)
        return 0
    try:
        import pybvh
    except ImportError:
        raise SvmacError("pybvh is not installed: pip install pybvh==0.9.0 (the test extra)") from None
    truth, pixels = camera_sequences(root, args.frame_step)
    lifted = lifted_sequences(args.weights, pixels)
    with tempfile.TemporaryDirectory() as folder:
        gt_result, _ = round_trip(truth, Path(folder))
        lifted_result, lifted_back = round_trip(lifted, Path(folder))
    all_truth = np.concatenate(list(truth.values()))
    record = {
        "command": " ".join(["python benchmarks/bvh_roundtrip.py", *(sys.argv[1:] if argv is None else argv)]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU, shared with other jobs",
        "frame_step": args.frame_step,
        "pybvh": pybvh.__version__,
        "weights": str(args.weights),
        "euler_order": EULER_ORDER,
        "ground_truth": gt_result,
        "lifted": lifted_result,
        "lifted_p_mpjpe_mm": float(p_mpjpe(np.concatenate(list(lifted.values())), all_truth).mean()),
        "lifted_bvh_p_mpjpe_mm": float(p_mpjpe(lifted_back, all_truth).mean()),
        "near_lock": near_lock_fractions(all_truth),
    }
    write_report(args.out, markdown(record), record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
