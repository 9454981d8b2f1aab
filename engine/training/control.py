"""Stop, pause and resume a run, and change what the dashboard sees, from another thread or process.

The trainer calls ``check`` between batches, so a request takes effect within one batch. Built
on ``multiprocessing`` primitives when given a context (for the process runner), else on
``threading`` ones.

It also counts the snapshots on their way to the window (sent by the training process, not yet
handed to the window by ``TrainingHandle.poll_events``): the trainer takes no new snapshot while
one is, so a window that falls behind costs the run neither snapshot work nor a queue.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

SNAPSHOTS_IN_FLIGHT = 1  # snapshots sent and not yet handed to the window, at most


class _Counter:
    """A ``multiprocessing.Value`` look-alike for runs in this process."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def get_lock(self) -> threading.Lock:
        return self._lock


class TrainingControl:
    """Flags the trainer reads every batch; safe to pass to a spawned process."""

    def __init__(self, context: Any = None) -> None:
        if context is None:
            self._stop, self._pause = threading.Event(), threading.Event()
            self._pause_at_epoch_end = threading.Event()
            self._requests: Any = queue.Queue()
            self._in_flight: Any = _Counter()
        else:
            self._stop, self._pause = context.Event(), context.Event()
            self._pause_at_epoch_end = context.Event()
            self._requests = context.Queue()
            self._in_flight = context.Value("i", 0)
        self.stop_reason: str | None = None

    def stop(self, reason: str | None = None) -> None:
        """Ask the run to end after the current batch (a paused run stops too). ``reason``
        (e.g. "SIGINT") is written to result.json as "stopped_by"; it reaches a run in this
        process only (a spawned process sees the request, not the reason)."""
        if reason is not None and not self._stop.is_set():
            self.stop_reason = reason
        self._stop.set()

    def pause(self) -> None:
        """Ask the run to wait after the current batch."""
        self._pause.set()

    def resume(self) -> None:
        """Let a paused run continue."""
        self._pause.clear()

    def pause_after_epoch(self) -> None:
        """Ask the run to pause once the current epoch has ended (validation, checkpoints and
        its EpochEnd event included) and before the next one starts; asked once, it pauses
        once. Unlike ``pause``, no epoch is split in two: scripts that alternate a run with
        other work use it (the dashboard benchmark does)."""
        self._pause_at_epoch_end.set()

    def take_epoch_end_pause(self) -> bool:
        """Whether a pause after the epoch was asked for (and forget the request)."""
        if not self._pause_at_epoch_end.is_set():
            return False
        self._pause_at_epoch_end.clear()
        return True

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def pause_requested(self) -> bool:
        return self._pause.is_set() and not self._stop.is_set()

    def wait_while_paused(self, poll: float = 0.05) -> None:
        """Block until resumed or stopped."""
        while self.pause_requested:
            self._stop.wait(poll)

    def set_view(self, **changes: Any) -> None:
        """Change what snapshots show: ``feature_layer="conv2"``, ``feature_image=3``,
        ``filter_layers=("conv1", "conv2")``, the parts the page in front draws
        (``snapshot_parts=("filters",)``; ``()`` when none is: one snapshot every few seconds),
        or whether a page shows them at all (``snapshots_shown=False``, the same as ``()``;
        ``True``: every part). Applied at the next step."""
        self._requests.put(dict(changes))

    def view_changes(self) -> dict[str, Any]:
        """Every change requested since the last call, merged."""
        merged: dict[str, Any] = {}
        while True:
            try:
                merged.update(self._requests.get_nowait())
            except (queue.Empty, OSError, EOFError):
                return merged

    # ----- snapshots on their way to the window ------------------------------------------------
    def snapshot_sent(self) -> None:
        """The training process has put a snapshot on its way to the window."""
        with self._in_flight.get_lock():
            self._in_flight.value += 1

    def snapshot_delivered(self) -> None:
        """A snapshot was handed to the window (or merged into a newer one)."""
        with self._in_flight.get_lock():
            self._in_flight.value = max(self._in_flight.value - 1, 0)

    @property
    def snapshots_in_flight(self) -> int:
        return int(self._in_flight.value)

    def snapshot_room(self) -> bool:
        """Whether the trainer may take a snapshot (fewer than ``SNAPSHOTS_IN_FLIGHT`` on their
        way); read without the lock: a stale answer only shifts a snapshot by a step."""
        return int(self._in_flight.value) < SNAPSHOTS_IN_FLIGHT
