"""Human3.6M from SVMAC_DATA: ground-truth 2D (projected through the real cameras) or the
Stacked-Hourglass detections, with camera-frame 3D for evaluation."""

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifter.camera import Camera, camera_to_pixels, world_to_camera
from lifter.errors import SvmacError
from lifter.joint_formats import MPII16_TO_H36M17, map_keypoints

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
ALL_SUBJECTS = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")
CAMERAS = ("54138969", "55011271", "58860488", "60457274")
RELEASED_CODE_CAMERA = "54138969"

POSES_FILE = "h36m/h36m_3d_17j_mm.npz"
CAMERAS_FILE = "h36m/h36m_cameras.npz"
DETECTIONS_FILE = "h36m/h36m_sh_2d_mpii16_px.npz"

INPUT_SOURCES = ("gt", "sh")


@dataclass(frozen=True)
class Protocol:
    name: str
    cameras: tuple[str, ...]
    frame_step: int


# svmac-train's validation subset: every 64th frame of the training subjects, 4 cameras
VALIDATION_FRAME_STEP = 64

PROTOCOLS = {
    "standard": Protocol("standard", CAMERAS, 1),  # 4 cameras, every frame
    "released": Protocol("released", (RELEASED_CODE_CAMERA,), 5),  # the authors' released code
    # svmac-eval --subjects S1 S5 S6 S7 S8 --protocol validation: svmac-train's validation metric
    "validation": Protocol("validation", CAMERAS, VALIDATION_FRAME_STEP),
}
TEST_PROTOCOLS = ("standard", "released")


# The per-pose arrays of a PoseSet, all (N, ...).
POSE_ARRAYS = ("pose_2d", "pose_3d", "subject", "action", "sequence", "camera", "frame")


@dataclass
class PoseSet:
    """Flat arrays of N poses, all in H36M-17 joint order."""

    pose_2d: np.ndarray  # (N, 17, 2) float32 pixels
    pose_3d: np.ndarray  # (N, 17, 3) float32 camera frame, millimetres
    subject: np.ndarray  # (N,) str
    action: np.ndarray  # (N,) str, e.g. "Walking"
    sequence: np.ndarray  # (N,) str, e.g. "Walking 1"
    camera: np.ndarray  # (N,) str
    frame: np.ndarray  # (N,) int, index in the 50 fps sequence
    # "subject/sequence/camera" left out for lack of 2D detections (H36M's S11 "Directions"
    # video of camera 54138969 is damaged and has none)
    missing_detections: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.pose_2d)

    def select(self, keep: np.ndarray) -> "PoseSet":
        """The poses where keep (N,) bool is true."""
        return PoseSet(**{name: getattr(self, name)[keep] for name in POSE_ARRAYS},
                       missing_detections=self.missing_detections)  # fmt: skip


def data_root(path: str | os.PathLike | None = None) -> Path:
    """The data folder from the argument or SVMAC_DATA, checked to hold the Human3.6M files."""
    if path is None:
        path = os.environ.get("SVMAC_DATA")
        if not path:
            raise SvmacError("no data folder: pass --data DIR or set SVMAC_DATA")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise SvmacError(f"data folder {root} does not exist")
    for name in (POSES_FILE, CAMERAS_FILE):
        if not (root / name).is_file():
            raise SvmacError(f"data folder {root} has no {name}")
    return root


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an npz file, with a one-line error for a missing or damaged file."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise SvmacError(f"{path} not found") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise SvmacError(f"{path} is not a readable npz file ({err})") from None


def load_cameras(root: Path) -> dict[tuple[str, str], Camera]:
    arrays = load_npz(root / CAMERAS_FILE)
    cameras = {}
    for key in arrays:
        subject, camera_id, field = key.split("/")
        if field == "R":
            try:
                fields = {name: arrays[f"{subject}/{camera_id}/{name}"].reshape(-1) for name in "RTfckp"}
            except KeyError as err:
                raise SvmacError(f"{root / CAMERAS_FILE} lacks {err.args[0]}") from None
            fields["R"] = fields["R"].reshape(3, 3)
            cameras[(subject, camera_id)] = Camera(**fields)
    return cameras


def action_of(sequence: str) -> str:
    """'Walking 1' -> 'Walking': the action without the take number."""
    return re.sub(r"\s+\d+$", "", sequence)


def check_choice(kind: str, asked: tuple[str, ...] | None, available: set[str]) -> None:
    unknown = sorted(set(asked or ()) - available)
    if unknown:
        raise SvmacError(f"unknown {kind} {', '.join(unknown)}; available: {', '.join(sorted(available))}")


def load_h36m(
    root: Path,
    subjects: tuple[str, ...],
    cameras: tuple[str, ...] = CAMERAS,
    frame_step: int = 1,
    source: str = "gt",
    actions: tuple[str, ...] | None = None,
) -> PoseSet:
    """Load poses of the given subjects and cameras, every frame_step-th frame.

    source "gt": 2D = the 3D joints projected through the real camera (distortion included);
    source "sh": 2D = Stacked-Hourglass detections mapped from MPII-16 to H36M-17.
    actions: keep only these actions (e.g. "Walking"); None keeps all.
    """
    if source not in INPUT_SOURCES:
        raise SvmacError(f"unknown 2D source {source!r}; use one of {', '.join(INPUT_SOURCES)}")
    poses = load_npz(root / POSES_FILE)
    camera_table = load_cameras(root)
    detections = load_npz(root / DETECTIONS_FILE) if source == "sh" else {}
    check_choice("subject", subjects, {key.split("/")[0] for key in poses})
    check_choice("camera", cameras, {camera_id for _, camera_id in camera_table})
    check_choice("action", actions, {action_of(key.split("/")[1]) for key in poses})

    parts: dict[str, list[np.ndarray]] = {name: [] for name in POSE_ARRAYS}
    missing = []
    for key in sorted(poses):
        subject, sequence = key.split("/")
        if subject not in subjects or (actions and action_of(sequence) not in actions):
            continue
        world = poses[key][::frame_step].astype(np.float64)  # (T, 17, 3)
        frames = np.arange(0, len(poses[key]), frame_step)
        for camera_id in cameras:
            cam = camera_table[(subject, camera_id)]
            pose_3d = world_to_camera(world, cam)
            if source == "gt":
                pose_2d = camera_to_pixels(pose_3d, cam)
            else:
                detection_key = f"{key}/{camera_id}"
                if detection_key not in detections:
                    missing.append(detection_key)
                    continue
                if len(detections[detection_key]) != len(poses[key]):
                    raise SvmacError(f"{root / DETECTIONS_FILE}: {detection_key} has a different frame count")
                pose_2d, _ = map_keypoints(MPII16_TO_H36M17, detections[detection_key][::frame_step])
            count = len(frames)
            parts["pose_2d"].append(pose_2d.astype(np.float32))
            parts["pose_3d"].append(pose_3d.astype(np.float32))
            parts["subject"].append(np.full(count, subject))
            parts["action"].append(np.full(count, action_of(sequence)))
            parts["sequence"].append(np.full(count, sequence))
            parts["camera"].append(np.full(count, camera_id))
            parts["frame"].append(frames)
    if not parts["pose_2d"]:
        raise SvmacError(f"no Human3.6M poses for subjects {subjects} and actions {actions}")
    return PoseSet(
        **{name: np.concatenate(arrays) for name, arrays in parts.items()}, missing_detections=tuple(missing)
    )
