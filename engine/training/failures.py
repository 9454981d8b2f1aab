"""How a run's failures are described and, under torchrun, shared between its processes.

Every process stops together: set-up, each epoch's records and the run's end are agreed between
the processes (``agreed``: a failure on one, e.g. rank 0 unable to create the run folder or
write a checkpoint, stops all with its message); a failure inside a step on one process makes it
leave the group, so the others stop too instead of waiting (see ``engine.training.distributed``).

Each function takes the ``Trainer`` whose run failed.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import torch

from engine.data import DataFormatError
from engine.errors import DesignerError
from engine.training import distributed, run_record
from engine.training.distributed import RankFailure
from engine.training.events import Failed
from engine.training.run_record import RecordError

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

T = TypeVar("T")

# how long a process that failed alone waits for rank 0 to report its message
SEEN_WAIT_SECONDS = 30.0


class NonFiniteLossError(Exception):
    """The loss became NaN or infinite (turned into a Failed event)."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


class PeerFailedError(Exception):
    """Another process of the group failed: this one stops with its message."""

    def __init__(self, failure: RankFailure) -> None:
        super().__init__(failure.shared_message())
        self.failure = failure


def agreed(t: Trainer, work: Callable[[], T]) -> T:
    """``work()``, which may fail on this process only; under torchrun every process then
    learns whether any failed, and all raise together (with the first failure's message)."""
    error: Exception | None = None
    value: Any = None
    try:
        value = work()
    except Exception as caught:
        error = caught
    if not t.dist.active:
        if error is not None:
            raise error
        return value  # type: ignore[no-any-return]
    mine = None
    if error is not None:
        message, reason, step = describe(t, error)
        mine = RankFailure(t.dist.rank, message, reason, step)
    first = distributed.agree(mine, t.dist)
    if first is None:
        return value  # type: ignore[no-any-return]
    t.together = True
    if first.rank == t.dist.rank and error is not None:
        raise error
    raise PeerFailedError(first)


def stop_watch(t: Trainer) -> None:
    """Stop rank 0's FailureWatch thread (if running)."""
    if t.watch is not None:
        t.watch.stop()
        t.watch = None


def report_posted_failure(t: Trainer, failure: RankFailure) -> None:
    """(Rank 0's FailureWatch thread) another process failed alone while this one waits in
    a collective that cannot complete: record the failure and say it, as this process ends
    without returning to its caller."""
    step = failure.step if failure.step is not None else t.step
    message = run_record.record_failure(t, failure.shared_message(), failure.reason, step)
    print(f"cnn-designer: error: {message}", file=sys.stderr, flush=True)


def leave_group(t: Trainer, error: Exception) -> Exception:
    """This process failed where its peers may wait for it in a collective: learn whether a
    peer failed first (this failure then is its consequence), else post this failure; then
    leave the group, so the peers' collectives fail instead of waiting."""
    peer = distributed.posted_failure(t.dist)
    if peer is not None and not isinstance(error, PeerFailedError):
        error = PeerFailedError(peer)
    elif not isinstance(error, PeerFailedError):
        message, reason, step = describe(t, error)
        distributed.post_failure(RankFailure(t.dist.rank, message, reason, step))
    distributed.abort()
    return error


def after_leaving(t: Trainer, message: str, own: bool) -> None:
    """Rank 0 has reported the failure; another process that failed alone waits until it
    has (or prints its message itself), as torchrun ends the others when one exits."""
    if t.dist.is_main:
        distributed.mark_failure_seen()
    elif not distributed.wait_until_failure_seen(SEEN_WAIT_SECONDS) and own:
        # rank 0 did not report it (it may wait in a collective that never fails): say it here
        print(f"cnn-designer: error: process {t.dist.rank}: {message}", file=sys.stderr)


def describe(t: Trainer, error: BaseException) -> tuple[str, str, int]:
    """A failure's message, reason and step (the step its message names)."""
    running = t.step + 1 if t.in_step else t.step  # the step the failure is in
    if isinstance(error, PeerFailedError):
        failure = error.failure
        step = failure.step if failure.step is not None else running
        return failure.shared_message(), failure.reason, step
    if isinstance(error, NonFiniteLossError):
        return str(error), "nan", error.step
    if isinstance(error, RecordError):
        return str(error), "error", t.step
    if isinstance(error, DesignerError | DataFormatError):
        return str(error), "setup" if t.phase == "setup" else "error", running
    what = f"{type(error).__name__}: {error}"
    if t.phase == "setup":
        where = "before the first step"
    elif t.in_step:
        where = f"at step {running}"
    elif t.phase == "epoch_end":
        where = f"after step {running}, at the end of epoch {t.epochs_done + 1}"
    else:
        where = f"after step {running}"
    if isinstance(error, torch.OutOfMemoryError):
        return (
            f"out of memory {where}: lower the batch size or use a smaller network ({error})",
            "error",
            running,
        )
    if t.phase == "setup":
        return f"training could not start: {what}", "error", running
    return f"training failed {where}: {what}", "error", running


def failed_event(t: Trainer, message: str, reason: str, step: int, error: BaseException) -> Failed:
    """The Failed event for a failure, recorded in result.json first (see ``record_failure``)."""
    message = run_record.record_failure(t, message, reason, step)
    details = ""
    if reason != "nan":
        details = "".join(traceback.format_exception(error))
    return Failed(message, step, reason, details, str(t.run_dir) if t.run_dir else None)
