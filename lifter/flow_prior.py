"""A normalising-flow density on normalised 2D poses: a prior for the lifter's reprojections.

The flow (zuko, a masked autoregressive flow with affine or rational-quadratic spline steps) is
trained once on real 2D poses and then frozen; the generator's loss adds the negative
log-likelihood of its rotated reprojections (flow_prior_loss), as ElePose does, beside or
instead of the WGAN critic.

Its variable is a pose from lifter.geometry.normalise_2d (B, 17, 2) less the root joint, whose
coordinates are always zero: 32 numbers per pose. log_prob is the density of those 32 numbers
in normalise_2d's units (mean joint-to-root distance 1/c = 0.1). Inside, a fixed per-coordinate
standardisation (the training data's mean and std, buffers) feeds zuko's flow, which expects
features of unit scale; its log-Jacobian is part of log_prob.

Dequantisation noise (FlowTrainConfig.noise_std, 0.003 = 3 % of the mean joint-to-root
distance): Human3.6M's 2D poses fill some directions of the 32 hardly at all (the root is the
hips' midpoint to within 1e-4, stds of the poses' least varying directions 9e-5 and 4e-4 against
0.03-0.06 per coordinate), and the in-the-wild joints derived from others fill some exactly not
at all. Fitted without noise, the flow's held-out NLL is the lowest, but its density is a knife
edge around them: the same held-out poses moved by noise of 0.003 score +1600 nats per
coordinate instead of -3.6, and the gradient on the real poses themselves is 60x that of the
flow fitted with noise (reports/flow_prior.md), a loss no generator could follow. The noise
floors every direction's spread at about 0.003, for 0.25 nats per coordinate of held-out NLL.

Training (`python -m lifter.flow_prior`): the training subjects' GT 2D (lifter.train
training_poses: S1, S5-S8, 4 cameras, validation frames left out), optionally in-the-wild 2D.
A held-out part of those poses (the last tenth of each sequence, one contiguous stretch:
neighbouring frames at 50 fps are near copies, so scattered held-out frames would measure memory,
not fit; every tenth wild pose) scores each evaluation, and the evaluation with the lowest held-out
NLL is the one written.
"""

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import zuko
from safetensors.torch import save_file
from torch import nn

from lifter.checkpoint import (
    atomic_write,
    atomic_write_text,
    check_writable,
    load_safetensors_into,
    read_format_metadata,
)
from lifter.data import PoseSet, data_root
from lifter.errors import SvmacError, exit_on_user_error
from lifter.geometry import mirror_pose, normalise_2d, root_centre
from lifter.skeleton import NUM_JOINTS, ROOT
from lifter.wild_2d import load_wild_2d, parse_sources

FLOW_FORMAT = "svmac-pose-flow-1"
FEATURES = 2 * (NUM_JOINTS - 1)  # the 16 non-root joints' x, y
FLOW_KINDS = ("maf", "nsf")
HELDOUT_SHARE = 0.1  # of each Human3.6M sequence (its last frames) and of the wild poses


@dataclass(frozen=True)
class FlowPriorConfig:
    """The flow's architecture (saved with its weights)."""

    kind: str = "maf"  # "maf": affine autoregressive steps; "nsf": rational-quadratic spline steps (20x slower)
    transforms: int = 3
    hidden_features: tuple[int, ...] = (128, 128)  # of each step's masked MLP
    bins: int = 8  # spline bins (nsf only)

    def __post_init__(self) -> None:
        if self.kind not in FLOW_KINDS:
            raise SvmacError(f"unknown flow kind {self.kind!r}; use one of {', '.join(FLOW_KINDS)}")

    @staticmethod
    def from_dict(values: dict) -> "FlowPriorConfig":
        return FlowPriorConfig(**{**values, "hidden_features": tuple(values["hidden_features"])})


@dataclass(frozen=True)
class FlowTrainConfig:
    """How a flow is fitted (recorded in the file's metadata)."""

    steps: int = 5000
    batch_size: int = 1024
    lr: float = 1e-3
    lr_final_ratio: float = 0.05  # cosine decay to lr * ratio at the last step
    noise_std: float = 0.003  # Gaussian dequantisation noise added to each training batch (normalised units)
    mirror: bool = False  # add every training pose's left-right mirror image
    wild_fraction: float = 0.3  # share of each batch from the in-the-wild poses, when given
    eval_every: int = 500
    seed: int = 0


def pose_features(pose_2d: torch.Tensor) -> torch.Tensor:
    """The flow's variable: root-centred (a pose whose root is not at 0 is shifted there, which
    normalise_2d's output already is), root dropped, flattened. (..., 17, 2) -> (..., 32)

    No rescaling: the density is over normalise_2d's scale, the caller normalises.
    """
    centred = root_centre(pose_2d)
    keep = [joint for joint in range(NUM_JOINTS) if joint != ROOT]
    return centred[..., keep, :].flatten(-2)


class PoseFlow(nn.Module):
    """Density of normalised 2D poses: a fixed standardisation, then a zuko flow to N(0, I)."""

    def __init__(self, cfg: FlowPriorConfig, mean: torch.Tensor | None = None, std: torch.Tensor | None = None):
        super().__init__()
        self.cfg = cfg
        # the training features' mean and std (32,); a loaded file overwrites them
        self.register_buffer("mean", torch.zeros(FEATURES) if mean is None else mean.float().clone())
        self.register_buffer("std", torch.ones(FEATURES) if std is None else std.float().clone())
        common = dict(features=FEATURES, transforms=cfg.transforms, hidden_features=cfg.hidden_features)
        if cfg.kind == "maf":
            self.flow = zuko.flows.MAF(**common)
        else:
            self.flow = zuko.flows.NSF(**common, bins=cfg.bins)

    def log_prob_features(self, features: torch.Tensor) -> torch.Tensor:
        """log density of pose_features. (B, 32) -> (B,)"""
        standard = (features - self.mean) / self.std
        return self.flow().log_prob(standard) - self.std.log().sum()

    def log_prob(self, pose_2d: torch.Tensor) -> torch.Tensor:
        """log density of normalised 2D poses, differentiable w.r.t. them. (B, 17, 2) -> (B,) float32

        Always in float32, also under autocast: the density is sharp (held-out NLL about -3.4 nats
        per coordinate), and bfloat16's 8-bit mantissa would round away the differences it scores.
        """
        with torch.autocast(pose_2d.device.type, enabled=False):
            return self.log_prob_features(pose_features(pose_2d.float()))


def flow_prior_loss(flow: PoseFlow, pose_2d: torch.Tensor) -> torch.Tensor:
    """The mean negative log-likelihood per coordinate of normalised 2D poses (B, 17, 2) -> ().

    The generator's loss term; gradients reach pose_2d, and the flow's own parameters only if
    they were left trainable (load_flow_prior freezes them).
    """
    return -flow.log_prob(pose_2d).mean() / FEATURES


def frozen(flow: PoseFlow) -> PoseFlow:
    flow.eval()
    flow.requires_grad_(False)
    return flow


def save_flow_prior(path: Path, flow: PoseFlow, metadata: dict[str, str]) -> None:
    """Write the flow's tensors (fp32) with its config in the safetensors metadata, atomically."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in flow.state_dict().items()}
    meta = {"format": FLOW_FORMAT, "flow_config": json.dumps(asdict(flow.cfg)), **metadata}
    atomic_write(Path(path), lambda tmp: save_file(tensors, tmp, metadata=meta))


def load_flow_prior(path: Path, device: str | torch.device = "cpu") -> PoseFlow:
    """The flow a file describes, frozen (eval mode, no parameter gradients)."""
    path = Path(path)
    metadata = read_format_metadata(path, FLOW_FORMAT, "flow prior file", "pose-flow")
    try:
        cfg = FlowPriorConfig.from_dict(json.loads(metadata["flow_config"]))
    except (KeyError, TypeError, ValueError, SvmacError) as err:
        raise SvmacError(f"{path} has an unusable flow_config ({type(err).__name__}: {err})") from None
    flow = PoseFlow(cfg)
    load_safetensors_into(path, flow, "its flow_config")
    return frozen(flow.to(device))


# ---- training ---------------------------------------------------------------------------------


def heldout_h36m(poses: PoseSet) -> np.ndarray:
    """(N,) bool: the held-out poses, the last HELDOUT_SHARE of each sequence's frames (all cameras)."""
    sequence_ids, sequence_of = np.unique(np.char.add(poses.subject.astype(str), poses.sequence.astype(str)),
                                          return_inverse=True)  # fmt: skip
    last_frame = np.zeros(len(sequence_ids), dtype=np.int64)
    np.maximum.at(last_frame, sequence_of, poses.frame)
    return poses.frame >= (1 - HELDOUT_SHARE) * (last_frame[sequence_of] + 1)


def heldout_every(count: int) -> np.ndarray:
    """(count,) bool: every 1/HELDOUT_SHARE-th pose, for independent poses such as photos."""
    return np.arange(count) % round(1 / HELDOUT_SHARE) == 0


def features_of(pose_2d_px: np.ndarray, mirror: bool) -> torch.Tensor:
    """Pixel 2D poses (N, 17, 2) -> flow features (N or 2N, 32), with their mirror images if asked."""
    pose = normalise_2d(torch.from_numpy(pose_2d_px).double())
    if mirror:
        pose = torch.cat([pose, mirror_pose(pose)])
    return pose_features(pose).float()


@dataclass
class FlowData:
    train: torch.Tensor  # (N, 32) Human3.6M training features
    heldout: torch.Tensor  # (H, 32)
    wild_train: torch.Tensor | None = None  # (M, 32)
    wild_heldout: torch.Tensor | None = None


def load_flow_data(root: Path, wild_sources: tuple[str, ...], mirror: bool, frame_step: int = 1) -> FlowData:
    # imported here: lifter.train imports this module for its flow_prior loss
    from lifter.train import TrainConfig, training_poses

    poses = training_poses(root, TrainConfig(train_frame_step=frame_step, input_source="gt"))
    held = heldout_h36m(poses)
    data = FlowData(features_of(poses.pose_2d[~held], mirror), features_of(poses.pose_2d[held], False))
    if wild_sources:
        wild = load_wild_2d(root, wild_sources)
        held = heldout_every(len(wild))
        data.wild_train = features_of(wild[~held], mirror)
        data.wild_heldout = features_of(wild[held], False)
    return data


def nll_per_coordinate(flow: PoseFlow, features: torch.Tensor, chunk: int = 8192) -> float:
    with torch.no_grad():
        total = sum(-flow.log_prob_features(part).sum().item() for part in features.split(chunk))
    return total / (len(features) * FEATURES)


def draw_batch(data: FlowData, cfg: FlowTrainConfig, rng: torch.Generator) -> torch.Tensor:
    """A training batch (batch_size, 32): a wild_fraction share from the wild poses if any, plus noise."""
    wild_count = round(cfg.batch_size * cfg.wild_fraction) if data.wild_train is not None else 0
    parts = [data.train[torch.randint(len(data.train), (cfg.batch_size - wild_count,), generator=rng)]]
    if wild_count:
        parts.append(data.wild_train[torch.randint(len(data.wild_train), (wild_count,), generator=rng)])
    batch = torch.cat(parts)
    if cfg.noise_std > 0:
        batch = batch + cfg.noise_std * torch.randn(batch.shape, generator=rng)
    return batch


def heldout_scores(flow: PoseFlow, data: FlowData) -> dict[str, float]:
    scores = {"heldout_h36m_nll": nll_per_coordinate(flow, data.heldout)}
    if data.wild_heldout is not None:
        scores["heldout_wild_nll"] = nll_per_coordinate(flow, data.wild_heldout)
    return scores


def selection_score(scores: dict[str, float], cfg: FlowTrainConfig) -> float:
    """The held-out NLL the best evaluation is chosen on: per source, weighted as in the batches."""
    if "heldout_wild_nll" not in scores:
        return scores["heldout_h36m_nll"]
    return (1 - cfg.wild_fraction) * scores["heldout_h36m_nll"] + cfg.wild_fraction * scores["heldout_wild_nll"]


def fit_flow(flow_cfg: FlowPriorConfig, data: FlowData, cfg: FlowTrainConfig, log=print) -> tuple[PoseFlow, list[dict]]:
    """Maximum likelihood with Adam; returns the (frozen) flow at its best held-out evaluation and
    the log records."""
    torch.manual_seed(cfg.seed)
    rng = torch.Generator().manual_seed(cfg.seed)
    everything = data.train if data.wild_train is None else torch.cat([data.train, data.wild_train])
    flow = PoseFlow(flow_cfg, everything.mean(0), everything.std(0))
    optimiser = torch.optim.Adam(flow.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, cfg.steps, eta_min=cfg.lr * cfg.lr_final_ratio)
    records, best, best_state, start, running = [], math.inf, None, time.monotonic(), []
    for step in range(1, cfg.steps + 1):
        loss = -flow.log_prob_features(draw_batch(data, cfg, rng)).mean() / FEATURES
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        running.append(loss.item())
        if step % cfg.eval_every == 0 or step == cfg.steps:
            flow.eval()
            scores = heldout_scores(flow, data)
            flow.train()
            score = selection_score(scores, cfg)
            record = {"step": step, "train_nll": float(np.mean(running)), **scores, "seconds": time.monotonic() - start}
            records.append(record)
            log(json.dumps(record))
            running = []
            if score < best:
                best, best_state = score, {k: v.clone() for k, v in flow.state_dict().items()}
    flow.load_state_dict(best_state)
    return frozen(flow), records


# ---- command line ------------------------------------------------------------------------------


def log_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".safetensors") + ".log.jsonl")


def build_parser() -> argparse.ArgumentParser:
    flow_defaults, train_defaults = FlowPriorConfig(), FlowTrainConfig()
    p = argparse.ArgumentParser(prog="python -m lifter.flow_prior",
                                description="Train the normalising-flow prior on the training subjects' 2D poses.")  # fmt: skip
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--out", type=Path, required=True, help="the flow's .safetensors; its log goes to NAME.log.jsonl")
    p.add_argument("--wild-2d", default="", help="in-the-wild 2D sources to add, e.g. mpii,lspet")
    p.add_argument("--steps", type=int, default=train_defaults.steps)
    p.add_argument("--seed", type=int, default=train_defaults.seed)
    p.add_argument("--kind", choices=FLOW_KINDS, default=flow_defaults.kind)
    p.add_argument("--transforms", type=int, default=flow_defaults.transforms)
    p.add_argument("--hidden", type=int, nargs="+", default=list(flow_defaults.hidden_features))
    p.add_argument("--batch-size", type=int, default=train_defaults.batch_size)
    p.add_argument("--lr", type=float, default=train_defaults.lr)
    p.add_argument("--noise-std", type=float, default=train_defaults.noise_std)
    p.add_argument("--mirror", action="store_true", help="add the training poses' left-right mirror images")
    p.add_argument("--wild-fraction", type=float, default=train_defaults.wild_fraction)
    p.add_argument("--eval-every", type=int, default=train_defaults.eval_every)
    p.add_argument("--frame-step", type=int, default=1, help="use every Nth Human3.6M frame")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--overwrite", action="store_true")
    return p


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("steps", "batch_size", "eval_every", "frame_step", "threads", "transforms"):
        if getattr(args, name) < 1:
            raise SvmacError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.wild_fraction < 1 or args.noise_std < 0:
        raise SvmacError("--wild-fraction must be in [0, 1) and --noise-std at least 0")
    check_writable(args.out, args.overwrite)
    check_writable(log_path(args.out), args.overwrite)
    root = data_root(args.data)
    sources = parse_sources(args.wild_2d)
    torch.set_num_threads(args.threads)
    flow_cfg = FlowPriorConfig(kind=args.kind, transforms=args.transforms, hidden_features=tuple(args.hidden))
    cfg = FlowTrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, noise_std=args.noise_std,
                          mirror=args.mirror, eval_every=args.eval_every, seed=args.seed,
                          wild_fraction=args.wild_fraction if sources else 0.0)  # fmt: skip
    data = load_flow_data(root, sources, cfg.mirror, args.frame_step)
    print(f"training poses: {len(data.train)} Human3.6M" + (f" + {len(data.wild_train)} wild" if sources else "")
          + f" (mirror images included: {cfg.mirror}); held out: {len(data.heldout)}"
          + (f" + {len(data.wild_heldout)} wild" if sources else ""), flush=True)  # fmt: skip
    flow, records = fit_flow(flow_cfg, data, cfg, log=lambda line: print(line, flush=True))
    best = min(records, key=lambda r: selection_score(r, cfg))
    facts = {
        "training": json.dumps({**asdict(cfg), "wild_2d": list(sources), "frame_step": args.frame_step,
                                "h36m_training_poses": len(data.train), "h36m_heldout_poses": len(data.heldout),
                                "wild_training_poses": 0 if data.wild_train is None else len(data.wild_train),
                                "subjects": "S1,S5,S6,S7,S8 GT 2D, 4 cameras, validation frames left out",
                                "heldout": f"the last {HELDOUT_SHARE:.0%} of each sequence's frames; every {round(1 / HELDOUT_SHARE)}th wild pose"}),
        "best": json.dumps(best),
        "command": shlex.join(["python", "-m", "lifter.flow_prior", *(sys.argv[1:] if argv is None else argv)]),
        "zuko_version": zuko.__version__,
        "nll_unit": "nats per coordinate of normalise_2d poses (mean root distance 0.1), root dropped",
    }  # fmt: skip
    atomic_write_text(log_path(args.out), "".join(json.dumps(r) + "\n" for r in records))
    save_flow_prior(args.out, flow, facts)
    print(f"wrote {args.out} (best step {best['step']}: held-out NLL per coordinate {best['heldout_h36m_nll']:.4f}"
          + (f", wild {best['heldout_wild_nll']:.4f}" if "heldout_wild_nll" in best else "") + ")")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
