"""How many threads a run on the CPU computes with: the cores the rest of the machine leaves free.

PyTorch splits each CPU operation over ``torch.get_num_threads()`` threads (one per physical
core by default) and waits for the slowest of them. When other programs keep some of those
cores busy, a thread that loses its core holds up the others at every operation. Measured on a
2-core machine (LeNet-5 on Digits, batch 64, a plain loop): with one other process spinning,
4,400 img/s with two threads and 10,000 with one; with four, 760 and 3,200 (and the two-thread
epochs varied by a factor of six). On an idle machine two threads gave 13,700 and one 9,300.

``CoreShare`` looks at the machine once a second of training: the CPU time the cores this
process may run on spent busy (``/proc/stat``, steal time included: a core another virtual
machine holds is not free), less this process's own CPU time, is what the rest of the machine
used. The thread count becomes the cores that leaves free, rounded so that another program
needs more than half a core to take one away, never more than the count torch had when the
run began (``OMP_NUM_THREADS``, ``torch.set_num_threads`` and torchrun's one thread a process
are kept) and never fewer than one. It lowers the count at once and raises it only after two
looks in a row agree (a wrong low count costs about a third of the speed for two seconds; a
wrong high one, half or more). Where ``/proc/stat`` cannot be read (not Linux) it changes
nothing. The trainer calls ``restart`` after a pause: what the machine did while the run
waited says nothing about the training.
"""

from __future__ import annotations

import math
import os
import stat
import time
from collections.abc import Callable, Sequence

import torch

STAT_PATH = "/proc/stat"
LOOK_EVERY = 1.0  # seconds of training between two looks at the machine
RAISE_AFTER = 2  # looks in a row that must find more free cores before the count goes up
MAX_STAT_BYTES = 1 << 20  # /proc/stat is a few kB even with hundreds of cores
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user, nice, system, irq, softirq, steal (guest is in user)


def busy_seconds(text: str, cpus: Sequence[int], ticks_per_second: float) -> float | None:
    """Seconds the given CPUs spent busy since boot, from ``/proc/stat``'s text; None when a
    CPU's line is missing or unreadable."""
    wanted = {f"cpu{cpu}" for cpu in cpus}
    total, seen = 0, 0
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name not in wanted:
            continue
        fields = rest.split()
        try:
            total += sum(int(fields[i]) for i in BUSY_FIELDS if i < len(fields))
        except ValueError:
            return None
        seen += 1
    return total / ticks_per_second if seen == len(wanted) else None


def read_stat(path: str = STAT_PATH) -> str | None:
    """``/proc/stat``'s text (bounded), or None where it is missing or not a regular file."""
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            return handle.read(MAX_STAT_BYTES).decode("ascii", "replace")
    except OSError:
        return None


def usable_cpus() -> list[int]:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def fitting_threads(cpus: int, others: float, ceiling: int) -> int:
    """Threads for ``cpus`` cores of which other programs keep ``others`` busy (in cores): the
    free ones, a core counted as taken once others use more than half of it."""
    taken = max(0, math.ceil(others - 0.5))
    return max(1, min(ceiling, cpus - taken))


class CoreShare:
    """Fits torch's intra-op thread count to the free cores while a run trains on the CPU."""

    def __init__(
        self,
        *,
        read: Callable[[], str | None] = read_stat,
        cpus: Sequence[int] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        own_cpu: Callable[[], float] = time.process_time,
        set_threads: Callable[[int], None] = torch.set_num_threads,
        ceiling: int | None = None,
        look_every: float = LOOK_EVERY,
    ) -> None:
        self.cpus = list(cpus) if cpus is not None else usable_cpus()
        self.ceiling = ceiling if ceiling is not None else torch.get_num_threads()
        self.threads = self.ceiling
        self.others = 0.0  # cores the rest of the machine used at the last look
        self._read, self._clock, self._own_cpu = read, clock, own_cpu
        self._set_threads = set_threads
        self._look_every = look_every
        self._ticks = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
        self._higher = 0  # looks in a row that found more free cores
        self._mark = self._sample() if self.ceiling > 1 else None
        self.active = self._mark is not None

    def _sample(self) -> tuple[float, float, float] | None:
        text = self._read()
        busy = busy_seconds(text, self.cpus, self._ticks) if text is not None else None
        return None if busy is None else (self._clock(), self._own_cpu(), busy)

    def restart(self) -> None:
        """Start a new look from now (after a pause)."""
        self._mark = self._sample() if self.active else None

    def after_step(self) -> int:
        """Called after each training step: the thread count, changed once a second at most."""
        mark = self._mark
        if mark is None or self._clock() - mark[0] < self._look_every:
            return self.threads
        now = self._sample()
        if now is None:  # /proc/stat went away: leave the count as it is from here on
            self.active, self._mark = False, None
            return self.threads
        self._mark = now
        wall = now[0] - mark[0]
        self.others = max(0.0, ((now[2] - mark[2]) - (now[1] - mark[1])) / wall)
        want = fitting_threads(len(self.cpus), self.others, self.ceiling)
        self._higher = self._higher + 1 if want > self.threads else 0
        if want < self.threads or self._higher >= RAISE_AFTER:
            self.threads, self._higher = want, 0
            self._set_threads(want)
        return self.threads

    def close(self) -> None:
        """Give torch back the thread count it had when the run began."""
        if self.threads != self.ceiling:
            self.threads = self.ceiling
            self._set_threads(self.ceiling)
        self.active, self._mark = False, None
