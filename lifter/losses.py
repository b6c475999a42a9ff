"""Every SVMAC loss term as its own function (Section 3.2-3.4, Eq. 11-24).

Batch terms are averaged over the batch; J = 17 joints.
"""

from dataclasses import asdict, dataclass

import torch

from lifter.geometry import EPS, normalise_2d, scale_to_reference
from lifter.skeleton import ANGLE_LSHOULDER, ANGLE_NECK, ANGLE_NOSE, ANGLE_RSHOULDER, BONES, SYMMETRIC_BONES


@dataclass(frozen=True)
class LossWeights:
    """lambda_1..lambda_5 of Eq. 24 (the paper's values) and the gradient-penalty weight."""

    angle: float = 1.0
    camera: float = 1.0
    symmetry: float = 0.01
    consistency_3d: float = 0.1
    svmac: float = 10.0
    gradient_penalty: float = 10.0
    supervised_3d: float = 1.0  # only used with a fraction of 3D-supervised samples
    bone_ratio: float = 0.0  # not in the paper: the bone-length-ratio prior measured on the training 2D
    deformation: float = 0.0  # not in the paper: the pairwise deformation loss (Yu et al. 2021; ElePose)
    flow: float = 1.0  # not in the paper: a 2D normalising-flow prior's NLL; used only with a flow file (ElePose)

    def to_dict(self) -> dict:
        return asdict(self)


def critic_wgan_gp_loss(
    critic: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, gp_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Critic side of WGAN-GP, Eq. 16: E[D(fake)] - E[D(real)] + gp (|grad D(x_hat)| - 1)^2.

    real, fake (B, 17, 2); x_hat uniform on the segment between them.
    Returns (loss, wasserstein estimate E[D(real)] - E[D(fake)]).
    """
    fake = fake.detach()
    alpha = torch.rand(real.shape[0], 1, 1, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    wasserstein = critic(real).mean() - critic(fake).mean()
    return -wasserstein + gp_weight * penalty, wasserstein.detach()


def generator_adversarial_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator side of Eq. 16: -E[D(x_proj)]. fake_scores (B,) -> ()"""
    return -fake_scores.mean()


def consistency_3d_loss(relifted: torch.Tensor, rotated: torch.Tensor) -> torch.Tensor:
    """L_3D, Eq. 11: (1/N) |X~_rot - X_rot|^2, averaged over the n-1 rotated views.

    relifted, rotated (V, B, 17, 3) root-relative. The reprojections are renormalised before
    they are lifted again, so the relifted pose is first brought to the rotated pose's scale.
    """
    aligned = scale_to_reference(relifted, rotated)
    return ((aligned - rotated) ** 2).sum(-1).mean()


def camera_equality_loss(cameras: torch.Tensor) -> torch.Tensor:
    """L_cameq, Eq. 12: mean over camera pairs i < j of (1/6) |K_i - K_j|_1.

    cameras (n, B, 2, 3): the camera of every angle; zero when n = 1.
    """
    n = cameras.shape[0]
    if n < 2:
        return cameras.new_zeros(())
    i, j = torch.triu_indices(n, n, offset=1, device=cameras.device)
    return (cameras[i] - cameras[j]).abs().mean()


def svmac_loss(views: list[torch.Tensor]) -> torch.Tensor:
    """L_svmac, Eq. 15: (1/n) sum_i sum_{a<b} |P_a - P_b|^2 / (N m_i).

    views[i] (m_i, B, 17, 2): the m_i 2D reprojections of angle i, each renormalised, so the
    comparison is of shapes and not of the (free) camera scale.
    """
    total = views[0].new_zeros(())
    for poses in views:
        poses = normalise_2d(poses)
        m = poses.shape[0]
        a, b = torch.triu_indices(m, m, offset=1, device=poses.device)
        pair_sq = ((poses[a] - poses[b]) ** 2).sum(-1).mean(-1)  # (pairs, B): |.|^2 / N
        total = total + pair_sq.sum(0).mean() / m
    return total / len(views)


def deformation_loss(pose_3d: torch.Tensor, cycled: torch.Tensor) -> torch.Tensor:
    """Pairwise deformation loss (Yu et al., ICCV 2021, as ElePose and LInKs train with it).

    Poses 2k and 2k+1 of the batch form a pair (our batches are drawn independently, so these are
    random pairs); an odd last pose sits out. The change from one pose of a pair to the other must
    come back unchanged from the rotate, reproject, lift again, rotate back cycle:
    mean over pairs of |(X_a - X_b) - (X~_a - X~_b)|, the norm over all 17 x 3 coordinates.
    pose_3d (..., B, 17, 3) the lifted poses, cycled (..., B, 17, 3) the same poses after the
    cycle (broadcast against each other, e.g. one row per rotated view) -> ()
    """
    pose_3d, cycled = torch.broadcast_tensors(pose_3d, cycled)
    pairs = pose_3d.shape[-3] // 2
    if pairs == 0:
        return pose_3d.new_zeros(())
    first, second = slice(0, 2 * pairs, 2), slice(1, 2 * pairs, 2)
    change = pose_3d[..., first, :, :] - pose_3d[..., second, :, :]  # (..., pairs, 17, 3)
    cycled_change = cycled[..., first, :, :] - cycled[..., second, :, :]
    return (change - cycled_change).flatten(-2).norm(dim=-1).mean()


def weak_camera_loss(cameras: torch.Tensor) -> torch.Tensor:
    """L_weakcam, Eq. 19: sum over angles of |2 K K^T / tr(K K^T) - I|_F. cameras (n, B, 2, 3)"""
    kkt = cameras @ cameras.transpose(-1, -2)  # (n, B, 2, 2)
    trace = kkt.diagonal(dim1=-2, dim2=-1).sum(-1).clamp_min(EPS)  # (n, B)
    eye = torch.eye(2, device=cameras.device, dtype=cameras.dtype)
    residual = 2 * kkt / trace[..., None, None] - eye
    return residual.flatten(-2).norm(dim=-1).sum(0).mean()


def symmetry_loss(pose_3d: torch.Tensor) -> torch.Tensor:
    """L_sym, Eq. 21: (1/q) sum_i (|B_i| - |B'_i|)^2 over the q left/right bone pairs. (..., 17, 3)"""
    left = torch.tensor([pair[0] for pair in SYMMETRIC_BONES], device=pose_3d.device)  # (q, 2)
    right = torch.tensor([pair[1] for pair in SYMMETRIC_BONES], device=pose_3d.device)
    left_len = (pose_3d[..., left[:, 1], :] - pose_3d[..., left[:, 0], :]).norm(dim=-1)
    right_len = (pose_3d[..., right[:, 1], :] - pose_3d[..., right[:, 0], :]).norm(dim=-1)
    return ((left_len - right_len) ** 2).mean()


def face_shoulder_sine(pose_3d: torch.Tensor) -> torch.Tensor:
    """(v_z w_x - v_x w_z) / (|v||w|), v = nose - neck, w = lshoulder - rshoulder. (..., 17, 3) -> (...)

    In the camera frame (y down, z forward) a real pose gives a value <= 0: the nose points
    to the side the chest faces, and that is the rule Eq. 23 enforces.
    """
    v = pose_3d[..., ANGLE_NOSE, :] - pose_3d[..., ANGLE_NECK, :]
    w = pose_3d[..., ANGLE_LSHOULDER, :] - pose_3d[..., ANGLE_RSHOULDER, :]
    cross_y = v[..., 2] * w[..., 0] - v[..., 0] * w[..., 2]
    return cross_y / (v.norm(dim=-1) * w.norm(dim=-1)).clamp_min(EPS)


def angle_loss(pose_3d: torch.Tensor) -> torch.Tensor:
    """L_angle, Eq. 23: max(0, (v_z w_x - v_x w_z) / (|v||w|)). (..., 17, 3) -> ()"""
    return face_shoulder_sine(pose_3d).clamp_min(0).mean()


def bone_lengths(pose: torch.Tensor) -> torch.Tensor:
    """Length of every skeleton bone. (..., 17, D) -> (..., 16)"""
    parent = torch.tensor([bone[0] for bone in BONES], device=pose.device)
    child = torch.tensor([bone[1] for bone in BONES], device=pose.device)
    return (pose[..., child, :] - pose[..., parent, :]).norm(dim=-1)


def bone_shares(pose: torch.Tensor) -> torch.Tensor:
    """Each bone's share of the skeleton's total bone length. (..., 17, D) -> (..., 16)"""
    lengths = bone_lengths(pose)
    return lengths / lengths.sum(-1, keepdim=True).clamp_min(EPS)


def bone_ratio_prior(pose_2d: torch.Tensor, percentile: float = 90.0) -> torch.Tensor:
    """Each bone's share of the skeleton's total bone length, estimated from 2D poses alone.

    A bone seen from the side shows its full length and foreshortening only shortens it, so a
    high percentile of its 2D share over many views approaches its 3D share (measured on the
    Human3.6M S1 and S5 2D: within 6 % of every bone's 3D share, tests/test_losses.py).
    pose_2d (N, 17, 2) -> (16,), summing to 1.
    """
    shares = bone_shares(pose_2d.double())
    prior = torch.quantile(shares[torch.randperm(len(shares), generator=torch.Generator().manual_seed(0))[:100_000]],
                           percentile / 100, dim=0)  # fmt: skip
    return (prior / prior.sum()).float()


def bone_ratio_loss(pose_3d: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Mean squared relative deviation of each bone's share of the total bone length from the prior.

    Scale-free, so it constrains the depth the lifter adds (limbs toward the camera) and not the
    pose's size. pose_3d (..., 17, 3), prior (16,) -> ()
    """
    return ((bone_shares(pose_3d) / prior - 1) ** 2).mean()


def supervised_3d_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(1/N) |X - X_gt|^2 after bringing the (scale-free) prediction to the target's scale.

    Only for the "with 3D supervision" ablation. pred, target (B, 17, 3) root-relative.
    """
    return ((scale_to_reference(pred, target) - target) ** 2).sum(-1).mean()


def generator_total_loss(terms: dict[str, torch.Tensor], weights: LossWeights) -> torch.Tensor:
    """Eq. 24: L_adv + l1 L_angle + l2 (L_weakcam + L_cameq) + l3 L_sym + l4 L_3D + l5 L_svmac
    (+ 3D supervision, + the bone-ratio prior, + the deformation loss, + the flow prior, when enabled)."""
    return (
        terms["adversarial"]
        + weights.angle * terms["angle"]
        + weights.camera * (terms["weak_camera"] + terms["camera_equality"])
        + weights.symmetry * terms["symmetry"]
        + weights.consistency_3d * terms["consistency_3d"]
        + weights.svmac * terms["svmac"]
        + weights.supervised_3d * terms.get("supervised_3d", terms["angle"].new_zeros(()))
        + weights.bone_ratio * terms.get("bone_ratio", terms["angle"].new_zeros(()))
        + weights.deformation * terms.get("deformation", terms["angle"].new_zeros(()))
        + weights.flow * terms.get("flow", terms["angle"].new_zeros(()))
    )
