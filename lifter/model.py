"""SVMAC generator (pose + camera) and WGAN critic (Section 3.1, Figure 2)."""

from dataclasses import asdict, dataclass

import torch
from torch import nn

from lifter.geometry import CAMERA_DISTANCE, lift
from lifter.skeleton import LEG_JOINTS, NUM_JOINTS, ROOT, UPPER_BODY_JOINTS


@dataclass(frozen=True)
class ModelConfig:
    width: int = 1024
    trunk_blocks: int = 1
    branch_blocks: int = 2
    critic_blocks: int = 2  # the paper's critic: one input layer, two residual blocks, one output layer
    # Trunk and pose branch (the paper: every layer); the camera branch has none. Training only:
    # on a CPU its random masks cost about a fifth of a step (reports/train_throughput.md).
    dropout: float = 0.1
    leaky_slope: float = 0.2
    # A head on the trunk predicting the camera's elevation (ElePose; svmac-train --rotation
    # elepose). Off by default, so weights without it load unchanged; inference ignores it.
    elevation_head: bool = False
    # Two generators, one for the legs and one for the upper body, each seeing only its own part's
    # 2D (after TIPSy, Hardy et al. 2022, whose parts each have their own critic; here both parts
    # train together against the whole skeleton's losses; model.PartGenerator). Off by default.
    part_split: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class ResidualBlock(nn.Module):
    """x + f(x), f = two (Linear, [BatchNorm], LeakyReLU, [Dropout]) layers."""

    def __init__(self, width: int, slope: float, batch_norm: bool, dropout: float | None):
        super().__init__()
        self.layers = nn.Sequential(
            *dense_layer(width, width, slope, batch_norm, dropout),
            *dense_layer(width, width, slope, batch_norm, dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


def dense_layer(n_in: int, n_out: int, slope: float, batch_norm: bool, dropout: float | None) -> list[nn.Module]:
    """dropout None: no dropout layer. A dropout layer is kept at rate 0 too, so that the module
    indices, and with them the weights' names, do not depend on the rate."""
    layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(n_out))
    layers.append(nn.LeakyReLU(slope))
    if dropout is not None:
        layers.append(nn.Dropout(dropout))
    return layers


def trunk(cfg: ModelConfig, n_in: int) -> nn.Sequential:
    """The shared layers a generator's branches read: n_in 2D coordinates -> cfg.width features."""
    return nn.Sequential(
        *dense_layer(n_in, cfg.width, cfg.leaky_slope, True, cfg.dropout),
        *[ResidualBlock(cfg.width, cfg.leaky_slope, True, cfg.dropout) for _ in range(cfg.trunk_blocks)],
    )


def branch(cfg: ModelConfig, n_out: int, dropout: float | None) -> nn.Sequential:
    blocks = [ResidualBlock(cfg.width, cfg.leaky_slope, True, dropout) for _ in range(cfg.branch_blocks)]
    return nn.Sequential(
        *blocks,
        *dense_layer(cfg.width, cfg.width, cfg.leaky_slope, True, dropout),
        nn.Linear(cfg.width, n_out),
    )


def init_weights(module: nn.Module) -> None:
    # N(0, 0.02) as in the authors' code.
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """Normalised 2D pose -> (root-relative 3D pose, 2x3 weak-perspective camera)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.trunk = trunk(cfg, NUM_JOINTS * 2)
        self.pose_branch = branch(cfg, NUM_JOINTS - 1, cfg.dropout)
        self.camera_branch = branch(cfg, 6, None)
        if cfg.elevation_head:
            hidden = max(cfg.width // 4, 1)
            self.elevation_head = nn.Sequential(
                *dense_layer(cfg.width, hidden, cfg.leaky_slope, True, None), nn.Linear(hidden, 1)
            )
        self.apply(init_weights)
        # The camera branch predicts an offset from the front-facing orthographic camera, and
        # starts at a zero offset (in train mode too, where BatchNorm makes features unit-scale),
        # so training starts from a valid weak-perspective camera instead of a random one.
        nn.init.zeros_(self.camera_branch[-1].weight)
        if cfg.elevation_head:
            nn.init.zeros_(self.elevation_head[-1].weight)  # likewise: training starts at elevation 0
        self.register_buffer("camera_prior", torch.eye(2, 3) / CAMERA_DISTANCE)

    def forward(self, pose_2d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """pose_2d (B, 17, 2) normalised -> pose_3d (B, 17, 3), camera (B, 2, 3), depth (B, 17)."""
        return self.pose_and_camera(self.trunk(pose_2d.flatten(1)), pose_2d)

    def forward_with_elevation(self, pose_2d: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """As forward, plus the elevation head's angle (B,) in radians: the tilt about the camera's
        x axis that the pose shows (geometry.view_rotation's levelling). Needs elevation_head."""
        features = self.trunk(pose_2d.flatten(1))  # (B, W)
        elevation = self.elevation_head(features).to(pose_2d.dtype).squeeze(-1)  # (B,)
        return (*self.pose_and_camera(features, pose_2d), elevation)

    def pose_and_camera(self, features: torch.Tensor, pose_2d: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The pose and camera branches on the trunk's features (B, W); pose_2d (B, 17, 2) the input."""
        # Back to the input's dtype under autocast too: Z = D + c in bfloat16 would round D to 1/16.
        depth_rest = self.pose_branch(features).to(pose_2d.dtype)  # (B, 16)
        depth = torch.cat(
            [depth_rest[:, :ROOT], torch.zeros_like(depth_rest[:, :1]), depth_rest[:, ROOT:]], dim=1
        )  # (B, 17), root depth fixed at 0
        camera = self.camera_branch(features).to(pose_2d.dtype).view(-1, 2, 3) + self.camera_prior  # (B, 2, 3)
        return lift(pose_2d, depth), camera, depth


class PartGenerator(nn.Module):
    """Generator's interface, lifted by parts: the legs' depths from the legs' 2D alone and the
    upper body's depths and the camera from the upper body's 2D alone (both parts hold the root).
    The parts' poses then combine freely: a leg pose is never tied to the arm pose it was seen with."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.elevation_head:
            raise ValueError("the part-split generator has no elevation head")
        self.cfg = cfg
        self.legs = PartLifter(cfg, LEG_JOINTS, camera=False)
        self.upper_body = PartLifter(cfg, UPPER_BODY_JOINTS, camera=True)
        self.register_buffer("camera_prior", torch.eye(2, 3) / CAMERA_DISTANCE)

    def forward(self, pose_2d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """pose_2d (B, 17, 2) normalised -> pose_3d (B, 17, 3), camera (B, 2, 3), depth (B, 17)."""
        leg_depth, _ = self.legs(pose_2d)  # (B, 6) for LEG_JOINTS[1:]
        upper_depth, camera_offset = self.upper_body(pose_2d)  # (B, 10) for UPPER_BODY_JOINTS[1:], (B, 6)
        depth = torch.zeros(pose_2d.shape[:2], dtype=pose_2d.dtype, device=pose_2d.device)  # (B, 17), root 0
        depth = depth.index_copy(1, self.legs.lifted, leg_depth.to(pose_2d.dtype))
        depth = depth.index_copy(1, self.upper_body.lifted, upper_depth.to(pose_2d.dtype))
        camera = camera_offset.to(pose_2d.dtype).view(-1, 2, 3) + self.camera_prior  # (B, 2, 3)
        return lift(pose_2d, depth), camera, depth


class PartLifter(nn.Module):
    """One part's trunk and depth branch (and, for one part, the camera branch) on that part's 2D."""

    def __init__(self, cfg: ModelConfig, joints: tuple[int, ...], camera: bool):
        super().__init__()
        assert joints[0] == ROOT
        self.register_buffer("seen", torch.tensor(joints), persistent=False)  # (J_part,)
        self.register_buffer("lifted", torch.tensor(joints[1:]), persistent=False)  # the root's depth is 0
        self.trunk = trunk(cfg, len(joints) * 2)
        self.pose_branch = branch(cfg, len(joints) - 1, cfg.dropout)
        self.camera_branch = branch(cfg, 6, None) if camera else None
        self.apply(init_weights)
        if camera:  # as Generator: start from the front-facing orthographic camera
            nn.init.zeros_(self.camera_branch[-1].weight)

    def forward(self, pose_2d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, 17, 2) -> depths of the part's joints but the root (B, J_part - 1), camera offset (B, 6) or None."""
        features = self.trunk(pose_2d[:, self.seen].flatten(1))
        camera = self.camera_branch(features) if self.camera_branch is not None else None
        return self.pose_branch(features), camera


AnyGenerator = Generator | PartGenerator


def build_generator(cfg: ModelConfig) -> AnyGenerator:
    """The generator a ModelConfig describes: one network, or one per part (cfg.part_split)."""
    return PartGenerator(cfg) if cfg.part_split else Generator(cfg)


class Critic(nn.Module):
    """WGAN critic on normalised 2D poses: no BatchNorm (it would break the gradient penalty)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(NUM_JOINTS * 2, cfg.width),
            nn.LeakyReLU(cfg.leaky_slope),
            *[ResidualBlock(cfg.width, cfg.leaky_slope, False, None) for _ in range(cfg.critic_blocks)],
            nn.Linear(cfg.width, 1),
        )
        self.apply(init_weights)

    def forward(self, pose_2d: torch.Tensor) -> torch.Tensor:
        """(B, 17, 2) -> (B,) in the input's dtype, also under autocast"""
        return self.net(pose_2d.flatten(1)).to(pose_2d.dtype).squeeze(-1)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
