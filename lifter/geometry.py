"""Normalisation, perspective lifting, rotation and weak-perspective projection (Section 3).

Conventions: poses are (..., 17, 2) or (..., 17, 3) tensors in the camera frame
(x right, y down, z away from the camera), joint 0 (Hip) is the root.
"""

import torch

from lifter.skeleton import MIRROR_JOINTS, ROOT

CAMERA_DISTANCE = 10.0  # c: the skeleton's root sits at depth c, focal length 1
EPS = 1e-8


def root_centre(pose: torch.Tensor) -> torch.Tensor:
    """Subtract the root joint. (..., J, D) -> (..., J, D)"""
    return pose - pose[..., ROOT : ROOT + 1, :]


def mean_root_distance(pose: torch.Tensor) -> torch.Tensor:
    """Mean distance of the non-root joints to the root. (..., J, D) -> (...,)"""
    centred = root_centre(pose)
    dist = centred.norm(dim=-1)  # (..., J)
    return (dist.sum(-1) - dist[..., ROOT]) / (pose.shape[-2] - 1)


def normalise_2d(pose_2d: torch.Tensor, c: float = CAMERA_DISTANCE) -> torch.Tensor:
    """Root-centre 2D joints and scale them so their mean distance to the root is 1/c.

    Works on pixels or on any reprojection: the result depends only on the pose's shape.
    (..., 17, 2) -> (..., 17, 2)
    """
    centred = root_centre(pose_2d)
    scale = mean_root_distance(centred).clamp_min(EPS)  # (...,)
    return centred / (scale[..., None, None] * c)


def lift(pose_2d: torch.Tensor, depth: torch.Tensor, c: float = CAMERA_DISTANCE) -> torch.Tensor:
    """Perspective lifting with focal length 1: Z = D + c, X = x Z, Y = y Z.

    pose_2d (..., 17, 2) normalised and root-centred; depth (..., 17) relative to the root.
    Returns the root-relative 3D pose (..., 17, 3), i.e. (X, Y, Z - c).
    """
    z = depth + c  # (..., 17)
    xy = pose_2d * z[..., None]  # (..., 17, 2)
    return root_centre(torch.cat([xy, depth[..., None]], dim=-1))


def rotation_y(theta: torch.Tensor) -> torch.Tensor:
    """Rotation about the camera's y axis, Eq. 7. theta (...,) -> (..., 3, 3)"""
    cos, sin = torch.cos(theta), torch.sin(theta)
    zero, one = torch.zeros_like(theta), torch.ones_like(theta)
    rows = [
        torch.stack([cos, zero, -sin], dim=-1),
        torch.stack([zero, one, zero], dim=-1),
        torch.stack([sin, zero, cos], dim=-1),
    ]
    return torch.stack(rows, dim=-2)


def rotate_y(pose_3d: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Rotate a root-relative pose about the vertical axis through its root, Eq. 8.

    The paper writes (X - [0,0,c]) R + [0,0,c] on row vectors; on a root-relative pose the
    +-c cancels. pose_3d (B, 17, 3), theta (B,) -> (B, 17, 3)
    """
    return pose_3d @ rotation_y(theta)


def rotation_x(phi: torch.Tensor) -> torch.Tensor:
    """Rotation about the camera's x axis (a change of elevation), same convention as rotation_y.
    phi (...,) -> (..., 3, 3)"""
    cos, sin = torch.cos(phi), torch.sin(phi)
    zero, one = torch.zeros_like(phi), torch.ones_like(phi)
    rows = [
        torch.stack([one, zero, zero], dim=-1),
        torch.stack([zero, cos, -sin], dim=-1),
        torch.stack([zero, sin, cos], dim=-1),
    ]
    return torch.stack(rows, dim=-2)


def mirror_pose(pose: torch.Tensor) -> torch.Tensor:
    """The pose flipped about the camera's vertical plane: x negated, left and right joints swapped.

    Its own inverse. (..., 17, D) -> (..., 17, D), D = 2 or 3
    """
    mirrored = pose[..., list(MIRROR_JOINTS), :].clone()
    mirrored[..., 0] = -mirrored[..., 0]
    return mirrored


def mirror_camera(camera: torch.Tensor) -> torch.Tensor:
    """The weak-perspective camera that sees mirror_pose(X) as mirror_pose(K X): M2 K M3 with
    M2 = diag(-1, 1), M3 = diag(-1, 1, 1). Its own inverse. (..., 2, 3) -> (..., 2, 3)"""
    signs = camera.new_tensor([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0]])
    return camera * signs


def view_rotation(
    azimuth: torch.Tensor, elevation: torch.Tensor, levelling: torch.Tensor | None = None
) -> torch.Tensor:
    """The rotation to a new view of a root-relative pose, for row vectors: pose @ R.

    About y by azimuth (Eq. 8), then about x by elevation. With levelling (ElePose: the pose's
    own predicted elevation), the pose is first tilted back by it, so the azimuth turns it about
    its own upright axis and not the camera's tilted y axis: R = Rx(-levelling) Ry(azimuth) Rx(elevation)
    in this row-vector order. azimuth, elevation, levelling (...,) -> (..., 3, 3)
    """
    rotation = rotation_y(azimuth) @ rotation_x(elevation)
    if levelling is not None:
        rotation = rotation_x(-levelling) @ rotation
    return rotation


def rotate_azimuth_elevation(pose_3d: torch.Tensor, azimuth: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
    """Rotate about y by azimuth (Eq. 8), then about x by elevation, both through the root.

    Elevation 0 is the paper's rotation. pose_3d (B, 17, 3), azimuth and elevation (B,) -> (B, 17, 3)
    """
    return rotate_y(pose_3d, azimuth) @ rotation_x(elevation)


def weak_project(camera: torch.Tensor, pose_3d: torch.Tensor) -> torch.Tensor:
    """Weak-perspective projection with a 2x3 camera, Eq. 9: x = K X.

    camera (B, 2, 3), pose_3d (B, 17, 3) root-relative -> (B, 17, 2) root-centred.
    """
    return pose_3d @ camera.transpose(-1, -2)


def scale_to_reference(pose: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Scale a root-relative pose so its mean root distance equals the reference's.

    The lifter is scale-free; evaluation in millimetres borrows the ground-truth scale.
    (..., 17, 3), (..., 17, 3) -> (..., 17, 3)
    """
    ratio = mean_root_distance(reference) / mean_root_distance(pose).clamp_min(EPS)
    return root_centre(pose) * ratio[..., None, None]
