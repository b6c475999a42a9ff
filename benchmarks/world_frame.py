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

Body levelling (WorldFrame.body_levelling, the share of the pitch by which the body is turned;
the root and floor always use the whole pitch), measured on the training subjects S1, S5-S8,
where the default is chosen by LEVELLING_RULE, and then reported on S9/S11 (nothing chosen there):
- trunk lean: the angle of root -> Thorax from the world's vertical, predicted vs true, per frame;
- joints: the mean joint position error in the world frame (nothing aligned; the truth's floor
  as above), and the same with each pose's root moved onto the true root (the body's shape and
  orientation only);
- floor and root position as above.

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
    LIFTED_BODY_LEVELLING,
    WorldFrame,
    floor_level,
    measure_body_heights,
    metric_pose_mm,
    pitch_and_roll_deg,
    to_world,
)
from lifter.camera import Camera, camera_to_pixels, world_to_camera
from lifter.checkpoint import load_generator, write_report
from lifter.data import CAMERAS, POSES_FILE, TEST_SUBJECTS, TRAIN_SUBJECTS, data_root, load_cameras, load_npz
from lifter.geometry import mean_root_distance
from lifter.inference import lift_poses
from lifter.priors import metric_scale
from lifter.skeleton import JOINT_NAMES

FRAME_STEP = 10  # 5 frames/s of the 50 fps sequences
DEFAULT_WEIGHTS = Path("weights") / "svmac_h36m_gt.safetensors"
FLOOR_TARGET_MM = 30.0
ANKLES = [JOINT_NAMES.index("RFoot"), JOINT_NAMES.index("LFoot")]
WORLD_UP = np.array([0.0, 0.0, 1.0])  # Human3.6M's world is z up, floor at z = 0
THORAX = JOINT_NAMES.index("Thorax")
BODY_LEVELLINGS = (1.0, 0.75, 0.5, 0.25, 0.0)
# Stated before measuring; applied to the training subjects only.
LEVELLING_RULE = (
    "the body levelling with the lowest median trunk-lean error, among those whose median abs floor "
    "error and median world joint error are at most 5 mm worse than full levelling (1.0); full "
    "levelling stays unless another beats its trunk-lean error by 1 degree or more"
)
TRADE_OFF_MM, MIN_GAIN_DEG = 5.0, 1.0


def true_pitch_and_roll_deg(cam: Camera) -> tuple[float, float]:
    return pitch_and_roll_deg(cam.R @ WORLD_UP)  # world up in the camera frame


def lifted_trunk_pitch_deg(track: PoseTrack) -> float:
    """The camera pitch the lifted trunk (root to Thorax) implies, were the body upright."""
    return trunk_tilt_deg(track.pose_3d)


def truth_in_world_frame(points_world: np.ndarray, cam: Camera) -> np.ndarray:
    """True points (..., 3) in app.world's axes: origin below the camera, x = the camera's right
    made level, y up (metres from z = 0), z = x cross y."""
    right = cam.R[0] - (cam.R[0] @ WORLD_UP) * WORLD_UP
    right /= np.linalg.norm(right)
    axes = np.stack([right, WORLD_UP, np.cross(right, WORLD_UP)])
    relative = points_world - np.array([cam.T[0], cam.T[1], 0.0])
    return relative @ axes.T


def sequences_of(root: Path, subjects: tuple[str, ...]) -> list[tuple[str, str, np.ndarray]]:
    poses = load_npz(root / POSES_FILE)
    return [(key.split("/")[0], key.split("/")[1], poses[key].astype(np.float64))
            for key in sorted(poses) if key.split("/")[0] in subjects]  # fmt: skip


def true_statures_mm(sequences, subjects: tuple[str, ...]) -> dict[str, float]:
    statures = {}
    for subject in subjects:
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


def lean_deg(trunk: np.ndarray) -> np.ndarray:
    """The angle (F,) of trunk vectors (F, 3) from the world's vertical (y in app.world's axes)."""
    return np.degrees(np.arccos(np.clip(trunk[:, 1] / np.linalg.norm(trunk, axis=1), -1, 1)))


def measure_body(world_track, truth_world: np.ndarray, cam: Camera) -> dict:
    """Trunk lean and world joint errors of one placed track against the truth (module docstring)."""
    truth = truth_in_world_frame(truth_world, cam)  # (F, 17, 3) mm, y from z = 0
    truth[..., 1] -= floor_level(truth_world[:, ANKLES, 2].min(1))
    pred = world_track.joints_m * 1000.0
    lean_error = np.abs(lean_deg(pred[:, THORAX] - pred[:, 0]) - lean_deg(truth[:, THORAX] - truth[:, 0]))
    relative = (pred - pred[:, :1]) - (truth - truth[:, :1])
    return {
        "trunk_lean_error_deg": float(np.median(lean_error)),
        "world_joint_error_mm": float(np.median(np.linalg.norm(pred - truth, axis=-1).mean(1))),
        "world_joint_error_root_aligned_mm": float(np.median(np.linalg.norm(relative, axis=-1).mean(1))),
    }


def summarise_body(rows: list[dict]) -> dict:
    def median(key):
        return float(np.median([r[key] for r in rows]))

    return {
        "tracks": len(rows),
        "median_trunk_lean_error_deg": median("trunk_lean_error_deg"),
        "median_world_joint_error_mm": median("world_joint_error_mm"),
        "median_world_joint_error_root_aligned_mm": median("world_joint_error_root_aligned_mm"),
        "median_abs_floor_error_mm": float(np.median(np.abs([r["floor_error_mm"] for r in rows]))),
        "median_floor_error_mm": median("floor_error_mm"),
        "median_root_position_error_mm": median("root_position_error_mm"),
    }


def choose_levelling(summaries: dict[float, dict]) -> float:
    """LEVELLING_RULE over {body levelling: summarise_body(...)}."""
    full = summaries[1.0]
    allowed = [level for level, s in summaries.items()
               if s["median_abs_floor_error_mm"] <= full["median_abs_floor_error_mm"] + TRADE_OFF_MM
               and s["median_world_joint_error_mm"] <= full["median_world_joint_error_mm"] + TRADE_OFF_MM]  # fmt: skip
    best = min(allowed, key=lambda level: summaries[level]["median_trunk_lean_error_deg"])
    gain = full["median_trunk_lean_error_deg"] - summaries[best]["median_trunk_lean_error_deg"]
    return best if gain >= MIN_GAIN_DEG else 1.0


def trunk_tilt_deg(pose: np.ndarray) -> float:
    """The median tilt (towards the camera, degrees) of camera-frame trunks (F, 17, 3) from the
    camera's -y: the camera pitch they imply, were the body upright."""
    trunk = pose[:, THORAX] - pose[:, 0]  # (F, 3)
    return float(np.median(np.degrees(np.arctan2(-trunk[:, 2], -trunk[:, 1]))))


def mean_tilts(tilts: list[tuple[float, float, float]]) -> dict:
    """Means over tracks of (camera pitch, true trunk tilt, lifted trunk tilt), degrees."""
    pitch, true, lifted = np.mean(tilts, axis=0)
    return {
        "camera_pitch_deg": float(pitch),
        "true_trunk_tilt_deg": float(true),
        "lifted_trunk_tilt_deg": float(lifted),
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


def placed_tracks(generator, cameras, sequences, statures):
    """Per sequence and camera: (subject, action, every FRAME_STEP-th true world pose (F, 17, 3) mm,
    the same in the camera frame, the camera, the lifted track, its one-track clip, true height m)."""
    for subject, sequence, world in sequences:
        world = world[::FRAME_STEP]
        for camera_id in CAMERAS:
            cam = cameras[(subject, camera_id)]
            truth_cam = world_to_camera(world, cam)
            track = lifted_track(generator, camera_to_pixels(truth_cam, cam))
            clip = Clip(f"{subject}/{sequence}/{camera_id}", 1000, 1000, len(world), 50.0 / FRAME_STEP, [track])
            action = sequence.rstrip(" 0123456789")
            yield subject, action, world, truth_cam, cam, track, clip, statures[subject] / 1000.0


def body_levelling_rows(placed, pitch_source: str) -> tuple[dict[float, list[dict]], list[tuple]]:
    """Per body levelling the tracks' rows (measure + measure_body), with the height and the pitch
    from the feet ("feet") or the true pitch ("true"); and per track (true pitch, lifted trunk tilt)."""
    rows: dict[float, list[dict]] = {level: [] for level in BODY_LEVELLINGS}
    tilts = []
    for _, _, world, truth_cam, cam, track, clip, height in placed:
        true_pitch = true_pitch_and_roll_deg(cam)[0]
        tilts.append((true_pitch, trunk_tilt_deg(truth_cam), lifted_trunk_pitch_deg(track)))
        for level in BODY_LEVELLINGS:
            pitch = true_pitch if pitch_source == "true" else None
            frame = WorldFrame(focal_px=float(cam.f.mean()), principal_px=tuple(cam.c), height_m=height,
                               pitch_deg=pitch, body_levelling=level)  # fmt: skip
            world_track = to_world(track, clip, frame)
            rows[level].append(measure(world_track, world, truth_cam, cam) | measure_body(world_track, world, cam))
    return rows, tilts


def levelling_record(placed) -> dict:
    """summarise_body per body levelling, pitch from the feet and true pitch; the mean tilts."""
    placed = list(placed)
    feet, tilts = body_levelling_rows(placed, "feet")
    true, _ = body_levelling_rows(placed, "true")
    return {
        "pitch_from_feet": {str(level): summarise_body(r) for level, r in feet.items()},
        "true_pitch": {str(level): summarise_body(r) for level, r in true.items()},
        "tilts": mean_tilts(tilts),
    }


def levelling_table(section: dict) -> list[str]:
    lines = ["| body levelling | pitch | trunk lean error (deg) | world joints (mm) | world joints, root on truth (mm) "
             "| abs floor (mm) | floor, signed (mm) | root 3D (mm) |", "|---:|---|" + "---:|" * 6]  # fmt: skip
    for pitch, name in (("pitch_from_feet", "from feet"), ("true_pitch", "true")):
        for level, s in section[pitch].items():
            lines.append(
                f"| {float(level):.2f} | {name} | {s['median_trunk_lean_error_deg']:.1f} | "
                f"{s['median_world_joint_error_mm']:.0f} | {s['median_world_joint_error_root_aligned_mm']:.0f} | "
                f"{s['median_abs_floor_error_mm']:.1f} | {s['median_floor_error_mm']:+.1f} | "
                f"{s['median_root_position_error_mm']:.0f} |"
            )
    return lines


def tilt_sentence(section: dict, name: str) -> str:
    t = section["tilts"]
    return (f"{name}: cameras pitched {t['camera_pitch_deg']:.1f}°, true trunks {t['true_trunk_tilt_deg']:.1f}°, "
            f"lifted trunks {t['lifted_trunk_tilt_deg']:.1f}°")


def levelling_markdown(record: dict) -> str:
    train, test = record["body_levelling_train"], record["body_levelling_test"]
    lines = [
        "## Body levelling: chosen on the training subjects S1, S5-S8",
        "",
        "app.world always places the root and the floor with the whole camera pitch; `body_levelling` is the "
        "share of it by which the body (the root-relative pose) is turned. Full levelling (1.0) suits true "
        "camera-frame poses, which lean by the camera's tilt; the lifter returns bodies nearly upright in the "
        "camera frame. Trunk (root to Thorax) tilt towards the camera from the camera's vertical, median "
        "over a track's frames, mean over tracks: " + tilt_sentence(train, "training") + "; "
        + tilt_sentence(test, "S9/S11") + ".",
        "",
        f"Rule (stated before measuring, applied to the training subjects only): {LEVELLING_RULE}, with "
        f"the pitch from the feet. It picks **{record['levelling_chosen_on_train']:g}** on "
        f"{', '.join(TRAIN_SUBJECTS)} ({record['train_tracks']} tracks, {record['train_poses']} poses); "
        f"app.world's default for lifted poses (`LIFTED_BODY_LEVELLING`) is {LIFTED_BODY_LEVELLING:g}; the "
        "tables above use it. The true-pitch rows show the levelling alone, without the feet's pitch error. "
        "*floor, signed*: > 0 means the root stands too high above the estimated floor (the lifted legs reach "
        "too far below the root along the vertical).",
        "",
        "Training subjects S1, S5-S8 (medians over tracks of each track's median over frames; true heights "
        f"{record['train_heights_m']} m):",
        "",
        *levelling_table(train),
        "",
        "Test subjects S9/S11, reported once with the choice above (nothing chosen on them):",
        "",
        *levelling_table(test),
    ]
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
    sequences = sequences_of(root, TEST_SUBJECTS)
    statures = true_statures_mm(sequences, TEST_SUBJECTS)
    train_sequences = sequences_of(root, TRAIN_SUBJECTS)
    train_statures = true_statures_mm(train_sequences, TRAIN_SUBJECTS)
    generator = load_generator(args.weights, "cpu")

    train_placed = list(placed_tracks(generator, cameras, train_sequences, train_statures))
    train_levelling = levelling_record(train_placed)
    chosen = choose_levelling({float(k): v for k, v in train_levelling["pitch_from_feet"].items()})
    train_poses = sum(len(world) for _, _, world, *_ in train_placed)
    del train_placed

    placed = list(placed_tracks(generator, cameras, sequences, statures))
    rows: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    actions, poses, torso_bias = [], 0, []
    for subject, action, world, truth_cam, cam, track, clip, height in placed:
        poses += len(world)
        torso_bias.append(lifted_trunk_pitch_deg(track) - true_pitch_and_roll_deg(cam)[0])
        actions.append(action)
        for name, options in VARIANTS.items():
            frame = WorldFrame(focal_px=float(cam.f.mean()), principal_px=tuple(cam.c), **options(height, cam))
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
        "body_levelling_default": LIFTED_BODY_LEVELLING,
        "variants": {name: summarise(r) for name, r in rows.items()},
        "per_action": {a: summarise([r for r, ra in zip(per_action_rows, actions) if ra == a])
                       for a in sorted(set(actions))},  # fmt: skip
        "per_action_true_pitch": {a: summarise([r for r, ra in zip(true_pitch_rows, actions) if ra == a])
                                  for a in sorted(set(actions))},  # fmt: skip
        "lifted_torso_pitch_bias_deg": float(np.mean(torso_bias)),
        "levelling_rule": LEVELLING_RULE,
        "levelling_chosen_on_train": chosen,
        "train_tracks": len(train_sequences) * len(CAMERAS),
        "train_poses": train_poses,
        "train_heights_m": {s: round(v / 1000.0, 3) for s, v in train_statures.items()},
        "body_levelling_train": train_levelling,
        "body_levelling_test": levelling_record(placed),
        "seconds": time.perf_counter() - start,
    }
    write_report(args.out, markdown(record) + "\n" + levelling_markdown(record), record)


if __name__ == "__main__":
    main()
