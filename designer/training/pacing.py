"""How often the dashboard may draw while a run trains: a rate limit plus a CPU budget.

On a machine with few cores the window and the training process share them: every millisecond
the window's thread spends drawing is taken from one of the training threads, and with intra-op
parallelism the other threads wait for it (each operation ends at a barrier). A fixed rate is
not enough: a draw that costs 5 ms on an idle desktop costs 20 ms on a loaded one or with a
large window. So a ``DrawPacer`` lets a draw happen at most every ``interval`` seconds and,
after each draw, waits until the UI thread's CPU time spent since that draw began (the draw,
the paint Qt does for it, and whatever else ran) is at most ``budget`` of the wall time:
a draw that took ``c`` seconds of CPU is followed by one no sooner than ``c / budget`` later.

The clock is the caller's: the dashboard passes the run's own training seconds (its Steps'
``elapsed``), so time the run did not train (a pause, validation, other programs holding it
back) earns the window no extra draws.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class DrawPacer:
    """Decides when the next draw of one part of the dashboard is due."""

    def __init__(
        self,
        interval: float,
        budget: float,
        clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        if interval < 0 or not 0 < budget <= 1:
            raise ValueError(f"interval must be >= 0 and budget in (0, 1]: {interval}, {budget}")
        self.interval, self.budget = interval, budget
        self._clock, self._cpu = clock, cpu_clock
        self._began: tuple[float, float] | None = None  # (wall, cpu) when the last draw began
        self._settled = True  # whether the last draw's cost has been counted
        self.next_due = 0.0  # wall time before which no draw is due
        self.last_cost = 0.0  # CPU seconds counted for the last draw
        self._before: tuple[tuple[float, float] | None, bool, float] = (None, True, 0.0)

    def due(self) -> bool:
        """Whether a draw may happen now (counting the last draw's cost first, once)."""
        now = self._clock()
        if not self._settled and self._began is not None:
            began_wall, began_cpu = self._began
            self.last_cost = max(self._cpu() - began_cpu, 0.0)
            self.next_due = began_wall + max(self.interval, self.last_cost / self.budget)
            self._settled = True
        return now >= self.next_due

    def drawing(self) -> None:
        """Note that a draw begins now (its cost is counted at the next ``due``)."""
        now = self._clock()
        self._before = (self._began, self._settled, self.next_due)
        self._began = (now, self._cpu())
        self._settled = False
        self.next_due = now + self.interval

    def cancel(self) -> None:
        """Take back the last ``drawing``: there was nothing new to draw after all."""
        self._began, self._settled, self.next_due = self._before

    def reset(self) -> None:
        """Forget the last draw: the next one is due at once (a new run, a page brought up)."""
        self._began, self._settled, self.next_due, self.last_cost = None, True, 0.0, 0.0
