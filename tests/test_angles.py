"""Joint angles: hand-built poses with known angles, invariances, and real Human3.6M sitting vs walking."""

import numpy as np
import pytest

from app.angles import ANGLE_NAMES, CAMERA_UP, J, joint_angles
from lifter.camera import world_to_camera
from lifter.data import load_cameras


def standing_pose() -> np.ndarray:
    """A person facing the camera (camera frame: x right, y down, z away), straight legs, arms
    hanging: their left is +x, they face -z. (17, 3) mm"""
    pose = np.zeros((17, 3))
    for side, x in (("R", -100.0), ("L", 100.0)):
        pose[J[f"{side}Hip"]] = [x, 0, 0]
        pose[J[f"{side}Knee"]] = [x, 400, 0]
        pose[J[f"{side}Foot"]] = [x, 800, 0]
        pose[J[f"{side}Shoulder"]] = [1.5 * x, -430, 0]
        pose[J[f"{side}Elbow"]] = [1.5 * x, -130, 0]
        pose[J[f"{side}Wrist"]] = [1.5 * x, 120, 0]
    pose[J["Spine"]] = [0, -200, 0]
    pose[J["Thorax"]] = [0, -450, 0]
    pose[J["Neck/Nose"]] = [0, -500, -50]
    pose[J["Head"]] = [0, -600, 0]
    return pose


def test_standing_pose_has_zero_angles():
    angles = joint_angles(standing_pose())
    assert set(angles) == set(ANGLE_NAMES)
    for name in ANGLE_NAMES:
        assert angles[name] == pytest.approx(0.0, abs=1e-9), name


def test_right_angles_at_knee_elbow_hip_and_shoulder():
    pose = standing_pose()
    pose[J["RFoot"]] = pose[J["RKnee"]] + [0, 0, 400]  # shank pointing backwards (away from the camera)
    pose[J["LWrist"]] = pose[J["LElbow"]] + [0, 0, -250]  # forearm pointing forwards
    pose[J["LKnee"]] = pose[J["LHip"]] + [0, 0, -400]  # thigh forwards, level: a seated thigh
    pose[J["LFoot"]] = pose[J["LKnee"]] + [0, 400, 0]  # shank down: knee at 90
    pose[J["RElbow"]] = pose[J["RShoulder"]] + [0, 0, -300]  # arm raised forwards
    pose[J["RWrist"]] = pose[J["RElbow"]] + [0, 0, -250]
    angles = joint_angles(pose)
    assert angles["right_knee_flexion"] == pytest.approx(90.0)
    assert angles["left_elbow_flexion"] == pytest.approx(90.0)
    assert angles["left_hip_flexion"] == pytest.approx(90.0)
    assert angles["left_knee_flexion"] == pytest.approx(90.0)
    assert angles["right_shoulder_flexion"] == pytest.approx(90.0)
    assert angles["right_elbow_flexion"] == pytest.approx(0.0, abs=1e-9)
    assert angles["right_hip_flexion"] == pytest.approx(0.0, abs=1e-9)


def test_signs_extension_overhead_and_undefined_abduction():
    pose = standing_pose()
    # Right thigh 30 degrees behind the trunk line: extension is negative.
    pose[J["RKnee"]] = pose[J["RHip"]] + 400 * np.array([0, np.cos(np.radians(30)), np.sin(np.radians(30))])
    pose[J["RFoot"]] = pose[J["RKnee"]] + [0, 400, 0]
    pose[J["LElbow"]] = pose[J["LShoulder"]] + [0, -300, 0]  # left arm straight up
    pose[J["LWrist"]] = pose[J["LElbow"]] + [0, -250, 0]
    pose[J["RElbow"]] = pose[J["RShoulder"]] + [-300, 0, 0]  # right arm sideways (T-pose)
    pose[J["RWrist"]] = pose[J["RElbow"]] + [-250, 0, 0]
    angles = joint_angles(pose)
    assert angles["right_hip_flexion"] == pytest.approx(-30.0)
    assert angles["left_shoulder_flexion"] == pytest.approx(180.0)
    assert np.isnan(angles["right_shoulder_flexion"])
    assert angles["right_elbow_flexion"] == pytest.approx(0.0, abs=1e-9)
    # The 30-degree-back thigh with a vertical shank makes a 30-degree knee.
    assert angles["right_knee_flexion"] == pytest.approx(30.0)


@pytest.mark.parametrize("lean", [25.0, -15.0])
def test_trunk_lean_forward_and_backward(lean):
    pose = standing_pose()
    upper = [J[name] for name in ("Spine", "Thorax", "Neck/Nose", "Head", "LShoulder", "LElbow", "LWrist",
                                  "RShoulder", "RElbow", "RWrist")]  # fmt: skip
    # Tip the upper body about the hip line (x): forwards is -z for this person.
    a = np.radians(lean)
    rotation = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    pose[upper] = pose[upper] @ rotation.T
    assert (pose[J["Thorax"]][2] < 0) == (lean > 0)  # leaning forwards moves the thorax towards the camera
    angles = joint_angles(pose)
    assert angles["trunk_lean"] == pytest.approx(abs(lean))
    assert angles["trunk_lean_forward"] == pytest.approx(lean)
    # Hip flexion is measured from the trunk: leaning forwards flexes the hips.
    assert angles["left_hip_flexion"] == pytest.approx(lean)


def test_body_angles_do_not_depend_on_the_view_and_lean_follows_the_given_up():
    rng = np.random.default_rng(0)
    pose = standing_pose() + rng.normal(0, 40, (17, 3))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rotation = q * np.sign(np.linalg.det(q))  # a proper rotation
    turned = pose @ rotation.T * 0.001 + 5.0  # other view, metres, shifted
    before, after = joint_angles(pose), joint_angles(turned, up=rotation @ CAMERA_UP)
    for name in ANGLE_NAMES:
        assert after[name] == pytest.approx(before[name], abs=1e-6), name


def test_batched_shapes():
    poses = np.stack([standing_pose()] * 6).reshape(2, 3, 17, 3)
    angles = joint_angles(poses)
    assert all(value.shape == (2, 3) for value in angles.values())


def camera_frame_sequence(data_dir, key: str, step: int = 25) -> np.ndarray:
    with np.load(data_dir / "h36m" / "h36m_3d_17j_mm.npz") as poses:  # reads only this sequence
        world = poses[key][::step].astype(np.float64)
    camera = load_cameras(data_dir)[(key.split("/")[0], "54138969")]
    return world_to_camera(world, camera)


def test_real_sitting_and_walking(data_dir):
    # Joint angles need no vertical: compute them in the camera frame, as svmac outputs poses.
    sitting = joint_angles(camera_frame_sequence(data_dir, "S9/Sitting 1"))
    walking = joint_angles(camera_frame_sequence(data_dir, "S11/Walking 1"))
    for side in ("left", "right"):
        assert 70 < np.median(sitting[f"{side}_hip_flexion"]) < 110
        assert 60 < np.median(sitting[f"{side}_knee_flexion"]) < 120
        assert abs(np.median(walking[f"{side}_hip_flexion"])) < 25
        assert np.median(walking[f"{side}_knee_flexion"]) < 30
        assert np.max(walking[f"{side}_knee_flexion"]) > 40  # the swing phase bends the knee
    assert np.median(walking["trunk_lean"]) < 25  # upright walking, camera 11 degrees down
