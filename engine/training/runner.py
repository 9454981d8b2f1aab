"""Run training in a separate process, so that an exception, out-of-memory or a hang in training
never takes the caller (the designer window) down.

    handle = start_training(graph.to_data(), settings, run_root)
    ... every UI tick: for event in handle.poll_events(): ...
    handle.pause(); handle.resume(); handle.pause_after_epoch(); handle.stop(); handle.is_alive()

The child is started with the ``spawn`` method (no forked Qt or CUDA state), rebuilds the graph
from ``Graph.to_data()``, compiles it with ``compile_graph`` and sends every event through a
queue. A reader thread takes them off the queue at once into a ``Mailbox``, where those the
window has not taken yet are merged (steps into one step, snapshots into the newest), so the
training process never waits for the window and nothing queues without bound; the child takes
no new snapshot while the last one has not been handed to the window. If the child dies without a last ``Finished``/``Failed`` event (killed, crashed),
``poll_events`` reports a ``Failed`` event with its exit code (or the reason the caller gave
``kill``), and the caller writes the run folder's result.json the child could not write, so the
run is not listed as "running" for ever.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from engine.training.control import TrainingControl
from engine.training.events import TERMINAL, EpochEnd, Event, Failed, RunStarted, Snapshot, Step
from engine.training.mailbox import Mailbox
from engine.training.settings import TrainingSettings

ORPHAN_GRACE = 30.0  # seconds an orphaned run has to record its stop before its process ends


def _child(
    graph_data: dict[str, Any],
    settings: dict[str, Any],
    run_root: str | None,
    resume: str | None,
    events: Any,
    control: TrainingControl,
) -> None:
    """The training process: run the generator and forward every event."""
    orphaned = threading.Event()
    threading.Thread(
        target=_watch_parent, args=(control, orphaned), name="parent-watch", daemon=True
    ).start()
    try:
        from engine.training.trainer import train

        for event in train(graph_data, settings, run_root=run_root, resume=resume, control=control):
            if isinstance(event, Snapshot):
                control.snapshot_sent()  # no other is taken until the window has this one
            events.put(event)  # never blocks: the queue's feeder thread writes the pipe
    except BaseException as error:  # the generator reports failures itself; this is a backstop
        events.put(
            Failed(f"training process failed: {type(error).__name__}: {error}", reason="crash")
        )
    finally:
        events.close()
        if orphaned.is_set():  # nobody reads the queue any more: its last events are dropped
            events.cancel_join_thread()
        else:
            events.join_thread()


def _watch_parent(control: TrainingControl, orphaned: threading.Event) -> None:
    """(A thread of the training process) when the process that started the run ends without
    stopping it (the window killed, or crashed), stop the run as Stop does, so that it records
    its end ("stopped") and the process exits instead of training, then waiting, for ever on a
    queue nobody reads; a run that has not ended ``ORPHAN_GRACE`` seconds later is ended."""
    parent = mp.parent_process()
    if parent is None:
        return
    wait([parent.sentinel])
    orphaned.set()
    control.stop("the process that started the run ended")
    time.sleep(ORPHAN_GRACE)
    os._exit(3)


def _forward(events: Any, inbox: Mailbox) -> None:
    """Move events from the process's queue to ``inbox`` until the queue is closed or broken."""
    while True:
        try:
            inbox.put(events.get())
        except (OSError, EOFError, ValueError):  # closed, or the process's end of it is gone
            return


class TrainingHandle:
    """The caller's side of a training process."""

    def __init__(self, process: Any, events: Any, control: TrainingControl) -> None:
        self.process = process
        self.control = control
        # A thread reads the process's queue into this one: a process killed halfway through
        # sending an event leaves a partial message, and reading that blocks for ever (this
        # side holds the pipe's other end too), which must not happen on the caller's thread.
        # The thread never waits for the caller either: what the caller has not taken is merged.
        self._inbox = Mailbox(on_merged_snapshot=control.snapshot_delivered)
        threading.Thread(
            target=_forward, args=(events, self._inbox), name="training-events", daemon=True
        ).start()
        self.finished = False  # a Finished or Failed event was delivered
        self.last_event: Event | None = None
        self.run_dir: str | None = None  # from the RunStarted event
        self.kill_reason: str | None = None  # why the caller killed the process, if it did
        self._epochs_done = 0  # the last epoch whose end (and checkpoint) was reported
        self._epoch_step = 0  # the step of that epoch's end
        self._step = 0  # the last step reported

    def poll_events(self, max_events: int = 10_000, timeout: float = 0.0) -> list[Event]:
        """Events that arrived since the last call, without blocking (waits up to ``timeout``
        for the first one)."""
        found = [self._note(event) for event in self._inbox.take(max_events, timeout)]
        if not found and not self.finished and not self.process.is_alive():
            # drain once more: the last events may have landed just before the exit
            found = [self._note(event) for event in self._inbox.take(max_events, 0.5)]
            if not found:
                self.finished = True
                found.append(self._died())
        if found:
            self.last_event = found[-1]
        return found

    @property
    def mailbox(self) -> Mailbox:
        """The events waiting for ``poll_events`` (with counts of what was merged)."""
        return self._inbox

    def _note(self, event: Event) -> Event:
        """Keep what the caller needs to record the run's end itself."""
        if isinstance(event, Snapshot):
            self.control.snapshot_delivered()  # the process may take the next one
        if isinstance(event, RunStarted):
            self.run_dir = event.run_dir
        elif isinstance(event, Step):
            self._step = event.step
        elif isinstance(event, EpochEnd):
            self._epochs_done, self._epoch_step = event.epoch, event.step
            self._step = max(self._step, event.step)
        elif isinstance(event, TERMINAL):
            self.finished = True
            if isinstance(event, Failed):  # the trainer wrote result.json; a backstop did not
                self._record_end("failed", event.reason, event.message)
        return event

    def _died(self) -> Failed:
        """The Failed event of a process that ended without one (killed, crashed)."""
        code = self.process.exitcode
        if self.kill_reason is not None:
            message = f"{self.kill_reason} (exit code {code})"
            status, reason = "killed", "killed"
        else:
            how = f"exit code {code}"
            if isinstance(code, int) and code < 0:
                with contextlib.suppress(ValueError):
                    how = f"killed by {signal.Signals(-code).name}, exit code {code}"
            message = (
                f"the training process ended unexpectedly ({how}); "
                "it may have run out of memory: try a smaller batch size"
            )
            status, reason = "crashed", "crash"
        if self._epochs_done and self.run_dir is not None:
            message += (
                f". The run folder keeps the checkpoint of epoch {self._epochs_done} "
                f"(step {self._epoch_step})"
            )
        problem = self._record_end(status, reason, message)
        return Failed(message, self._step or None, reason, problem, self.run_dir)

    def _record_end(self, status: str, reason: str, message: str) -> str:
        """Write result.json for a run whose process ended without writing it; returns a
        problem text when that fails (the run folder may be gone or read-only)."""
        if self.run_dir is None:
            return ""
        path = Path(self.run_dir) / "result.json"
        try:
            if path.exists():  # the child recorded its end itself
                return ""
            from engine.training import runs

            records = runs.read_metrics(self.run_dir)
            vals = [r["val_accuracy"] for r in records if r.get("val_accuracy") is not None]
            trains = [r["train_accuracy"] for r in records if r.get("train_accuracy") is not None]
            best: dict[str, Any] = {"best_val_accuracy": max(vals) if vals else None}
            if not vals and trains:  # no validation split: the figure is a training accuracy
                best["best_train_accuracy"] = max(trains)
            runs.write_json(
                path,
                {
                    "status": status,
                    "reason": reason,
                    "message": message,
                    "exit_code": self.process.exitcode,
                    "step": self._step,
                    "epochs_done": self._epochs_done,
                    **best,
                    "final_val_accuracy": vals[-1] if vals else None,
                    "recorded_by": "designer",  # the training process could not write it
                },
            )
        except OSError as error:
            return f"{path}: the end of the run could not be recorded ({error})"
        return ""

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

    def kill(self, reason: str | None = None) -> None:
        """End a process that does not respond to ``stop`` (e.g. hung inside an operation).

        ``reason`` says why the caller ends it (e.g. "the training process did not answer Stop
        within 15 s, so the designer ended it"): the Failed event then gives it instead of
        guessing at a crash, and the run folder's result.json has status "killed"."""
        if self.process.is_alive():
            if reason is not None and not self.finished:
                self.kill_reason = reason
            self.process.kill()
            self.process.join(5)

    def shutdown(self, grace: float = 5.0) -> None:
        """Stop, wait up to ``grace`` seconds, then kill if needed (and record the run's end)."""
        self.stop()
        if self.join(grace):
            return
        self.kill(f"the training process did not stop within {grace:g} s, so it was ended")
        for _ in range(100):  # take the events left, then note the end in the run folder
            if self.finished or self.process.is_alive():
                break
            self.poll_events()


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
