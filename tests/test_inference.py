"""lift_poses with the shipped weights: test-time flip averaging is mirror-equivariant and helps."""

from pathlib import Path

import numpy as np
import pytest
import torch

from lifter.checkpoint import load_generator
from lifter.data import data_root, load_h36m
from lifter.evaluate import predict_in_mm
from lifter.geometry import mirror_camera, mirror_pose
from lifter.inference import lift_poses
from lifter.metrics import p_mpjpe

SHIPPED_GT = Path(__file__).resolve().parent.parent / "weights" / "svmac_h36m_gt.safetensors"


@pytest.fixture(scope="module")
def s9_walking(data_dir):
    """S9 Walking, 4 cameras, every 20th frame: real ground-truth 2D and 3D."""
    return load_h36m(data_root(data_dir), ("S9",), ("54138969", "55011271", "58860488", "60457274"), 20,
                     actions=("Walking",))  # fmt: skip


def test_flip_average_of_the_mirrored_input_is_the_mirrored_result(s9_walking):
    """Averaging a pose with its mirror image's lift, un-mirrored, must not depend on which of the
    two the caller passed in: a wrong un-mirroring (of joints or of the camera) breaks this."""
    generator = load_generator(SHIPPED_GT)
    pose_2d = s9_walking.pose_2d[:200]
    mirrored_2d = mirror_pose(torch.from_numpy(pose_2d)).numpy()
    pose_3d, camera = lift_poses(generator, pose_2d, flip_average=True)
    from_mirror_3d, from_mirror_camera = lift_poses(generator, mirrored_2d, flip_average=True)
    np.testing.assert_allclose(mirror_pose(torch.from_numpy(from_mirror_3d)).numpy(), pose_3d, atol=2e-5)
    np.testing.assert_allclose(mirror_camera(torch.from_numpy(from_mirror_camera)).numpy(), camera, atol=2e-6)


def test_flip_average_is_more_accurate_than_one_lift(s9_walking):
    generator = load_generator(SHIPPED_GT)

    def error(flip_average: bool) -> float:
        return float(p_mpjpe(*predict_in_mm(generator, s9_walking, flip_average)).mean())

    plain, flipped = error(False), error(True)
    assert flipped < plain - 0.5, (plain, flipped)
