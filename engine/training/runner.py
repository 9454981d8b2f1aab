"""Run training in a separate process, so that an exception, out-of-memory or a hang in training
never takes the caller (the designer window) down.

    handle = start_training(graph.to_data(), settings, run_root)
    ... every UI tick: for event in handle.poll_events(): ...
    handle.pause(); handle.resume(); handle.pause_after_epoch(); handle.stop(); handle.is_alive()

The child is started with the ``spawn`` method (no forked Qt or CUDA state), rebuilds the graph
from ``Graph.to_data()``, compiles it with ``compile_graph`` and sends every event through a
queue. If the child dies without a last ``Finished``/``Failed`` event (killed, crashed),
``poll_events`` reports a ``Failed`` event with its exit code.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.training.control import TrainingControl
from engine.training.events import TERMINAL, Event, Failed
from engine.training.settings import TrainingSettings


def _child(
    graph_data: dict[str, Any],
    settings: dict[str, Any],
    run_root: str | None,
    resume: str | None,
    events: Any,
    control: TrainingControl,
) -> None:
    """The training process: run the generator and forward every event."""
    try:
        from engine.training.trainer import train

        for event in train(graph_data, settings, run_root=run_root, resume=resume, control=control):
            events.put(event)
    except BaseException as error:  # the generator reports failures itself; this is a backstop
        events.put(
            Failed(f"training process failed: {type(error).__name__}: {error}", reason="crash")
        )
    finally:
        events.close()
        events.join_thread()


class TrainingHandle:
    """The caller's side of a training process."""

    def __init__(self, process: Any, events: Any, control: TrainingControl) -> None:
        self.process = process
        self._events = events
        self.control = control
        self.finished = False  # a Finished or Failed event was delivered
        self.last_event: Event | None = None

    def poll_events(self, max_events: int = 10_000, timeout: float = 0.0) -> list[Event]:
        """Events that arrived since the last call, without blocking (waits up to ``timeout``
        for the first one)."""
        found: list[Event] = []
        deadline = time.monotonic() + timeout
        while len(found) < max_events:
            try:
                wait = max(deadline - time.monotonic(), 0.0) if not found else 0.0
                event = self._events.get(timeout=wait) if wait > 0 else self._events.get_nowait()
            except (queue.Empty, OSError, EOFError):
                break
            found.append(event)
            if isinstance(event, TERMINAL):
                self.finished = True
        if not found and not self.finished and not self.process.is_alive():
            # drain once more: the last events may have landed just before the exit
            try:
                found.append(self._events.get(timeout=0.5))
                if isinstance(found[-1], TERMINAL):
                    self.finished = True
            except (queue.Empty, OSError, EOFError):
                self.finished = True
                found.append(
                    Failed(
                        f"the training process ended unexpectedly (exit code {self.process.exitcode}); "
                        "it may have run out of memory: try a smaller batch size",
                        reason="crash",
                    )
                )
        if found:
            self.last_event = found[-1]
        return found

    def stop(self) -> None:
        """Ask the run to stop after the current batch (it then sends Finished "stopped")."""
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def pause_after_epoch(self) -> None:
        """Ask the run to pause between the current epoch and the next (see TrainingControl)."""
        self.control.pause_after_epoch()

    def set_view(self, **changes: Any) -> None:
        """Choose what snapshots show (``feature_layer``, ``feature_image``, ``filter_layers``)."""
        self.control.set_view(**changes)

    def is_alive(self) -> bool:
        return bool(self.process.is_alive())

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the process to end; True when it has."""
        self.process.join(timeout)
        return not self.process.is_alive()

    def kill(self) -> None:
        """End a process that does not respond to ``stop`` (e.g. hung inside an operation)."""
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)

    def shutdown(self, grace: float = 5.0) -> None:
        """Stop, wait up to ``grace`` seconds, then kill if needed."""
        self.stop()
        if not self.join(grace):
            self.kill()


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Keep the spawned child from re-running the caller's ``__main__`` (``python -m designer``
    would open a second window): the child needs only engine modules, which it imports by name."""
    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__spec__", "__file__") if hasattr(main, k)}
    try:
        if main is not None:
            main.__spec__ = None
            if hasattr(main, "__file__"):
                del main.__file__
        yield
    finally:
        for key, value in saved.items():
            setattr(main, key, value)


def start_training(
    graph_data: dict[str, Any],
    settings: TrainingSettings | dict[str, Any] | None = None,
    run_root: str | Path | None = None,
    resume: str | Path | None = None,
) -> TrainingHandle:
    """Start a training process and return its handle at once (the child needs a few seconds
    to import torch before its first event)."""
    if isinstance(settings, TrainingSettings):
        settings = settings.to_dict()
    else:
        settings = TrainingSettings.from_dict(settings).to_dict()  # fail early, in the caller
    context = mp.get_context("spawn")
    events = context.Queue()
    control = TrainingControl(context)
    process = context.Process(
        target=_child,
        args=(
            graph_data,
            settings,
            str(run_root) if run_root else None,
            str(resume) if resume else None,
            events,
            control,
        ),
        name="cnn-designer-training",
        daemon=True,
    )
    with _main_module_hidden():
        process.start()
    return TrainingHandle(process, events, control)
