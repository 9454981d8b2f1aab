"""Distributed data-parallel training under torchrun: NCCL on GPUs, gloo on CPUs.

``torchrun --nproc_per_node=N`` (and its multi-node rendezvous flags) sets RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT; ``from_environment`` reads them and joins the group.
Every process trains on its own shard (DistributedSampler) with DistributedDataParallel; only
rank 0 writes the run folder.

Failures never leave a process waiting for its peers. Where every process meets (the end of
set-up, each epoch's end, the run's end) ``agree`` shares what failed: every process then
stops with the same message (the first failing rank's; ``process N: ...`` when it is not rank
0) and the processes leave the group together. A failure elsewhere (inside a step, on one
process) cannot be shared that way, as the peers wait in a collective that will not complete
(closing a group does not wake them): the process posts its failure in the group's store and
leaves the group without a barrier. Rank 0 then records it: a ``FailureWatch`` thread reads the
post, writes the run's result and prints the message, and ends rank 0's process (its main thread
is stuck); torchrun ends the others. When rank 0 is the one failing, it records and reports the
failure itself and exits, and torchrun ends the others.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

_FAILED_KEY = "cnn-designer/failed/"  # + rank: a failure posted by that process
_COUNT_KEY = "cnn-designer/failures"  # how many failures were posted
_SEEN_KEY = "cnn-designer/seen"  # rank 0 has reported a posted failure to the person
_state: dict[str, Any] = {"store": None, "alone": False}


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


@dataclass(frozen=True)
class RankFailure:
    """What failed on one process: its rank, message, reason ("setup", "error", ...) and step."""

    rank: int
    message: str
    reason: str
    step: int | None

    def shared_message(self) -> str:
        """The message every process reports (rank 0 prints it): the rank is named unless 0."""
        return self.message if self.rank == 0 else f"process {self.rank}: {self.message}"


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
    _state["alone"] = False
    _state["store"] = _default_store()
    return DistContext(rank, world, local_rank, backend)


def _default_store() -> Any:
    """The group's key-value store (it outlives the process group's connections)."""
    try:
        return dist.distributed_c10d._get_default_store()
    except Exception:  # an older or newer torch without it: failures are then printed locally
        return None


def shutdown() -> None:
    """Leave the process group (when one was joined), together: a process that tears its
    connections down while a peer still uses them makes gloo abort the peer. A process that
    failed alone (see ``abort``) leaves without the barrier, which its peers would never reach."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    try:
        if not _state["alone"]:
            dist.barrier()
    except Exception as error:  # a peer left the group: there is nobody to wait for
        print(f"note: the process group ended early ({_first_line(error)})", file=sys.stderr)
    finally:
        _state["store"] = None  # released with the group, not at interpreter exit
        dist.destroy_process_group()


def leave_process(status: int) -> None:
    """End a torchrun process that has left its group (``shutdown``) with ``status``, without
    the interpreter's teardown: a model wrapped for distributed training still holds the gloo
    group then, and destroying it among the static destructors aborted the process now and then
    ("terminate called without an active exception", SIGABRT) after a run that had completed
    and written everything. Standard output and error are flushed first."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def abort() -> None:
    """Leave the process group at once, without waiting for the peers: their collectives
    then fail instead of waiting for this process (gloo), and ``shutdown`` skips its barrier."""
    _state["alone"] = True
    if dist.is_available() and dist.is_initialized():
        with contextlib.suppress(Exception):  # leaving is all that matters now
            dist.destroy_process_group()


def agree(failure: RankFailure | None, ctx: DistContext) -> RankFailure | None:
    """Collective: every process passes its own failure (or None) and gets the same answer,
    the failure of the lowest rank that failed (None when none did)."""
    if not ctx.active:
        return failure
    mine = None if failure is None else (failure.message, failure.reason, failure.step)
    gathered: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(gathered, mine)
    for rank, item in enumerate(gathered):
        if item is not None:
            return RankFailure(rank, str(item[0]), str(item[1]), item[2])
    return None


def post_failure(failure: RankFailure) -> None:
    """Tell the other processes, through the store, what failed here (best effort)."""
    store = _state["store"]
    if store is None:
        return
    data = {"message": failure.message, "reason": failure.reason, "step": failure.step}
    with contextlib.suppress(Exception):
        store.set(f"{_FAILED_KEY}{failure.rank}", json.dumps(data))
        store.add(_COUNT_KEY, 1)


def posted_failure(ctx: DistContext) -> RankFailure | None:
    """The failure another process posted (the lowest rank's), or None."""
    store = _state["store"]
    if store is None or not ctx.active:
        return None
    for rank in range(ctx.world_size):
        if rank == ctx.rank:
            continue
        key = f"{_FAILED_KEY}{rank}"
        try:
            if not store.check([key]):
                continue
            data = json.loads(store.get(key))
            return RankFailure(rank, str(data["message"]), str(data["reason"]), data.get("step"))
        except Exception:
            continue
    return None


def mark_failure_seen() -> None:
    """Rank 0 has reported the failure (its Failed event was taken): the poster may exit."""
    store = _state["store"]
    if store is not None:
        with contextlib.suppress(Exception):
            store.set(_SEEN_KEY, "1")


def wait_until_failure_seen(seconds: float) -> bool:
    """Wait (at most ``seconds``) until rank 0 has reported a posted failure; False if it did
    not (it may hang in a collective that never fails, as NCCL's may)."""
    store = _state["store"]
    if store is None:
        return False
    try:
        store.wait([_SEEN_KEY], datetime.timedelta(seconds=seconds))
        return True
    except Exception:
        return False


class FailureWatch:
    """Rank 0's watch, while training, for a failure another process posted (``post_failure``):
    rank 0 then waits in a collective that cannot complete, so this thread calls ``report``
    (which records and prints the failure), tells the poster it was seen and ends the process
    (torchrun then ends the others). ``stop`` ends the watch (at the run's end, or when rank 0
    fails itself and reports the failure in its own thread)."""

    def __init__(
        self, ctx: DistContext, report: Callable[[RankFailure], None], interval: float = 0.2
    ) -> None:
        self.ctx, self.report, self.interval = ctx, report, interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="failure-watch", daemon=True)

    def start(self) -> None:
        if _state["store"] is not None and self.ctx.active:
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        store = _state["store"]
        while not self._stopped.wait(self.interval):
            try:
                if int(store.add(_COUNT_KEY, 0)) == 0:
                    continue
            except Exception:  # the store is gone (the job is ending)
                return
            failure = posted_failure(self.ctx)
            if failure is None or self._stopped.is_set():
                continue
            try:
                self.report(failure)
            finally:
                mark_failure_seen()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(1)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def all_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``values`` over every process (a no-op for one process)."""
    if ctx.active:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def any_flag(flag: bool, ctx: DistContext, device: torch.device) -> bool:
    """True on every process when ``flag`` is true on any."""
    return any_flags([flag], ctx, device)[0]


def any_flags(flags: list[bool], ctx: DistContext, device: torch.device) -> list[bool]:
    """Each flag true on every process when it is true on any (one collective for all)."""
    if not ctx.active:
        return list(flags)
    value = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in value.tolist()]


def replica_spread(module: torch.nn.Module, ctx: DistContext) -> float:
    """The largest difference of any parameter between processes (0.0 when in sync)."""
    flat = torch.cat([p.detach().flatten().float() for p in module.parameters()])
    if not ctx.active:
        return 0.0
    high, low = flat.clone(), flat.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    return float((high - low).max())
