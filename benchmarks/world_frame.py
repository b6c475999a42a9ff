"""The world frame (app/world.py) on Human3.6M S9/S11: root depth, ground trajectory, floor and pitch.

Input per sequence and camera: the ground-truth 3D projected to 2D through the real camera
(lifter.data's model, distortion included) and lifted by the given weights; the real focal
length and principal point; the subject's true height (the 95th percentile of its Head joint
above the floor, z = 0, plus app.world.HEAD_TOP_ABOVE_HEAD_JOINT_MM). Every FRAME_STEP-th frame.

Measured against the truth, per sequence and camera (a "track"):
- root depth: the root's camera-frame z, predicted vs true (mm, and % of the true depth);
- root position: the root's 3D camera-frame position error (mm), nothing aligned;
- ground trajectory: the root's (x, z) on the floor in app.world's frame (origin below the
  camera, x the camera's right made level, z towards the camera), the truth put in the same
  frame from the true camera pose; raw, and after removing the mean offset per track
  (translation only: a constant depth bias, what a wrong height or focal length would cause);
- floor: the root's height above the floor, predicted vs true, median over the track's frames
  (signed: > 0 means the estimated floor is too low). True floor: the lowest ankle height of
  the track (app.world.FLOOR_PERCENTILE-th percentile of the per-frame lowest ankle) minus the
  same ankle-above-sole offset the prediction uses, so the offset itself cancels;
- camera height above the floor and camera pitch (from the true rotation).
Variants: the pitch estimated from the feet (the default), assumed level, or given the true
pitch; and the scale from the bone-length prior instead of the true height.

Usage: nice -n 10 python benchmarks/world_frame.py [--data DIR] [--weights W] [--out reports/world_frame]
"""

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from app.clip import Clip, PoseTrack
from app.world import (
    HEAD_TOP_ABOVE_HEAD_JOINT_MM,
    WorldFrame,
    floor_level,
    measure_body_heights,
    metric_pose_mm,
    pitch_and_roll_deg,
    to_world,
)
from lifter.camera import Camera, camera_to_pixels, world_to_camera
from lifter.checkpoint import load_generator, write_report
from lifter.data import CAMERAS, POSES_FILE, TEST_SUBJECTS, data_root, load_cameras, load_npz
from lifter.geometry import mean_root_distance
from lifter.inference import lift_poses
from lifter.priors import metric_scale
from lifter.skeleton import JOINT_NAMES

FRAME_STEP = 10  # 5 frames/s of the 50 fps sequences
DEFAULT_WEIGHTS = Path("weights") / "svmac_h36m_gt.safetensors"
FLOOR_TARGET_MM = 30.0
ANKLES = [JOINT_NAMES.index("RFoot"), JOINT_NAMES.index("LFoot")]
WORLD_UP = np.array([0.0, 0.0, 1.0])  # Human3.6M's world is z up, floor at z = 0


def true_pitch_and_roll_deg(cam: Camera) -> tuple[float, float]:
    return pitch_and_roll_deg(cam.R @ WORLD_UP)  # world up in the camera frame


def lifted_trunk_pitch_deg(track: PoseTrack) -> float:
    """The camera pitch the lifted trunk (root to Thorax) implies, were the body upright."""
    trunk = track.pose_3d[:, JOINT_NAMES.index("Thorax")] - track.pose_3d[:, 0]  # (F, 3)
    return float(np.median(np.degrees(np.arctan2(-trunk[:, 2], -trunk[:, 1]))))


def truth_in_world_frame(points_world: np.ndarray, cam: Camera) -> np.ndarray:
    """True points (..., 3) in app.world's axes: origin below the camera, x = the camera's right
    made level, y up (metres from z = 0), z = x cross y."""
    right = cam.R[0] - (cam.R[0] @ WORLD_UP) * WORLD_UP
    right /= np.linalg.norm(right)
    axes = np.stack([right, WORLD_UP, np.cross(right, WORLD_UP)])
    relative = points_world - np.array([cam.T[0], cam.T[1], 0.0])
    return relative @ axes.T


def sequences_of(root: Path) -> list[tuple[str, str, np.ndarray]]:
    poses = load_npz(root / POSES_FILE)
    return [(key.split("/")[0], key.split("/")[1], poses[key].astype(np.float64))
            for key in sorted(poses) if key.split("/")[0] in TEST_SUBJECTS]  # fmt: skip


def true_statures_mm(sequences) -> dict[str, float]:
    statures = {}
    for subject in TEST_SUBJECTS:
        _, head = measure_body_heights([world for s, _, world in sequences if s == subject])
        statures[subject] = head + HEAD_TOP_ABOVE_HEAD_JOINT_MM
    return statures


def lifted_track(generator, pixels: np.ndarray) -> PoseTrack:
    pose_3d, camera = lift_poses(generator, pixels.astype(np.float32))
    pose_3d = pose_3d.astype(np.float64)
    count = len(pixels)
    return PoseTrack(
        track_id=0,
        frames=np.arange(count),
        bbox=np.concatenate([pixels.min(1), pixels.max(1)], 1),
        keypoints_2d=pixels,
        scores=np.ones((count, 17)),
        imputed=np.zeros((count, 17), bool),
        pose_3d=pose_3d,
        pose_3d_mm=pose_3d * metric_scale(pose_3d)[:, None, None],
        camera=camera.astype(np.float64),
    )


def weak_perspective_depth(track: PoseTrack, metric_pose: np.ndarray, focal: float) -> np.ndarray:
    """Z = f * size_3d / size_2d with sizes as mean joint-to-root distances (the lifter's own
    normalisation), for comparison with the least-squares root. -> (F,) mm"""
    size_2d = mean_root_distance(torch.from_numpy(track.keypoints_2d)).numpy()
    size_3d = mean_root_distance(torch.from_numpy(metric_pose[..., :2])).numpy()
    return focal * size_3d / size_2d


def measure(world_track, truth_world: np.ndarray, truth_cam: np.ndarray, cam: Camera) -> dict:
    true_root_cam = truth_cam[:, 0]  # (F, 3) mm
    pred_root_cam = world_track.root_camera_m * 1000.0
    depth_error = np.abs(pred_root_cam[:, 2] - true_root_cam[:, 2])
    truth_axes = truth_in_world_frame(truth_world[:, 0], cam)  # (F, 3) mm
    pred_ground = world_track.root_m[:, [0, 2]] * 1000.0
    true_ground = truth_axes[:, [0, 2]]
    offset = pred_ground - true_ground
    lowest = truth_world[:, ANKLES, 2].min(1)
    true_floor = floor_level(lowest)  # world z of the true floor
    true_root_height = truth_world[:, 0, 2] - true_floor
    return {
        "depth_error_mm": float(np.median(depth_error)),
        "depth_error_pct": float(np.median(depth_error / true_root_cam[:, 2]) * 100),
        "root_position_error_mm": float(np.median(np.linalg.norm(pred_root_cam - true_root_cam, axis=1))),
        "trajectory_error_mm": float(np.median(np.linalg.norm(offset, axis=1))),
        "trajectory_error_aligned_mm": float(np.median(np.linalg.norm(offset - offset.mean(0), axis=1))),
        "floor_error_mm": float(np.median(world_track.root_m[:, 1] * 1000.0 - true_root_height)),
        "camera_height_error_mm": float(world_track.camera_height_m * 1000.0 - (cam.T[2] - true_floor)),
        "pitch_error_deg": world_track.pitch_deg - true_pitch_and_roll_deg(cam)[0],
        "roll_error_deg": -true_pitch_and_roll_deg(cam)[1],  # app.world takes the roll as 0
        "pitch_source": world_track.pitch_source,
        "true_depth_spread_mm": float(np.subtract(*np.percentile(true_root_cam[:, 2], [90, 10]))),
    }


VARIANTS = {
    "height, pitch from feet": lambda height, cam: dict(height_m=height),
    "height, level camera": lambda height, cam: dict(height_m=height, pitch_deg=0.0),
    "height, true pitch": lambda height, cam: dict(height_m=height, pitch_deg=true_pitch_and_roll_deg(cam)[0]),
    "prior scale, pitch from feet": lambda height, cam: dict(),
}


def summarise(rows: list[dict]) -> dict:
    def median(key):
        return float(np.median([r[key] for r in rows]))

    floor = np.abs([r["floor_error_mm"] for r in rows])
    return {
        "tracks": len(rows),
        "median_depth_error_mm": median("depth_error_mm"),
        "median_depth_error_pct": median("depth_error_pct"),
        "median_weak_perspective_depth_error_mm": median("weak_perspective_depth_error_mm"),
        "median_root_position_error_mm": median("root_position_error_mm"),
        "median_trajectory_error_mm": median("trajectory_error_mm"),
        "median_trajectory_error_aligned_mm": median("trajectory_error_aligned_mm"),
        "median_abs_floor_error_mm": float(np.median(floor)),
        "floor_within_30mm_pct": float((floor <= FLOOR_TARGET_MM).mean() * 100),
        "median_abs_camera_height_error_mm": float(np.median(np.abs([r["camera_height_error_mm"] for r in rows]))),
        "median_abs_pitch_error_deg": float(np.median(np.abs([r["pitch_error_deg"] for r in rows]))),
        "median_abs_roll_error_deg": float(np.median(np.abs([r["roll_error_deg"] for r in rows]))),
        "pitch_from_feet_pct": float(np.mean([r["pitch_source"] == "feet" for r in rows]) * 100),
    }


def markdown(record: dict) -> str:
    lines = [
        "# World frame on Human3.6M S9/S11",
        "",
        f"`python benchmarks/world_frame.py` — {record['machine']}; weights `{record['weights']}`; "
        f"{record['sequences']} sequences (S9 \"Discussion 1\" is missing from the data) x 4 cameras, every "
        f"{FRAME_STEP}th frame ({record['poses']} poses), ground-truth 2D projected through the real cameras, "
        f"real focal length and principal point; true heights {record['true_heights_m']} m. "
        f"Ran in {record['seconds']:.0f} s. Definitions: the script's docstring and docs/motion_outputs.md.",
        "",
        "Medians over tracks (one track = one sequence seen by one camera) of each track's median over frames.",
        "",
        "| variant | root depth (mm) | depth (%) | weak-persp. depth (mm) | root 3D (mm) | ground path (mm) "
        "| path, mean offset removed (mm) | abs floor (mm) | floor within 3 cm | camera height (mm) "
        "| pitch error (deg) | roll left out (deg) | pitch from feet |",
        "|---|" + "---:|" * 12,
    ]
    for name, s in record["variants"].items():
        lines.append(
            f"| {name} | {s['median_depth_error_mm']:.0f} | {s['median_depth_error_pct']:.1f} | "
            f"{s['median_weak_perspective_depth_error_mm']:.0f} | {s['median_root_position_error_mm']:.0f} | "
            f"{s['median_trajectory_error_mm']:.0f} | {s['median_trajectory_error_aligned_mm']:.0f} | "
            f"{s['median_abs_floor_error_mm']:.0f} | {s['floor_within_30mm_pct']:.0f} % | "
            f"{s['median_abs_camera_height_error_mm']:.0f} | {s['median_abs_pitch_error_deg']:.1f} | "
            f"{s['median_abs_roll_error_deg']:.1f} | {s['pitch_from_feet_pct']:.0f} % |"
        )
    lines += ["", "Per action (height, pitch from feet):", "",
              "| action | tracks | root depth (mm) | path, offset removed (mm) | abs floor (mm) | floor within 3 cm |"
              " pitch from feet | abs floor, true pitch (mm) |", "|---|" + "---:|" * 7]  # fmt: skip
    for action, s in record["per_action"].items():
        true_pitch = record["per_action_true_pitch"][action]
        lines.append(
            f"| {action} | {s['tracks']} | {s['median_depth_error_mm']:.0f} | "
            f"{s['median_trajectory_error_aligned_mm']:.0f} | {s['median_abs_floor_error_mm']:.0f} | "
            f"{s['floor_within_30mm_pct']:.0f} % | {s['pitch_from_feet_pct']:.0f} % | "
            f"{true_pitch['median_abs_floor_error_mm']:.0f} |"
        )
    lines += ["", "The lifted pose's own trunk (root to Thorax) as a pitch cue: its tilt in the camera frame "
              f"minus the camera's true pitch is {record['lifted_torso_pitch_bias_deg']:.1f} degrees on average: "
              "the lifter returns bodies upright in the camera frame, so the body cannot tell the pitch."]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--out", type=Path, default=Path("reports") / "world_frame")
    args = p.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    root = data_root(args.data)
    cameras = load_cameras(root)
    sequences = sequences_of(root)
    statures = true_statures_mm(sequences)
    generator = load_generator(args.weights, "cpu")

    rows: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    actions, poses, torso_bias = [], 0, []
    for subject, sequence, world in sequences:
        world = world[::FRAME_STEP]
        for camera_id in CAMERAS:
            cam = cameras[(subject, camera_id)]
            truth_cam = world_to_camera(world, cam)
            track = lifted_track(generator, camera_to_pixels(truth_cam, cam))
            clip = Clip(f"{subject}/{sequence}/{camera_id}", 1000, 1000, len(world), 50.0 / FRAME_STEP, [track])
            poses += len(world)
            torso_bias.append(lifted_trunk_pitch_deg(track) - true_pitch_and_roll_deg(cam)[0])
            actions.append(sequence.rstrip(" 0123456789"))
            for name, options in VARIANTS.items():
                frame = WorldFrame(focal_px=float(cam.f.mean()), principal_px=tuple(cam.c),
                                   **options(statures[subject] / 1000.0, cam))  # fmt: skip
                world_track = to_world(track, clip, frame)
                row = measure(world_track, world, truth_cam, cam)
                wp = weak_perspective_depth(track, metric_pose_mm(track, frame.height_m), frame.focal_px)
                row["weak_perspective_depth_error_mm"] = float(np.median(np.abs(wp - truth_cam[:, 0, 2])))
                rows[name].append(row)

    per_action_rows = rows["height, pitch from feet"]
    true_pitch_rows = rows["height, true pitch"]
    record = {
        "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} torch thread, no GPU, shared with other jobs",
        "weights": args.weights.name,
        "frame_step": FRAME_STEP,
        "sequences": len(sequences),
        "poses": poses,
        "true_heights_m": {s: round(v / 1000.0, 3) for s, v in statures.items()},
        "variants": {name: summarise(r) for name, r in rows.items()},
        "per_action": {a: summarise([r for r, ra in zip(per_action_rows, actions) if ra == a])
                       for a in sorted(set(actions))},  # fmt: skip
        "per_action_true_pitch": {a: summarise([r for r, ra in zip(true_pitch_rows, actions) if ra == a])
                                  for a in sorted(set(actions))},  # fmt: skip
        "lifted_torso_pitch_bias_deg": float(np.mean(torso_bias)),
        "seconds": time.perf_counter() - start,
    }
    write_report(args.out, markdown(record), record)


if __name__ == "__main__":
    main()
