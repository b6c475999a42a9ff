"""app.bvh: written files read back by an independent BVH reader (pybvh, its own forward
kinematics) land every joint where the poses say, Y up, with held limbs and continuous angles;
given a world frame, the file is in it (root path, floor at y = 0, levelled body)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pybvh  # the independent reader (its own parser and forward kinematics): a test dependency
import pytest
from scipy.spatial.transform import Rotation

from app.bvh import (
    BVH_JOINTS,
    CAMERA_FRAME,
    CAMERA_TO_BVH,
    DOWN,
    EULER_ORDER,
    HEAD_REST,
    NOSE_REST,
    PHOTO_FRAME_TIME_S,
    UP,
    WORLD_FRAME,
    write_bvh,
)
from app.clip import Clip, PoseTrack
from app.world import ANKLE_ABOVE_SOLE_MM, CAMERA_POSE_LEVELLING, WorldFrame, to_world
from lifter.camera import world_to_camera
from lifter.data import load_cameras, load_npz
from lifter.errors import SvmacError
from lifter.priors import MEAN_BONE_LENGTHS_MM
from lifter.skeleton import BONES, JOINT_NAMES, PARENTS
from test_world import track_of

CARRIERS = [joint for joint in BVH_JOINTS if joint.source is not None]  # the 17 joints' BVH joints


def make_track(pose_mm: np.ndarray, scores: np.ndarray | None = None, frames: np.ndarray | None = None) -> PoseTrack:
    count = len(pose_mm)
    return PoseTrack(
        track_id=0,
        frames=np.arange(count) if frames is None else frames,
        bbox=np.zeros((count, 4)),
        keypoints_2d=np.zeros((count, 17, 2)),
        scores=np.ones((count, 17)) if scores is None else scores,
        imputed=np.zeros((count, 17), bool),
        pose_3d=pose_mm / 1000.0,
        pose_3d_mm=pose_mm,
        camera=np.zeros((count, 2, 3)),
    )


def read_joints(path: Path) -> np.ndarray:
    """The independent reader's forward kinematics: (F, 17, 3) file units (cm, BVH axes), H36M order."""
    bvh = pybvh.read_bvh_file(path)
    positions = bvh.joint_positions()  # (F, J, 3)
    out = np.empty((len(positions), 17, 3))
    for joint in CARRIERS:
        out[:, joint.source] = positions[:, bvh.joint_names.index(joint.name)]
    return out


def file_angles(path: Path) -> np.ndarray:
    """The file's Euler channels as the reader parsed them: (F, J, 3) degrees, EULER_ORDER."""
    return np.degrees(pybvh.read_bvh_file(path).joint_angles)


def to_camera_mm(bvh_cm: np.ndarray) -> np.ndarray:
    """Root-relative camera-frame millimetres of BVH positions."""
    return (bvh_cm - bvh_cm[:, :1]) * 10.0 @ CAMERA_TO_BVH  # CAMERA_TO_BVH is its own inverse


def regularised(pose_mm: np.ndarray, lengths: dict[str, float]) -> np.ndarray:
    """Poses (F, 17, 3) with each bone given the BVH summary's length (`bone_lengths_mm`), chained
    from the root, which stays where it is: the writer's bone-length regularisation, rebuilt from
    what its summary says."""
    out = np.zeros_like(pose_mm)
    out[:, 0] = pose_mm[:, 0]
    for parent, child in BONES:
        bone = pose_mm[:, child] - pose_mm[:, parent]
        length = lengths[f"{JOINT_NAMES[parent]}-{JOINT_NAMES[child]}"]
        out[:, child] = out[:, parent] + length * bone / np.linalg.norm(bone, axis=-1, keepdims=True)
    return out


def bone_vectors(pose: np.ndarray) -> np.ndarray:
    return np.stack([pose[:, child] - pose[:, parent] for parent, child in BONES], 1)  # (F, 16, 3)


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between vectors (..., 3) and (..., 3) -> (...,) degrees."""
    cosine = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def standing_pose(left_arm: tuple = (0.3, -0.9, 0.3)) -> np.ndarray:
    """(17, 3) camera-frame mm: the training subjects' mean bones, standing straight, facing the
    camera, arms hanging down and forward (left_arm: that arm's direction, BVH axes)."""
    right_arm = (-0.3, -0.9, 0.3)
    directions = [(-1, 0, 0), DOWN, DOWN, (1, 0, 0), DOWN, DOWN, UP, UP, NOSE_REST, HEAD_REST,
                  (1, 0, 0), left_arm, left_arm, (-1, 0, 0), right_arm, right_arm]  # BVH axes, per BONES  # fmt: skip
    pose = np.zeros((17, 3))
    for (parent, child), direction, length in zip(BONES, directions, MEAN_BONE_LENGTHS_MM):
        pose[child] = pose[parent] + length * np.asarray(direction) / np.linalg.norm(direction)
    return pose @ CAMERA_TO_BVH  # BVH axes -> camera axes (the change is its own inverse)


@pytest.fixture(scope="module")
def walking(data_dir) -> np.ndarray:
    """(150, 17, 3) S9 "Walking 1", 3 s at 50 fps, camera 54138969's frame, root-relative mm."""
    world = load_npz(data_dir / "h36m/h36m_3d_17j_mm.npz")["S9/Walking 1"][:150].astype(np.float64)
    camera = world_to_camera(world, load_cameras(data_dir)[("S9", "54138969")])
    return camera - camera[:, :1]


def test_real_motion_round_trips_through_an_independent_reader(tmp_path, walking):
    summary = write_bvh(tmp_path / "track_0.bvh", make_track(walking), fps=50.0)
    got = to_camera_mm(read_joints(summary.path))
    ours, theirs = bone_vectors(got), bone_vectors(walking)
    assert angle_deg(ours, theirs).max() < 0.01  # every bone points where the data says ...
    # ... with the clip's median length, left and right averaged (the writer's only change).
    lengths = np.linalg.norm(ours, axis=-1)
    assert np.ptp(lengths, axis=0).max() < 0.01
    median = np.median(np.linalg.norm(theirs, axis=-1), axis=0)
    expected = dict(zip(BONES, median))
    for left, right in [((0, 4), (0, 1)), ((11, 12), (14, 15)), ((5, 6), (2, 3))]:
        expected[left] = expected[right] = (expected[left] + expected[right]) / 2
    assert np.allclose(lengths[0], [expected[bone] for bone in BONES], atol=0.01)
    recorded = summary.bone_lengths_mm[f"{JOINT_NAMES[0]}-{JOINT_NAMES[4]}"]
    assert recorded == pytest.approx(expected[(0, 4)], abs=0.01)
    # Human3.6M's own skeleton has fixed, symmetric bones: the file is the data to a few mm.
    assert np.linalg.norm(got - walking, axis=-1).mean() < 1.0


def test_file_is_y_up_centimetres_and_not_mirrored(tmp_path, walking):
    summary = write_bvh(tmp_path / "t.bvh", make_track(walking), fps=50.0)
    joints = read_joints(summary.path)
    relative = joints - joints[:, :1]
    # The explicit axis change: x stays, y (down) and z (away) flip; mm -> cm.
    assert np.allclose(relative[..., 0], walking[..., 0] / 10, atol=0.5)
    assert np.allclose(relative[..., 1], -walking[..., 1] / 10, atol=0.5)
    assert np.allclose(relative[..., 2], -walking[..., 2] / 10, atol=0.5)
    # Upright along +Y: the head well above both feet in every frame (Blender lays Z-up files down).
    head, feet = joints[:, JOINT_NAMES.index("Head"), 1], joints[:, [3, 6], 1].max(1)
    assert (head - feet > 140).all()
    # The rest pose is upright along +Y, legs down, arms out sideways (a T-pose); the hips stand
    # at its leg height, so the T-pose's feet touch y = 0.
    bvh = pybvh.read_bvh_file(summary.path)
    rest = bvh.rest_pose_positions()  # (nodes, 3) root at the origin
    names = [node.name for node in bvh.nodes]
    assert np.allclose(bvh.root_pos[:, 1], -rest[names.index("RFoot"), 1]) and rest[names.index("RFoot"), 1] < -80
    assert rest[names.index("Head"), 1] > 60
    assert rest[names.index("LWrist"), 0] > 60 and rest[names.index("RWrist"), 0] < -60
    # The reader's own guess of the conventions agrees: up +Y in motion and rest, the rest facing +Z.
    assert (bvh.world_up_inferred, bvh.rest_up, bvh.rest_forward) == ("+y", "+y", "+z")

    # A rotation, not a mirror: the body keeps its handedness (right-to-left hips, spine, nose).
    def handedness(p):
        return np.sign(np.linalg.det(np.stack([p[:, 4] - p[:, 1], p[:, 7] - p[:, 0], p[:, 9] - p[:, 8]], 1)))

    assert (handedness(relative) == handedness(walking)).all()


def test_hierarchy_names_channels_and_frame_time(tmp_path, walking):
    summary = write_bvh(tmp_path / "t.bvh", make_track(walking[:10]), fps=25.0)
    bvh = pybvh.read_bvh_file(summary.path)
    assert bvh.joint_names == [joint.name for joint in BVH_JOINTS]
    assert set(bvh.euler_orders) == {EULER_ORDER}
    assert bvh.frame_count == 10 and bvh.frame_time == pytest.approx(0.04)
    # Every JSON joint is carried by exactly one BVH joint, named after it.
    assert sorted(summary.bvh_joint_names.values()) == sorted(JOINT_NAMES)
    for bvh_name, json_name in summary.bvh_joint_names.items():
        assert bvh_name == json_name.replace("/", "") or (bvh_name, json_name) == ("Hips", "Hip")
    # Parents in the file follow the skeleton's (helpers sit between, at zero offset).
    by_name = {joint.name: joint for joint in BVH_JOINTS}
    for joint in CARRIERS[1:]:
        parent = by_name[joint.parent]
        while parent.source is None:
            assert np.allclose(next(node for node in bvh.nodes if node.name == parent.name).offset, 0)
            parent = by_name[parent.parent]
        assert parent.source == PARENTS[joint.source]
    assert summary.to_json()["frame_count"] == 10


def test_a_photo_is_one_frame_with_the_default_frame_time(tmp_path):
    pose = standing_pose()[None]
    summary = write_bvh(tmp_path / "photo_person_0.bvh", make_track(pose), fps=None)
    bvh = pybvh.read_bvh_file(summary.path)
    assert bvh.frame_count == 1 and bvh.frame_time == pytest.approx(PHOTO_FRAME_TIME_S, abs=1e-6)
    got = to_camera_mm(read_joints(summary.path))
    assert angle_deg(bone_vectors(got), bone_vectors(pose)).max() < 0.01


def test_unseen_limbs_keep_their_last_good_rotation(tmp_path, walking):
    pose, scores = walking.copy(), np.ones((len(walking), 17))
    wrist, elbow, knee = JOINT_NAMES.index("LWrist"), JOINT_NAMES.index("LElbow"), JOINT_NAMES.index("RKnee")
    scores[50:80, wrist] = 0.1
    pose[50:80, wrist] = pose[50:80, elbow] + [0.0, 0.0, -250.0]  # a wild guess: forearm straight at the camera
    scores[:10, knee] = 0.0  # unseen from the start: the first good rotation stands in
    summary = write_bvh(tmp_path / "t.bvh", make_track(pose, scores), fps=50.0, min_score=0.5)

    assert summary.held_frames == {"LElbow": list(range(50, 80)), "RHip": list(range(10)), "RKnee": list(range(10))}
    bvh = pybvh.read_bvh_file(summary.path)
    angles = file_angles(summary.path)
    column = bvh.joint_names.index("LElbow")
    assert np.allclose(angles[50:80, column], angles[49, column], atol=1e-4)
    assert not np.allclose(angles[80, column], angles[49, column], atol=1.0)  # the data again afterwards
    for name in ("RHip", "RKnee"):
        assert np.allclose(angles[:10, bvh.joint_names.index(name)], angles[10, bvh.joint_names.index(name)], atol=1e-4)
    got = to_camera_mm(read_joints(summary.path))

    # The forearm keeps its bend relative to the upper arm, not the wild guess ...
    def bend(p):
        return angle_deg(p[:, elbow] - p[:, elbow - 1], p[:, wrist] - p[:, elbow])

    assert np.allclose(bend(got[50:80]), bend(got[49:50]), atol=1e-3)
    assert np.abs(bend(got[50:80]) - bend(pose[50:80])).max() > 10
    # ... while every joint that was seen still lands where the data says.
    seen = [j for j in range(17) if j not in (wrist, knee, JOINT_NAMES.index("RFoot"))]
    assert np.linalg.norm(got[:, seen] - pose[:, seen], axis=-1).max() < 5.0


def test_a_limb_never_seen_keeps_the_lifters_estimate(tmp_path, walking):
    scores = np.ones((20, 17))
    scores[:, JOINT_NAMES.index("RWrist")] = 0.0
    summary = write_bvh(tmp_path / "t.bvh", make_track(walking[:20], scores), fps=50.0)
    assert summary.never_seen == ["RElbow"] and summary.held_frames == {}
    got = to_camera_mm(read_joints(summary.path))
    assert np.linalg.norm(got - walking[:20], axis=-1).max() < 5.0


def test_frames_the_track_missed_repeat_the_previous_pose(tmp_path, walking):
    frames = np.array([4, 5, 6, 9, 10])
    summary = write_bvh(tmp_path / "t.bvh", make_track(walking[frames], frames=frames), fps=50.0)
    assert summary.first_frame == 4 and summary.frame_count == 7 and summary.filled_frames == [7, 8]
    got = to_camera_mm(read_joints(summary.path))
    assert np.allclose(got[3], got[2]) and np.allclose(got[4], got[2])
    assert np.linalg.norm(got[[0, 1, 2, 5, 6]] - walking[frames], axis=-1).max() < 5.0


def turned(pose: np.ndarray, degrees: np.ndarray, axis: str = "y") -> np.ndarray:
    """(17, 3) pose turned about a camera axis through its root by each angle: (F, 17, 3)."""
    rotations = Rotation.from_euler(axis, degrees[:, None], degrees=True).as_matrix()  # (F, 3, 3)
    return np.einsum("fij,kj->fki", rotations, pose - pose[0])


def euler_midpoint_error_deg(path: Path) -> np.ndarray:
    """How far linear interpolation of the file's Euler channels, half way between consecutive
    frames, is from the true half-way rotation (slerp). (F - 1, J) degrees: a flip of branch
    (the body turning 180 degrees between two frames) shows as ~180."""
    angles = file_angles(path)

    def rotation(a):
        return Rotation.from_euler(EULER_ORDER, a.reshape(-1, 3), degrees=True)

    start, end = rotation(angles[:-1]), rotation(angles[1:])
    half = start * Rotation.from_rotvec((start.inv() * end).as_rotvec() / 2)
    linear = rotation((angles[:-1] + angles[1:]) / 2)
    return np.degrees((half.inv() * linear).magnitude()).reshape(len(angles) - 1, -1)


def test_a_full_turn_and_a_body_facing_away_have_continuous_angles(tmp_path):
    # Two whole turns about the vertical in 2-degree steps: Euler angles must not jump by 360.
    pose = turned(standing_pose(), np.arange(0, 720, 2.0))
    summary = write_bvh(tmp_path / "t.bvh", make_track(pose), fps=50.0)
    angles = file_angles(summary.path)
    assert np.abs(np.diff(angles, axis=0)).max() < 3.0
    assert np.ptp(angles[:, 0, 0]) > 700  # the root's heading unwrapped, not folded back to +-180
    assert euler_midpoint_error_deg(summary.path).max() < 0.1
    got = to_camera_mm(read_joints(summary.path))
    assert np.linalg.norm(got - pose, axis=-1).max() < 0.01  # its bones are already symmetric


def test_near_gimbal_lock_poses_stay_exact_and_continuous(tmp_path):
    # Lower the left arm from the T-pose through straight down (the order's lock: the middle
    # angle at -90 degrees) and on behind, swinging forward and back on the way.
    sweep = np.radians(np.linspace(0, 150, 301))
    arm = np.stack([np.cos(sweep), -np.sin(sweep), 0.3 * np.sin(2 * sweep)], -1)  # BVH axes, exactly down at 90
    frames = np.stack([standing_pose(tuple(direction)) for direction in arm])
    summary = write_bvh(tmp_path / "t.bvh", make_track(frames), fps=50.0)
    angles = file_angles(summary.path)
    column = [joint.name for joint in BVH_JOINTS].index("LShoulder")
    assert np.abs(np.abs(angles[:, column, 1]) - 90).min() < 1.0  # it did pass the lock
    got = to_camera_mm(read_joints(summary.path))
    assert angle_deg(bone_vectors(got), bone_vectors(frames)).max() < 0.01
    assert euler_midpoint_error_deg(summary.path).max() < 2.0


def test_a_body_rolling_through_the_lock_keeps_smooth_channels(tmp_path):
    # The whole body leaning 30 degrees forward and rolling onto its side and back: at exactly
    # 90 degrees of roll the root's Euler angles lock; its channels must not jump there.
    roll = np.concatenate([np.linspace(70, 90, 41), np.linspace(89.5, 70, 40)])
    angles = np.stack([np.full_like(roll, 20), roll, np.full_like(roll, 30)], -1)  # heading, roll, lean
    rotations = Rotation.from_euler(EULER_ORDER, angles, degrees=True)
    upright = standing_pose() @ CAMERA_TO_BVH  # BVH axes
    pose = np.stack([rotation.apply(upright) for rotation in rotations]) @ CAMERA_TO_BVH
    summary = write_bvh(tmp_path / "t.bvh", make_track(pose), fps=50.0)
    angles = file_angles(summary.path)
    assert np.abs(np.abs(angles[40, 0, 1]) - 90) < 1e-3  # the locked frame
    assert np.abs(np.diff(angles[:, 0], axis=0)).max() < 1.0
    got = to_camera_mm(read_joints(summary.path))
    assert np.linalg.norm(got - pose, axis=-1).max() < 0.01


def test_real_motion_interpolates_without_flips(tmp_path, walking):
    summary = write_bvh(tmp_path / "t.bvh", make_track(walking), fps=50.0)
    assert euler_midpoint_error_deg(summary.path).max() < 1.0


def test_bad_input_and_existing_files(tmp_path):
    path = tmp_path / "t.bvh"
    track = make_track(standing_pose()[None])
    write_bvh(path, track, fps=30.0)
    before = path.read_text()
    with pytest.raises(SvmacError, match="exists"):
        write_bvh(path, make_track(turned(standing_pose(), np.array([90.0]))), fps=30.0)
    assert path.read_text() == before
    write_bvh(path, make_track(turned(standing_pose(), np.array([90.0]))), fps=30.0, overwrite=True)
    assert path.read_text() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.bvh"]  # no temporary file left behind
    broken = standing_pose()[None].copy()
    broken[0, 3, 1] = np.nan
    with pytest.raises(SvmacError, match="non-finite"):
        write_bvh(tmp_path / "nan.bvh", make_track(broken), fps=30.0)
    with pytest.raises(SvmacError, match="frame rate"):
        write_bvh(tmp_path / "fps.bvh", track, fps=0.0)
    with pytest.raises(SvmacError, match="no frames"):
        write_bvh(tmp_path / "empty.bvh", make_track(np.zeros((0, 17, 3))), fps=30.0)
    assert not (tmp_path / "nan.bvh").exists()


# --- the world frame (app.world) ------------------------------------------------------------


@pytest.fixture(scope="module")
def walking_placed(data_dir):
    """S9 "Walking 1" (3 s at 50 fps) seen by camera 54138969 (tilted ~10 degrees down), lifted
    with 10 mm of per-joint noise (so the bones vary as a lifter's do), placed by app.world with
    the true focal length, levelled as a true camera-frame pose (the whole pitch):
    -> (true world poses (F, 17, 3) mm z up, track, its WorldTrack)."""
    world = load_npz(data_dir / "h36m/h36m_3d_17j_mm.npz")["S9/Walking 1"][:150].astype(np.float64)
    camera = load_cameras(data_dir)[("S9", "54138969")]
    focal = float(camera.f.mean())
    track = track_of(world_to_camera(world, camera), focal, camera.c)
    noisy = track.pose_3d_mm + np.random.default_rng(0).normal(0.0, 10.0, track.pose_3d_mm.shape)
    noisy -= noisy[:, :1]
    track = replace(track, pose_3d=noisy / 1000.0, pose_3d_mm=noisy)
    clip = Clip("walk", 1000, 1000, int(track.frames[-1]) + 1, 50.0, [track])
    options = WorldFrame(focal_px=focal, principal_px=tuple(camera.c), body_levelling=CAMERA_POSE_LEVELLING)
    return world, track, to_world(track, clip, options)


def test_world_frame_file_follows_the_root_path_over_the_floor(tmp_path, walking_placed):
    _, track, placed = walking_placed
    assert placed.pitch_source == "feet" and placed.pitch_deg > 5  # a tilted camera, read from the feet
    summary = write_bvh(tmp_path / "w.bvh", track, fps=50.0, world=placed)
    assert summary.frame == WORLD_FRAME and summary.to_json()["frame"] == "world"
    got = read_joints(summary.path)[track.frames - track.frames[0]] * 10.0  # (F, 17, 3) mm, file axes
    world_mm = placed.joints_m * 1000.0
    # The reader's joints are app.world's after the bone-length regularisation, root path included:
    # the world's axes are the file's (x right, y up, z towards the camera), nothing turned or moved.
    lift = np.array([0.0, summary.floor_lift_mm, 0.0])  # the Hips raised so the regularised legs stand on the floor
    np.testing.assert_allclose(got[:, 0], world_mm[:, 0] + lift, atol=0.01)
    assert np.linalg.norm(got - regularised(world_mm, summary.bone_lengths_mm) - lift, axis=-1).max() < 0.01
    assert abs(summary.floor_lift_mm) < 10.0  # equal legs but for the 10 mm noise: a small lift
    assert np.linalg.norm(got - world_mm, axis=-1).mean() < 25.0  # the 10 mm noise, bones regularised
    assert np.linalg.norm(got[-1, 0, [0, 2]] - got[0, 0, [0, 2]]) > 1000  # the person walks through the scene
    # The same median bone rule as the camera-frame file (a rigid change of frame keeps lengths).
    camera_file = write_bvh(tmp_path / "c.bvh", track, fps=50.0)
    assert camera_file.frame == CAMERA_FRAME
    for bone, length in camera_file.bone_lengths_mm.items():
        assert summary.bone_lengths_mm[bone] == pytest.approx(length, abs=0.01)
    # The floor is the file's y = 0: the lower ankle sits ANKLE_ABOVE_SOLE_MM above it in app.world's
    # percentile of frames, the head far above.
    lower_ankle = got[:, [3, 6], 1].min(1)
    assert np.percentile(lower_ankle, 10) == pytest.approx(ANKLE_ABOVE_SOLE_MM, abs=0.05)
    assert (lower_ankle > 0).mean() > 0.95
    assert (got[:, JOINT_NAMES.index("Head"), 1] - lower_ankle > 1400).all()


def test_world_frame_file_levels_the_tilted_camera(tmp_path, walking_placed):
    """The trunk's angle from the file's vertical is the true one (Human3.6M's world is z up): the
    rotations come from the world joints, levelled as a true camera-frame pose's. The camera-frame
    file leans by the camera's tilt."""
    world, track, placed = walking_placed
    rows = track.frames - track.frames[0]
    true_lean = angle_deg(world[:, 8] - world[:, 0], np.array([0.0, 0.0, 1.0]))  # Hip -> Thorax from up

    def lean_error(path: Path) -> float:
        joints = read_joints(path)[rows]
        return float(np.median(np.abs(angle_deg(joints[:, 8] - joints[:, 0], np.array([0.0, 1.0, 0.0])) - true_lean)))

    assert lean_error(write_bvh(tmp_path / "w.bvh", track, fps=50.0, world=placed).path) < 2.5  # 1.3 measured
    assert lean_error(write_bvh(tmp_path / "c.bvh", track, fps=50.0).path) > 4.5  # 6.7: the 10.6-degree tilt


def test_world_frame_file_keeps_uneven_legs_on_the_floor(tmp_path, walking_placed):
    """A lifter's left and right legs can differ by centimetres; the file averages them, which would
    lift the longer leg's foot off the floor the world put under it: the Hips move to put it back."""
    _, track, _ = walking_placed
    right_knee, right_ankle = JOINT_NAMES.index("RKnee"), JOINT_NAMES.index("RFoot")
    pose = track.pose_3d_mm.copy()
    shin = pose[:, right_ankle] - pose[:, right_knee]
    pose[:, right_ankle] -= 80.0 * shin / np.linalg.norm(shin, axis=-1, keepdims=True)  # right shin 80 mm short
    uneven = replace(track, pose_3d=pose / 1000.0, pose_3d_mm=pose)
    clip = Clip("walk", 1000, 1000, int(track.frames[-1]) + 1, 50.0, [uneven])
    placed = to_world(uneven, clip, WorldFrame(focal_px=1145.0, body_levelling=CAMERA_POSE_LEVELLING))
    summary = write_bvh(tmp_path / "w.bvh", uneven, fps=50.0, world=placed)
    got = read_joints(summary.path)[track.frames - track.frames[0]] * 10.0  # (F, 17, 3) mm
    lower_ankle = got[:, [right_ankle, JOINT_NAMES.index("LFoot")], 1].min(1)
    assert np.percentile(lower_ankle, 10) == pytest.approx(ANKLE_ABOVE_SOLE_MM, abs=0.05)
    # The world's floor stands under the lower ankle, mostly the long left leg's; averaged, that leg
    # is 40 mm shorter, so the file's Hips come down by about that.
    assert -45.0 < summary.floor_lift_mm < -25.0, summary.floor_lift_mm
    expected = regularised(placed.joints_m * 1000.0, summary.bone_lengths_mm) + [0.0, summary.floor_lift_mm, 0.0]
    assert np.linalg.norm(got - expected, axis=-1).max() < 0.01


def test_a_world_frame_of_other_frames_is_refused(tmp_path, walking_placed):
    _, track, placed = walking_placed
    with pytest.raises(SvmacError, match="world frame"):
        write_bvh(tmp_path / "w.bvh", track, fps=50.0, world=replace(placed, frames=placed.frames + 1))
    assert not (tmp_path / "w.bvh").exists()
