"""What a trained flow prior (lifter.flow_prior) costs per generator step and how it scores poses.

- Cost: log_prob and its backward pass to the poses (the flow frozen, as in training) on a batch
  of 512 normalised poses on one CPU thread; median wall clock and median thread CPU time (what
  an idle core would take; other jobs on a shared machine inflate the wall clock).
- Scores, in nats per coordinate (flow_prior_loss), with the median per-pose gradient norm of a
  pose's own NLL per coordinate: the flow's held-out poses (the last tenth of each training
  subject's sequence, every 10th frame; every 10th in-the-wild pose), the same real poses with
  isotropic noise, the shipped generator's reprojections of them at random azimuth and +-15 deg
  elevation (what the generator's loss term sees at the start of a run), and joint-shuffled poses.
  Never S9/S11.

Usage: OMP_NUM_THREADS=1 nice -n 10 python benchmarks/flow_prior.py --flow runs/flow/flow_h36m.safetensors
       [--flow ...] [--data DIR] [--generator weights/svmac_h36m_gt.safetensors] [--out reports/flow_prior]
"""

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from lifter.checkpoint import load_generator, read_weights_metadata, write_report
from lifter.data import data_root
from lifter.flow_prior import (
    FEATURES,
    flow_prior_loss,
    heldout_every,
    heldout_h36m,
    load_flow_prior,
)
from lifter.geometry import normalise_2d, rotate_azimuth_elevation, weak_project
from lifter.train import TrainConfig, training_poses
from lifter.wild_2d import WILD_SOURCES, load_wild_2d

BATCH = 512
REPEATS = 50
SAMPLES = 2048  # poses per scored set
FRAME_STEP = 10
NOISE = 0.003  # normalised units: 3 % of the mean joint-to-root distance (0.1)


def call_cost(flow, poses: torch.Tensor) -> dict[str, float]:
    """Median wall and thread-CPU milliseconds of flow_prior_loss + backward to the poses."""
    walls, cpus = [], []
    for repeat in range(REPEATS + 5):
        wall, cpu = time.perf_counter(), time.thread_time()
        pose = poses.clone().requires_grad_(True)
        flow_prior_loss(flow, pose).backward()
        if repeat >= 5:  # warm-up calls left out
            walls.append(time.perf_counter() - wall)
            cpus.append(time.thread_time() - cpu)
    return {"wall_ms": 1000 * statistics.median(walls), "cpu_ms": 1000 * statistics.median(cpus)}


def scores(flow, poses: torch.Tensor) -> dict[str, float]:
    """NLL per coordinate (mean, median, 90th percentile) and the median per-pose gradient norm."""
    pose = poses.clone().requires_grad_(True)
    nll = -flow.log_prob(pose) / FEATURES  # (N,)
    nll.sum().backward()  # each pose's gradient is that of its own NLL
    quantiles = nll.detach().quantile(torch.tensor([0.5, 0.9]))
    return {
        "mean": nll.mean().item(),
        "median": quantiles[0].item(),
        "p90": quantiles[1].item(),
        "grad_norm_median": pose.grad.flatten(1).norm(dim=1).median().item(),
    }


def scored_sets(root: Path, generator_path: Path) -> dict[str, torch.Tensor]:
    rng = torch.Generator().manual_seed(0)
    poses = training_poses(root, TrainConfig(train_frame_step=FRAME_STEP))
    poses = poses.select(heldout_h36m(poses))
    real = normalise_2d(torch.from_numpy(poses.pose_2d[torch.randperm(len(poses), generator=rng)[:SAMPLES].numpy()]))
    wild = load_wild_2d(root, WILD_SOURCES)
    wild = normalise_2d(torch.from_numpy(wild[heldout_every(len(wild))][:SAMPLES]))
    with torch.no_grad():
        pose_3d, camera, _ = load_generator(generator_path)(real)
        azimuth = torch.rand(len(real), generator=rng) * (2 * math.pi)
        elevation = (torch.rand(len(real), generator=rng) * 2 - 1) * math.radians(15.0)
        reprojected = normalise_2d(weak_project(camera, rotate_azimuth_elevation(pose_3d, azimuth, elevation)))
    order = torch.stack([torch.randperm(16, generator=rng) for _ in range(len(real))]) + 1  # (N, 16)
    shuffled = real.clone()
    shuffled[:, 1:] = torch.gather(real, 1, order[..., None].expand(-1, -1, 2))
    return {
        "Human3.6M held-out (training subjects)": real,
        f"same, isotropic noise {NOISE}": normalise_2d(real + NOISE * torch.randn(real.shape, generator=rng)),
        "in-the-wild held-out (MPII, LSPET)": wild,
        f"{generator_path.name} reprojections, azimuth 0-360, elevation +-15": reprojected,
        "joint-shuffled Human3.6M": shuffled,
    }


def markdown(record: dict) -> str:
    lines = [
        "# Flow prior: cost per call and scores",
        "",
        f"Measured by `{record['command']}` on {record['machine']}.",
        "",
        f"Cost of flow_prior_loss + backward to the poses, {BATCH} poses, 1 thread, median of {REPEATS}:",
        "",
        "| flow | wall ms | thread CPU ms |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {f['cost']['wall_ms']:.1f} | {f['cost']['cpu_ms']:.1f} |" for name, f in record["flows"].items()
    ]
    lines += ["", "NLL in nats per coordinate (lower = more likely), median per-pose gradient norm of it:", ""]
    for name, flow in record["flows"].items():
        lines += [f"## {name}", "", f"Trained: {flow['training_summary']}", ""]
        lines += ["| poses | mean | median | p90 | gradient norm |", "|---|---|---|---|---|"]
        lines += [
            f"| {label} | {s['mean']:.3f} | {s['median']:.3f} | {s['p90']:.3f} | {s['grad_norm_median']:.1f} |"
            for label, s in flow["scores"].items()
        ]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flow", type=Path, action="append", required=True)
    p.add_argument("--data")
    p.add_argument("--generator", type=Path, default=Path("weights/svmac_h36m_gt.safetensors"))
    p.add_argument("--out", type=Path, default=Path("reports/flow_prior"))
    args = p.parse_args()
    torch.set_num_threads(1)
    sets = scored_sets(data_root(args.data), args.generator)
    batch = next(iter(sets.values()))[:BATCH]
    flows = {}
    for path in args.flow:
        flow = load_flow_prior(path)
        metadata = read_weights_metadata(path)
        best = json.loads(metadata["best"])
        flows[str(path)] = {
            "cost": call_cost(flow, batch),
            "scores": {label: scores(flow, poses) for label, poses in sets.items()},
            "config": json.loads(metadata["flow_config"]),
            "training": json.loads(metadata["training"]),
            "best": best,
            "training_summary": f"{metadata['flow_config']}; best held-out evaluation {json.dumps(best)}",
        }
    record = {
        "command": "OMP_NUM_THREADS=1 nice -n 10 python benchmarks/flow_prior.py "
        + " ".join(f"--flow {path}" for path in args.flow),
        "machine": f"{os.cpu_count()}-core {platform.machine()} CPU, no GPU, shared with other jobs"
        f" (load average {os.getloadavg()[0]:.1f} at the end)",
        "flows": flows,
    }
    write_report(args.out, markdown(record), record)


if __name__ == "__main__":
    main()
