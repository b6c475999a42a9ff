"""Every SVMAC loss term against small hand-computed cases (Eq. 11-24)."""

import math

import pytest
import torch
from torch import nn

from lifter.geometry import rotation_y
from lifter.losses import (
    LossWeights,
    angle_loss,
    bone_lengths,
    bone_ratio_loss,
    bone_ratio_prior,
    camera_equality_loss,
    consistency_3d_loss,
    critic_wgan_gp_loss,
    deformation_loss,
    face_shoulder_sine,
    generator_adversarial_loss,
    generator_total_loss,
    supervised_3d_loss,
    svmac_loss,
    symmetry_loss,
    weak_camera_loss,
)

F64 = torch.float64


def scalar(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=F64)


def ring_pose(radius: float, dims: int = 3) -> torch.Tensor:
    """Root at 0, joints 1..16 on a circle of the given radius in the x-y plane. (17, dims)"""
    pose = torch.zeros(17, dims, dtype=F64)
    angles = torch.arange(16, dtype=F64) * (2 * math.pi / 16)
    pose[1:, 0] = radius * torch.cos(angles)
    pose[1:, 1] = radius * torch.sin(angles)
    return pose


def random_pose_3d(*batch: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    pose = torch.randn(*batch, 17, 3, generator=gen, dtype=F64)
    return pose - pose[..., :1, :]


# ---------------------------------------------------------------- L_3D (Eq. 11)


def test_consistency_3d_exact_match_is_zero():
    rotated = random_pose_3d(2, 3, seed=1)
    assert consistency_3d_loss(rotated.clone(), rotated).item() == pytest.approx(0.0, abs=1e-24)


def test_consistency_3d_pure_scale_mismatch_is_zero():
    """The relifted pose is brought to the rotated pose's scale first: a zoomed copy costs nothing."""
    rotated = random_pose_3d(2, 3, seed=2)
    assert consistency_3d_loss(2.5 * rotated, rotated).item() == pytest.approx(0.0, abs=1e-20)
    assert consistency_3d_loss(0.04 * rotated, rotated).item() == pytest.approx(0.0, abs=1e-20)


def test_consistency_3d_known_displacement():
    """Ring pose (all joints 1 from the root); joint 1 moved from (1,0,0) to (0,0,1), same radius so
    the rescaling factor stays 1: |(0,0,1)-(1,0,0)|^2 = 2, over N = 17 joints -> 2/17."""
    rotated = ring_pose(1.0)[None, None]  # (V=1, B=1, 17, 3)
    relifted = rotated.clone()
    relifted[0, 0, 1] = torch.tensor([0.0, 0.0, 1.0], dtype=F64)
    assert consistency_3d_loss(relifted, rotated).item() == pytest.approx(2 / 17, rel=1e-12)
    # zoomed by 3 on top of the displacement: still 2/17 after the rescaling
    assert consistency_3d_loss(3 * relifted, rotated).item() == pytest.approx(2 / 17, rel=1e-12)


def test_consistency_3d_averages_over_views_and_batch():
    """Two views, batch of two, only one of the four poses displaced as above: (2/17) / 4 = 1/34."""
    rotated = ring_pose(1.0).expand(2, 2, 17, 3).clone()
    relifted = rotated.clone()
    relifted[1, 0, 1] = torch.tensor([0.0, 0.0, 1.0], dtype=F64)
    assert consistency_3d_loss(relifted, rotated).item() == pytest.approx(1 / 34, rel=1e-12)


# ---------------------------------------------------------------- L_cameq (Eq. 12)


def front_camera(batch: int = 1) -> torch.Tensor:
    return (torch.eye(2, 3, dtype=F64) / 10).expand(batch, 2, 3).clone()


def test_camera_equality_single_angle_is_zero():
    assert camera_equality_loss(front_camera(4)[None]).item() == 0.0


def test_camera_equality_two_cameras_one_entry_apart():
    """|K0 - K1|_1 = 0.6 over 6 entries -> 0.1; the sign of the difference does not matter."""
    k0 = front_camera()
    k1 = k0.clone()
    k1[0, 0, 2] += 0.6
    assert camera_equality_loss(torch.stack([k0, k1])).item() == pytest.approx(0.1, rel=1e-12)
    k1 = k0.clone()
    k1[0, 1, 1] -= 0.6
    assert camera_equality_loss(torch.stack([k0, k1])).item() == pytest.approx(0.1, rel=1e-12)


def test_camera_equality_mean_over_three_pairs():
    """n = 3 with K1 = K0 + 0.6 e, K2 = K0 + 1.2 e: pair L1 norms 0.6, 1.2, 0.6 -> each /6 and the
    mean over n(n-1)/2 = 3 pairs: (0.1 + 0.2 + 0.1) / 3 = 2/15."""
    k0 = front_camera()
    k1, k2 = k0.clone(), k0.clone()
    k1[0, 0, 0] += 0.6
    k2[0, 0, 0] += 1.2
    assert camera_equality_loss(torch.stack([k0, k1, k2])).item() == pytest.approx(2 / 15, rel=1e-12)


def test_camera_equality_averages_over_batch():
    """Batch of two, only item 0 differs by 0.6: (0.1 + 0) / 2 = 0.05."""
    k0 = front_camera(2)
    k1 = k0.clone()
    k1[0, 1, 2] += 0.6
    assert camera_equality_loss(torch.stack([k0, k1])).item() == pytest.approx(0.05, rel=1e-12)


# ---------------------------------------------------------------- L_svmac (Eq. 15)


def test_svmac_identical_poses_give_zero():
    pose = torch.randn(3, 17, 2, dtype=F64)
    views = [pose.expand(2, 3, 17, 2).clone(), pose.expand(3, 3, 17, 2).clone()]
    assert svmac_loss(views).item() == pytest.approx(0.0, abs=1e-24)


def test_svmac_compares_shapes_not_scales():
    """Each reprojection is renormalised: a zoomed and shifted copy costs nothing."""
    pose = torch.randn(2, 17, 2, dtype=F64)
    views = [torch.stack([pose, 4.0 * pose + 1.5])]
    assert svmac_loss(views).item() == pytest.approx(0.0, abs=1e-20)


def test_svmac_known_difference():
    """P = ring of radius 0.1 (already normalised: mean root distance 1/c), Q = P with joint 1 moved
    from (0.1, 0) to (0, 0.1): |P - Q|^2 = 0.02, N = 17.
    angle 0, m = 2 [P, Q]: one pair 0.02/17, divided by m -> 0.01/17.
    angle 1, m = 3 [P, P, Q]: pairs 0, 0.02/17, 0.02/17 -> 0.04/17 / 3 = 0.04/51.
    mean over n = 2 angles: (0.03/51 + 0.04/51) / 2 = 0.07/102."""
    p = ring_pose(0.1, dims=2)
    q = p.clone()
    q[1] = torch.tensor([0.0, 0.1], dtype=F64)
    views = [torch.stack([p, q])[:, None], torch.stack([p, p, q])[:, None]]  # (m, B=1, 17, 2)
    assert svmac_loss(views).item() == pytest.approx(0.07 / 102, rel=1e-12)


# ---------------------------------------------------------------- L_weakcam (Eq. 19)


def test_weak_camera_scaled_orthographic_cameras_give_zero():
    """s [[1,0,0],[0,1,0]] and s R[:2] (rows of a rotation) satisfy K K^T = s^2 I."""
    front = 0.37 * torch.eye(2, 3, dtype=F64)
    rotated = 2.2 * rotation_y(scalar(0.8))[:2]
    cameras = torch.stack([front, rotated]).expand(3, 2, 2, 3)  # (n=3, B=2, 2, 3)
    assert weak_camera_loss(cameras).item() == pytest.approx(0.0, abs=1e-14)


def test_weak_camera_hand_value():
    """K = [[1,0,0],[0,2,0]]: K K^T = diag(1, 4), trace 5, 2 K K^T / 5 - I = diag(-3/5, 3/5),
    Frobenius norm sqrt(0.36 + 0.36) = 0.6 sqrt(2) per camera."""
    bad = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]], dtype=F64)
    good = 0.1 * torch.eye(2, 3, dtype=F64)
    per_camera = 0.6 * math.sqrt(2)
    assert weak_camera_loss(bad[None, None]).item() == pytest.approx(per_camera, rel=1e-12)
    # summed over n = 2 angles
    assert weak_camera_loss(bad.expand(2, 1, 2, 3)).item() == pytest.approx(2 * per_camera, rel=1e-12)
    # n = 2, B = 2: item 0 bad at both angles (2x), item 1 bad at angle 1 only (1x); batch mean 1.5x
    cameras = torch.stack([torch.stack([bad, good]), torch.stack([bad, bad])])
    assert weak_camera_loss(cameras).item() == pytest.approx(1.5 * per_camera, rel=1e-12)


# ---------------------------------------------------------------- L_sym (Eq. 21)


def symmetric_pose() -> torch.Tensor:
    """A pose whose right side is the mirror (x -> -x) of its left side."""
    pose = torch.zeros(17, 3, dtype=F64)
    left = {  # left joint: position; the right joint is at (-x, y, z)
        4: (1.0, 0.0, 0.0),  # LHip / RHip 1
        5: (1.0, 4.0, 0.5),  # LKnee / RKnee 2
        6: (1.0, 8.0, 0.0),  # LFoot / RFoot 3
        11: (1.5, -4.0, 0.0),  # LShoulder / RShoulder 14
        12: (2.0, -1.0, 0.0),  # LElbow / RElbow 15
        13: (2.0, 2.0, 0.0),  # LWrist / RWrist 16
    }
    right_of = {4: 1, 5: 2, 6: 3, 11: 14, 12: 15, 13: 16}
    for j, (x, y, z) in left.items():
        pose[j] = torch.tensor([x, y, z], dtype=F64)
        pose[right_of[j]] = torch.tensor([-x, y, z], dtype=F64)
    pose[7] = torch.tensor([0.0, -2.0, 0.0], dtype=F64)  # Spine
    pose[8] = torch.tensor([0.0, -4.0, 0.0], dtype=F64)  # Thorax
    pose[9] = torch.tensor([0.0, -5.0, -0.5], dtype=F64)  # Neck/Nose
    pose[10] = torch.tensor([0.0, -6.0, 0.0], dtype=F64)  # Head
    return pose


def test_symmetry_of_symmetric_pose_is_zero():
    assert symmetry_loss(symmetric_pose()).item() == pytest.approx(0.0, abs=1e-24)


@pytest.mark.parametrize("wrist", [13, 16])
def test_symmetry_lengthened_forearm(wrist):
    """The forearm (elbow (+-2,-1,0) -> wrist (+-2,2,0)) runs along +y, length 3; moving the wrist
    0.5 further makes it 3.5: (3.5 - 3)^2 over q = 6 pairs = 0.25/6, whichever side is changed."""
    pose = symmetric_pose()
    pose[wrist, 1] += 0.5
    assert symmetry_loss(pose).item() == pytest.approx(0.25 / 6, rel=1e-12)


def test_symmetry_lengthened_thigh_and_batch_mean():
    """LKnee moved 0.5 along the LHip->LKnee direction; batch [changed, symmetric] -> 0.25/6 / 2."""
    pose = symmetric_pose()
    direction = pose[5] - pose[4]
    pose[5] = pose[5] + 0.5 * direction / direction.norm()
    # the shin (LKnee -> LFoot) changes too: recompute its length by hand
    shin = (pose[6] - pose[5]).norm().item()
    shin_ref = math.sqrt(0.0 + 16.0 + 0.25)  # |(0, 4, -0.5)|
    expected = (0.25 + (shin - shin_ref) ** 2) / 6
    assert symmetry_loss(pose).item() == pytest.approx(expected, rel=1e-12)
    batch = torch.stack([pose, symmetric_pose()])
    assert symmetry_loss(batch).item() == pytest.approx(expected / 2, rel=1e-12)


# ---------------------------------------------------------------- L_angle (Eq. 22-23)


def facing_camera_pose() -> torch.Tensor:
    """Camera frame x right, y down, z away from the camera. The person faces the camera: their left
    shoulder is at +x in the image, and the nose is closer to the camera (smaller z) than the neck."""
    return symmetric_pose()  # LShoulder (1.5,-4,0), RShoulder (-1.5,-4,0), Thorax (0,-4,0), nose (0,-5,-0.5)


def test_face_shoulder_sine_negative_for_person_facing_camera():
    """v = nose - neck = (0, -1, -0.5), w = LSh - RSh = (3, 0, 0):
    (v_z w_x - v_x w_z) / (|v||w|) = (-0.5 * 3) / (sqrt(1.25) * 3) = -1/sqrt(5)."""
    pose = facing_camera_pose()
    assert face_shoulder_sine(pose).item() == pytest.approx(-1 / math.sqrt(5), rel=1e-12)
    assert angle_loss(pose).item() == 0.0


@pytest.mark.parametrize("flip_axis", [0, 2], ids=["mirrored_x", "depth_flipped"])
def test_face_shoulder_sine_positive_for_mirrored_or_depth_flipped_pose(flip_axis):
    """Mirroring x (left shoulder on the wrong side) or flipping depth (nose behind the neck) gives
    +1/sqrt(5) and the loss equals that sine."""
    pose = facing_camera_pose()
    pose[:, flip_axis] = -pose[:, flip_axis]
    assert face_shoulder_sine(pose).item() == pytest.approx(1 / math.sqrt(5), rel=1e-12)
    assert angle_loss(pose).item() == pytest.approx(1 / math.sqrt(5), rel=1e-12)


def test_angle_loss_is_batch_mean_of_positive_part():
    """[facing (sine -1/sqrt5 -> 0), depth-flipped (+1/sqrt5)] -> (1/sqrt5) / 2."""
    flipped = facing_camera_pose()
    flipped[:, 2] = -flipped[:, 2]
    batch = torch.stack([facing_camera_pose(), flipped])
    assert angle_loss(batch).item() == pytest.approx(0.5 / math.sqrt(5), rel=1e-12)


def test_face_shoulder_sine_uses_the_right_joints():
    """Moving joints the sine must ignore (hips, legs, arms below the shoulders, head top) changes nothing."""
    pose = facing_camera_pose()
    moved = pose.clone()
    for j in (1, 2, 3, 4, 5, 6, 7, 10, 12, 13, 15, 16):
        moved[j] += torch.tensor([0.3, -0.7, 1.1], dtype=F64)
    assert face_shoulder_sine(moved).item() == pytest.approx(face_shoulder_sine(pose).item(), rel=1e-12)


def test_angle_loss_zero_on_real_h36m_poses(data_dir):
    """Real camera-frame 3D poses of S1 satisfy the rule: at least 99% have sine <= 0."""
    from lifter.data import data_root, load_h36m

    poses = load_h36m(data_root(data_dir), ("S1",), frame_step=50)
    sine = face_shoulder_sine(torch.from_numpy(poses.pose_3d).to(F64))
    assert len(sine) > 100
    assert (sine <= 0).double().mean().item() >= 0.99
    assert angle_loss(torch.from_numpy(poses.pose_3d).to(F64)).item() < 0.01


# ---------------------------------------------------------------- bone-ratio prior (ours)


def test_bone_ratio_loss_is_zero_at_the_prior_and_scale_free():
    pose = random_pose_3d(3, seed=4)
    lengths = bone_lengths(pose)
    prior = lengths[0] / lengths[0].sum()
    assert bone_ratio_loss(pose[:1], prior).item() == pytest.approx(0.0, abs=1e-20)
    assert bone_ratio_loss(7.5 * pose[:1], prior).item() == pytest.approx(0.0, abs=1e-20)
    assert bone_ratio_loss(pose, prior).item() > 0.01


def test_bone_ratio_loss_hand_value():
    """Two of 16 unit bones doubled: shares 2/18 (twice) and 1/18 (14 times) against 1/16 each."""
    from lifter.skeleton import BONES

    lengths = torch.ones(16, dtype=F64)
    lengths[1:3] = 2.0
    pose = torch.zeros(1, 17, 3, dtype=F64)
    for (parent, child), length in zip(BONES, lengths):  # parents come before their children
        pose[0, child] = pose[0, parent] + torch.tensor([0.0, length, 0.0], dtype=F64)
    torch.testing.assert_close(bone_lengths(pose)[0], lengths)
    shares = lengths / 18
    expected = ((shares * 16 - 1) ** 2).mean().item()  # = (14 * (16/18 - 1)^2 + 2 * (32/18 - 1)^2) / 16
    assert bone_ratio_loss(pose, torch.full((16,), 1 / 16, dtype=F64)).item() == pytest.approx(expected)


def test_bone_ratio_prior_from_2d_matches_3d_shares(data_dir):
    """The prior measured on training 2D alone is within 6 % of the 3D bone shares of the same poses."""
    from lifter.data import data_root, load_h36m

    poses = load_h36m(data_root(data_dir), ("S1", "S5"), frame_step=20)
    prior = bone_ratio_prior(torch.from_numpy(poses.pose_2d))
    lengths_3d = bone_lengths(torch.from_numpy(poses.pose_3d).to(F64)).mean(0)
    assert prior.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert torch.allclose(prior.double(), lengths_3d / lengths_3d.sum(), rtol=0.06)
    # and real 3D poses are close to it, far closer than a pose with its depth doubled
    real_3d = torch.from_numpy(poses.pose_3d).to(F64)
    real_3d = real_3d - real_3d[:, :1]
    stretched = real_3d * torch.tensor([1.0, 1.0, 2.0], dtype=F64)
    assert bone_ratio_loss(real_3d, prior.double()).item() < 0.5 * bone_ratio_loss(stretched, prior.double()).item()


# ---------------------------------------------------------------- WGAN-GP (Eq. 16)


class LinearCritic(nn.Module):
    """D(x) = w . flatten(x) + b."""

    def __init__(self, w: torch.Tensor, bias: float = 0.0):
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(bias, dtype=w.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.w + self.b


def critic_case(norm: float):
    """w = norm * e_0 (reads joint 0's x). real joint-0 x = 1, 3; fake joint-0 x = -1, 0."""
    w = torch.zeros(34, dtype=F64)
    w[0] = norm
    real = torch.randn(2, 17, 2, dtype=F64)
    fake = torch.randn(2, 17, 2, dtype=F64)
    real[:, 0, 0] = torch.tensor([1.0, 3.0], dtype=F64)
    fake[:, 0, 0] = torch.tensor([-1.0, 0.0], dtype=F64)
    return LinearCritic(w, bias=0.7), real, fake


def test_critic_loss_unit_gradient_has_no_penalty():
    """|w| = 1: penalty 0; loss = E D(fake) - E D(real) = -0.5 - 2 = -2.5 (the bias cancels)."""
    critic, real, fake = critic_case(1.0)
    loss, wasserstein = critic_wgan_gp_loss(critic, real, fake, gp_weight=10.0)
    assert loss.item() == pytest.approx(-2.5, rel=1e-12)
    assert wasserstein.item() == pytest.approx(2.5, rel=1e-12)


def test_critic_loss_gradient_norm_two_is_penalised():
    """|w| = 2: D doubles (E D(fake) - E D(real) = -1 - 4 = -5) plus gp (2 - 1)^2 = 10 -> 5."""
    critic, real, fake = critic_case(2.0)
    loss, wasserstein = critic_wgan_gp_loss(critic, real, fake, gp_weight=10.0)
    assert loss.item() == pytest.approx(-5.0 + 10.0, rel=1e-12)
    assert wasserstein.item() == pytest.approx(5.0, rel=1e-12)
    loss_gp3, _ = critic_wgan_gp_loss(critic, real, fake, gp_weight=3.0)
    assert loss_gp3.item() == pytest.approx(-5.0 + 3.0, rel=1e-12)


def test_critic_loss_detaches_fake_and_trains_critic():
    """No gradient flows into the generator's output; the critic's weights get one."""
    critic, real, fake = critic_case(2.0)
    fake.requires_grad_(True)
    loss, wasserstein = critic_wgan_gp_loss(critic, real, fake, gp_weight=10.0)
    loss.backward()
    assert fake.grad is None
    assert critic.w.grad is not None and critic.w.grad.abs().sum() > 0
    assert not wasserstein.requires_grad


def test_generator_adversarial_loss_is_minus_mean_score():
    scores = torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=F64)
    assert generator_adversarial_loss(scores).item() == pytest.approx(-3.0)


# ---------------------------------------------------------------- supervised 3D


def test_supervised_3d_scale_free_and_known_difference():
    """A half-size prediction costs 0; joint 1 moved from (1,0,0) to (0,0,1) on the unit ring -> 2/17."""
    target = ring_pose(1.0)[None]
    assert supervised_3d_loss(0.5 * target, target).item() == pytest.approx(0.0, abs=1e-24)
    pred = target.clone()
    pred[0, 1] = torch.tensor([0.0, 0.0, 1.0], dtype=F64)
    assert supervised_3d_loss(pred, target).item() == pytest.approx(2 / 17, rel=1e-12)
    # batch of [displaced, exact] -> mean 1/17; a prediction off the root is root-centred first
    batch_pred = torch.cat([pred, target]) + torch.tensor([4.0, 0.0, -2.0], dtype=F64)
    assert supervised_3d_loss(batch_pred, target.expand(2, 17, 3)).item() == pytest.approx(1 / 17, rel=1e-12)


# ---------------------------------------------------------------- pairwise deformation (Yu et al. 2021)


def one_joint(batch: int, moves: dict[tuple[int, int], list[float]]) -> torch.Tensor:
    """(batch, 17, 3) zeros except the given (pose, joint) positions."""
    pose = torch.zeros(batch, 17, 3, dtype=F64)
    for (i, joint), value in moves.items():
        pose[i, joint] = torch.tensor(value, dtype=F64)
    return pose


def test_deformation_one_pair_hand_value():
    """Change a - b = [1, 0, 0] at joint 1; after the cycle 0 - [0, 3, 0] = [0, -3, 0]:
    |[1, 3, 0]| = sqrt(10)."""
    pose = one_joint(2, {(0, 1): [1.0, 0.0, 0.0]})
    cycled = one_joint(2, {(1, 1): [0.0, 3.0, 0.0]})
    assert deformation_loss(pose, cycled).item() == pytest.approx(math.sqrt(10), rel=1e-12)


def test_deformation_is_the_mean_over_pairs_and_an_odd_pose_sits_out():
    """Pairs (0, 1) and (2, 3): sqrt(10) and |[0, 0, 2]| = 2, mean (sqrt(10) + 2) / 2; pose 4 has no partner."""
    pose = one_joint(5, {(0, 1): [1.0, 0.0, 0.0], (2, 5): [0.0, 0.0, 2.0]})
    cycled = one_joint(5, {(1, 1): [0.0, 3.0, 0.0], (4, 7): [9.0, 9.0, 9.0]})
    assert deformation_loss(pose, cycled).item() == pytest.approx((math.sqrt(10) + 2) / 2, rel=1e-12)


def test_deformation_ignores_an_error_both_poses_of_a_pair_share():
    """Only the pose-to-pose change counts: the same misplaced wrist in both poses costs nothing."""
    pose = random_pose_3d(4, seed=5)
    cycled = pose.clone()
    cycled[:, 16] += torch.tensor([0.5, -0.2, 0.3], dtype=F64)
    assert deformation_loss(pose, cycled).item() == pytest.approx(0.0, abs=1e-12)
    cycled[1, 16, 0] += 0.4  # now pose 1 differs from its partner: |[-0.4, 0, 0]| for pair 0, 0 for pair 1
    assert deformation_loss(pose, cycled).item() == pytest.approx(0.2, rel=1e-12)


def test_deformation_averages_over_views():
    """pose (B, 17, 3) against cycled (V, B, 17, 3): view 0 exact, view 1 off by sqrt(10) -> sqrt(10) / 2."""
    pose = one_joint(2, {(0, 1): [1.0, 0.0, 0.0]})
    cycled = torch.stack([pose, one_joint(2, {(1, 1): [0.0, 3.0, 0.0]})])
    assert deformation_loss(pose, cycled).item() == pytest.approx(math.sqrt(10) / 2, rel=1e-12)


def test_deformation_with_one_pose_is_zero():
    assert deformation_loss(random_pose_3d(1, seed=1), random_pose_3d(1, seed=2)).item() == 0.0


# ---------------------------------------------------------------- total generator loss (Eq. 24)

TERM_NAMES = ("adversarial", "angle", "weak_camera", "camera_equality", "symmetry", "consistency_3d", "svmac")


def test_loss_weights_defaults_are_the_papers():
    w = LossWeights()
    assert (w.angle, w.camera, w.symmetry, w.consistency_3d, w.svmac) == (1.0, 1.0, 0.01, 0.1, 10.0)
    assert w.gradient_penalty == 10.0
    assert w.bone_ratio == w.deformation == 0.0  # ours, off unless asked for
    assert w.flow == 1.0  # applies only when a flow prior file is given


def test_generator_total_loss_default_weights():
    """adv 1, angle 2, weakcam 3, cameq 5, sym 7, 3D 11, svmac 13:
    1 + 1*2 + 1*(3 + 5) + 0.01*7 + 0.1*11 + 10*13 = 142.17; with supervised 17 (weight 1): 159.17."""
    terms = {name: scalar(v) for name, v in zip(TERM_NAMES, (1.0, 2.0, 3.0, 5.0, 7.0, 11.0, 13.0))}
    assert generator_total_loss(terms, LossWeights()).item() == pytest.approx(142.17, rel=1e-12)
    terms["supervised_3d"] = scalar(17.0)
    assert generator_total_loss(terms, LossWeights()).item() == pytest.approx(159.17, rel=1e-12)


@pytest.mark.parametrize(
    "term, expected",
    [
        ("adversarial", 1.0),  # L_adv is unweighted
        ("angle", 2.0),  # lambda_1
        ("weak_camera", 3.0),  # lambda_2
        ("camera_equality", 3.0),  # lambda_2 as well (L_cam = L_weakcam + L_cameq)
        ("symmetry", 5.0),  # lambda_3
        ("consistency_3d", 7.0),  # lambda_4
        ("svmac", 11.0),  # lambda_5
        ("supervised_3d", 13.0),
        ("deformation", 17.0),
        ("flow", 19.0),
    ],
)
def test_generator_total_loss_each_weight_on_its_own_term(term, expected):
    """One-hot terms with distinct weights: catches a weight applied to the wrong term."""
    weights = LossWeights(
        angle=2.0,
        camera=3.0,
        symmetry=5.0,
        consistency_3d=7.0,
        svmac=11.0,
        supervised_3d=13.0,
        deformation=17.0,
        flow=19.0,
    )
    terms = {name: scalar(0.0) for name in (*TERM_NAMES, "supervised_3d", "deformation", "flow")}
    terms[term] = scalar(1.0)
    assert generator_total_loss(terms, weights).item() == pytest.approx(expected, rel=1e-12)
