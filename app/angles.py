"""Joint angles of a 3D pose in degrees: knee, hip, elbow and shoulder flexion, trunk lean.

Definitions (docs/motion_outputs.md has them with pictures in words):
- knee / elbow flexion: the angle between the two segments' directions (thigh and shank, upper
  arm and forearm); 0 = straight, 90 = a right angle. Unsigned: a hyperextended knee reads as a
  slightly flexed one.
- hip / shoulder flexion: the thigh's / upper arm's angle from the trunk's downward axis, in
  the body's sagittal plane (the plane normal to the hip line, left hip minus right hip);
  0 = along the trunk (standing, arms hanging), 90 = pointing forwards, > 90 further up,
  negative = behind the trunk. NaN where the segment points almost along the hip line (pure
  abduction, a T-pose arm): its sagittal angle is not defined there.
- trunk lean: the angle of the trunk (root to Thorax) from the vertical, unsigned; trunk lean
  forward: its signed part in the sagittal plane of the pelvis, > 0 leaning forwards.
The vertical defaults to the camera frame's up (-y: a level camera); pass the world's up for
joints in app.world's frame (y up). Every angle but the trunk lean is measured within the body
and needs no vertical. Poses may be in any unit.
"""

import numpy as np

from lifter.skeleton import JOINT_NAMES

J = {name: index for index, name in enumerate(JOINT_NAMES)}
CAMERA_UP = np.array([0.0, -1.0, 0.0])  # camera frame: y down
WORLD_UP = np.array([0.0, 1.0, 0.0])  # app.world: y up
# A segment's share in the sagittal plane below which its sagittal angle is left undefined.
MIN_SAGITTAL_SHARE = 0.25

ANGLE_NAMES: tuple[str, ...] = (
    "left_knee_flexion",
    "right_knee_flexion",
    "left_hip_flexion",
    "right_hip_flexion",
    "left_elbow_flexion",
    "right_elbow_flexion",
    "left_shoulder_flexion",
    "right_shoulder_flexion",
    "trunk_lean",
    "trunk_lean_forward",
)


def unit(vectors: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 3) of length 1 (zero vectors stay zero)."""
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(length, 1e-12)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unsigned angle in degrees between (..., 3) vectors. -> (...,)"""
    cos = np.sum(unit(a) * unit(b), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def body_axes(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The body's own axes (..., 3) each: left (right hip to left hip), up (the trunk, root to
    Thorax, made normal to left) and forward (left x up: where the person faces)."""
    left = unit(pose[..., J["LHip"], :] - pose[..., J["RHip"], :])
    trunk = pose[..., J["Thorax"], :] - pose[..., J["Hip"], :]
    up = unit(trunk - np.sum(trunk * left, -1, keepdims=True) * left)
    return left, up, np.cross(left, up)


def sagittal_angle(segment: np.ndarray, left: np.ndarray, down: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Signed angle (degrees) of a segment from `down` towards `forward`, in the plane normal to
    `left`; NaN where less than MIN_SAGITTAL_SHARE of the segment lies in that plane. (..., 3) -> (...,)"""
    along_down = np.sum(segment * down, -1)
    along_forward = np.sum(segment * forward, -1)
    in_plane = np.hypot(along_down, along_forward)
    angle = np.degrees(np.arctan2(along_forward, along_down))
    return np.where(in_plane >= MIN_SAGITTAL_SHARE * np.linalg.norm(segment, axis=-1), angle, np.nan)


def joint_angles(pose_3d: np.ndarray, up: np.ndarray = CAMERA_UP) -> dict[str, np.ndarray]:
    """Every ANGLE_NAMES angle of (..., 17, 3) poses, in degrees, each (...,)."""
    pose = np.asarray(pose_3d, np.float64)
    left, trunk_up, forward = body_axes(pose)
    angles = {}
    for side, prefix in (("L", "left"), ("R", "right")):
        hip, knee, ankle = (pose[..., J[f"{side}{name}"], :] for name in ("Hip", "Knee", "Foot"))
        shoulder, elbow, wrist = (pose[..., J[f"{side}{name}"], :] for name in ("Shoulder", "Elbow", "Wrist"))
        angles[f"{prefix}_knee_flexion"] = angle_between(knee - hip, ankle - knee)
        angles[f"{prefix}_elbow_flexion"] = angle_between(elbow - shoulder, wrist - elbow)
        angles[f"{prefix}_hip_flexion"] = sagittal_angle(knee - hip, left, -trunk_up, forward)
        angles[f"{prefix}_shoulder_flexion"] = sagittal_angle(elbow - shoulder, left, -trunk_up, forward)

    vertical = unit(np.asarray(up, np.float64))
    trunk = pose[..., J["Thorax"], :] - pose[..., J["Hip"], :]
    angles["trunk_lean"] = angle_between(trunk, np.broadcast_to(vertical, trunk.shape))
    # Forwards as the pelvis faces, made level: the lean's sagittal part, not its sideways part.
    level_forward = unit(np.cross(left, vertical))
    along_up = np.sum(trunk * vertical, -1)
    angles["trunk_lean_forward"] = np.degrees(np.arctan2(np.sum(trunk * level_forward, -1), along_up))
    return {name: angles[name] for name in ANGLE_NAMES}
