"""How ``cnn-designer train`` ends on a signal: every catchable end is recorded in the run folder.

- Ctrl-C (SIGINT) during the batches stops after the current batch: the run ends "stopped" as
  usual (result.json says ``"stopped_by": "SIGINT"``).
- SIGTERM (``kill``, a job scheduler, the system shutting down), SIGHUP (the terminal closed),
  a second signal, or any signal during set-up end the run at once: result.json records status
  "stopped", the signal and what last.pt holds (where ``--resume`` continues). Stopping at once
  loses nothing a stop after the batch would keep: a checkpoint is written only at an epoch's
  end. A signal while an epoch's end is being recorded waits for that record.
- The process then exits with 128 + the signal's number (130, 143, 129), without a traceback;
  a further signal while it exits is ignored.

SIGKILL cannot be caught; the designer's own runner records such an end itself (see
``engine.training.runner``). Only this command's process installs these handlers: the runner's
training process keeps the default ones, so the designer can still end it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from typing import Any

ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class RunEnded(BaseException):
    """Raised in the main thread by a signal that ends the run at once (a BaseException, so
    that the trainer does not take it for a failure of the run)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


class SignalEnding:
    """The signal handlers of one training command (see the module's docstring)."""

    def __init__(self, trainer: Any, control: Any, say: Callable[[str], None]) -> None:
        self.trainer, self.control, self.say = trainer, control, say
        self.received: list[int] = []
        self.armed = False
        self._previous: dict[int, Any] = {}

    @property
    def exit_status(self) -> int:
        """128 + the first signal's number (0 when none came)."""
        return 128 + self.received[0] if self.received else 0

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set there; the default ones stay
        for number in ENDING_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        self.armed = True

    def restore(self) -> None:
        """Put the earlier handlers back, unless a signal asked this command to end: then a
        further one (Ctrl-C pressed twice) is ignored, so that the exit stays clean (Python
        puts back the default handlers, which would end the process, while it shuts down;
        ignored signals it leaves ignored)."""
        self.armed = False
        for number, previous in self._previous.items():
            with contextlib.suppress(ValueError, TypeError, OSError):
                signal.signal(number, signal.SIG_IGN if self.received else previous)
        self._previous.clear()

    def _handle(self, signum: int, _frame: Any) -> None:
        self.received.append(signum)
        if not self.armed:
            return
        name = signal.Signals(signum).name
        phase = getattr(self.trainer, "phase", "setup")
        first = len(self.received) == 1
        if phase == "finish":
            return  # the run is writing its own end
        if first and phase == "epoch_end":
            self.control.stop(name)
            self.say(f"\n{name}: stopping once this epoch's end is recorded")
            return
        if first and phase == "train" and signum == signal.SIGINT:
            self.control.stop(name)
            self.say("\nstopping after this batch (Ctrl-C again to end at once)")
            return
        # where the exception is dropped (raised inside a finalizer, which Python only
        # prints), the run still ends, after its batch, recording the same signal
        self.control.stop(name)
        raise RunEnded(signum)
