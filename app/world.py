"""A person's 3D joints in a world frame: Y up, metres, the floor at y = 0, the root's path over the ground.

The lifter gives a root-relative pose in the camera frame and in arbitrary units. Four things
are added here, each from a stated source (docs/motion_outputs.md):

- **scale**: millimetres from the person's height when given (`height_m`), otherwise the
  bone-length prior already in `pose_3d_mm` (an adult of the Human3.6M subjects' average size);
- **root position**: with the camera's focal length in pixels (given, from a field of view, or
  the default field of view) the root translation that reprojects the metric pose onto its 2D
  joints (linear least squares, the weak-perspective depth f * size_3d / size_2d refined by the
  joints' own depths and image positions);
- **up**: the camera is assumed level with no roll, unless its pitch is given or can be read
  from the feet: over a clip where the person moves half a metre or more towards or away from
  the camera, the lowest ankles trace the floor, whose slope in the camera frame gives the pitch
  (the roll is taken as 0). The pitch places the root and the floor; the body itself is turned
  by `body_levelling` times the pitch: none for svmac's lifted poses, which come out upright in
  the camera frame, all of it for poses truly in the camera frame;
- **floor**: y = 0 lies ANKLE_ABOVE_SOLE_MM below the lowest ankles of the track (a low
  percentile over the clip, the lowest ankle of a photo).

World axes (right-handed): origin on the floor directly below the camera's centre, x to the
camera's right (level), y up, z level and pointing from the scene towards the camera, so a person
in front of the camera has z < 0. Every track of a clip shares this frame.
"""

from dataclasses import dataclass

import numpy as np

from app.clip import Clip, PoseTrack
from lifter.errors import SvmacError
from lifter.skeleton import JOINT_NAMES

LEFT_ANKLE = JOINT_NAMES.index("LFoot")  # Human3.6M's "foot" joints are the ankles
RIGHT_ANKLE = JOINT_NAMES.index("RFoot")
HEAD = JOINT_NAMES.index("Head")

# Field of view across the image's longer side when neither focal length nor field of view is
# given: phone main cameras are ~65-70 degrees, webcams ~55-65. A wrong field of view scales the
# root's distance (10 degrees too wide at 60 underestimates it by ~17 %), not the pose.
DEFAULT_FOV_DEG = 60.0

# Measured on the Human3.6M training subjects by measure_body_heights (tests/test_world.py
# recomputes both): the ankle joint's height above the floor (the world's z = 0; the subjects
# wear shoes) at the lowest FLOOR_PERCENTILE of frames, and the standing height of the Head
# joint above the floor, subjects averaged.
ANKLE_ABOVE_SOLE_MM = 57.7
HEAD_JOINT_STANDING_MM = 1638.0
# Human3.6M's Head joint sits on the upper forehead, not on the crown: about 9 cm below the top
# of the head on the four fixture photos (read by eye; 1 cm here is 0.6 % of the scale).
HEAD_TOP_ABOVE_HEAD_JOINT_MM = 90.0
# The stature implied by the bone-length prior of pose_3d_mm (the training subjects' average).
PRIOR_STATURE_MM = HEAD_JOINT_STANDING_MM + HEAD_TOP_ABOVE_HEAD_JOINT_MM

# The floor sits under the lowest ankles of this share of frames, not under the single lowest
# ankle: one badly lifted frame must not sink it.
FLOOR_PERCENTILE = 10.0
# The feet give the camera's pitch only when they cover enough depth and frames (500 mm chosen
# on the training subjects S1, S5-S8: on the floor error it tied 300 mm and beat 750, 1000 and
# 1500 mm).
MIN_FLOOR_SPREAD_MM = 500.0
MIN_PITCH_FRAMES = 20
MAX_PITCH_DEG = 45.0
MIN_HEIGHT_M, MAX_HEIGHT_M = 0.5, 2.6
# The share of the camera's pitch by which the body is turned upright (WorldFrame.body_levelling).
# Poses truly in the camera frame (motion capture, Human3.6M's ground truth) lean by the camera's
# tilt and need all of it. svmac's lifter returns bodies nearly upright in the camera frame, so
# its poses need none: 0 was chosen on the training subjects S1, S5-S8 by the rule in
# benchmarks/world_frame.py (trunk lean error 3.1 degrees against 4.9 for full levelling, world
# joints 137 mm against 150, the floor 2 mm worse; reports/world_frame.md).
CAMERA_POSE_LEVELLING = 1.0
LIFTED_BODY_LEVELLING = 0.0


@dataclass(frozen=True)
class WorldFrame:
    """What is known about the person and the camera; None means unknown."""

    height_m: float | None = None  # the person's standing height, floor to crown
    focal_px: float | None = None  # focal length in pixels
    fov_deg: float | None = None  # field of view across the image's longer side
    principal_px: tuple[float, float] | None = None  # principal point; None: the image centre
    pitch_deg: float | None = None  # camera tilt below the horizon; None: from the feet, else level
    min_score: float = 0.5  # joints below it do not place the root, ankles below it not the floor
    # The share of the camera's pitch by which the body (the root-relative pose) is turned:
    # LIFTED_BODY_LEVELLING for svmac's lifted poses, CAMERA_POSE_LEVELLING for poses truly in the
    # camera frame. The root and the floor always use the whole pitch.
    body_levelling: float = LIFTED_BODY_LEVELLING


@dataclass
class WorldTrack:
    """One track in the world frame (module docstring): what to_world returns."""

    track_id: int
    frames: np.ndarray  # (F,) clip frame indices, as in the PoseTrack
    joints_m: np.ndarray  # (F, 17, 3) world frame, metres
    root_camera_m: np.ndarray  # (F, 3) the root in the camera frame (x right, y down, z away), metres
    camera_height_m: float  # the camera's centre above the floor
    pitch_deg: float  # camera tilt below the horizon used
    pitch_source: str  # "given", "feet" (estimated) or "level" (assumed)
    body_levelling: float  # the share of the pitch by which the body was turned (WorldFrame)
    focal_px: float
    focal_source: str  # "focal", "fov" or "default fov"
    scale_source: str  # "height" or "bone-length prior"

    @property
    def root_m(self) -> np.ndarray:
        """(F, 3) the root's trajectory in the world frame."""
        return self.joints_m[:, 0]

    def summary(self) -> dict:
        """How the track was placed, as plain JSON values (the per-frame arrays are left out)."""
        return {
            "axes": "origin on the floor below the camera; x right, y up, z towards the camera; metres",
            "camera_height_m": self.camera_height_m,
            "pitch_deg": self.pitch_deg,
            "pitch_source": self.pitch_source,
            "focal_px": self.focal_px,
            "focal_source": self.focal_source,
            "scale_source": self.scale_source,
        }


def focal_length(options: WorldFrame, width: int, height: int) -> tuple[float, str]:
    """Focal length in pixels and where it came from."""
    if options.focal_px is not None:
        if not options.focal_px > 0:
            raise SvmacError(f"focal length must be positive, got {options.focal_px} px")
        return float(options.focal_px), "focal"
    fov, source = (DEFAULT_FOV_DEG, "default fov") if options.fov_deg is None else (options.fov_deg, "fov")
    if not 1.0 <= fov <= 179.0:
        raise SvmacError(f"field of view must be between 1 and 179 degrees, got {fov}")
    return max(width, height) / 2 / np.tan(np.radians(fov) / 2), source


def metric_pose_mm(track: PoseTrack, height_m: float | None) -> np.ndarray:
    """The track's root-relative camera-frame pose in millimetres, (F, 17, 3): the bone-length
    prior's size, rescaled to the person's height when it is given."""
    if height_m is None:
        return track.pose_3d_mm
    if not MIN_HEIGHT_M <= height_m <= MAX_HEIGHT_M:
        raise SvmacError(f"height must be between {MIN_HEIGHT_M} and {MAX_HEIGHT_M} m, got {height_m}")
    return track.pose_3d_mm * (height_m * 1000.0 / PRIOR_STATURE_MM)


def root_translation(
    pose_mm: np.ndarray, keypoints_2d: np.ndarray, weights: np.ndarray, focal_px: float, principal_px: np.ndarray
) -> np.ndarray:
    """The root's camera-frame position (F, 3) mm that best reprojects each root-relative pose.

    A joint P + t projects to u - c = f (P + t)_xy / (P_z + t_z), which is linear in t:
    f t_x - (u - c_x) t_z = (u - c_x) P_z - f P_x (and the same for y), solved per frame by
    weighted least squares. pose_mm (F, 17, 3), keypoints_2d (F, 17, 2) px, weights (F, 17).
    """
    offset = keypoints_2d - principal_px  # (F, 17, 2)
    count = len(pose_mm)
    rows = np.zeros((count, 17, 2, 3))
    rows[..., 0, 0] = focal_px
    rows[..., 1, 1] = focal_px
    rows[..., 2] = -offset
    rhs = offset * pose_mm[..., 2:3] - focal_px * pose_mm[..., :2]  # (F, 17, 2)
    rows = rows.reshape(count, 34, 3)
    rhs = rhs.reshape(count, 34)
    w = np.repeat(weights, 2, axis=1)  # (F, 34)
    normal = np.einsum("fk,fki,fkj->fij", w, rows, rows)  # (F, 3, 3)
    # pinv, not solve: a degenerate frame (every joint on one pixel) gets a finite answer, not an exception.
    return (np.linalg.pinv(normal) @ np.einsum("fk,fki,fk->fi", w, rows, rhs)[..., None])[..., 0]


def joint_weights(scores: np.ndarray, min_score: float) -> np.ndarray:
    """1 for trusted joints, 0 for the others; frames with fewer than 4 trusted joints use all
    joints, as a translation from two or three joints swings with their errors. (F, 17) -> (F, 17)"""
    trusted = (scores >= min_score).astype(np.float64)
    return np.where(trusted.sum(1, keepdims=True) >= 4, trusted, 1.0)


def up_vector(pitch_rad: float) -> np.ndarray:
    """The world's up direction in the camera frame (x right, y down, z away) for a camera
    tilted pitch_rad below the horizon, without roll. -> (3,)"""
    return np.array([0.0, -np.cos(pitch_rad), -np.sin(pitch_rad)])


def pitch_and_roll_deg(up: np.ndarray) -> tuple[float, float]:
    """The camera's tilt below the horizon and its roll (> 0: the camera's x axis, the picture's
    right, points upwards in the world), in degrees, from up (3,) in the camera frame."""
    return float(np.degrees(np.arctan2(-up[2], -up[1]))), float(np.degrees(np.arcsin(np.clip(up[0], -1, 1))))


def lowest_ankles(points_mm: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Per frame, the index (RIGHT_ANKLE or LEFT_ANKLE) of the lower ankle along up.
    points_mm (F, 17, 3) -> (F,)"""
    lower_left = points_mm[:, LEFT_ANKLE] @ up < points_mm[:, RIGHT_ANKLE] @ up
    return np.where(lower_left, LEFT_ANKLE, RIGHT_ANKLE)


def trusted_ankle_frames(points_mm: np.ndarray, scores: np.ndarray, up: np.ndarray, min_score: float) -> np.ndarray:
    """The lower ankle's position (F', 3) in the frames where it is trusted (score >= min_score);
    in every frame when it is trusted in none (the floor is then a guess from the lifted legs)."""
    ankle = lowest_ankles(points_mm, up)  # (F,)
    frames = np.arange(len(points_mm))
    trusted = scores[frames, ankle] >= min_score
    keep = frames[trusted] if trusted.any() else frames
    return points_mm[keep, ankle[keep]]


def floor_level(heights_mm: np.ndarray) -> float:
    """The floor's height along up, from the lowest ankle's height in each frame (F,)."""
    return float(np.percentile(heights_mm, FLOOR_PERCENTILE)) - ANKLE_ABOVE_SOLE_MM


def fit_floor_pitch(ankles: np.ndarray, rounds: int = 4) -> float:
    """The camera's pitch (radians, > 0 looking down) from the floor under ankle points (N, 3)
    (camera frame, y down), fitted as the line down = a + b * depth; -cos(p) y - sin(p) z is
    constant on the floor, so b = -tan(p).

    The lowest ankle of a frame is on the floor in most frames of a walk (stance) and above it in
    the others, so each round keeps the lower half of the points: the fit is the lower envelope.
    """
    depth, down = ankles[:, 2], ankles[:, 1]
    keep = np.ones(len(ankles), bool)
    for _ in range(rounds):
        slope, offset = np.polyfit(depth[keep], down[keep], 1)
        residual = down - (offset + slope * depth)  # > 0: below the line
        keep = residual >= np.median(residual[keep])
    return float(np.arctan(-slope))


def spread(values: np.ndarray) -> float:
    """10th to 90th percentile range of (N,) values."""
    low, high = np.percentile(values, [10, 90])
    return float(high - low)


def estimate_pitch(points_mm: np.ndarray, scores: np.ndarray, min_score: float) -> float | None:
    """The camera's pitch (radians) from the floor the ankles trace, or None when they do not
    span MIN_FLOOR_SPREAD_MM of depth over MIN_PITCH_FRAMES frames. Roll is not estimated:
    on Human3.6M a fitted roll made the pitch and the floor worse (docs/motion_outputs.md).
    points_mm (F, 17, 3) camera-frame joints, scores (F, 17)."""
    pitch = 0.0
    for _ in range(2):  # which ankle is lower depends on up: settle it once more
        ankles = trusted_ankle_frames(points_mm, scores, up_vector(pitch), min_score)  # (F', 3)
        if len(ankles) < MIN_PITCH_FRAMES or spread(ankles[:, 2]) < MIN_FLOOR_SPREAD_MM:
            return None
        pitch = fit_floor_pitch(ankles)
    return pitch if abs(np.degrees(pitch)) <= MAX_PITCH_DEG else None


def choose_up(options: WorldFrame, points_mm: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, str]:
    if options.pitch_deg is not None:
        if not abs(options.pitch_deg) <= 89.0:
            raise SvmacError(f"camera pitch must be between -89 and 89 degrees, got {options.pitch_deg}")
        return up_vector(np.radians(options.pitch_deg)), "given"
    pitch = estimate_pitch(points_mm, scores, options.min_score)
    return (up_vector(0.0), "level") if pitch is None else (up_vector(pitch), "feet")


def camera_to_world_axes(up: np.ndarray) -> np.ndarray:
    """Rows: the world's x (the camera's right made level), y (up) and z axes in the camera
    frame. up (3,) unit -> (3, 3)"""
    right = np.array([1.0, 0.0, 0.0]) - up[0] * up
    right /= np.linalg.norm(right)
    return np.stack([right, up, np.cross(right, up)])


def to_world(track: PoseTrack, clip: Clip, options: WorldFrame = WorldFrame()) -> WorldTrack:
    """Place one track of a clip in the world frame (module docstring)."""
    if len(track.frames) == 0:
        raise SvmacError(f"track {track.track_id} has no frames")
    if not 0.0 <= options.body_levelling <= 1.0:
        raise SvmacError(f"body levelling must be between 0 and 1, got {options.body_levelling}")
    focal, focal_source = focal_length(options, clip.width, clip.height)
    principal = np.array(options.principal_px or (clip.width / 2, clip.height / 2), np.float64)
    pose_mm = metric_pose_mm(track, options.height_m)  # (F, 17, 3)
    weights = joint_weights(track.scores, options.min_score)
    root = root_translation(pose_mm, track.keypoints_2d, weights, focal, principal)  # (F, 3)
    points = pose_mm + root[:, None]  # (F, 17, 3) camera frame, mm

    up, pitch_source = choose_up(options, points, track.scores)
    pitch, _ = pitch_and_roll_deg(up)
    # The body turns by its own share of the pitch about the camera's x axis (no roll either way).
    body_axes = camera_to_world_axes(up_vector(np.radians(pitch) * options.body_levelling))
    world = root[:, None] @ camera_to_world_axes(up).T + pose_mm @ body_axes.T  # (F, 17, 3)
    # The floor under the lowest ankles as the body is placed, so it stays under the feet.
    ankles = trusted_ankle_frames(world, track.scores, np.array([0.0, 1.0, 0.0]), options.min_score)
    floor = floor_level(ankles[:, 1])
    world[..., 1] -= floor
    return WorldTrack(
        track_id=track.track_id,
        frames=track.frames,
        joints_m=world / 1000.0,
        root_camera_m=root / 1000.0,
        camera_height_m=-floor / 1000.0,
        pitch_deg=pitch,
        pitch_source=pitch_source,
        body_levelling=float(options.body_levelling),
        focal_px=float(focal),
        focal_source=focal_source,
        scale_source="bone-length prior" if options.height_m is None else "height",
    )


def clip_to_world(clip: Clip, options: WorldFrame = WorldFrame()) -> dict[int, WorldTrack]:
    """Every track of a clip in the shared world frame, by track id."""
    return {track.track_id: to_world(track, clip, options) for track in clip.tracks}


def measure_body_heights(sequences: list[np.ndarray]) -> tuple[float, float]:
    """From one subject's world sequences ((T, 17, 3) mm, z up, floor at z = 0): the ankle's
    height above the floor (FLOOR_PERCENTILE of the per-frame lowest ankle) and the Head joint's
    standing height (95th percentile over the frames: upright, not on tiptoe)."""
    poses = np.concatenate(sequences)  # (N, 17, 3)
    lowest = np.minimum(poses[:, LEFT_ANKLE, 2], poses[:, RIGHT_ANKLE, 2])
    return float(np.percentile(lowest, FLOOR_PERCENTILE)), float(np.percentile(poses[:, HEAD, 2], 95))
