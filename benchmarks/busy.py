"""Busy processes that compete for the cores, as other programs do on a shared desktop.

``busy_processes(4, seconds=300)`` starts four processes that each spin a pure-Python loop (one
core each when they get it) and stops them when the block ends, or by themselves after
``seconds``, whichever comes first, or as soon as the process that started them has gone: they
never outlive a benchmark that fails, hangs or is killed by more than a few milliseconds.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Iterator
from typing import Any

CHECK_EVERY = 100_000  # loop turns between looks at the clock and the stop flag (a few ms)


def spin(seconds: float, stop: Any) -> None:
    """Keep one core busy in pure Python until ``stop`` is set, ``seconds`` have passed or the
    parent process has gone."""
    deadline = time.monotonic() + seconds
    parent = os.getppid()
    turns = 0
    while True:
        turns += 1
        if turns % CHECK_EVERY == 0 and (
            time.monotonic() > deadline or stop.is_set() or os.getppid() != parent
        ):
            return


@contextlib.contextmanager
def busy_processes(count: int, seconds: float) -> Iterator[list[Any]]:
    """Run ``count`` spinning processes during the block (each for at most ``seconds``)."""
    context = multiprocessing.get_context("spawn")  # nothing of this process (Qt, torch) inherited
    stop = context.Event()
    processes = [
        context.Process(target=spin, args=(seconds, stop), name=f"busy-{i}", daemon=True)
        for i in range(count)
    ]
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        stop.set()
        for process in processes:
            if process.pid is not None:
                process.join(timeout=2)
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=2)
