"""Normalisation, perspective lifting, rotation about y and weak-perspective projection (Eq. 7-9)."""

import math

import pytest
import torch
from torch.testing import assert_close

from lifter.geometry import (
    CAMERA_DISTANCE,
    lift,
    mirror_camera,
    mirror_pose,
    normalise_2d,
    rotate_azimuth_elevation,
    rotate_y,
    rotation_x,
    rotation_y,
    scale_to_reference,
    view_rotation,
    weak_project,
)

C = CAMERA_DISTANCE


def independent_mean_root_distance(pose: torch.Tensor) -> torch.Tensor:
    """Mean distance of joints 1..16 to joint 0, written out without the module's helper."""
    return (pose[..., 1:, :] - pose[..., :1, :]).norm(dim=-1).mean(-1)


def random_pixels(*batch: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*batch, 17, 2, generator=gen, dtype=torch.float64) * 1000.0


def random_pose_3d(*batch: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    pose = torch.randn(*batch, 17, 3, generator=gen, dtype=torch.float64)
    return pose - pose[..., :1, :]


# ---------------------------------------------------------------- normalise_2d


def test_camera_distance_is_ten():
    """The paper's c = 10 (the skeleton's root sits at depth c)."""
    assert C == 10.0


def test_normalise_2d_root_at_origin_and_mean_root_distance_is_one_over_c():
    """Catches a scale of 1 instead of 1/c, a mean over 17 joints instead of 16, or a non-zero root."""
    out = normalise_2d(random_pixels(4))
    assert torch.all(out[:, 0] == 0)
    assert_close(independent_mean_root_distance(out), torch.full((4,), 0.1, dtype=torch.float64))


def test_normalise_2d_each_pose_gets_its_own_scale():
    """A batch of a small and a large pose: each is normalised by its own scale, not the batch's."""
    pose = random_pixels(seed=1)
    batch = torch.stack([pose * 0.01, pose * 50.0 + 3.0])
    out = normalise_2d(batch)
    assert_close(independent_mean_root_distance(out), torch.full((2,), 0.1, dtype=torch.float64))
    assert_close(out[0], out[1])


def test_normalise_2d_invariant_to_translation_and_uniform_scale():
    """The result depends only on the pose's shape: pixels shifted and zoomed give the same output."""
    pose = random_pixels(3, seed=2)
    moved = pose * 3.7 + torch.tensor([123.0, -45.0], dtype=torch.float64)
    assert_close(normalise_2d(moved), normalise_2d(pose))


def test_normalise_2d_keeps_direction_of_each_joint():
    """The scale is positive: no flip of x or y (a sign error would mirror the pose)."""
    pose = random_pixels(seed=3)
    out = normalise_2d(pose)
    centred = pose - pose[:1]
    ratio = out[1:] / centred[1:]  # same positive factor everywhere
    assert torch.all(ratio > 0)
    assert_close(ratio, torch.full_like(ratio, ratio[0, 0].item()))


def test_normalise_2d_hand_case():
    """Root at (5, 5), one joint 2 px right, the others 2 px below: mean distance 2 -> 0.1."""
    pose = torch.full((17, 2), 5.0, dtype=torch.float64)
    pose[1:, 1] += 2.0  # joints 1..16 at (5, 7)
    pose[1] = torch.tensor([7.0, 5.0], dtype=torch.float64)  # joint 1 at (7, 5)
    out = normalise_2d(pose)
    # every joint is 2 px from the root: scale 2 * c = 20 -> offsets (2, 0)/20 and (0, 2)/20
    assert_close(out[1], torch.tensor([0.1, 0.0], dtype=torch.float64))
    assert_close(out[2:], torch.tensor([0.0, 0.1], dtype=torch.float64).expand(15, 2))


# ---------------------------------------------------------------- lift


def test_lift_hand_case():
    """Z = D + c, X = x Z, Y = y Z, returned as (X, Y, Z - c); catches x/y swapped or D used for Z."""
    pose_2d = torch.zeros(17, 2, dtype=torch.float64)
    depth = torch.zeros(17, dtype=torch.float64)
    pose_2d[1] = torch.tensor([0.1, -0.05], dtype=torch.float64)
    depth[1] = 0.5
    pose_2d[2] = torch.tensor([-0.02, 0.03], dtype=torch.float64)
    depth[2] = -1.0
    pose_2d[3] = torch.tensor([0.2, 0.1], dtype=torch.float64)  # depth 0: Z = c
    out = lift(pose_2d, depth)
    expected = torch.zeros(17, 3, dtype=torch.float64)
    expected[1] = torch.tensor([1.05, -0.525, 0.5], dtype=torch.float64)  # Z = 10.5: 0.1*10.5, -0.05*10.5
    expected[2] = torch.tensor([-0.18, 0.27, -1.0], dtype=torch.float64)  # Z = 9.0: -0.02*9, 0.03*9
    expected[3] = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)  # Z = 10: 0.2*10, 0.1*10
    assert_close(out, expected)


def test_lift_then_perspective_projection_gives_back_the_input():
    """With the root at depth c and focal length 1, X / (Z_rel + c) is the normalised 2D input."""
    pose_2d = normalise_2d(random_pixels(5, seed=4))
    gen = torch.Generator().manual_seed(5)
    depth = torch.randn(5, 17, generator=gen, dtype=torch.float64)
    depth[:, 0] = 0
    pose_3d = lift(pose_2d, depth)
    assert torch.all(pose_3d[:, 0] == 0)
    assert_close(pose_3d[..., 2], depth)
    assert_close(pose_3d[..., :2] / (pose_3d[..., 2:] + C), pose_2d)


# ---------------------------------------------------------------- rotation about y


def test_rotation_y_matches_eq7_at_quarter_turn():
    """Eq. 7 at theta = pi/2: [[0, 0, -1], [0, 1, 0], [1, 0, 0]] (catches a transposed matrix)."""
    rot = rotation_y(torch.tensor(math.pi / 2, dtype=torch.float64))
    expected = torch.tensor([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    assert_close(rot, expected, atol=1e-15, rtol=0)


def test_rotation_y_matches_eq7_general_angle():
    theta = torch.tensor([0.3, -1.2], dtype=torch.float64)
    rot = rotation_y(theta)
    for k, t in enumerate(theta.tolist()):
        c, s = math.cos(t), math.sin(t)
        expected = torch.tensor([[c, 0, -s], [0, 1, 0], [s, 0, c]], dtype=torch.float64)
        assert_close(rot[k], expected)


def test_rotate_y_quarter_turn_sends_x_axis_to_minus_z():
    """Row-vector convention of Eq. 8 (X R): x axis -> -z, z axis -> +x, y axis fixed."""
    pose = torch.zeros(1, 17, 3, dtype=torch.float64)
    pose[0, 1] = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    pose[0, 2] = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    pose[0, 3] = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    out = rotate_y(pose, torch.tensor([math.pi / 2], dtype=torch.float64))
    assert_close(out[0, 1], torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64), atol=1e-15, rtol=0)
    assert_close(out[0, 2], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), atol=1e-15, rtol=0)
    assert_close(out[0, 3], torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64), atol=1e-15, rtol=0)


def test_rotation_y_is_orthonormal_with_det_one():
    """A proper rotation: R R^T = I and det R = +1 (no reflection) for any angle."""
    theta = torch.linspace(-7.0, 7.0, 29, dtype=torch.float64)
    rot = rotation_y(theta)
    eye = torch.eye(3, dtype=torch.float64).expand(29, 3, 3)
    assert_close(rot @ rot.transpose(-1, -2), eye)
    assert_close(torch.linalg.det(rot), torch.ones(29, dtype=torch.float64))


def test_rotate_y_by_theta_then_minus_theta_is_identity():
    pose = random_pose_3d(6, seed=6)
    theta = torch.linspace(0.1, 6.0, 6, dtype=torch.float64)
    assert_close(rotate_y(rotate_y(pose, theta), -theta), pose)


def test_rotate_y_leaves_y_unchanged_and_keeps_root_and_lengths():
    """Rotation about the vertical axis through the root: y, the root and joint distances are kept."""
    pose = random_pose_3d(4, seed=7)
    theta = torch.tensor([0.4, 1.9, 3.5, 5.0], dtype=torch.float64)
    out = rotate_y(pose, theta)
    assert_close(out[..., 1], pose[..., 1])
    assert torch.all(out[:, 0] == 0)
    assert_close(out.norm(dim=-1), pose.norm(dim=-1))
    assert not torch.allclose(out, pose)


def test_rotation_x_quarter_turn_sends_y_axis_to_z():
    """Same row-vector convention as rotation_y: a point straight below the root (y down) ends in
    front of or behind it, and a point on x does not move."""
    rot = rotation_x(torch.tensor(math.pi / 2, dtype=torch.float64))
    assert_close(
        torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64) @ rot, torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64)
    )
    assert_close(
        torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64) @ rot, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    )
    assert_close(rot @ rot.T, torch.eye(3, dtype=torch.float64))
    assert torch.linalg.det(rot).item() == pytest.approx(1.0)


def test_rotate_azimuth_elevation_without_elevation_is_the_papers_rotation():
    pose = random_pose_3d(5, seed=9)
    azimuth = torch.linspace(0.2, 6.0, 5, dtype=torch.float64)
    assert_close(rotate_azimuth_elevation(pose, azimuth, torch.zeros(5, dtype=torch.float64)), rotate_y(pose, azimuth))


def test_rotate_azimuth_elevation_keeps_root_and_lengths_and_tilts_y():
    pose = random_pose_3d(4, seed=10)
    azimuth = torch.tensor([0.4, 1.9, 3.5, 5.0], dtype=torch.float64)
    elevation = torch.tensor([0.1, -0.2, 0.3, -0.05], dtype=torch.float64)
    out = rotate_azimuth_elevation(pose, azimuth, elevation)
    assert torch.all(out[:, 0] == 0)
    assert_close(out.norm(dim=-1), pose.norm(dim=-1))
    assert not torch.allclose(out[..., 1], pose[..., 1])  # unlike a rotation about y alone


def test_view_rotation_hand_matrix_with_levelling():
    """Rx(-pi/2) Ry(pi/2) Rx(0) in the row-vector convention, written out by hand."""
    quarter = torch.tensor(math.pi / 2, dtype=torch.float64)
    expected = torch.tensor([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]], dtype=torch.float64)
    assert_close(view_rotation(quarter, torch.zeros_like(quarter), quarter), expected, atol=1e-15, rtol=0)


def upright_stick(batch: int) -> torch.Tensor:
    """Root at 0, a foot straight down (+y: the camera's y points down), the head straight up."""
    pose = torch.zeros(batch, 17, 3, dtype=torch.float64)
    pose[:, 1, 1], pose[:, 10, 1] = 1.0, -1.0
    return pose


def test_levelling_by_the_predicted_elevation_brings_a_tilted_pose_back_upright():
    elevation = torch.tensor([0.3, -0.5], dtype=torch.float64)
    tilted = rotate_azimuth_elevation(upright_stick(2), torch.zeros(2, dtype=torch.float64), elevation)
    # tilting by 0.3 sends the foot [0, 1, 0] to [0, cos 0.3, -sin 0.3] = [0, 0.9553, -0.2955]
    assert_close(tilted[0, 1], torch.tensor([0.0, 0.955336489, -0.295520207], dtype=torch.float64))
    levelled = tilted @ view_rotation(
        torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64), elevation
    )
    assert_close(levelled, upright_stick(2), atol=1e-15, rtol=0)


def test_elepose_azimuth_turns_the_pose_about_its_own_upright_axis():
    """A pose seen from elevation e, turned half way round: about the camera's y axis it ends up
    tilted by -e (a view the data never has); levelled first, the foot stays straight down through
    every azimuth and the new elevation alone sets the final tilt."""
    e = torch.tensor([0.3, 0.3, 0.3], dtype=torch.float64)
    azimuth = torch.tensor([math.pi, 1.0, 4.0], dtype=torch.float64)
    zero = torch.zeros(3, dtype=torch.float64)
    tilted = rotate_azimuth_elevation(upright_stick(3), zero, e)
    camera_turn = tilted @ view_rotation(azimuth, zero)
    assert_close(camera_turn[0, 1], torch.tensor([0.0, math.cos(0.3), math.sin(0.3)], dtype=torch.float64))
    assert_close((tilted @ view_rotation(azimuth, zero, e))[:, 1], upright_stick(3)[:, 1], atol=1e-15, rtol=0)
    new_elevation = torch.tensor([0.1, -0.2, 0.4], dtype=torch.float64)
    pose = random_pose_3d(3, seed=11)
    assert_close(
        rotate_azimuth_elevation(pose, zero, e) @ view_rotation(azimuth, new_elevation, e),
        rotate_azimuth_elevation(pose, azimuth, new_elevation),
    )


# ---------------------------------------------------------------- weak projection


def test_weak_project_with_front_camera_drops_z():
    pose = random_pose_3d(2, seed=8)
    camera = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64).expand(2, 2, 3)
    assert_close(weak_project(camera, pose), pose[..., :2])


def test_weak_project_hand_camera_per_batch_item():
    """x = K X with each batch item's own camera (catches K^T instead of K, or cameras mixed up)."""
    pose = torch.zeros(2, 17, 3, dtype=torch.float64)
    pose[:, 1] = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    camera = torch.tensor(
        [
            [[2.0, 0.0, 1.0], [0.0, -1.0, 3.0]],
            [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
        ],
        dtype=torch.float64,
    )
    out = weak_project(camera, pose)
    # item 0: (2*1 + 0*2 + 1*3, 0*1 - 1*2 + 3*3) = (5, 7); item 1: (2, 1)
    assert_close(out[0, 1], torch.tensor([5.0, 7.0], dtype=torch.float64))
    assert_close(out[1, 1], torch.tensor([2.0, 1.0], dtype=torch.float64))
    assert torch.all(out[:, 0] == 0) and torch.all(out[:, 2:] == 0)


# ---------------------------------------------------------------- scale_to_reference


def test_scale_to_reference_matches_reference_mean_root_distance():
    """The pose takes the reference's size, keeps its own shape (positive factor), and is root-centred."""
    pose = random_pose_3d(3, seed=9) + torch.tensor([5.0, -2.0, 1.0], dtype=torch.float64)  # root off origin
    reference = random_pose_3d(3, seed=10) * torch.tensor([1.0, 200.0, 3.0], dtype=torch.float64)[:, None, None]
    out = scale_to_reference(pose, reference)
    assert_close(independent_mean_root_distance(out), independent_mean_root_distance(reference))
    centred = pose - pose[:, :1]
    factor = independent_mean_root_distance(reference) / independent_mean_root_distance(centred)
    assert torch.all(factor > 0)
    assert_close(out, centred * factor[:, None, None])


def test_scale_to_reference_hand_case():
    """Pose with every joint 2 from the root, reference with every joint 5 away: factor 2.5."""
    pose = torch.zeros(17, 3, dtype=torch.float64)
    pose[1:, 0] = 2.0
    reference = torch.zeros(17, 3, dtype=torch.float64)
    reference[1:, 2] = -5.0
    out = scale_to_reference(pose, reference)
    expected = torch.zeros(17, 3, dtype=torch.float64)
    expected[1:, 0] = 5.0
    assert_close(out, expected)
    assert out.shape == pose.shape


@pytest.mark.parametrize("shape", [(17, 2), (3, 17, 2), (2, 3, 17, 2)])
def test_normalise_2d_keeps_shape(shape):
    pose = torch.rand(*shape, dtype=torch.float64) * 100
    assert normalise_2d(pose).shape == shape


# ---------------------------------------------------------------- mirroring


def test_mirror_pose_is_its_own_inverse_and_swaps_sides():
    pose = random_pose_3d(4)
    mirrored = mirror_pose(pose)
    assert_close(mirror_pose(mirrored), pose, rtol=0, atol=0)
    assert_close(mirrored[:, 4, 0], -pose[:, 1, 0])  # LHip takes RHip's place, seen in a mirror
    assert_close(mirrored[:, 4, 1:], pose[:, 1, 1:])
    assert_close(mirrored[:, 9], pose[:, 9] * torch.tensor([-1.0, 1.0, 1.0], dtype=pose.dtype))


def test_mirror_camera_sees_the_mirrored_pose_as_the_mirrored_projection():
    pose = random_pose_3d(5, seed=1)
    camera = torch.randn(5, 2, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert_close(weak_project(mirror_camera(camera), mirror_pose(pose)), mirror_pose(weak_project(camera, pose)))
    assert_close(mirror_camera(mirror_camera(camera)), camera, rtol=0, atol=0)
