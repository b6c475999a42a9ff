"""Training cost on this machine: ms per SVMAC step and samples per second, per width.

One step = generator forward on the batch and on its rotated reprojections, critic update with
gradient penalty, generator update (lifter/train.py, Trainer.train_step), on real H36M 2D.
Writes reports/train_throughput.md and .json.
Usage: python benchmarks/train_throughput.py [--data DIR] [--widths 256 512 1024] [--steps 20]
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from lifter.checkpoint import atomic_write_text
from lifter.data import data_root
from lifter.inference import pick_device
from lifter.model import ModelConfig, count_parameters
from lifter.train import Trainer, TrainConfig, TrainingData


def measure(
    cfg: TrainConfig, data: TrainingData, device: torch.device, warmup: int, steps: int
) -> tuple[float, Trainer]:
    """Seconds per step, and the trainer that was timed."""
    trainer = Trainer(cfg, device)
    for _ in range(warmup):
        trainer.train_step(data)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(data)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps, trainer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder (default: $SVMAC_DATA)")
    p.add_argument("--widths", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--out", type=Path, default=Path("reports/train_throughput"))
    args = p.parse_args()
    device = pick_device(args.device)
    torch.manual_seed(0)
    base = TrainConfig(batch_size=args.batch_size, train_frame_step=10)
    data = TrainingData(data_root(args.data), base, device)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch "
               f"{torch.__version__}, {torch.get_num_threads()} threads, device {device}")  # fmt: skip
    rows = []
    for width in args.widths:
        cfg = TrainConfig(batch_size=args.batch_size, model=ModelConfig(width=width))
        seconds, trainer = measure(cfg, data, device, args.warmup, args.steps)
        rows.append({"width": width, "batch_size": args.batch_size, "n_angles": cfg.n_angles,
                     "generator_params_m": round(count_parameters(trainer.generator) / 1e6, 2),
                     "critic_params_m": round(count_parameters(trainer.critic) / 1e6, 2),
                     "ms_per_step": round(seconds * 1000, 1), "samples_per_s": round(args.batch_size / seconds)})  # fmt: skip
        print(rows[-1], flush=True)
    table = "\n".join(
        f"| {r['width']} | {r['generator_params_m']} M | {r['critic_params_m']} M | {r['batch_size']} | "
        f"{r['ms_per_step']} | {r['samples_per_s']} |"
        for r in rows
    )
    text = (
        "# Training cost per step\n\n"
        f"Machine: {machine}. Mean of {args.steps} steps after {args.warmup} warm-up steps, fp32, n = 2, "
        "one critic step per generator step, real H36M 2D.\n\n"
        f"Produced by `python benchmarks/train_throughput.py {' '.join(sys.argv[1:])}`.\n\n"
        "| width | generator | critic | batch | ms per step | samples/s |\n|---:|---:|---:|---:|---:|---:|\n"
        f"{table}\n"
    )
    atomic_write_text(args.out.with_suffix(".md"), text)
    record = {"machine": machine, "rows": rows}
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(record, indent=1))
    print(text)


if __name__ == "__main__":
    main()
