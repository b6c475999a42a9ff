"""Data-parallel training under torchrun: one process per GPU (or CPU), gradients averaged over them.

`torchrun --nproc_per_node=N -m lifter.train ...` sets WORLD_SIZE, RANK and LOCAL_RANK; without
them (or with WORLD_SIZE=1) there is no process group and every function here is a no-op, so a
plain run is unchanged. Each process draws its own batch, so the global batch is N x --batch-size.

Why gradients are all-reduced by hand rather than by wrapping the networks in DistributedDataParallel:
the critic's gradient penalty differentiates through the critic with torch.autograd.grad(...,
create_graph=True), which DDP's documentation says it does not support (its reducer only hooks
gradients accumulated into .grad, and it warns that with create_graph=True the higher-order
gradients are not synchronised across ranks). The critic also runs frozen inside the generator
step, and the generator runs twice (lift, then re-lift of the rotated reprojections) before its
one backward: DDP needs find_unused_parameters / static_graph and calls through .module for
that. Averaging each network's gradients once, after its backward and before its optimiser step,
gives what DDP's all-reduce gives (the mean over processes of each process's gradient) whatever
the graph, double backward included. The cost: one all-reduce of a flat buffer per network per
step, not overlapped with the backward; for these networks (at most 12.7 M + 6.3 M parameters)
that is small next to the step itself.
"""

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from lifter.errors import SvmacError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """Only the main process logs, validates and writes the checkpoint and weights."""
        return self.rank == 0


def init(device: torch.device) -> tuple[World, torch.device]:
    """Join torchrun's process group (nccl on CUDA, gloo on CPU); on CUDA each process takes GPU
    LOCAL_RANK. Outside torchrun: World(0, 1) and the device unchanged."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World(), device
    try:
        rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    except KeyError as err:
        raise SvmacError(f"WORLD_SIZE is {size} but {err} is not set: start several processes with torchrun") from None
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise SvmacError(f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} CUDA devices here")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group(
        "nccl" if device.type == "cuda" else "gloo", device_id=device if device.type == "cuda" else None
    )
    return World(rank, size), device


def close() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def rank_seed(seed: int, rank: int, step: int) -> int:
    """The random stream of a process other than rank 0 (its own batches, angles, dropout)."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1)[0])


def broadcast_from_main(*modules: torch.nn.Module) -> None:
    """Make every process start from rank 0's parameters and buffers (as DDP's constructor does)."""
    if dist.is_initialized():
        for module in modules:
            for tensor in (*module.parameters(), *module.buffers()):
                dist.broadcast(tensor.data, src=0)


def average(tensors: list[torch.Tensor]) -> None:
    """Replace each tensor, in place, by its mean over the processes (one all-reduce)."""
    if not dist.is_initialized() or not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)  # sum: gloo has no ReduceOp.AVG
    flat /= dist.get_world_size()
    for tensor, mean in zip(tensors, flat.split([t.numel() for t in tensors])):
        tensor.copy_(mean.view_as(tensor))


def average_gradients(module: torch.nn.Module) -> None:
    """Call between backward and the optimiser step; every process then takes the same step."""
    average([p.grad for p in module.parameters() if p.grad is not None])


def average_batch_norm_statistics(module: torch.nn.Module) -> None:
    """BatchNorm normalises with each process's own batch; its running statistics are averaged."""
    norms = [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    average([stat for m in norms for stat in (m.running_mean, m.running_var)])


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every process when flag is True on any one (a stop request becomes collective)."""
    if not dist.is_initialized():
        return flag
    value = torch.tensor(float(flag), device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
