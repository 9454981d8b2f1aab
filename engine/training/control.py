"""Stop, pause and resume a run, and change what the dashboard sees, from another thread or process.

The trainer calls ``check`` between batches, so a request takes effect within one batch. Built
on ``multiprocessing`` primitives when given a context (for the process runner), else on
``threading`` ones.
"""

from __future__ import annotations

import queue
import threading
from typing import Any


class TrainingControl:
    """Flags the trainer reads every batch; safe to pass to a spawned process."""

    def __init__(self, context: Any = None) -> None:
        if context is None:
            self._stop, self._pause = threading.Event(), threading.Event()
            self._pause_at_epoch_end = threading.Event()
            self._requests: Any = queue.Queue()
        else:
            self._stop, self._pause = context.Event(), context.Event()
            self._pause_at_epoch_end = context.Event()
            self._requests = context.Queue()
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
        ``filter_layers=("conv1", "conv2")``, or whether a page shows them at all
        (``snapshots_shown=False`` slows them to one every few seconds). Applied at the next step."""
        self._requests.put(dict(changes))

    def view_changes(self) -> dict[str, Any]:
        """Every change requested since the last call, merged."""
        merged: dict[str, Any] = {}
        while True:
            try:
                merged.update(self._requests.get_nowait())
            except (queue.Empty, OSError, EOFError):
                return merged
