import numpy as np
import pytest

from lifter.data import TEST_SUBJECTS, load_h36m
from lifter.errors import SvmacError
from lifter.priors import (
    FRONT_TEMPLATE_MM,
    MEAN_BONE_LENGTHS_MM,
    MIN_JOINTS,
    complete_missing_joints,
    compute_priors,
    fit_transform,
    metric_scale,
)


def test_constants_match_the_data(data_dir):
    bones, template = compute_priors(data_dir)
    np.testing.assert_allclose(MEAN_BONE_LENGTHS_MM, bones, atol=0.06)
    np.testing.assert_allclose(FRONT_TEMPLATE_MM, template, atol=0.06)


def test_template_is_frontal_and_upright():
    hip_r, hip_l, head, foot_l = FRONT_TEMPLATE_MM[[1, 4, 10, 6]]
    assert hip_l[0] > 0 > hip_r[0]  # the person's left is image right
    assert head[1] < 0 < foot_l[1]  # y down


@pytest.mark.parametrize("affine", [False, True])
def test_fit_transform_recovers_a_known_map(affine):
    angle, scale = 0.3, 2.5
    linear = scale * np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    if affine:
        linear = linear @ np.diag([0.4, 1.0])  # a turned body: foreshortened horizontally
    target = FRONT_TEMPLATE_MM @ linear + np.array([320.0, 240.0])
    recovered = np.concatenate([FRONT_TEMPLATE_MM, np.ones((17, 1))], 1) @ fit_transform(
        FRONT_TEMPLATE_MM, target, affine
    )
    np.testing.assert_allclose(recovered, target, atol=1e-6)


def test_metric_scale_of_real_poses_is_near_one(data_dir):
    poses = load_h36m(data_dir, TEST_SUBJECTS, cameras=("54138969",), frame_step=200)
    scale = metric_scale(poses.pose_3d.astype(np.float64))
    assert np.all(np.abs(scale - 1) < 0.12), scale.min()
    np.testing.assert_allclose(metric_scale(poses.pose_3d[0] * 0.01), 100 * scale[0], rtol=1e-5)


def test_missing_joints_are_filled_near_the_truth(data_dir):
    poses = load_h36m(data_dir, TEST_SUBJECTS, cameras=("54138969",), frame_step=100, actions=("Walking",))
    torso = np.linalg.norm(poses.pose_2d[:, 8] - poses.pose_2d[:, 0], axis=-1)
    errors = []
    for pose, size in zip(poses.pose_2d.astype(np.float64), torso):
        damaged = pose.copy()
        damaged[[3, 13]] = np.nan  # a foot and a wrist out of the picture
        completed, imputed = complete_missing_joints(damaged)
        assert imputed.tolist() == [j in (3, 13) for j in range(17)]
        np.testing.assert_array_equal(completed[~imputed], pose[~imputed])
        errors.append(np.linalg.norm(completed[[3, 13]] - pose[[3, 13]], axis=-1) / size)
    # The template knows nothing of the pose's limbs, but a filled joint lands near its place.
    assert np.median(errors) < 0.6


def test_too_few_joints_is_a_clear_error():
    keypoints = np.full((17, 2), np.nan)
    keypoints[: MIN_JOINTS - 1] = FRONT_TEMPLATE_MM[: MIN_JOINTS - 1]
    with pytest.raises(SvmacError, match="joints located"):
        complete_missing_joints(keypoints)


def test_complete_pose_is_returned_unchanged():
    completed, imputed = complete_missing_joints(FRONT_TEMPLATE_MM)
    np.testing.assert_array_equal(completed, FRONT_TEMPLATE_MM)
    assert not imputed.any()
