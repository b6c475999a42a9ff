"""Distil a part-split generator (svmac-train --part-split) into one network of the usual shape.

The teacher lifts the legs and the upper body separately, each from its own part's 2D; the student,
a plain Generator, learns to give the teacher's depths and camera for the same training 2D
(mean squared error), so the shipped model is one network again. No 3D is used: the targets are the
teacher's outputs on the training subjects' 2D. Validation as svmac-train's (the training subjects'
held-out frames), written to the same log format, so the benchmarks read a distilled run like any
other.

    python -m lifter.distill --teacher RUN/checkpoint.pt --out DIR [--data DIR] [--steps 3000]
        [--width 256] [--lr 1e-3] [--lr-final-ratio 0.1] [--ema-decay 0.995] [--resume]

DIR gets generator.safetensors (the EMA student), train_log.jsonl and checkpoint.pt (written
atomically every --checkpoint-every steps and at the end; --resume continues from it).
"""

import argparse
import dataclasses
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from lifter.checkpoint import export_weights, load_training_state, read_weights_metadata, save_training_state
from lifter.data import data_root
from lifter.errors import SvmacError, exit_on_user_error
from lifter.geometry import CAMERA_DISTANCE
from lifter.model import AnyGenerator, Generator, ModelConfig, build_generator
from lifter.train import (
    CHECKPOINT_NAME,
    LOG_NAME,
    VAL_EMA_KEY,
    VAL_KEY,
    WEIGHTS_NAME,
    TrainConfig,
    TrainingData,
    ValidationSet,
    decayed_learning_rate,
)


@dataclass(frozen=True)
class DistillConfig:
    teacher: str  # a part-split run's checkpoint.pt
    steps: int = 3000
    batch_size: int = 512
    width: int = 256
    lr: float = 1e-3
    lr_final_ratio: float = 0.1  # exponential decay to lr * ratio at the last step
    ema_decay: float = 0.995
    val_every: int = 500
    checkpoint_every: int = 1000
    seed: int = 0


def distillation_loss(
    student: tuple[torch.Tensor, torch.Tensor, torch.Tensor], teacher: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
) -> torch.Tensor:
    """Mean squared error of the depths (B, 17) plus that of the camera (B, 2, 3) in units of the
    front-facing camera's scale (its entries are about 1 / CAMERA_DISTANCE). Generator outputs
    (pose_3d, camera, depth) -> ()"""
    _, student_camera, student_depth = student
    _, teacher_camera, teacher_depth = teacher
    depth = (student_depth - teacher_depth).pow(2).mean()
    camera = ((student_camera - teacher_camera) * CAMERA_DISTANCE).pow(2).mean()
    return depth + camera


def load_teacher(path: Path, device: torch.device) -> tuple[AnyGenerator, TrainConfig]:
    """The part-split generator of a training checkpoint (its EMA weights when it kept them), in eval mode."""
    state = load_training_state(path)
    try:
        cfg = TrainConfig.from_dict(state["config"])
    except (KeyError, TypeError) as err:
        raise SvmacError(f"{path} holds no usable training config ({err})") from None
    if not cfg.model.part_split:
        raise SvmacError(f"{path} is not a part-split run (svmac-train --part-split): nothing to distil")
    teacher = build_generator(cfg.model)
    weights = state["generator"]
    if state.get("generator_ema"):  # an AveragedModel's state: the averaged network under "module."
        weights = {k.removeprefix("module."): v for k, v in state["generator_ema"].items() if k.startswith("module.")}
    try:
        teacher.load_state_dict(weights)
    except RuntimeError as err:
        raise SvmacError(f"{path} does not match its own model config ({str(err).splitlines()[0]})") from None
    return teacher.to(device).eval(), cfg


def distil(cfg: DistillConfig, out: Path, root: Path, resume: bool = False) -> Path:
    """Train the student; -> the exported weights file."""
    device = torch.device("cpu")
    checkpoint = out / CHECKPOINT_NAME
    if checkpoint.exists() and not resume:
        raise SvmacError(f"{checkpoint} exists: pass --resume to continue it, or choose another --out")
    state = load_training_state(checkpoint) if resume and checkpoint.exists() else None
    if state is not None:
        cfg = DistillConfig(**{**state["config"], "steps": cfg.steps})
    teacher, teacher_cfg = load_teacher(Path(cfg.teacher), device)
    torch.manual_seed(cfg.seed)
    data = TrainingData(root, teacher_cfg, device)
    validation = ValidationSet(root, teacher_cfg)

    student = Generator(ModelConfig(width=cfg.width, dropout=0.0)).to(device)
    optimiser = torch.optim.Adam(student.parameters(), lr=cfg.lr)
    ema = AveragedModel(student, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
    step, elapsed_before, cpu_before = 0, 0.0, 0.0  # the log's clocks continue across --resume
    if state is not None:
        student.load_state_dict(state["generator"])
        ema.load_state_dict(state["generator_ema"])  # with its update count: no fresh copy on the next step
        optimiser.load_state_dict(state["optimiser"])
        torch.set_rng_state(state["rng_cpu"])
        step, elapsed_before, cpu_before = state["step"], state["elapsed_s"], state["cpu_s"]
    else:
        ema.update_parameters(student)  # the first update copies

    def save() -> None:
        save_training_state(checkpoint, {
            "config": asdict(cfg), "step": step, "generator": student.state_dict(),
            "generator_ema": ema.state_dict(), "optimiser": optimiser.state_dict(),
            "rng_cpu": torch.get_rng_state(), "elapsed_s": elapsed(), "cpu_s": cpu(),
        })  # fmt: skip

    out.mkdir(parents=True, exist_ok=True)
    start, start_cpu, first_step = time.perf_counter(), time.process_time(), step

    def elapsed() -> float:
        return round(elapsed_before + time.perf_counter() - start, 1)

    def cpu() -> float:
        return round(cpu_before + time.process_time() - start_cpu, 1)

    with open(out / LOG_NAME, "a") as log:
        while step < cfg.steps:
            for group in optimiser.param_groups:
                group["lr"] = decayed_learning_rate(cfg.lr, cfg.lr_final_ratio, step, cfg.steps)
            pose_2d = data.sample(cfg.batch_size)  # (B, 17, 2) the teacher's training inputs
            with torch.no_grad():
                target = teacher(pose_2d)
            student.train()
            loss = distillation_loss(student(pose_2d), target)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            ema.update_parameters(student)
            step += 1
            record = {"step": step, "elapsed_s": elapsed(), "cpu_s": cpu(), "distillation": round(loss.item(), 6),
                      "steps_per_s": round((step - first_step) / max(time.perf_counter() - start, 1e-9), 2)}  # fmt: skip
            if step % cfg.val_every == 0 or step == cfg.steps:
                student.eval()
                record[VAL_KEY] = round(validation.p_mpjpe(student), 2)
                record[VAL_EMA_KEY] = round(validation.p_mpjpe(ema.module.eval()), 2)
                print(f"step {step}: validation {record[VAL_EMA_KEY]} mm (EMA), {record[VAL_KEY]} mm", flush=True)
            if step % 50 == 0 or VAL_KEY in record:
                log.write(json.dumps(record) + "\n")
                log.flush()
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                save()
    # Read by the benchmarks like an svmac-train run: the teacher's training config, marked distilled.
    train_config = {**asdict(teacher_cfg), "model": asdict(ema.module.cfg), "distilled_from": cfg.teacher,
                    "ema_decay": cfg.ema_decay}  # fmt: skip
    teacher_weights = Path(cfg.teacher).with_name(WEIGHTS_NAME)
    described = read_weights_metadata(teacher_weights).get("data", "") if teacher_weights.is_file() else ""
    metadata = {"trained_steps": str(step), "train_config": json.dumps(train_config), "data": described,
                "distill_config": json.dumps(asdict(cfg))}  # fmt: skip
    export_weights(out / WEIGHTS_NAME, ema.module, metadata)
    return out / WEIGHTS_NAME


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    d = dataclasses.fields(DistillConfig)
    defaults = {f.name: f.default for f in d}
    p = argparse.ArgumentParser(prog="python -m lifter.distill", description=__doc__.splitlines()[0])
    p.add_argument("--teacher", required=True, type=Path, help="a part-split run's checkpoint.pt")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--steps", type=int, default=defaults["steps"])
    p.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    p.add_argument("--width", type=int, default=defaults["width"])
    p.add_argument("--lr", type=float, default=defaults["lr"])
    p.add_argument("--lr-final-ratio", type=float, default=defaults["lr_final_ratio"],
                   help="decay the learning rate exponentially to lr*ratio at the last step (1: constant)")  # fmt: skip
    p.add_argument("--ema-decay", type=float, default=defaults["ema_decay"])
    p.add_argument("--val-every", type=int, default=defaults["val_every"])
    p.add_argument("--seed", type=int, default=defaults["seed"])
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    args = p.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or args.width < 1 or args.val_every < 1:
        raise SvmacError("--steps, --batch-size, --width and --val-every must be positive")
    if not 0 < args.lr_final_ratio <= 1:
        raise SvmacError("--lr-final-ratio must be in (0, 1]")
    if not 0 < args.ema_decay < 1:
        raise SvmacError("--ema-decay must be in (0, 1)")
    if not args.teacher.is_file():
        raise SvmacError(f"teacher checkpoint {args.teacher} not found")
    cfg = DistillConfig(teacher=str(args.teacher), steps=args.steps, batch_size=args.batch_size, width=args.width,
                        lr=args.lr, lr_final_ratio=args.lr_final_ratio, ema_decay=args.ema_decay, val_every=args.val_every, seed=args.seed)  # fmt: skip
    weights = distil(cfg, args.out, data_root(args.data), resume=args.resume)
    print(f"wrote {weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
