"""The events of a training process waiting for the window, kept few by merging.

The runner's reader thread puts every event from the training process here at once, so the
process never waits for the window; the window takes them on its next tick. When the window
falls behind, waiting events are merged instead of queued: a ``Step`` joins the ``Step`` before
it (one event carrying every loss, as ``Step.losses`` does), a ``Snapshot`` replaces the one
before it (the parts the newer one lacks are kept from the older). Every other event (run
started, epoch end, pause, resume, the end) waits as it is, so at most ``3 + 3 × those`` events
wait at any time, however far behind the window is: at most three per epoch of the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from engine.training.events import Event, Snapshot, Step


def merge_steps(older: Step, newer: Step) -> Step:
    """One Step for two consecutive ones: every loss, the newer one's position and rates."""
    return replace(newer, losses=older.losses + newer.losses)


def merge_snapshots(older: Snapshot, newer: Snapshot) -> Snapshot:
    """The newer snapshot, with the parts only the older one took kept from it."""
    missing = [part for part in older.parts if part not in newer.parts]
    if not missing:
        return newer
    kept: dict[str, object] = {}
    if "filters" in missing:
        kept["filters"] = older.filters
    if "feature_maps" in missing:
        kept["feature_maps"] = older.feature_maps
    if "gradients" in missing:
        kept.update(
            grad_norms=older.grad_norms, dead_relu=older.dead_relu, histograms=older.histograms
        )
    parts = tuple(dict.fromkeys(newer.parts + tuple(missing)))
    return replace(newer, parts=parts, **kept)  # type: ignore[arg-type]


class Mailbox:
    """Events waiting for the window (thread-safe: one thread puts, another takes)."""

    def __init__(self, on_merged_snapshot: Callable[[], None] | None = None) -> None:
        self._events: list[Event] = []
        self._ready = threading.Condition()
        self._on_merged_snapshot = on_merged_snapshot or (lambda: None)
        self.most_waiting = 0  # the most events that waited at once
        self.merged_steps = 0  # Step events merged into the one before
        self.merged_snapshots = 0  # Snapshot events merged into a newer one

    def __len__(self) -> int:
        with self._ready:
            return len(self._events)

    def put(self, event: Event) -> None:
        with self._ready:
            self._add(event)
            self.most_waiting = max(self.most_waiting, len(self._events))
            self._ready.notify_all()

    def _add(self, event: Event) -> None:
        waiting = self._events
        if isinstance(event, Step):
            # into the newest waiting Step of the same epoch, when only snapshots follow it
            for i in range(len(waiting) - 1, -1, -1):
                other = waiting[i]
                if isinstance(other, Step) and other.epoch == event.epoch:
                    waiting[i] = merge_steps(other, event)
                    self.merged_steps += 1
                    return
                if not isinstance(other, Snapshot):
                    break
        elif isinstance(event, Snapshot):
            for i, other in enumerate(waiting):
                if isinstance(other, Snapshot):
                    del waiting[i]
                    event = merge_snapshots(other, event)
                    self.merged_snapshots += 1
                    self._on_merged_snapshot()
                    break
        waiting.append(event)

    def take(self, max_events: int, timeout: float = 0.0) -> list[Event]:
        """Up to ``max_events`` waiting events, oldest first; waits up to ``timeout`` seconds
        for the first one."""
        with self._ready:
            if not self._events and timeout > 0:
                self._ready.wait(timeout)
            taken = self._events[:max_events]
            del self._events[:max_events]
            return taken
