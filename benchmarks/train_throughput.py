"""Training cost on this machine: ms per SVMAC step and samples per second, before and after the
efficiency changes, per width.

One step = critic update(s) with gradient penalty and one generator update (lifter/train.py,
Trainer.train_step) on real H36M 2D. The variants, each measured in the same process:
- "before": the trainer of the lifter issue: dropout 0.1 in the generator, a 3-block critic,
  Adam as a chain of elementwise ops (foreach);
- "paper critic + fused Adam": the paper's 2-block critic and fused Adam (the current "paper" preset);
- "cpu preset": also no dropout (its random masks are slow on a CPU);
- "cpu preset + compile": the generator under torch.compile (only with --compile);
- "cpu preset, 3 critic steps": the cost of a stronger critic (an accuracy option);
- "cpu preset + bf16 autocast": --amp bf16, the networks' matrix products in bfloat16 ("auto"
  takes it on a CUDA device; this row is why it does not on a CPU without bfloat16 units).
Writes reports/train_throughput.md and .json.
Usage: python benchmarks/train_throughput.py [--data DIR] [--widths 256 512 1024] [--steps 20] [--compile]
"""

import argparse
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path

import torch

from lifter.checkpoint import write_report
from lifter.data import data_root
from lifter.inference import pick_device
from lifter.model import ModelConfig, count_parameters
from lifter.train import Trainer, TrainConfig, TrainingData


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    dropout: float
    critic_blocks: int
    fused_adam: bool = True
    critic_steps: int = 1
    compile_generator: bool = False
    amp: str = "off"


VARIANTS = (
    Variant("before (lifter issue)", dropout=0.1, critic_blocks=3, fused_adam=False),
    Variant("paper critic + fused Adam", dropout=0.1, critic_blocks=2),
    Variant("cpu preset (no dropout)", dropout=0.0, critic_blocks=2),
    Variant("cpu preset + torch.compile", dropout=0.0, critic_blocks=2, compile_generator=True),
    Variant("cpu preset, 3 critic steps", dropout=0.0, critic_blocks=2, critic_steps=3),
    Variant("cpu preset + bf16 autocast", dropout=0.0, critic_blocks=2, amp="bf16"),
)


def build_trainer(variant: Variant, width: int, batch_size: int, device: torch.device) -> Trainer:
    model = ModelConfig(width=width, dropout=variant.dropout, critic_blocks=variant.critic_blocks)
    cfg = TrainConfig(batch_size=batch_size, critic_steps=variant.critic_steps, amp=variant.amp, model=model)
    trainer = Trainer(cfg, device)
    if not variant.fused_adam:
        adam = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay, foreach=True)
        trainer.opt_g = torch.optim.Adam(trainer.generator.parameters(), **adam)
        trainer.opt_d = torch.optim.Adam(trainer.critic.parameters(), **adam)
    if variant.compile_generator:
        trainer.generator = torch.compile(trainer.generator)
    return trainer


def seconds_per_step(trainer: Trainer, data: TrainingData, device: torch.device, warmup: int, steps: int) -> float:
    for _ in range(warmup):
        trainer.train_step(data)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(data)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--widths", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--compile", action="store_true", help="also time torch.compile (compiles for a minute)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--out", type=Path, default=Path("reports/train_throughput"))
    args = p.parse_args()
    device = pick_device(args.device)
    torch.manual_seed(0)
    data = TrainingData(data_root(args.data), TrainConfig(train_frame_step=10), device)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch "
               f"{torch.__version__}, {torch.get_num_threads()} threads, device {device}")  # fmt: skip
    rows = []
    for width in args.widths:
        for variant in VARIANTS:
            if variant.compile_generator and not args.compile:
                continue
            trainer = build_trainer(variant, width, args.batch_size, device)
            seconds = seconds_per_step(trainer, data, device, args.warmup, args.steps)
            rows.append({"width": width, "variant": variant.name, "batch_size": args.batch_size,
                         "generator_params_m": round(count_parameters(trainer.generator) / 1e6, 2),
                         "critic_params_m": round(count_parameters(trainer.critic) / 1e6, 2),
                         "ms_per_step": round(seconds * 1000, 1), "samples_per_s": round(args.batch_size / seconds)})  # fmt: skip
            print(rows[-1], flush=True)
    before = {r["width"]: r["samples_per_s"] for r in rows if r["variant"] == VARIANTS[0].name}
    table = "\n".join(
        f"| {r['width']} | {r['variant']} | {r['generator_params_m']} M | {r['critic_params_m']} M | "
        f"{r['ms_per_step']} | {r['samples_per_s']} | {r['samples_per_s'] / before[r['width']]:.2f}× |"
        for r in rows
    )
    text = (
        "# Training cost per step, before and after the efficiency changes\n\n"
        f"Machine: {machine}. Mean of {args.steps} steps after {args.warmup} warm-up steps (with torch.compile "
        f"the warm-up includes compiling), fp32 unless the variant says otherwise, batch {args.batch_size}, n = 2, real H36M 2D; samples/s = "
        "generator batch / step time.\n\n"
        f"Produced by `python benchmarks/train_throughput.py {' '.join(sys.argv[1:])}`.\n\n"
        "| width | variant | generator | critic | ms per step | samples/s | vs before |\n"
        "|---:|---|---:|---:|---:|---:|---:|\n"
        f"{table}\n"
    )
    write_report(args.out, text, {"machine": machine, "rows": rows})


if __name__ == "__main__":
    main()
