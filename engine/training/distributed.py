"""Distributed data-parallel training under torchrun: NCCL on GPUs, gloo on CPUs.

``torchrun --nproc_per_node=N`` (and its multi-node rendezvous flags) sets RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT; ``from_environment`` reads them and joins the group.
Every process trains on its own shard (DistributedSampler) with DistributedDataParallel; only
rank 0 writes the run folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """This process's place in the group (a single process is rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """Whether the environment describes a process group of more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def from_environment(device_request: str = "auto") -> DistContext:
    """Join the process group torchrun describes (NCCL with CUDA, else gloo)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_request in ("auto", "cuda")
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistContext(rank, world, local_rank, backend)


def shutdown() -> None:
    """Leave the process group (when one was joined), together: a process that tears its
    connections down while a peer still uses them makes gloo abort the peer."""
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


def all_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``values`` over every process (a no-op for one process)."""
    if ctx.active:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def any_flag(flag: bool, ctx: DistContext, device: torch.device) -> bool:
    """True on every process when ``flag`` is true on any."""
    if not ctx.active:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def replica_spread(module: torch.nn.Module, ctx: DistContext) -> float:
    """The largest difference of any parameter between processes (0.0 when in sync)."""
    flat = torch.cat([p.detach().flatten().float() for p in module.parameters()])
    if not ctx.active:
        return 0.0
    high, low = flat.clone(), flat.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    return float((high - low).max())
