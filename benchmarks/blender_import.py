"""A real Blender import of svmac's BVH files: upright, with the joints where the file says,
and with --world's files standing on Blender's ground plane, levelled, moving along the root's path.

Writes Human3.6M S9 "Walking 1" and "Sitting 1" (the first seconds, camera 54138969's view) as
BVH with app.bvh, for the ground-truth 3D and svmac's lifted output, each in two frames: the
camera's (root-relative, as without --world) and app.world's (placed with the camera's true focal
length and principal point, as svmac-demo --world --focal does). Imports each into the system's
Blender, headless, with its stock BVH importer and default axes; reads back every joint's world
position at sampled frames, and compares them with pybvh's forward kinematics of the same file,
mapped through the importer's default axis change (forward -Z, up Y: BVH (x, y, z) -> Blender
(x, -z, y)). Upright: the head above both feet along Blender's Z in every sampled frame. In
Blender also: the lower ankle's height above the ground plane (Z = 0), the Hips against
app.world's root, and the trunk's angle from Blender's vertical against the true one (Human3.6M's
world is z up), which shows whether the camera's tilt was levelled.

Installs nothing: it uses `blender` from PATH (Debian: apt-get install blender) or --blender,
and exits with a one-line message when there is none. Too heavy for CI (Blender is a ~400 MB
package); run by hand. Writes reports/blender_import.md and .json.
Usage: python benchmarks/blender_import.py [--data DIR] [--blender PATH] [--frames 1500] [--every 25]
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dataclasses import replace

import numpy as np
from bvh_roundtrip import CAMERA, FPS, camera_sequences, lifted_sequences, pose_track, reader_joints

from app.bvh import BVH_JOINTS, CAMERA_FRAME, WORLD_FRAME, write_bvh
from app.clip import Clip
from app.pipeline import DEFAULT_WEIGHTS
from app.world import (
    ANKLE_ABOVE_SOLE_MM,
    CAMERA_POSE_LEVELLING,
    FLOOR_PERCENTILE,
    LIFTED_BODY_LEVELLING,
    WorldFrame,
    WorldTrack,
    to_world,
)
from lifter.camera import Camera
from lifter.checkpoint import write_report
from lifter.data import data_root, load_cameras
from lifter.errors import SvmacError, exit_on_user_error
from lifter.skeleton import JOINT_NAMES

# Walking, and sitting on a chair (at times with a foot raised high). Not SittingDown: its subjects also lie on the floor,
# where the head can be level with the feet whatever the file's up axis (ground truth: 3 cm).
SEQUENCES = ("S9/Walking 1", "S9/Sitting 1")
BVH_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # the importer's default axes
AGREE_MM = 0.1  # "where the file says": Blender's joints within this of the reader's
IMAGE_SIZE = 1000  # Human3.6M's frames are about 1000 x 1000 px (the principal point is the camera's own)
HIP, THORAX, HEAD = (JOINT_NAMES.index(name) for name in ("Hip", "Thorax", "Head"))
ANKLES = [JOINT_NAMES.index("RFoot"), JOINT_NAMES.index("LFoot")]

# Debian's Blender 3.4.1 runs on Python 3.11, but its BVH importer opens files in mode "rU",
# which Python 3.11 removed: the stock import fails on every file (ValueError: invalid mode:
# 'rU'). When that happens the import is retried with the importer module's open() dropping the
# "U" (in this Blender process only; nothing on disk changes, the importer's logic is untouched).
RU_FAILURE = "invalid mode: 'rU'"

# Runs inside Blender: import one BVH with the stock importer, dump joint world positions.
BLENDER_SCRIPT = """
import builtins, bpy, json, sys
bvh_path, out_path, every, shim = sys.argv[sys.argv.index("--") + 1:]
bpy.ops.wm.read_factory_settings(use_empty=True)
if shim == "1":
    import io_anim_bvh.import_bvh as importer
    importer.open = lambda path, mode="r", *rest, **named: builtins.open(path, mode.replace("U", ""), *rest, **named)
bpy.ops.import_anim.bvh(filepath=bvh_path, global_scale=1.0, frame_start=1, rotate_mode="NATIVE",
                        axis_forward="-Z", axis_up="Y", update_scene_fps=True, update_scene_duration=True)
armature = bpy.context.view_layer.objects.active
scene = bpy.context.scene
first, last = (int(round(f)) for f in armature.animation_data.action.frame_range)  # the keyed frames
frames = {}
for frame in range(first, last + 1, int(every)):
    scene.frame_set(frame)
    frames[frame - first] = {b.name: list(armature.matrix_world @ b.head) for b in armature.pose.bones}
rest = {b.name: list(armature.matrix_world @ b.head_local) for b in armature.data.bones}
json.dump({"version": bpy.app.version_string, "fps": scene.render.fps / scene.render.fps_base,
           "frame_count": last - first + 1, "armature": armature.name,
           "frames": frames, "rest": rest}, open(out_path, "w"))
"""


def debian_package(path: str) -> str:
    """Which Debian package holds the Blender executable, with its version, if dpkg knows."""
    owner = subprocess.run(["dpkg", "-S", str(Path(path).resolve())], capture_output=True, text=True)
    if owner.returncode != 0:
        return "not from a Debian package"
    name = owner.stdout.split(":")[0]
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True).stdout
    return f"Debian package {name} {version}"


def find_blender(asked: str | None) -> str:
    path = shutil.which(asked or "blender")
    if path is None:
        raise SvmacError(
            f"no Blender found ({asked or 'blender'} is not on PATH); install one (Debian: apt-get install blender) "
            "or pass --blender PATH; this benchmark installs nothing itself"
        )
    return path


def import_in_blender(blender: str, bvh: Path, every: int, out: Path) -> tuple[dict, str | None]:
    """-> (what Blender read, the stock importer's error when the "rU" shim was needed, else None)."""
    stock_error = None
    for shim in ("0", "1"):
        out.unlink(missing_ok=True)
        command = [blender, "-b", "--factory-startup", "--python-expr", BLENDER_SCRIPT, "--", str(bvh), str(out),
                   str(every), shim]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if done.returncode == 0 and out.is_file():
            return json.loads(out.read_text()), stock_error
        errors = [line for line in (done.stdout + done.stderr).splitlines() if "Error" in line] or ["no output"]
        if shim == "0" and any(RU_FAILURE in line for line in errors):
            stock_error = next(line for line in errors if RU_FAILURE in line).strip()
            continue
        raise SvmacError(f"Blender failed to import {bvh.name} (exit {done.returncode}): {errors[-1].strip()}")
    raise AssertionError("unreachable")


def placed(pose_mm: np.ndarray, pixels: np.ndarray, camera: Camera, body_levelling: float) -> WorldTrack:
    """app.world's placement of a sequence's poses (F, 17, 3) mm seen at pixels (F, 17, 2) by the camera,
    the body turned by body_levelling times the pitch (CAMERA_POSE_LEVELLING for the ground truth)."""
    track = replace(pose_track(pose_mm), keypoints_2d=pixels.astype(np.float64))
    clip = Clip("h36m", IMAGE_SIZE, IMAGE_SIZE, len(pose_mm), FPS, [track])
    options = WorldFrame(focal_px=float(camera.f.mean()), principal_px=tuple(camera.c), body_levelling=body_levelling)
    return to_world(track, clip, options)


def angle_from_deg(vectors: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Angle of vectors (N, 3) from the direction up (3,) or (N, 3), degrees."""
    cosine = (vectors * up).sum(-1) / np.linalg.norm(vectors, axis=-1) / np.linalg.norm(up, axis=-1)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def compare(imported: dict, expected: np.ndarray, fps: float, true_lean_deg: np.ndarray,
            world: WorldTrack | None, floor_lift_mm: float = 0.0) -> dict:  # fmt: skip
    """Blender's joints against the reader's (mapped to Blender axes); upright along Blender's Z;
    the trunk's angle from Blender's Z against the true one (true_lean_deg (F,)); on the ground
    plane and along app.world's root path, raised by the file's floor lift, for a world-frame file
    (world given)."""
    carriers = {joint.source: joint.name for joint in BVH_JOINTS if joint.source is not None}
    frames = sorted(int(f) for f in imported["frames"])
    blender = np.array([[imported["frames"][str(f)][carriers[j]] for j in range(17)] for f in frames])  # (S, 17, 3)
    reader = expected[frames] @ BVH_TO_BLENDER.T
    error_mm = np.linalg.norm(blender - reader, axis=-1) * 10.0  # file units are cm
    head = blender[:, HEAD, 2]
    feet = blender[:, ANKLES, 2].max(1)
    lower_ankle_cm = blender[:, ANKLES, 2].min(1)
    lean = angle_from_deg(blender[:, THORAX] - blender[:, HIP], np.array([0.0, 0.0, 1.0]))
    rest = imported["rest"]
    placement = {}
    if world is not None:
        root_cm = (world.root_m[frames] * 100.0 + [0.0, floor_lift_mm / 10.0, 0.0]) @ BVH_TO_BLENDER.T
        placement = {
            "pitch_deg": world.pitch_deg,
            "pitch_source": world.pitch_source,
            "hips_vs_world_root_max_mm": float(np.linalg.norm(blender[:, HIP] - root_cm, axis=-1).max() * 10.0),
            "hips_ground_path_cm": float(np.linalg.norm(np.diff(blender[:, HIP, :2], axis=0), axis=-1).sum()),
        }
    return {
        "blender": imported["version"],
        "frames_in_blender": imported["frame_count"],
        "frames_in_file": len(expected),
        "fps_in_blender": imported["fps"],
        "fps_in_file": fps,
        "sampled_frames": len(frames),
        "mean_joint_difference_mm": float(error_mm.mean()),
        "max_joint_difference_mm": float(error_mm.max()),
        "head_above_feet_cm_min": float((head - feet).min()),
        "head_above_feet_cm_mean": float((head - feet).mean()),
        "upright_in_every_sampled_frame": bool((head > feet).all()),
        "rest_head_minus_foot_z_cm": float(rest["Head"][2] - rest["RFoot"][2]),
        "lower_ankle_z_cm_floor_percentile": float(np.percentile(lower_ankle_cm, FLOOR_PERCENTILE)),
        "lower_ankle_z_cm_min": float(lower_ankle_cm.min()),
        "trunk_lean_error_deg_median": float(np.median(np.abs(lean - true_lean_deg[frames]))),
    } | placement


def placement_row(name: str, r: dict) -> str:
    """One file's row of the placement table (a camera-frame file has no pitch or root path)."""
    world = r["frame"] == WORLD_FRAME
    pitch = f"{r['pitch_deg']:.1f}° ({r['pitch_source']})" if world else "none (camera's view)"
    root = f"{round(r['floor_lift_mm'], 1) + 0.0:.1f} | {r['hips_vs_world_root_max_mm']:.4f} | {r['hips_ground_path_cm']:.0f}" if world else "- | - | -"
    return (
        f"| {name} | {pitch} | {r['trunk_lean_error_deg_median']:.1f} | "
        f"{r['lower_ankle_z_cm_floor_percentile']:.2f} / {r['lower_ankle_z_cm_min']:.2f} | {root} |"
    )


def markdown(record: dict) -> str:
    rows = "\n".join(
        f"| {name} | {r['frames_in_file']} / {r['frames_in_blender']} | "
        f"{r['fps_in_file']:g} / {r['fps_in_blender']:g} | "
        f"{r['sampled_frames']} | {r['mean_joint_difference_mm']:.4f} | {r['max_joint_difference_mm']:.4f} | "
        f"{'yes' if r['max_joint_difference_mm'] <= AGREE_MM else 'NO'} | {r['head_above_feet_cm_min']:.1f} | "
        f"{'yes' if r['upright_in_every_sampled_frame'] else 'NO'} | {r['rest_head_minus_foot_z_cm']:.1f} |"
        for name, r in record["files"].items()
    )
    placements = "\n".join(placement_row(name, r) for name, r in record["files"].items())
    errors = sorted({r["stock_importer_error"] for r in record["files"].values() if r["stock_importer_error"]})
    shim = (
        f"**{record['blender']} ({record['package']}) cannot import any BVH file as installed**: its importer "
        f"(`io_anim_bvh/import_bvh.py`) opens the file in mode `'rU'`, which the Python 3.11 it runs on removed "
        f"(`{errors[0]}`). The rows above therefore ran the stock importer with one in-process change: the "
        "importer module's `open` drops the `U` (nothing on disk is changed; the import logic is Blender's). "
        "A user of that package has to do the same or use Blender from blender.org.\n\n"
        if errors
        else "The stock importer ran unchanged.\n\n"
    )
    return (
        "# Blender imports svmac's BVH upright, joints where the file says; --world's on the ground plane\n\n"
        f"Produced by `{record['command']}` on {record['machine']}, with {record['blender']} "
        f"(`{record['blender_path']}`, {record['package']}), headless (`blender -b`), its stock BVH importer "
        "with default axes (forward -Z, up Y) and scale 1 (one Blender unit per file centimetre).\n"
        f"Data: Human3.6M S9, the first {record['frames']} frames (50 fps) of each sequence, camera {CAMERA}'s "
        "view; *ground truth* is its 3D, *lifted* is svmac's output for its ground-truth 2D "
        f"(`{record['weights']}`). Each is written in the *camera frame* (root-relative, as svmac-demo --bvh "
        "without --world) and in the *world frame* (app.world's placement with the camera's true focal length "
        "and principal point, as --bvh --world --focal). Every "
        f"{record['every']}th frame is read back from Blender.\n\n"
        "*Difference*: each joint's world position in Blender (pose-bone head) against pybvh's forward "
        "kinematics of the same file, mapped by the importer's axis change BVH (x, y, z) -> Blender "
        f"(x, -z, y); agreement means at most {AGREE_MM:g} mm. *Head above feet*: Blender Z of the Head joint "
        "minus the higher foot, the smallest over the sampled frames (positive: upright; a Z-up file would "
        "lie along Blender's Y instead). Sequences: walking, and sitting on a chair (at times with a foot "
        "raised high, hence the small minimum); not SittingDown, whose subjects also lie on the floor with "
        "the head as low as the feet (a pose, not an axis: its ground truth comes within 3 cm).\n\n"
        "| file | frames file / Blender | fps file / Blender | sampled | mean difference (mm) | "
        "max difference (mm) | agree | head above feet, min (cm) | upright | T-pose head above foot (cm) |\n"
        "|---|---|---|---:|---:|---:|---|---:|---|---:|\n"
        f"{rows}\n\n"
        "*Placement in Blender*: *trunk from vertical vs truth*: the angle of Hip -> Thorax from Blender's Z "
        "against the true one (from Human3.6M's z-up world), median over the sampled frames: a camera-frame "
        "file keeps the camera's tilt; a world-frame file stands on the floor of the pitch app.world used (read "
        "from the feet when they cover half a metre of depth, else assumed level), the ground truth's body "
        f"turned by all of it (body levelling {CAMERA_POSE_LEVELLING:g}), the lifted body, which the lifter "
        f"returns upright in the camera frame, by {LIFTED_BODY_LEVELLING:g} of it (app.world's default for "
        "lifted poses, chosen on S1, S5-S8: reports/world_frame.md). *Lower ankle Z*: the lower "
        f"ankle's height above Blender's ground plane, at app.world's {FLOOR_PERCENTILE:g}th percentile of the "
        f"sampled frames and its minimum; app.world puts it {ANKLE_ABOVE_SOLE_MM / 10:g} cm above the floor "
        "in its percentile of all frames (the file's Hips are raised by *floor lift* so that its regularised "
        "legs keep that), while a camera-frame file stands its hips at the T-pose's leg height whatever the "
        "pose. *Hips vs app.world root*: Blender's Hips against app.world's root path raised by the floor "
        "lift, mapped to Blender's axes; *Hips' ground path*: the length of their path along Blender's "
        "ground plane over the sampled frames.\n\n"
        "| file | camera pitch used | trunk from vertical vs truth, median (°) | lower ankle Z, percentile / min "
        "(cm) | floor lift (mm) | Hips vs app.world root, max (mm) | Hips' ground path (cm) |\n"
        "|---|---|---:|---:|---:|---:|---:|\n"
        f"{placements}\n\n"
        f"{shim}"
        "Not part of CI: Blender is too heavy to install there; this script installs nothing and stops "
        "with a one-line message when no `blender` is on PATH.\n"
    )


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--blender", help="the Blender executable (default: blender on PATH)")
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--frames", type=int, default=1500, help="frames from each sequence's start")
    p.add_argument("--every", type=int, default=25, help="read every Nth frame back from Blender")
    p.add_argument("--out", type=Path, default=Path("reports/blender_import"))
    args = p.parse_args(argv)
    blender = find_blender(args.blender)
    root = data_root(args.data)
    truth, pixels = camera_sequences(root, 1)
    truth = {name: truth[name][: args.frames] for name in SEQUENCES}
    pixels = {name: pixels[name][: args.frames] for name in SEQUENCES}
    lifted = lifted_sequences(args.weights, pixels)
    cameras = load_cameras(root)
    files = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind, poses, levelling in (("ground truth", truth, CAMERA_POSE_LEVELLING),
                                       ("lifted", lifted, LIFTED_BODY_LEVELLING)):
            for name, pose in poses.items():
                camera = cameras[(name.split("/")[0], CAMERA)]
                true_up = camera.R @ np.array([0.0, 0.0, 1.0])  # Human3.6M's world up in the camera frame
                true_lean = angle_from_deg(truth[name][:, THORAX] - truth[name][:, HIP], true_up)
                for frame in (CAMERA_FRAME, WORLD_FRAME):
                    world = placed(pose, pixels[name], camera, levelling) if frame == WORLD_FRAME else None
                    path = Path(folder) / f"{name.replace('/', '_').replace(' ', '_')}_{frame}_track_0.bvh"
                    summary = write_bvh(path, pose_track(pose), FPS, overwrite=True, world=world)
                    imported, stock_error = import_in_blender(blender, path, args.every, Path(folder) / "blender.json")
                    result = compare(imported, reader_joints(path), FPS, true_lean, world, summary.floor_lift_mm)
                    key = f"{name}, {kind}, {frame} frame"
                    lift = {"floor_lift_mm": summary.floor_lift_mm}
                    files[key] = result | lift | {"frame": frame, "stock_importer_error": stock_error}
                    print(key, files[key], flush=True)
    first = next(iter(files.values()))
    record = {
        "command": " ".join(["python benchmarks/blender_import.py", *(sys.argv[1:] if argv is None else argv)]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU, shared with other jobs",
        "blender": f"Blender {first['blender']}",
        "blender_path": blender,
        "package": debian_package(blender) if shutil.which("dpkg") else "no dpkg here",
        "weights": str(args.weights),
        "frames": args.frames,
        "every": args.every,
        "files": files,
    }
    write_report(args.out, markdown(record), record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
