"""A signal's request to end a sweep or a repeat, taken where ending is safe.

Raising ``KeyboardInterrupt`` from a signal handler ends Python code wherever it happens to be.
Two places lose the stop: inside an Optuna storage write (the trial is left RUNNING and Optuna
fails with "Should not reach"), and inside a finalizer or weakref callback, where Python prints
"Exception ignored" and goes on training. Both were seen under load.

So the command's handler only calls ``request``: the run training now is stopped after its
current batch (``TrainingControl.stop``, which records the signal in result.json), and the sweep
or repeat raises ``Interrupted`` at its own checkpoints (``raise_if_requested``), never in the
middle of a write. A second signal, for a run stuck where it never reaches a batch, may still
be raised at once by the caller.
"""

from __future__ import annotations

from typing import Any


class Interrupted(KeyboardInterrupt):
    """A signal ended the sweep or repeat (a KeyboardInterrupt, so Optuna marks the trial
    FAIL)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class StopRequest:
    """The first ending signal's name, and the run it stops (set with ``watch``)."""

    def __init__(self) -> None:
        self.name: str | None = None
        self._control: Any = None

    @property
    def requested(self) -> bool:
        return self.name is not None

    def request(self, name: str) -> None:
        """Ask for the end (from a signal handler: sets flags only, never raises)."""
        if self.name is None:
            self.name = name
        if self._control is not None:
            self._control.stop(self.name)

    def watch(self, control: Any) -> None:
        """The ``TrainingControl`` of the run now training (None when it has ended); a stop
        asked before it started reaches it at once."""
        self._control = control
        if control is not None and self.name is not None:
            control.stop(self.name)

    def raise_if_requested(self) -> None:
        """Raise Interrupted when a stop was asked (call where no write is under way)."""
        if self.name is not None:
            raise Interrupted(self.name)
