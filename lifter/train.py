"""svmac-train: unsupervised SVMAC training on Human3.6M 2D poses (Section 3, Eq. 24).

One step: lift a batch, rotate every pose about y by random angles, reproject with the
predicted camera; update the WGAN critic on those reprojections against independent real 2D
poses; lift the reprojections again with the same generator and update it with Eq. 24.

Beyond the paper, each off by default (the `paper` preset unchanged): --ema-decay (an EMA of the
generator, exported), --rotation elepose (ElePose's learned elevation and rotations about the
pose's upright axis), --lambda-deformation (the pairwise deformation loss) and --flow-prior (a frozen
2D normalising flow's likelihood of the rotated reprojections, beside or, with --no-critic,
instead of the critic) and --part-split (the legs and the upper body lifted by two networks, each
from its own part's 2D; lifter/distill.py makes one network of them).

Under torchrun (`torchrun --nproc_per_node=N -m lifter.train ...`) it trains data-parallel: each
process draws its own --batch-size batch and the gradients are averaged (lifter/distributed.py).
"""

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from lifter import distributed, losses
from lifter.checkpoint import export_weights, file_sha256, load_training_state, save_training_state
from lifter.data import CAMERAS, TRAIN_SUBJECTS, VALIDATION_FRAME_STEP, PoseSet, data_root, load_h36m
from lifter.errors import SvmacError, exit_on_user_error
from lifter.evaluate import predict_in_mm
from lifter.flow_prior import flow_prior_loss, load_flow_prior
from lifter.geometry import (
    mean_root_distance,
    normalise_2d,
    root_centre,
    rotate_azimuth_elevation,
    rotation_x,
    scale_to_reference,
    view_rotation,
    weak_project,
)
from lifter.inference import pick_device
from lifter.metrics import p_mpjpe
from lifter.model import AnyGenerator, Critic, ModelConfig, build_generator, count_parameters
from lifter.wild_2d import WILD_SOURCES, load_wild_2d, parse_sources

CHECKPOINT_NAME = "checkpoint.pt"
# the loss weights with a --lambda-NAME option; bone_ratio, deformation and flow are not the paper's
LAMBDAS = ("angle", "camera", "symmetry", "consistency_3d", "svmac", "gradient_penalty", "bone_ratio", "deformation",
           "flow")  # fmt: skip
LAMBDA_HELP = {
    "flow": "weight of the --flow-prior's negative log-likelihood of the rotated reprojections (per coordinate)",
    "deformation": "weight of the pairwise deformation loss (Yu et al. ICCV 2021, as in ElePose): random pairs of "
    "the batch keep their pose-to-pose change through the rotate-relift cycle; needs --n-angles 2 or 3; 0: off",
}
ROTATIONS = ("camera", "elepose")
ELEVATION_HEAD = "elevation_head."  # its weights' prefix in the generator's state dict
WEIGHTS_NAME = "generator.safetensors"
LOG_NAME = "train_log.jsonl"
# The validation metric's key in the log. Logs written before the validation moved off the test
# subjects call it "val_p_mpjpe_mm" and measured it on S9/S11 (reports/training_logs/).
VAL_KEY = "val_train_subjects_p_mpjpe_mm"
VAL_EMA_KEY = "val_ema_train_subjects_p_mpjpe_mm"  # the same metric for the EMA generator (--ema-decay)


@dataclass(frozen=True)
class TrainConfig:
    """Defaults are the paper's settings (Section 4.1) where it gives them."""

    steps: int = 20_000
    batch_size: int = 512  # per process: under torchrun the global batch is nproc x batch_size
    lr: float = 5.5e-5
    beta1: float = 0.7
    beta2: float = 0.9
    weight_decay: float = 1e-5
    lr_final_ratio: float = 1.0  # exponential decay to lr * ratio at the last step; 1 = constant (paper)
    n_angles: int = 2  # the paper's n: the input view plus n-1 rotated views
    use_critic: bool = True
    critic_steps: int = 1  # critic updates per generator update; the extra ones lift fresh batches
    elevation_deg: float = 0.0  # rotated views also tilt about x, uniform in +-this; 0 = paper (azimuth only)
    # "camera": random azimuth about the camera's y axis (+ elevation_deg); "elepose": level the pose by
    # its predicted elevation, random azimuth about its upright axis, a new elevation drawn from a
    # normal fitted to the batch's predicted ones (ElePose, Wandt et al. CVPR 2022; needs model.elevation_head)
    rotation: str = "camera"
    # A frozen normalising flow on 2D poses (lifter.flow_prior): its NLL of the rotated reprojections
    # joins the generator loss (weights.flow); with use_critic False it replaces the critic. "" = off.
    flow_prior: str = ""
    init_from: str = ""  # a training checkpoint whose generator and critic weights start this run
    supervised_fraction: float = 0.0  # share of the training poses, and of each batch, with 3D labels (ablation)
    input_source: str = "gt"  # "gt" projected ground truth, "sh" Stacked-Hourglass detections
    wild_2d: tuple[str, ...] = ()  # in-the-wild 2D sources mixed in (lifter.wild_2d): "mpii", "lspet"
    wild_fraction: float = 0.0  # share of each batch drawn from them
    wild_as: str = "both"  # where they go: "inputs" (lifted), "critic" (its real samples) or "both"
    train_frame_step: int = 1
    val_frame_step: int = VALIDATION_FRAME_STEP  # the validation subset: training subjects, 4 cameras
    val_every: int = 1000
    log_every: int = 50
    checkpoint_every: int = 1000
    seed: int = 0
    amp: str = "auto"  # "auto": bfloat16 networks on a CUDA device that has it, else float32; "bf16"; "off"
    ema_decay: float = 0.0  # exponential moving average of the generator (weights and BatchNorm buffers); 0 = off
    model: ModelConfig = field(default_factory=ModelConfig)
    weights: losses.LossWeights = field(default_factory=losses.LossWeights)

    @staticmethod
    def from_dict(values: dict) -> "TrainConfig":
        values = dict(values)
        values["model"] = ModelConfig(**values["model"])
        values["weights"] = losses.LossWeights(**values["weights"])
        values["wild_2d"] = tuple(values.get("wild_2d", ()))  # a JSON list in a saved config
        return TrainConfig(**values)


# Starting values of svmac-train's options (argparse dest names). "paper" is TrainConfig's defaults.
# "cpu" gathers what we measured to buy accuracy per CPU-minute (reports/training_curves.md,
# reports/train_throughput.md): a narrower network without dropout, a faster decaying learning
# rate, a stronger critic and random elevation. "cpu-prior" is the second stage, started with
# --init-from a "cpu" run: the bone-ratio prior with a fresh, slower Adam. The prior pays only
# there; switched on from the first step it ended 12.6 mm worse (reports/training_curves.md, run F).
_CPU = dict(width=256, dropout=0.0, lr=2e-4, lr_final_ratio=0.1, train_frame_step=2, critic_steps=3, elevation_deg=15.0)
PRESETS: dict[str, dict] = {
    "paper": {},
    "cpu": _CPU,
    "cpu-prior": {**_CPU, "lr": 5.5e-5, "lr_final_ratio": 0.5, "lambda_bone_ratio": 3.0},
}


def autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The dtype the networks compute in under --amp; None: float32.

    Only bfloat16: it has float32's range, so the losses need no scaling, which float16 would
    need, and the gradient penalty's second backward with it. "auto" leaves CPUs in float32:
    bfloat16 was slower there (reports/train_throughput.md).
    """
    if amp == "bf16" or (amp == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return None


def is_validation_frame(poses: PoseSet, val_frame_step: int) -> np.ndarray:
    """(N,) bool: the poses of the validation subset, every val_frame_step-th frame of each sequence."""
    return poses.frame % val_frame_step == 0


def training_poses(root: Path, cfg: TrainConfig) -> PoseSet:
    """The training subjects' poses at train_frame_step, less the validation frames: the lifter
    never sees their 2D either."""
    poses = load_h36m(root, TRAIN_SUBJECTS, CAMERAS, cfg.train_frame_step, cfg.input_source)
    return poses.select(~is_validation_frame(poses, cfg.val_frame_step))


WILD_ROLES = {"inputs": ("inputs",), "critic": ("critic",), "both": ("inputs", "critic")}


class TrainingData:
    """Normalised training 2D poses held on the device; batches are drawn with replacement.

    With in-the-wild 2D, a fixed share (wild_fraction) of each batch of lifter inputs and/or of
    the critic's real samples comes from it instead of Human3.6M. The bone-ratio prior and the
    3D-labelled subset stay Human3.6M's.
    """

    def __init__(self, root: Path, cfg: TrainConfig, device: torch.device):
        poses = training_poses(root, cfg)
        self.pose_2d = normalise_2d(torch.from_numpy(poses.pose_2d).to(device))  # (N, 17, 2)
        self.wild = None  # (M, 17, 2) normalised, when asked for
        self.wild_roles = WILD_ROLES[cfg.wild_as]
        self.wild_fraction = cfg.wild_fraction
        if cfg.wild_2d and cfg.wild_fraction > 0:
            self.wild = normalise_2d(torch.from_numpy(load_wild_2d(root, cfg.wild_2d)).to(device))
        self.labelled = None
        if cfg.supervised_fraction > 0:
            # A fixed random subset of the training poses keeps its 3D label (unit scale).
            pose_3d = root_centre(torch.from_numpy(poses.pose_3d).double())
            pose_3d = (pose_3d / mean_root_distance(pose_3d)[:, None, None]).float()
            order = torch.randperm(len(poses), generator=torch.Generator().manual_seed(cfg.seed))
            keep = order[: max(1, round(cfg.supervised_fraction * len(poses)))]
            self.labelled = (self.pose_2d[keep.to(device)], pose_3d[keep].to(device))
        self.bone_ratios = None  # (16,), measured only when the prior is used
        if cfg.weights.bone_ratio:
            self.bone_ratios = losses.bone_ratio_prior(self.pose_2d.cpu()).to(device)
        self.device = device

    def __len__(self) -> int:
        return len(self.pose_2d)

    def sample(self, count: int, role: str = "inputs") -> torch.Tensor:
        """count poses (count, 17, 2) for role "inputs" (to lift) or "critic" (its real samples):
        Human3.6M's, the last round(wild_fraction * count) in-the-wild ones where the role takes them."""
        wild_count = round(self.wild_fraction * count) if self.wild is not None and role in self.wild_roles else 0
        h36m = self.pose_2d[torch.randint(len(self.pose_2d), (count - wild_count,), device=self.device)]
        if not wild_count:
            return h36m
        return torch.cat([h36m, self.wild[torch.randint(len(self.wild), (wild_count,), device=self.device)]])

    def sample_labelled(self, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        pose_2d, pose_3d = self.labelled
        index = torch.randint(len(pose_2d), (count,), device=self.device)
        return pose_2d[index], pose_3d[index]


def decayed_learning_rate(lr: float, final_ratio: float, step: int, steps: int) -> float:
    """The learning rate at step of an exponential decay from lr to lr * final_ratio at the last step."""
    return lr * final_ratio ** (step / steps)


class ValidationSet:
    """A fixed subset of the training subjects (S1, S5-S8: never S9/S11, which are evaluated once
    per shipped model): every val_frame_step-th frame, 4 cameras, held out of the training 2D.
    The lifter never trains on any 3D, so their 3D error is a fair criterion to choose by; their
    neighbouring frames are in the training 2D, so it measures fit to the training people and
    actions, not generalisation to new people. P-MPJPE in mm against camera-frame ground truth."""

    def __init__(self, root: Path, cfg: TrainConfig):
        poses = load_h36m(root, TRAIN_SUBJECTS, CAMERAS, cfg.val_frame_step, cfg.input_source)
        self.poses = poses.select(is_validation_frame(poses, cfg.val_frame_step))

    def p_mpjpe(self, generator: AnyGenerator) -> float:
        return float(p_mpjpe(*predict_in_mm(generator, self.poses)).mean())


def rotated_back(relifted: torch.Tensor, rotated: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """The relifted views at their rotated poses' scale (the reprojections were renormalised),
    rotated back to the input's view. relifted, rotated (V, B, 17, 3), rotation (V*B, 3, 3) with
    rotated = pose_3d @ rotation -> (V, B, 17, 3); the lifted pose itself when the cycle is exact."""
    back = rotation.view(*rotated.shape[:2], 3, 3).transpose(-1, -2)  # a rotation's inverse
    return scale_to_reference(relifted, rotated) @ back


class Views(NamedTuple):
    """A lifted batch and its rotated views (V = views per pose, rows view-major)."""

    pose_3d: torch.Tensor  # (B, 17, 3)
    camera: torch.Tensor  # (B, 2, 3)
    rotated: torch.Tensor  # (V*B, 17, 3) = pose_3d repeated @ rotation
    reprojected: torch.Tensor  # (V*B, 17, 2) normalised
    rotation: torch.Tensor  # (V*B, 3, 3)
    elevation: torch.Tensor | None  # (B,) the predicted elevation in radians (--rotation elepose)


class Trainer:
    def __init__(self, cfg: TrainConfig, device: torch.device):
        if cfg.rotation == "elepose" and cfg.model.part_split:
            raise SvmacError("rotation elepose needs the elevation head, which a part-split generator lacks")
        if cfg.rotation == "elepose" and not cfg.model.elevation_head:
            raise SvmacError("rotation elepose needs a generator with an elevation head (ModelConfig.elevation_head)")
        self.cfg = cfg
        self.device = device
        self.generator = build_generator(cfg.model).to(device)
        self.critic = Critic(cfg.model).to(device)
        # fused: one kernel per optimiser step instead of a chain of elementwise ops (3 % of a CPU step)
        adam = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay, fused=True)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), **adam)
        self.opt_d = torch.optim.Adam(self.critic.parameters(), **adam)
        self.amp_dtype = autocast_dtype(cfg.amp, device)
        self.flow = load_flow_prior(Path(cfg.flow_prior), device) if cfg.flow_prior else None
        self.step = 0
        # The EMA copy is what gets exported and validated beside the raw generator; use_buffers
        # averages the BatchNorm running statistics too, so the copy is consistent in eval mode.
        self.ema = None
        if cfg.ema_decay:
            self.ema = AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
            self.start_ema()

    def start_ema(self) -> None:
        """Restart the EMA at the generator's current weights (from scratch, or --init-from's)."""
        if self.ema is not None:
            self.ema.n_averaged.zero_()
            self.ema.update_parameters(self.generator)  # the first update copies

    def exported_generator(self) -> AnyGenerator:
        """The generator to validate as the run's result and to export: the EMA one when on."""
        return self.generator if self.ema is None else self.ema.module

    def autocast(self) -> torch.autocast:
        """Wraps each network call: under --amp their matrix products run in bfloat16; their
        outputs (cast back to float32 in lifter/model.py), the geometry and the losses stay float32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp_dtype is not None)

    def state_dict(self) -> dict:
        return {
            "config": asdict(self.cfg),
            "step": self.step,
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            **({"generator_ema": self.ema.state_dict()} if self.ema is not None else {}),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
        }

    def load_state_dict(self, state: dict) -> None:
        self.load_network_weights(state)
        try:
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            if self.ema is not None:
                self.ema.load_state_dict(state["generator_ema"])
        except (KeyError, RuntimeError, ValueError) as err:
            raise SvmacError(f"checkpoint does not match this model ({str(err).splitlines()[0]})") from None
        self.step = int(state["step"])
        torch.set_rng_state(state["rng_cpu"])
        if self.device.type == "cuda" and len(state["rng_cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state["rng_cuda"])

    def load_network_weights(self, state: dict, missing_ok: str | None = None) -> None:
        """Load the generator and critic; with missing_ok, the generator's weights under that
        prefix may be absent (they keep their initial values) or extra (ignored)."""
        try:
            generator = state["generator"]
            if missing_ok:
                own = {k: v for k, v in self.generator.state_dict().items() if k.startswith(missing_ok)}
                generator = {**{k: v for k, v in generator.items() if not k.startswith(missing_ok)}, **own}
            self.generator.load_state_dict(generator)
            self.critic.load_state_dict(state["critic"])
        except (KeyError, RuntimeError) as err:
            raise SvmacError(f"checkpoint does not match this model ({str(err).splitlines()[0]})") from None

    def learning_rate(self) -> float:
        return decayed_learning_rate(self.cfg.lr, self.cfg.lr_final_ratio, self.step, self.cfg.steps)

    def views(self) -> int:
        return max(self.cfg.n_angles - 1, 1)  # with n = 1 one rotated view still feeds the critic

    def lift_and_reproject(self, x: torch.Tensor) -> Views:
        """Lift x (B, 17, 2), rotate each pose to `views` random angles and reproject with its camera."""
        views, batch = self.views(), x.shape[0]
        levelling = predicted_elevation = None
        with self.autocast():
            if self.cfg.rotation == "elepose":
                pose_3d, camera, _, predicted_elevation = self.generator.forward_with_elevation(x)
                levelling = predicted_elevation.repeat(views)  # (V*B,)
            else:
                pose_3d, camera, _ = self.generator(x)
        azimuth = torch.rand(views * batch, device=self.device) * (2 * math.pi)
        if levelling is not None:
            # ElePose: new elevations from a normal fitted to the batch's predicted ones. Fitted to
            # detached values, the head learns only from the losses on the levelled reprojections.
            fitted = predicted_elevation.detach()
            elevation = fitted.mean() + fitted.std() * torch.randn_like(azimuth)
        elif self.cfg.elevation_deg:
            elevation = (torch.rand_like(azimuth) * 2 - 1) * math.radians(self.cfg.elevation_deg)
        else:
            elevation = torch.zeros_like(azimuth)
        rotation = view_rotation(azimuth, elevation, levelling)  # (V*B, 3, 3)
        # One rotation after the other, as before the rotation matrices were kept: the same
        # rounding, so runs without levelling repeat older runs exactly.
        rotated = pose_3d.repeat(views, 1, 1)
        if levelling is not None:
            rotated = rotated @ rotation_x(-levelling)
        rotated = rotate_azimuth_elevation(rotated, azimuth, elevation)  # = pose_3d @ rotation
        reprojected = normalise_2d(weak_project(camera.repeat(views, 1, 1), rotated))
        return Views(pose_3d, camera, rotated, reprojected, rotation, predicted_elevation)

    def critic_step(self, data: TrainingData, reprojected: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One critic update on fake reprojections (M, 17, 2) against as many independent real poses."""
        self.critic.requires_grad_(True)
        with self.autocast():
            critic_loss, wasserstein = losses.critic_wgan_gp_loss(
                self.critic, data.sample(len(reprojected), "critic"), reprojected, self.cfg.weights.gradient_penalty
            )
        self.opt_d.zero_grad(set_to_none=True)
        critic_loss.backward()
        distributed.average_gradients(self.critic)  # no-op in a single process
        self.opt_d.step()
        self.critic.requires_grad_(False)  # the generator step needs no critic gradients
        return critic_loss.detach(), wasserstein

    def train_step(self, data: TrainingData) -> dict[str, torch.Tensor]:
        """critic_steps critic updates and one generator update. Returns detached loss terms."""
        cfg, batch = self.cfg, self.cfg.batch_size
        for group in (*self.opt_g.param_groups, *self.opt_d.param_groups):
            group["lr"] = self.learning_rate()
        n, views = cfg.n_angles, self.views()
        if cfg.use_critic:
            for _ in range(cfg.critic_steps - 1):
                with torch.no_grad():
                    extra_fake = self.lift_and_reproject(data.sample(batch)).reprojected
                self.critic_step(data, extra_fake)
        x = data.sample(batch)  # (B, 17, 2)
        supervised_count = 0
        if data.labelled is not None:
            supervised_count = max(1, round(cfg.supervised_fraction * batch))
            x_labelled, y_labelled = data.sample_labelled(supervised_count)
            x = torch.cat([x_labelled, x[supervised_count:]])
        lifted = self.lift_and_reproject(x)
        pose_3d, camera, rotated, reprojected = lifted.pose_3d, lifted.camera, lifted.rotated, lifted.reprojected

        terms: dict[str, torch.Tensor] = {}
        if cfg.use_critic:
            terms["critic"], terms["wasserstein"] = self.critic_step(data, reprojected)
            with self.autocast():
                fake_scores = self.critic(reprojected)  # (V*B,)
            terms["adversarial"] = losses.generator_adversarial_loss(fake_scores)
        else:
            terms["adversarial"] = pose_3d.new_zeros(())
        if self.flow is not None:  # the same reprojections the critic judges; float32 inside
            terms["flow"] = flow_prior_loss(self.flow, reprojected)

        rotated = rotated.view(views, batch, 17, 3)
        if n >= 2:
            with self.autocast():
                relifted, relifted_camera, _ = self.generator(reprojected)
            relifted = relifted.view(views, batch, 17, 3)
            cameras = torch.cat([camera[None], relifted_camera.view(views, batch, 2, 3)])  # (n, B, 2, 3)
            # Eq. 13-14: every angle's pose seen through every angle's camera; angle i >= 1 also
            # has its reprojection x_proj (for angle 0 that is K X_pred, already in the set).
            angle_views = [torch.stack([weak_project(k, pose_3d) for k in cameras])]
            for i in range(views):
                through_cameras = [weak_project(k, relifted[i]) for k in cameras]
                angle_views.append(torch.stack([reprojected.view(views, batch, 17, 2)[i], *through_cameras]))
            terms["consistency_3d"] = losses.consistency_3d_loss(relifted, rotated)
            terms["camera_equality"] = losses.camera_equality_loss(cameras)
            terms["svmac"] = losses.svmac_loss(angle_views)
            terms["angle"] = losses.angle_loss(torch.cat([pose_3d[None], relifted]))
            if cfg.weights.deformation:
                terms["deformation"] = losses.deformation_loss(
                    pose_3d, rotated_back(relifted, rotated, lifted.rotation)
                )
        else:
            cameras = camera[None]
            zero = pose_3d.new_zeros(())
            terms.update(consistency_3d=zero, camera_equality=zero, svmac=zero)
            terms["angle"] = losses.angle_loss(pose_3d)
        terms["weak_camera"] = losses.weak_camera_loss(cameras)
        terms["symmetry"] = losses.symmetry_loss(pose_3d)
        if cfg.weights.bone_ratio:
            terms["bone_ratio"] = losses.bone_ratio_loss(pose_3d, data.bone_ratios)
        if lifted.elevation is not None:  # logged only: the head learns through the terms above
            terms["elevation_mean_deg"] = lifted.elevation.detach().mean().rad2deg()
            terms["elevation_std_deg"] = lifted.elevation.detach().std().rad2deg()
        if supervised_count:
            terms["supervised_3d"] = losses.supervised_3d_loss(pose_3d[:supervised_count], y_labelled)
        generator_loss = losses.generator_total_loss(terms, cfg.weights)
        self.opt_g.zero_grad(set_to_none=True)
        generator_loss.backward()
        distributed.average_gradients(self.generator)
        self.opt_g.step()
        distributed.average_batch_norm_statistics(self.generator)
        if self.ema is not None:
            self.ema.update_parameters(self.generator)
        terms["generator"] = generator_loss
        self.step += 1
        return {name: value.detach() for name, value in terms.items()}


class StopRequest:
    """SIGTERM / SIGINT end the run after the current step, with a checkpoint."""

    def __init__(self):
        self.requested = False
        self.previous = {sig: signal.signal(sig, self.handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handle(self, signum, frame) -> None:
        self.requested = True

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def write_outputs(trainer: Trainer, out: Path, data_description: str) -> None:
    save_training_state(out / CHECKPOINT_NAME, trainer.state_dict())
    metadata = {"trained_steps": str(trainer.step), "train_config": json.dumps(asdict(trainer.cfg)),
                "data": data_description}  # fmt: skip
    export_weights(out / WEIGHTS_NAME, trainer.exported_generator(), metadata)


def train(cfg: TrainConfig, out: Path, data_path: str | None, device: torch.device, resume: bool,
          resume_steps: int | None = None, world: distributed.World = distributed.World()) -> Trainer:  # fmt: skip
    """Train from scratch with cfg, or resume the run in out with its saved config; a resumed run
    may only change its length (resume_steps). Under torchrun every process runs this with its
    world (distributed.init); only the main process writes to out."""
    root = data_root(data_path)
    checkpoint = out / CHECKPOINT_NAME
    state = None
    if resume:  # every process reads the same checkpoint: out must be visible to all of them
        state = load_training_state(checkpoint)
        try:
            cfg = TrainConfig.from_dict(state["config"])
        except (KeyError, TypeError) as err:
            raise SvmacError(f"{checkpoint} holds no usable training config ({err})") from None
        if resume_steps is not None:
            cfg = dataclasses.replace(cfg, steps=resume_steps)
    elif checkpoint.exists():
        raise SvmacError(f"{checkpoint} exists: pass --resume to continue it, or choose another --out")
    if cfg.flow_prior and not Path(cfg.flow_prior).is_file():
        whose = f"{checkpoint}'s" if resume else "the"
        raise SvmacError(f"flow prior {cfg.flow_prior} ({whose} --flow-prior) not found")
    init_state = None
    if state is None and cfg.init_from:
        # A warm start: the networks' weights (and so their architecture) come from another run;
        # the optimisers, step count and schedule start afresh with this run's settings.
        init_state = load_training_state(Path(cfg.init_from))
        try:
            init_model = ModelConfig(**init_state["config"]["model"])
        except (KeyError, TypeError) as err:
            raise SvmacError(f"{cfg.init_from} holds no usable model config ({err})") from None
        # The elevation head is this run's choice: one the source lacks starts fresh (at 0).
        init_model = dataclasses.replace(init_model, dropout=cfg.model.dropout, elevation_head=cfg.model.elevation_head)
        cfg = dataclasses.replace(cfg, model=init_model)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(cfg.seed)
    data = TrainingData(root, cfg, device)
    validation = ValidationSet(root, cfg) if world.main else None
    trainer = Trainer(cfg, device)
    if state is not None:
        trainer.load_state_dict(state)
    elif init_state is not None:
        trainer.load_network_weights(init_state, missing_ok=ELEVATION_HEAD)
    distributed.broadcast_from_main(trainer.generator, trainer.critic)
    if state is None:
        trainer.start_ema()  # from the weights the run starts with, the same in every process
    if not world.main:
        # The checkpoint holds rank 0's random state only: the other processes draw their own
        # batches from a stream of (seed, rank, step), so a resumed multi-process run (any number
        # of processes) continues from the same weights but is not bit-identical to an
        # uninterrupted one. A single-process resume is.
        torch.manual_seed(distributed.rank_seed(cfg.seed, world.rank, trainer.step))
    data_description = f"Human3.6M {'+'.join(TRAIN_SUBJECTS)}, {cfg.input_source} 2D, {len(data)} poses"
    if data.wild is not None:
        data_description += (f"; in-the-wild 2D {'+'.join(cfg.wild_2d)}, {len(data.wild)} poses, "
                             f"{cfg.wild_fraction:g} of each batch of {' and '.join(data.wild_roles)}")  # fmt: skip
    if cfg.flow_prior:
        data_description += f"; 2D flow prior {cfg.flow_prior} (sha256 {file_sha256(Path(cfg.flow_prior))[:16]})"
    if world.size > 1:
        data_description += f", {world.size} processes x batch {cfg.batch_size}"
    if world.main:
        out.mkdir(parents=True, exist_ok=True)
        print(
            f"svmac-train: {device}{f' x {world.size} processes' if world.size > 1 else ''}"
            f"{', bfloat16 autocast' if trainer.amp_dtype else ''}, "
            f"generator {count_parameters(trainer.generator) / 1e6:.2f} M, "
            f"critic {count_parameters(trainer.critic) / 1e6:.2f} M parameters, {len(data)} training poses, "
            f"step {trainer.step} of {cfg.steps}",
            file=sys.stderr,
        )
    stop = StopRequest()
    stopping = False
    sums: dict[str, torch.Tensor] = {}
    # Process CPU time beside wall clock: runs that share a machine compare fairly on it.
    started, cpu_started, steps_at_start = time.time(), time.process_time(), trainer.step
    progress = tqdm(total=cfg.steps, initial=trainer.step, dynamic_ncols=True, file=sys.stderr, disable=not world.main)
    try:
        with open(out / LOG_NAME if world.main else os.devnull, "a") as log:
            # A signal may reach only some processes: all of them stop after the same step.
            while trainer.step < cfg.steps and not (stopping := distributed.any_rank(stop.requested, device)):
                terms = trainer.train_step(data)
                for name, value in terms.items():
                    sums[name] = sums.get(name, 0.0) + value
                progress.update(1)
                step = trainer.step
                record: dict = {}
                if step % cfg.log_every == 0 or step == cfg.steps:
                    count = (step - 1) % cfg.log_every + 1
                    distributed.average(list(sums.values()))  # the log shows the mean over processes
                    record = {name: round(float(total) / count, 6) for name, total in sums.items()}
                    sums = {}
                if world.main and (step % cfg.val_every == 0 or step == cfg.steps):
                    record[VAL_KEY] = round(validation.p_mpjpe(trainer.generator), 2)
                    if trainer.ema is not None:
                        record[VAL_EMA_KEY] = round(validation.p_mpjpe(trainer.ema.module), 2)
                    progress.set_postfix(val_p_mpjpe=record[VAL_KEY])
                if record:
                    elapsed = time.time() - started
                    record = {"step": step, "elapsed_s": round(elapsed, 1),
                              "cpu_s": round(time.process_time() - cpu_started, 1),
                              "steps_per_s": round((step - steps_at_start) / max(elapsed, 1e-9), 2), **record}  # fmt: skip
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                if world.main and step % cfg.checkpoint_every == 0:
                    write_outputs(trainer, out, data_description)
    finally:
        progress.close()
        stop.restore()
        if world.main:
            write_outputs(trainer, out, data_description)
    if stopping and world.main:
        print(f"stopped at step {trainer.step}; continue with --resume", file=sys.stderr)
    return trainer


def read_train_log(path: Path) -> list[dict]:
    """A run's train_log.jsonl records, with elapsed_s (and cpu_s, in logs that have it) made
    cumulative across resumes."""
    records, offset, last, cpu_offset, cpu_last = [], 0.0, 0.0, 0.0, 0.0
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["elapsed_s"] < last:  # a resumed process restarted its clocks
            offset += last
            cpu_offset += cpu_last
        last, cpu_last = record["elapsed_s"], record.get("cpu_s", 0.0)
        record["elapsed_s"] = offset + record["elapsed_s"]
        if "cpu_s" in record:
            record["cpu_s"] = cpu_offset + record["cpu_s"]
        records.append(record)
    return records


def chain_train_logs(logs: list[tuple[Path, int | None]]) -> list[list[dict]]:
    """The logs of runs that each started from the one before (--init-from; oldest first), each cut after
    its step when one is given (the checkpoint the next run started from), with elapsed_s and cpu_s counted
    from the first run's start: a run's clocks include the compute behind it. -> records per log"""
    chained, offsets = [], {"elapsed_s": 0.0, "cpu_s": 0.0}
    for path, last_step in logs:
        records = [r for r in read_train_log(path) if last_step is None or r["step"] <= last_step]
        chained.append([{**r, **{clock: r[clock] + offsets[clock] for clock in offsets if clock in r}} for r in records])
        for clock in offsets:
            offsets[clock] += records[-1].get(clock, 0.0) if records else 0.0
    return chained


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    w = d.weights
    p = argparse.ArgumentParser(prog="svmac-train", description=__doc__.splitlines()[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="paper",
                   help="starting values for the options below; options given explicitly win")  # fmt: skip
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--out", default="runs/svmac", type=Path, help="run folder: checkpoint, weights, log")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--amp", default=d.amp, choices=["auto", "bf16", "off"],
                   help="networks in bfloat16 autocast; auto: on a CUDA device that supports it")  # fmt: skip
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--steps", type=int, help=f"total generator steps (default {d.steps}; on --resume: as saved)")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="per process: under torchrun the global batch is nproc x batch size")  # fmt: skip
    p.add_argument("--width", type=int, default=d.model.width, help="hidden width of both networks")
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--lr-final-ratio", type=float, default=d.lr_final_ratio,
                   help="decay the learning rate exponentially to lr*ratio at the last step (1: constant)")  # fmt: skip
    p.add_argument("--n-angles", type=int, default=d.n_angles, choices=[1, 2, 3])
    p.add_argument("--no-critic", action="store_true",
                   help="train without the critic (no critic steps): an ablation, or the flow prior alone")  # fmt: skip
    p.add_argument("--flow-prior", default=d.flow_prior, metavar="FLOW",
                   help="a 2D pose flow (python -m lifter.flow_prior): its NLL of the rotated reprojections joins "
                        "the generator loss, weighted by --lambda-flow; with --no-critic it replaces the critic")  # fmt: skip
    p.add_argument("--critic-steps", type=int, default=d.critic_steps, help="critic updates per generator update")
    p.add_argument("--elevation", dest="elevation_deg", type=float, default=d.elevation_deg,
                   help="rotated views also tilt about x by up to +-this many degrees (0: the paper); "
                        "--rotation camera only")  # fmt: skip
    p.add_argument("--rotation", default=d.rotation, choices=ROTATIONS,
                   help="camera: random azimuth about the camera's vertical axis (+ --elevation); elepose: a learned "
                        "elevation levels each pose, random azimuth about its upright axis, new elevations drawn "
                        "from a normal fitted to the batch's predicted ones (ElePose)")  # fmt: skip
    p.add_argument("--dropout", type=float, default=d.model.dropout, help="generator dropout (training only)")
    p.add_argument("--part-split", action="store_true",
                   help="lift the legs and the upper body with two networks, each seeing only its part's 2D "
                        "(then python -m lifter.distill makes one network of them)")  # fmt: skip
    p.add_argument("--init-from", default=d.init_from, metavar="CHECKPOINT",
                   help="start from another run's network weights (and architecture); fresh optimisers")  # fmt: skip
    p.add_argument("--supervised-fraction", type=float, default=d.supervised_fraction,
                   help="ablation: share of the training poses, and of each batch, with 3D labels (the paper's 5%% is 0.05)")  # fmt: skip
    p.add_argument("--input", dest="input_source", default=d.input_source, choices=["gt", "sh"])
    p.add_argument("--train-frame-step", type=int, default=d.train_frame_step)
    p.add_argument("--wild-2d", default=",".join(d.wild_2d), metavar="SOURCES",
                   help=f"in-the-wild 2D to mix in, comma-separated: {', '.join(WILD_SOURCES)}")  # fmt: skip
    p.add_argument("--wild-fraction", type=float, default=d.wild_fraction,
                   help="share of each batch drawn from --wild-2d (needs --wild-2d)")  # fmt: skip
    p.add_argument("--wild-as", default=d.wild_as, choices=sorted(WILD_ROLES),
                   help="in-the-wild poses as lifter inputs, as the critic's real samples, or both")  # fmt: skip
    p.add_argument("--val-frame-step", type=int, default=d.val_frame_step,
                   help="validation subset: training subjects, 4 cameras, every k-th frame (held out)")  # fmt: skip
    p.add_argument("--val-every", type=int, default=d.val_every)
    p.add_argument("--log-every", type=int, default=d.log_every)
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    p.add_argument("--ema-decay", type=float, default=d.ema_decay,
                   help="keep an exponential moving average of the generator with this decay per step "
                        "(e.g. 0.999), validated beside it and exported instead of it; 0: off")  # fmt: skip
    for name in LAMBDAS:
        p.add_argument(
            f"--lambda-{name.replace('_', '-')}", type=float, default=getattr(w, name), help=LAMBDA_HELP.get(name)
        )
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    preset = parser.parse_known_args(argv)[0].preset
    parser.set_defaults(**PRESETS[preset])
    return parser.parse_args(argv)


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in (
        "batch_size",
        "critic_steps",
        "width",
        "val_every",
        "log_every",
        "checkpoint_every",
        "train_frame_step",
        "val_frame_step",
    ):
        if getattr(args, name) < 1:
            raise SvmacError(f"--{name.replace('_', '-')} must be at least 1")
    if args.steps is not None and args.steps < 1:
        raise SvmacError("--steps must be at least 1")
    if not 0 < args.lr_final_ratio <= 1:
        raise SvmacError("--lr-final-ratio must be in (0, 1]")
    if not 0 <= args.dropout < 1:
        raise SvmacError("--dropout must be in [0, 1)")
    if not 0 <= args.elevation_deg <= 90:
        raise SvmacError("--elevation must be between 0 and 90 degrees")
    if args.lambda_flow < 0:
        raise SvmacError("--lambda-flow must be at least 0")
    if args.lambda_flow != TrainConfig().weights.flow and not args.flow_prior:
        raise SvmacError("--lambda-flow weighs the --flow-prior's loss: give --flow-prior too")
    if args.lambda_deformation < 0:
        raise SvmacError("--lambda-deformation must be at least 0 (0: off)")
    if args.lambda_deformation and args.n_angles < 2:
        raise SvmacError("--lambda-deformation needs the relifted views of --n-angles 2 or 3")
    if args.rotation == "elepose":
        # A preset's elevation (cpu: 15) gives way; another one asked for on the command line is an error.
        if args.elevation_deg not in (0, PRESETS[args.preset].get("elevation_deg", TrainConfig.elevation_deg)):
            raise SvmacError(
                "--elevation applies to --rotation camera; elepose draws elevations from its predicted ones"
            )
        args.elevation_deg = 0.0
    if not 0 <= args.supervised_fraction <= 1:
        raise SvmacError("--supervised-fraction must be between 0 and 1")
    wild_2d = parse_sources(args.wild_2d)
    if not 0 <= args.wild_fraction < 1:
        raise SvmacError("--wild-fraction must be in [0, 1)")
    if not 0 <= args.ema_decay < 1:
        raise SvmacError("--ema-decay must be in [0, 1) (0: off)")
    if bool(wild_2d) != (args.wild_fraction > 0):
        raise SvmacError("--wild-2d and --wild-fraction go together: give both or neither")
    cfg = TrainConfig(
        steps=args.steps or TrainConfig.steps, batch_size=args.batch_size, lr=args.lr, lr_final_ratio=args.lr_final_ratio,
        n_angles=args.n_angles, critic_steps=args.critic_steps, elevation_deg=args.elevation_deg,
        init_from=args.init_from,
        use_critic=not args.no_critic, supervised_fraction=args.supervised_fraction,
        input_source=args.input_source, train_frame_step=args.train_frame_step,
        wild_2d=wild_2d, wild_fraction=args.wild_fraction, wild_as=args.wild_as,
        val_frame_step=args.val_frame_step, val_every=args.val_every,
        log_every=args.log_every, checkpoint_every=args.checkpoint_every, seed=args.seed, amp=args.amp,
        ema_decay=args.ema_decay,
        rotation=args.rotation, flow_prior=args.flow_prior,
        model=ModelConfig(width=args.width, dropout=args.dropout, elevation_head=args.rotation == "elepose",
                          part_split=args.part_split),  # fmt: skip
        weights=losses.LossWeights(**{name: getattr(args, f"lambda_{name}") for name in LAMBDAS}),
    )  # fmt: skip
    world, device = distributed.init(pick_device(args.device))  # torchrun's process group, if any
    try:
        train(cfg, args.out, args.data, device, args.resume, args.steps, world)
    finally:
        distributed.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
