"""One person's 3D poses as a BVH motion file (Biovision Hierarchy) for Blender, Unity, Unreal.

Axes and units: Y up, centimetres, the person facing +Z when facing the camera, their left
at +X: the convention Blender's importer expects by default (a Z-up file would import lying
down). The lifter's poses are in the camera frame (x right, y down, z away from the camera,
millimetres); CAMERA_TO_BVH turns them half a turn about x, a proper rotation, so nothing is
mirrored. Root-relative poses carry no trajectory: the Hips stay at the rest pose's leg height
above the origin.

Given the track's world frame (app.world.WorldTrack, whose axes are these: x right, y up, z towards
the camera, made level), the file is in that frame instead (`frame` "world"): the rotations come
from the world joints, so the body stands as app.world turned it (WorldFrame.body_levelling), and
the Hips' position channels follow the world root's path, so the floor is Blender's ground plane
(y = 0) and the person moves through the scene as in the clip. The regularised legs (below) would
move the feet off that floor; one constant per track raises or lowers the Hips so the file's lower
ankle stands where app.world's rule puts it (`floor_lift_mm`).

Skeleton: the 17 Human3.6M joints as BVH joints (named after them, `bvh_joint_names`), plus
four helper joints with zero offset (RPelvis, LPelvis at the Hips, RCollar, LCollar at the
Thorax). Hips and Thorax each have three bones leaving them; one rigid rotation cannot point
three bones wherever the data says, because the angles between them change from pose to pose.
Each helper carries one of those bones with its own rotation, so every bone points exactly
along the data. The rest pose is a T-pose with each bone's median length over the clip, left
and right averaged: that length regularisation (and, in the world frame, the Hips' floor lift that
follows from it) is the only change the file makes to the poses.

Rotations: Hips and Thorax take a frame from their main bone (up the spine, up the neck) and the
right-to-left hip or shoulder line (which fixes their twist); every other joint turns its
parent's frame by the smallest rotation that lays its bone along the data (no added twist).
Channels are Euler angles in one order for every joint (EULER_ORDER), chosen frame to frame
from the equivalent triples so they never jump by a half or whole turn.

Unseen bones (either end scored below min_score): the joint keeps its last good local rotation
(or, before the first, the first good one), so a hidden forearm keeps its last seen bend rather
than the lifter's guess. Hips and Thorax always follow the data: they set the whole body's
orientation. A bone never seen in the whole track keeps the lifter's estimate (`never_seen`).
"""

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from app.clip import PoseTrack
from app.world import WorldTrack, floor_level, trusted_ankle_frames
from lifter.checkpoint import atomic_write_text, check_writable
from lifter.errors import SvmacError
from lifter.skeleton import BONES, JOINT_NAMES, ROOT, SYMMETRIC_BONES

CAMERA_TO_BVH = np.diag([1.0, -1.0, -1.0])  # (3, 3) camera axes (y down, z away) -> Y up, Z toward the camera
MM_PER_BVH_UNIT = 10.0  # the file is in centimetres
# Which frame a file is in (BvhSummary.frame): the camera's, root-relative, or app.world's.
CAMERA_FRAME, WORLD_FRAME = "camera", "world"
# Intrinsic: R = Ry @ Rz @ Rx, written "Yrotation Zrotation Xrotation". Euler angles lock when the
# middle one is +-90 degrees; of the six orders this one is nearest that least often on Human3.6M
# S9/S11 (reports/bvh_roundtrip.md: it locks only for a body rolled onto its side, a leg split
# sideways or an arm straight down or up from its T-pose).
EULER_ORDER = "YZX"
# A photo has no frame rate; BVH needs a frame time. 30 fps is what animation packages assume.
PHOTO_FRAME_TIME_S = 1.0 / 30.0
DECIMALS = 5  # 1e-5 cm and 1e-5 degrees: far below any pose error

LEFT = (1.0, 0.0, 0.0)
RIGHT = (-1.0, 0.0, 0.0)
UP = (0.0, 1.0, 0.0)
DOWN = (0.0, -1.0, 0.0)
ZERO = (0.0, 0.0, 0.0)
FORWARD = (0.0, 0.0, 1.0)
# The neck and head bones of a person standing upright, not straight up: Human3.6M's Neck/Nose is
# the nose, ahead of the thorax, and its Head is the top of the head, above and behind the nose.
# Straight-up rest bones would make the neck's everyday rotation a right angle about x, where Euler
# angles lock. Mean directions over the training subjects (every 10th frame, measured by
# `python benchmarks/bvh_roundtrip.py --measure-rest`), rounded.
NOSE_REST = (0.0, 0.714, 0.700)
HEAD_REST = (0.0, 0.812, -0.584)


@dataclass(frozen=True)
class BvhJoint:
    name: str  # BVH joint name (no spaces or slashes)
    parent: str | None
    source: int | None  # the Human3.6M joint it sits on; None for a helper at its parent's place
    rest_direction: tuple[float, float, float]  # T-pose direction of the bone from the parent (ZERO for helpers)


# Depth-first, parents first: the order of the file's hierarchy and of its channels.
BVH_JOINTS: tuple[BvhJoint, ...] = (
    BvhJoint("Hips", None, 0, ZERO),
    BvhJoint("RPelvis", "Hips", None, ZERO),
    BvhJoint("RHip", "RPelvis", 1, RIGHT),
    BvhJoint("RKnee", "RHip", 2, DOWN),
    BvhJoint("RFoot", "RKnee", 3, DOWN),
    BvhJoint("LPelvis", "Hips", None, ZERO),
    BvhJoint("LHip", "LPelvis", 4, LEFT),
    BvhJoint("LKnee", "LHip", 5, DOWN),
    BvhJoint("LFoot", "LKnee", 6, DOWN),
    BvhJoint("Spine", "Hips", 7, UP),
    BvhJoint("Thorax", "Spine", 8, UP),
    BvhJoint("NeckNose", "Thorax", 9, NOSE_REST),
    BvhJoint("Head", "NeckNose", 10, HEAD_REST),
    BvhJoint("LCollar", "Thorax", None, ZERO),
    BvhJoint("LShoulder", "LCollar", 11, LEFT),
    BvhJoint("LElbow", "LShoulder", 12, LEFT),
    BvhJoint("LWrist", "LElbow", 13, LEFT),
    BvhJoint("RCollar", "Thorax", None, ZERO),
    BvhJoint("RShoulder", "RCollar", 14, RIGHT),
    BvhJoint("RElbow", "RShoulder", 15, RIGHT),
    BvhJoint("RWrist", "RElbow", 16, RIGHT),
)
# Joints whose frame comes from their main bone plus the right-to-left line of two joints (rest
# +X, perpendicular to the main bone's rest direction), which fixes the twist one bone leaves free.
TWIST_LINES = {"Hips": (1, 4), "Thorax": (14, 11)}  # RHip -> LHip, RShoulder -> LShoulder
# End sites give the last bones a length in animation packages; they carry no data.
# (direction, fraction of the bone that ends at the joint)
END_SITES = {"RFoot": (FORWARD, 0.35), "LFoot": (FORWARD, 0.35), "Head": (UP, 0.5), "LWrist": (LEFT, 0.75),
             "RWrist": (RIGHT, 0.75)}  # fmt: skip


@dataclass
class BvhSummary:
    """What write_bvh wrote, for the clip's JSON."""

    path: Path
    bvh_joint_names: dict[str, str]  # BVH joint -> JSON (Human3.6M-17) joint it sits on; helpers left out
    held_frames: dict[str, list[int]]  # BVH joint -> clip frames where it kept its last good rotation
    never_seen: list[str]  # BVH joints whose bone was never seen: the lifter's estimate was kept
    bone_lengths_mm: dict[str, float]  # "Parent-Child" (JSON names) -> T-pose length
    first_frame: int  # clip frame of the file's first frame
    frame_count: int
    frame_time_s: float
    filled_frames: list[int] = field(default_factory=list)  # clip frames the track missed: previous pose repeated
    frame: str = CAMERA_FRAME  # CAMERA_FRAME: root-relative, no trajectory; WORLD_FRAME: app.world's, with it
    floor_lift_mm: float = 0.0  # WORLD_FRAME: added to the Hips' height so the regularised legs stand on the floor

    def to_json(self) -> dict:
        return {
            "file": self.path.name,
            "bvh_joint_names": self.bvh_joint_names,
            "held_frames": self.held_frames,
            "never_seen": self.never_seen,
            "bone_lengths_mm": self.bone_lengths_mm,
            "first_frame": self.first_frame,
            "frame_count": self.frame_count,
            "frame_time_s": self.frame_time_s,
            "filled_frames": self.filled_frames,
            "frame": self.frame,
            "floor_lift_mm": self.floor_lift_mm,
        }


def bvh_joint_names() -> dict[str, str]:
    """BVH joint name -> the JSON joint it sits on (the 17 Human3.6M joints)."""
    return {joint.name: JOINT_NAMES[joint.source] for joint in BVH_JOINTS if joint.source is not None}


def regularised_bone_lengths(pose_mm: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Per-bone median length over the frames where both ends were seen (all frames for a bone
    never seen), left and right averaged. pose (F, 17, 3), seen (F, 17) bool -> (16,) in BONES order."""
    lengths = np.empty(len(BONES))
    for index, (parent, child) in enumerate(BONES):
        both = seen[:, parent] & seen[:, child]
        frames = pose_mm[both] if both.any() else pose_mm
        lengths[index] = np.median(np.linalg.norm(frames[:, child] - frames[:, parent], axis=-1))
    for left, right in SYMMETRIC_BONES:
        pair = [BONES.index(left), BONES.index(right)]
        lengths[pair] = lengths[pair].mean()
    return lengths


def regularised_pose(pose: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each bone of the poses kept in direction and given its regularised length, chained out from
    the root: the positions a BVH file with these bone lengths reproduces.
    pose (F, 17, 3), lengths (16,) in BONES order -> (F, 17, 3), root where the input's is."""
    out = np.empty_like(pose, dtype=np.float64)
    out[:, ROOT] = pose[:, ROOT]
    for (parent, child), length in zip(BONES, lengths):  # BONES lists parents before children
        out[:, child] = out[:, parent] + length * unit(pose[:, child] - pose[:, parent])
    return out


def unit(vectors: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 3) of length 1 (zero vectors stay zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def frame_from_axes(y_direction: np.ndarray, x_hint: np.ndarray) -> np.ndarray:
    """Orthonormal frames whose y is y_direction and whose x is x_hint made perpendicular to it.
    (F, 3) each -> (F, 3, 3), columns x, y, z.

    Where x_hint is (nearly) parallel to y_direction the camera's x axis stands in for it."""
    y = unit(y_direction)
    x = x_hint - (x_hint * y).sum(-1, keepdims=True) * y
    degenerate = np.linalg.norm(x, axis=-1) < 1e-6 * np.maximum(np.linalg.norm(x_hint, axis=-1), 1e-12)
    if degenerate.any():
        fallback = np.where(np.abs(y[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]])  # (F, 3)
        fallback = fallback - (fallback * y).sum(-1, keepdims=True) * y
        x = np.where(degenerate[:, None], fallback, x)
    x = unit(x)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def smallest_rotation(start: np.ndarray, end: np.ndarray, half_turn_axis: np.ndarray) -> Rotation:
    """The smallest rotation taking unit directions start onto end, (F, 3) each. Where they are
    opposite, half a turn about half_turn_axis (F, 3), which must be perpendicular to start."""
    axis = np.cross(start, end)
    sine = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(sine, (start * end).sum(-1))  # (F,)
    axis = np.where((sine < 1e-9)[:, None], half_turn_axis, axis / np.maximum(sine, 1e-300)[:, None])
    return Rotation.from_rotvec(axis * angle[:, None])


def last_good_index(good: np.ndarray) -> np.ndarray:
    """(F,) bool -> (F,) index of the latest good frame at or before each frame (before the first
    good frame: that one). At least one frame must be good."""
    index = np.where(good, np.arange(len(good)), -1)
    index = np.maximum.accumulate(index)
    return np.where(index < 0, np.argmax(good), index)


def local_rotations(
    pose_cm: np.ndarray, seen: np.ndarray
) -> tuple[dict[str, Rotation], dict[str, np.ndarray], list[str]]:
    """Each BVH joint's rotation relative to its parent that lays its bone along the pose.

    pose_cm (F, 17, 3) BVH axes, seen (F, 17) bool.
    -> (local rotations (F,) per joint, held (F,) bool per joint with a bone, joints never seen)."""
    count = len(pose_cm)
    by_name = {joint.name: joint for joint in BVH_JOINTS}
    children = {joint.name: [c for c in BVH_JOINTS if c.parent == joint.name] for joint in BVH_JOINTS}
    world: dict[str, Rotation] = {}
    local: dict[str, Rotation] = {}
    held: dict[str, np.ndarray] = {}
    never_seen: list[str] = []
    for joint in BVH_JOINTS:
        parent_world = world[joint.parent] if joint.parent else Rotation.identity(count)
        # A helper sits where its parent does.
        origin = joint.source if joint.source is not None else by_name[joint.parent].source
        bones = [c for c in children[joint.name] if c.source is not None]
        if joint.name in TWIST_LINES:
            right, left = TWIST_LINES[joint.name]
            (main,) = bones
            rest = frame_from_axes(np.array([main.rest_direction]), np.array([LEFT]))  # (1, 3, 3)
            bone, line = pose_cm[:, main.source] - pose_cm[:, origin], pose_cm[:, left] - pose_cm[:, right]
            posed = frame_from_axes(bone, line)
            local[joint.name] = parent_world.inv() * Rotation.from_matrix(posed @ np.swapaxes(rest, 1, 2))
        elif bones:
            (child,) = bones  # helpers make every other joint carry one bone
            rest = unit(np.asarray(child.rest_direction))
            half_turn = unit(np.cross(rest, FORWARD if abs(rest[2]) < 0.9 else LEFT))
            swing = smallest_rotation(
                parent_world.apply(rest),
                unit(pose_cm[:, child.source] - pose_cm[:, origin]),
                parent_world.apply(np.tile(half_turn, (count, 1))),
            )
            good = seen[:, origin] & seen[:, child.source]
            if not good.any():
                never_seen.append(joint.name)
                good = np.ones(count, bool)  # nothing to hold on to: the lifter's estimate stays
            held[joint.name] = ~good
            local[joint.name] = (parent_world.inv() * swing * parent_world)[last_good_index(good)]
        else:  # a joint at the end of a chain turns nothing
            local[joint.name] = Rotation.identity(count)
        world[joint.name] = parent_world * local[joint.name]
    return local, held, never_seen


def continuous_euler(rotations: np.ndarray) -> np.ndarray:
    """Euler angles (degrees, EULER_ORDER) of local rotations with no jump between frames.

    rotations: (F, J) scipy Rotations as quaternions (F, J, 4) -> (F, J, 3).
    Every rotation has two Euler triples, (a, b, c) and (a + 180, 180 - b, c + 180), each up to
    whole turns; frame by frame take the one nearest the previous frame's. Gimbal lock (b = +-90)
    only makes a and c share one angle: scipy's choice there is replaced the same way."""
    frames, joints = rotations.shape[:2]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Gimbal lock detected")
        angles = Rotation.from_quat(rotations.reshape(-1, 4)).as_euler(EULER_ORDER, degrees=True)
    angles = angles.reshape(frames, joints, 3)
    alternative = np.stack([angles[..., 0] + 180.0, 180.0 - angles[..., 1], angles[..., 2] + 180.0], -1)
    out = np.empty_like(angles)
    out[0] = np.where(
        (np.abs(wrap(angles[0])).sum(-1) <= np.abs(wrap(alternative[0])).sum(-1))[:, None],
        wrap(angles[0]),
        wrap(alternative[0]),
    )
    for f in range(1, frames):
        previous = out[f - 1]
        nearest = [c + 360.0 * np.round((previous - c) / 360.0) for c in (angles[f], alternative[f])]
        first_closer = np.abs(nearest[0] - previous).sum(-1) <= np.abs(nearest[1] - previous).sum(-1)  # (J,)
        out[f] = np.where(first_closer[:, None], nearest[0], nearest[1])
        locked = np.abs(np.abs(wrap(out[f, :, 1])) - 90.0) < 1e-3
        if locked.any():
            out[f, locked] = gimbal_locked_nearest(out[f, locked], previous[locked])
    return out


def gimbal_locked_nearest(angles: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """At b = +-90 only a + c (b = +90) or a - c (b = -90) counts, since Rz(+-90) Rx(c) =
    Ry(+-c) Rz(+-90): split it so a and c stay nearest the previous frame's. (N, 3) each -> (N, 3)."""
    sign = np.where(np.sin(np.radians(angles[:, 1])) > 0, 1.0, -1.0)  # the total is a + sign * c
    total = angles[:, 0] + sign * angles[:, 2]
    previous_total = previous[:, 0] + sign * previous[:, 2]
    total = total + 360.0 * np.round((previous_total - total) / 360.0)
    change = (total - previous_total) / 2  # shared equally keeps both as close as possible
    return np.stack([previous[:, 0] + change, angles[:, 1], previous[:, 2] + sign * change], -1)


def wrap(angles: np.ndarray) -> np.ndarray:
    """Degrees into [-180, 180)."""
    return (angles + 180.0) % 360.0 - 180.0


def rest_offsets(lengths_mm: np.ndarray) -> dict[str, np.ndarray]:
    """BVH joint -> (3,) T-pose offset from its parent in centimetres."""
    bone_length = {child: length for (_, child), length in zip(BONES, lengths_mm)}
    return {
        joint.name: np.zeros(3) if joint.source is None or joint.parent is None
        else unit(np.asarray(joint.rest_direction)) * bone_length[joint.source] / MM_PER_BVH_UNIT
        for joint in BVH_JOINTS
    }  # fmt: skip


def hierarchy_text(offsets: dict[str, np.ndarray]) -> str:
    """The HIERARCHY section: nested joints, offsets, channels and end sites."""
    lines = ["HIERARCHY"]
    rotation_channels = " ".join(f"{axis}rotation" for axis in EULER_ORDER)
    number = f"{{:.{DECIMALS}f}}"

    def vector(values) -> str:
        return " ".join(number.format(value + 0.0) for value in values)  # + 0.0 drops "-0.0"

    def write(name: str, depth: int) -> None:
        joint = next(j for j in BVH_JOINTS if j.name == name)
        pad = "\t" * depth
        lines.append(f"{pad}{'ROOT' if joint.parent is None else 'JOINT'} {name}")
        lines.append(pad + "{")
        lines.append(f"{pad}\tOFFSET {vector(offsets[name])}")
        if joint.parent is None:
            lines.append(f"{pad}\tCHANNELS 6 Xposition Yposition Zposition {rotation_channels}")
        else:
            lines.append(f"{pad}\tCHANNELS 3 {rotation_channels}")
        for child in BVH_JOINTS:
            if child.parent == name:
                write(child.name, depth + 1)
        if name in END_SITES:
            direction, fraction = END_SITES[name]
            lines.extend([f"{pad}\tEnd Site", pad + "\t{"])
            lines.append(f"{pad}\t\tOFFSET {vector(np.asarray(direction) * fraction * np.linalg.norm(offsets[name]))}")
            lines.append(pad + "\t}")
        lines.append(pad + "}")

    write(BVH_JOINTS[0].name, 0)
    return "\n".join(lines) + "\n"


def pose_in_bvh_axes(track: PoseTrack, world: WorldTrack | None) -> np.ndarray:
    """The poses the file carries, in millimetres along the file's axes (x right, Y up, Z towards
    the camera): the world joints as they are, or the root-relative camera-frame pose turned Y up.
    -> (F, 17, 3)"""
    if world is None:
        pose_mm = np.asarray(track.pose_3d_mm, np.float64)
        pose_mm = (pose_mm - pose_mm[:, ROOT : ROOT + 1]) @ CAMERA_TO_BVH.T
    else:
        if not np.array_equal(world.frames, track.frames):
            raise SvmacError(f"track {track.track_id}: its world frame covers other frames than the track")
        pose_mm = np.asarray(world.joints_m, np.float64) * 1000.0  # the world's axes are the file's
    if not np.isfinite(pose_mm).all():
        raise SvmacError(f"track {track.track_id}: its 3D pose has non-finite values; cannot write BVH")
    return pose_mm


def floor_lift_mm(pose_mm: np.ndarray, lengths: np.ndarray, scores: np.ndarray, min_score: float) -> float:
    """How far to raise the Hips of world-frame poses (F, 17, 3) mm, Y up, floor at y = 0, so that
    with the regularised bone lengths (16,) their feet stand on that floor by app.world's own rule.

    Averaging left and right moves the ankles: the longer lifted leg, which the world's floor mostly
    stands under, is shortened and lifts off it; the shorter one is lengthened and can reach through
    it. One constant for the track keeps the root's path as it was."""
    file_pose = regularised_pose(pose_mm, lengths)
    ankles = trusted_ankle_frames(file_pose, np.asarray(scores), np.array([0.0, 1.0, 0.0]), min_score)
    return -floor_level(ankles[:, 1])


def motion_channels(
    track: PoseTrack, min_score: float, world: WorldTrack | None = None
) -> tuple[np.ndarray, dict, list[str], np.ndarray, np.ndarray, float]:
    """The track as BVH channel values, in the camera's frame or, given, the track's world frame.

    -> (channels (F, 6 + 3 * (J - 1)) one row per track frame, held (F,) bool per joint,
        joints never seen, bone lengths (16,) mm, T-pose offsets, the Hips' floor lift in mm)."""
    pose_mm = pose_in_bvh_axes(track, world)  # (F, 17, 3)
    seen = np.asarray(track.scores) >= min_score  # (F, 17)
    lengths = regularised_bone_lengths(pose_mm, seen)
    pose_cm = pose_mm / MM_PER_BVH_UNIT
    local, held, never_seen = local_rotations(pose_cm, seen)
    quaternions = np.stack([local[joint.name].as_quat() for joint in BVH_JOINTS], 1)  # (F, J, 4)
    angles = continuous_euler(quaternions)  # (F, J, 3)
    offsets = rest_offsets(lengths)
    if world is None:  # no trajectory: the hips stand at the T-pose's leg height, so its feet touch y = 0
        hip_height = -(offsets["RKnee"][1] + offsets["RFoot"][1])
        root_position = np.broadcast_to([0.0, hip_height, 0.0], (len(pose_cm), 3))
        lift_mm = 0.0
    else:
        lift_mm = floor_lift_mm(pose_mm, lengths, track.scores, min_score)
        root_position = pose_cm[:, ROOT] + [0.0, lift_mm / MM_PER_BVH_UNIT, 0.0]
    channels = np.concatenate([root_position, angles.reshape(len(pose_cm), -1)], axis=1)
    return channels, held, never_seen, lengths, offsets, lift_mm


def write_bvh(
    path: Path,
    track: PoseTrack,
    fps: float | None,
    overwrite: bool = False,
    min_score: float = 0.5,
    world: WorldTrack | None = None,
) -> BvhSummary:
    """Write one track as a BVH file (atomically; an existing file only with overwrite).

    fps: the clip's frame rate; None for a photo (frame time PHOTO_FRAME_TIME_S). Frames the
    track misses between its first and last repeat the previous pose, so the file's frames stay
    evenly spaced in the clip's time. world: the track's app.world placement (same frames): the
    file is then in the world frame, floor at y = 0, the Hips following the root's path."""
    path = Path(path)
    check_writable(path, overwrite)
    if len(track.frames) == 0:
        raise SvmacError(f"track {track.track_id} has no frames; nothing to write to {path}")
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise SvmacError(f"frame rate must be positive, got {fps}")
    channels, held, never_seen, lengths, offsets, lift_mm = motion_channels(track, min_score, world)

    frames = np.asarray(track.frames, np.int64)
    clip_frames = np.arange(frames[0], frames[-1] + 1)
    row = np.searchsorted(frames, clip_frames, side="right") - 1  # each clip frame's latest track frame
    filled = clip_frames[frames[row] != clip_frames]
    frame_time = PHOTO_FRAME_TIME_S if fps is None else 1.0 / fps

    header = hierarchy_text(offsets) + f"MOTION\nFrames: {len(clip_frames)}\nFrame Time: {frame_time:.8f}\n"
    values = np.round(channels[row], DECIMALS) + 0.0
    body = "\n".join(" ".join(f"{value:.{DECIMALS}f}" for value in line) for line in values) + "\n"
    atomic_write_text(path, header + body)
    return BvhSummary(
        path=path,
        bvh_joint_names=bvh_joint_names(),
        held_frames={name: frames[mask].tolist() for name, mask in held.items() if mask.any()},
        never_seen=never_seen,
        bone_lengths_mm={
            f"{JOINT_NAMES[parent]}-{JOINT_NAMES[child]}": round(float(length), 2)
            for (parent, child), length in zip(BONES, lengths)
        },
        first_frame=int(frames[0]),
        frame_count=len(clip_frames),
        frame_time_s=frame_time,
        filled_frames=filled.tolist(),
        frame=CAMERA_FRAME if world is None else WORLD_FRAME,
        floor_lift_mm=round(lift_mm, 3),
    )
