"""The trainer: a Qt-free generator of plain-data events around a real PyTorch training loop.

    for event in train(graph, settings, run_root="runs"):
        ...  # RunStarted, Step, Snapshot, EpochEnd, ..., then Finished or Failed

It never raises for a failing run: setup problems, a NaN loss, an exception inside the model or
out-of-memory end in a ``Failed`` event (and result.json) while the last good checkpoint stays.
A failure's message and its ``step`` (in the event and result.json) name the same step: "at
step N" for a failure inside step N, "after step N" for one between steps (at an epoch's end).

The run folder is written only once the run has started in it (set-up done): a refused resume
("already trained for N epochs", another graph or data set) leaves the folder as it was.

Resuming (``resume``: a run folder, continued in place, or a checkpoint file, continued in a new
folder) continues the same training: the graph (blocks, parameters, connections), the data set
and its split (data.dataset, data.root of an imagefolder, data.limit, data.val_split, seed),
input conversion (data.channels, data.resize), data.normalize and the loss must be the run's,
else the resume is refused naming what differs. The number of epochs (above those done),
learning rate, optimiser (its state starts afresh when it changes), momentum, weight decay,
schedule, batch size, augmentation and device may change; the run's settings.json keeps each
session's settings under "sessions".

Under torchrun every process stops together: set-up, each epoch's records and the run's end are
agreed between the processes (a failure on one, e.g. rank 0 unable to create the run folder or
write a checkpoint, stops all with its message); a failure inside a step on one process makes it
leave the group, so the others stop too instead of waiting (see ``engine.training.distributed``).
A stop request is taken by all processes together, at the next 10-step report or epoch end.

A model with BatchNorm over one value per channel (after Flatten or a 1×1 map) cannot train on a
batch of one sample: when the training set leaves a last batch of 1, that batch is skipped each
epoch (the run says so in a note); a batch size of 1 is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import sys
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import torch

from engine.compiler import compile_graph
from engine.data import DataFormatError
from engine.errors import DesignerError
from engine.graph import Graph
from engine.inference import InferenceResult, infer
from engine.training import distributed, runs
from engine.training.control import TrainingControl
from engine.training.data_setup import prepare_data
from engine.training.distributed import (
    DistContext,
    RankFailure,
    all_sum,
    any_flag,
    any_flags,
    replica_spread,
)
from engine.training.evaluation import evaluate
from engine.training.events import (
    EpochEnd,
    Event,
    Failed,
    Finished,
    Paused,
    Resumed,
    RunStarted,
    Step,
)
from engine.training.model import (
    TrainingError,
    check_classes,
    choose_device,
    device_label,
    graph_from_data,
    input_node,
    layer_names,
    loss_function,
    make_optimizer,
)
from engine.training.schedule import lr_at
from engine.training.settings import TrainingSettings
from engine.training.snapshots import SnapshotTaker

T = TypeVar("T")

# settings whose change a resumed run notes (what a resume may not change is refused, see
# runs.KEPT_ON_RESUME; epochs and what the dashboard shows are left out)
NOTED_ON_RESUME = (
    "batch_size",
    "optimizer",
    "lr",
    "momentum",
    "nesterov",
    "weight_decay",
    "schedule",
    "step_epochs",
    "gamma",
    "data.crop_padding",
    "data.flip",
)

# how long a process that failed alone waits for rank 0 to report its message
SEEN_WAIT_SECONDS = 30.0


class NonFiniteLossError(Exception):
    """The loss became NaN or infinite (turned into a Failed event)."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


class RecordError(TrainingError):
    """The run folder could not be written during training (a full disk, a removed folder)."""


class PeerFailedError(Exception):
    """Another process of the group failed: this one stops with its message."""

    def __init__(self, failure: RankFailure) -> None:
        super().__init__(failure.shared_message())
        self.failure = failure


def train(
    graph: Graph | dict[str, Any],
    settings: TrainingSettings | dict[str, Any] | None = None,
    *,
    run_root: str | Path | None = None,
    resume: str | Path | None = None,
    control: TrainingControl | None = None,
    dist: DistContext | None = None,
    snapshots: bool = True,
) -> Iterator[Event]:
    """Train ``graph``; yields events. ``run_root``: where the run folder goes (None: no files).
    ``resume``: a run folder or checkpoint to continue (in that folder when it is one)."""
    trainer = Trainer(
        graph,
        settings,
        run_root=run_root,
        resume=resume,
        control=control,
        dist=dist,
        snapshots=snapshots,
    )
    return trainer.run()


class Trainer:
    """One run's state; ``run()`` is the event generator. Tests may call ``setup`` and
    ``train_step``/``validate`` directly."""

    model: torch.nn.Module  # what trains: the compiled module, or its DistributedDataParallel

    def __init__(
        self,
        graph: Graph | dict[str, Any],
        settings: TrainingSettings | dict[str, Any] | None = None,
        *,
        run_root: str | Path | None = None,
        resume: str | Path | None = None,
        control: TrainingControl | None = None,
        dist: DistContext | None = None,
        snapshots: bool = True,
    ) -> None:
        self.graph = graph_from_data(graph) if isinstance(graph, dict) else graph
        if settings is None or isinstance(settings, dict):
            settings = TrainingSettings.from_dict(settings)
        self.s = settings
        self.run_root, self.resume_from = run_root, resume
        self.control = control
        self.dist = dist or DistContext()
        self.want_snapshots = snapshots and self.dist.is_main
        self.run_dir: Path | None = None  # set once the run has started in it (rank 0)
        self.resume_dir: Path | None = None  # the run folder a resume continues in
        self.resumed_settings: dict[str, Any] | None = None
        self.step = 0
        self.start_epoch = 0
        self.epochs_done = 0
        self.saved: tuple[int, int] | None = None  # (epoch, step) that last.pt in run_dir holds
        self.best: float | None = None
        self.last_val: float | None = None
        self.notes: list[str] = []
        self.phase = "setup"  # "setup", "train" (between steps), "epoch_end", "finish"
        self.in_step = False  # inside a training step (self.step + 1 is the step running)
        self.stop_agreed = False  # every process takes a stop request together
        self.together = False  # the run ended at a point every process reached (distributed)
        self.watch: distributed.FailureWatch | None = None  # rank 0, while training

    # ---- set-up -------------------------------------------------------------------------
    def setup(self) -> RunStarted:
        """Set the run up; raises (on every process alike) when it cannot start. Only then is
        the run folder created or, for a resume, changed."""
        self.phase = "setup"
        started = self._agreed(self._prepare)
        started = self._agreed(lambda: self._open_run_folder(started))
        if self.dist.active:
            from torch.nn.parallel import DistributedDataParallel

            if self.dist.is_main:  # from here on a process may fail alone (see run)
                self.watch = distributed.FailureWatch(self.dist, self._report_posted_failure)
                self.watch.start()
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.module, device_ids=ids)
        return started

    def _prepare(self) -> RunStarted:
        """Everything that may fail before the run starts; changes no file."""
        s = self.s
        node_name, input_shape = input_node(self.graph)
        result = infer(self.graph)
        state = None if self.resume_from is None else self._check_resume(self.resume_from)
        self.device = choose_device(s.device)
        if self.dist.active and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        torch.manual_seed(s.seed)
        d = self.dist
        data = prepare_data(s, input_shape, node_name, self.device, d)
        self.notes += data.notes
        self.classes = data.classes
        if not (verdict := check_classes(self.graph, result, len(data.classes))).ok:
            raise TrainingError(verdict.message)
        self.train_split, self.val_split = data.train, data.val
        self.loader, self.val_loader = data.loader, data.val_loader
        self.mean, self.std = data.mean, data.std
        self.module = compile_graph(self.graph, result).to(self.device)
        self.model = self.module  # DistributedDataParallel once set-up is agreed
        self.optimizer = make_optimizer(self.module, s)
        self.loss_fn = loss_function(s.loss, len(self.classes))
        self.amp = s.mixed_precision and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if self.amp else None
        if self.resume_from is not None and state is not None:
            self._load(self.resume_from, state)
        self.steps_per_epoch = self._batches_per_epoch(result)
        self.total_steps = self.steps_per_epoch * s.epochs
        leaves, convs, relus = layer_names(self.module)
        self.snap = None
        if self.want_snapshots:
            self.snap = SnapshotTaker(
                self.module,
                convs,
                relus,
                self._feature_source,
                s.snapshot_budget,
                feature_layer=s.feature_layer if s.feature_layer in leaves else None,
                feature_image=s.feature_image,
            )
        return RunStarted(
            run_dir=None,
            device=device_label(self.device),
            dataset=data.name,
            classes=tuple(self.classes),
            input_shape=tuple(input_shape),
            train_size=len(self.train_split),
            val_size=len(self.val_split) if self.val_split is not None else 0,
            epochs=s.epochs,
            start_epoch=self.start_epoch,
            steps_per_epoch=self.steps_per_epoch,
            total_steps=self.total_steps,
            batch_size=s.batch_size,
            global_batch_size=s.batch_size * d.world_size,
            world_size=d.world_size,
            lr=s.lr,
            param_count=sum(p.numel() for p in self.module.parameters()),
            settings=s.to_dict(),
            conv_layers=tuple(convs),
            relu_layers=tuple(relus),
            layers=tuple(leaves),
            notes=tuple(self.notes),
        )

    def _batches_per_epoch(self, result: InferenceResult) -> int:
        """The batches trained per epoch: all, but a last batch of one sample when a BatchNorm
        layer sees one value per channel (it cannot train on a single sample)."""
        batches = len(self.loader)
        single = [
            node.name
            for node in self.graph.nodes_of_type("batchnorm")
            if (shape := next(iter(result.nodes[node.name].inputs), None)) is not None
            and math.prod(shape[1:]) == 1
        ]
        if not single:
            return batches
        names = ", ".join(single)
        count, size = self.loader.sample_count(), self.s.batch_size
        where = " per process" if self.dist.active else ""
        if count < 2:
            raise TrainingError(
                f"BatchNorm ({names}) needs batches of at least 2 samples to train, but the "
                f"training split has {count} sample{where}: use more data (data.limit, "
                "data.val_split)"
            )
        if size < 2:
            raise TrainingError(
                f"BatchNorm ({names}) normalises over the batch and cannot train on batches of "
                "1 sample: set batch_size to 2 or more"
            )
        if count % size == 1:
            self.notes.append(
                f"{count} training samples{where} in batches of {size} leave a last batch of 1 "
                f"sample, on which BatchNorm ({names}) cannot train: that batch is skipped in "
                "each epoch (a different sample each time, as the order is shuffled). Choose a "
                "batch size that leaves no single sample over to use them all"
            )
            return batches - 1
        return batches

    def _open_run_folder(self, started: RunStarted) -> RunStarted:
        """Rank 0 starts the run's record: a new run folder, or the resumed one (its settings,
        metrics past its checkpoint and earlier result). Raises TrainingError saying why not."""
        if not self.dist.is_main:
            return started
        if self.resume_dir is not None:
            return self._reopen(self.resume_dir, started)
        if self.run_root is None:
            return started
        path = runs.new_run_dir(self.run_root)
        self.run_dir = path
        started = dataclasses.replace(started, run_dir=str(path))
        self._write(path, "settings.json", self._settings_record(started))
        self._write(path, "graph.json", self.graph.to_data())
        return started

    def _reopen(self, path: Path, started: RunStarted) -> RunStarted:
        """Continue the record of the run in ``path`` (a resume in place)."""
        started = dataclasses.replace(started, run_dir=str(path))
        earlier: list[str] = []
        record = runs._read_json(path / "settings.json", earlier) or {}
        sessions = record.get("sessions")
        if not isinstance(sessions, list):
            first = record.get("settings")
            first = first if isinstance(first, dict) else self.resumed_settings
            sessions = [{"start_epoch": 0, "settings": first}] if first else []
        sessions = [*sessions, {"start_epoch": self.start_epoch, "settings": self.s.to_dict()}]
        self._write(path, "settings.json", {**self._settings_record(started), "sessions": sessions})
        self.run_dir = path  # the run has started in it: its end will be recorded there
        try:
            dropped = runs.trim_metrics(path, self.start_epoch)
        except OSError as error:
            raise self._write_error(path, "metrics.jsonl", error) from error
        if dropped:
            note = (
                f"metrics.jsonl: {dropped} line(s) past the checkpoint (epoch "
                f"{self.start_epoch}) removed; those epochs are trained again"
            )
            started = dataclasses.replace(started, notes=(*started.notes, note))
        # the folder holds the result of its earlier session: the run is going again, and a
        # process that dies now must not leave that old status behind
        with contextlib.suppress(OSError):
            (path / "result.json").unlink(missing_ok=True)
        return started

    def _settings_record(self, started: RunStarted) -> dict[str, Any]:
        facts = {k: v for k, v in vars(started).items() if k not in ("settings", "layers")}
        return {"settings": self.s.to_dict(), "run": facts}

    def _write(self, folder: Path, name: str, data: dict[str, Any]) -> None:
        try:
            runs.write_json(folder / name, data)
        except OSError as error:
            raise self._write_error(folder, name, error) from error

    def _write_error(self, folder: Path, name: str, error: BaseException) -> TrainingError:
        other = (
            "resume a copy of the run folder"
            if folder == self.resume_dir
            else "choose another folder for the runs (--out DIR)"
        )
        return TrainingError(
            f"run folder {folder}: cannot write {name} ({_first_line(error)}). Make the folder "
            f"writable or free some disk space, or {other}"
        )

    def _check_resume(self, source: str | Path) -> dict[str, Any]:
        """Read the checkpoint to resume and refuse one this session cannot continue (before
        any data is loaded); changes no file (the run folder is taken over in
        ``_open_run_folder``, once the run starts)."""
        state = runs.load_checkpoint(source)
        run_settings = state.get("settings")
        conflicts = runs.resume_conflicts(
            run_settings, state.get("graph"), self.s.to_dict(), self.graph.to_data()
        )
        if conflicts:
            listed = "; ".join(conflicts[:6])
            if len(conflicts) > 6:
                listed += f"; and {len(conflicts) - 6} more"
            raise TrainingError(
                f"cannot resume {source}: this session differs from the run in what a resumed "
                f"run keeps ({listed}). Start a new run to train this (leave out --resume), or "
                "resume with the run's graph and settings"
            )
        epoch = int(state["epoch"])
        if epoch >= self.s.epochs:
            raise TrainingError(
                f"checkpoint {source}: already trained for {epoch} epochs. Set epochs above {epoch} to train on"
            )
        return state

    def _load(self, source: str | Path, state: dict[str, Any]) -> None:
        """Continue from the checkpoint ``state`` read from ``source`` (see ``_check_resume``)."""
        run_settings = state.get("settings")
        epoch = int(state["epoch"])
        try:
            self.module.load_state_dict(state["model"])
        except RuntimeError as error:
            raise TrainingError(
                f"checkpoint {source}: its weights do not fit this graph ({error})"
            ) from error
        if isinstance(run_settings, dict):
            self.resumed_settings = run_settings
            changed = _changes(run_settings, self.s.to_dict())
            if changed:
                self.notes.append(f"resumed at epoch {epoch} with changed settings: {changed}")
        if (run_settings or {}).get("optimizer") == self.s.optimizer:
            self.optimizer.load_state_dict(state["optimizer"])
        else:
            self.notes.append(f"optimizer changed to {self.s.optimizer}: its state starts afresh")
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.start_epoch = self.epochs_done = epoch
        self.step = int(state["step"])
        self.best = state.get("best_val_accuracy")
        path = Path(source).expanduser()
        if path.is_dir():
            self.resume_dir = path
            self.saved = (epoch, self.step)

    def _feature_source(self, index: int) -> tuple[torch.Tensor, Any, int]:
        split = self.val_split if self.val_split is not None else self.train_split
        i = index % len(split)
        images = split.images[i : i + 1]
        return self.loader.normalize(images), images[0].cpu().numpy(), int(split.labels[i])

    def _autocast(self) -> Any:
        if self.amp:
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    # ---- agreement between processes -------------------------------------------------------
    def _agreed(self, work: Callable[[], T]) -> T:
        """``work()``, which may fail on this process only; under torchrun every process then
        learns whether any failed, and all raise together (with the first failure's message)."""
        error: Exception | None = None
        value: Any = None
        try:
            value = work()
        except Exception as caught:
            error = caught
        if not self.dist.active:
            if error is not None:
                raise error
            return value  # type: ignore[no-any-return]
        mine = None
        if error is not None:
            message, reason, step = self._describe(error)
            mine = RankFailure(self.dist.rank, message, reason, step)
        first = distributed.agree(mine, self.dist)
        if first is None:
            return value  # type: ignore[no-any-return]
        self.together = True
        if first.rank == self.dist.rank and error is not None:
            raise error
        raise PeerFailedError(first)

    # ---- one step and validation ----------------------------------------------------------
    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, lr: float, snap: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, backward and update on one batch (model in train mode); returns (loss, correct)."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if snap:
            self.snap.before_forward()  # type: ignore[union-attr]
        with self._autocast():
            out = self.model(x)
            loss = self.loss_fn(out.float(), y)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if snap:
                self.scaler.unscale_(self.optimizer)
                self.snap.after_backward()  # type: ignore[union-attr]
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if snap:
                self.snap.after_backward()  # type: ignore[union-attr]
            self.optimizer.step()
        return loss.detach(), (out.detach().argmax(1) == y).sum()

    def validate(self) -> Any:
        """Evaluation-mode pass over the validation split (None without one)."""
        if self.val_loader is None:
            return None
        autocast = torch.autocast("cuda", dtype=torch.float16) if self.amp else None
        return evaluate(
            self.module,
            self.val_loader,
            self.loss_fn,
            len(self.classes),
            misclassified=self.s.misclassified if self.dist.is_main else 0,
            autocast=autocast,
            ctx=self.dist,
        )

    # ---- the event generator --------------------------------------------------------------
    def run(self) -> Iterator[Event]:
        began = time.perf_counter()
        try:
            yield self.setup()
            yield from self._loop(began)
        except Exception as error:
            self._stop_watch()  # this process reports its failure itself
            alone = self.dist.active and not self.together
            if alone:  # failed where the other processes are not: they must not wait for it
                error = self._leave_group(error)
            message, reason, step = self._describe(error)
            yield self._fail(message, reason, step, error)
            if alone:  # the Failed event was taken (rank 0 has printed it)
                self._after_leaving(message, own=not isinstance(error, PeerFailedError))
        finally:
            self._stop_watch()
            if self.dist.active and not self.together:
                distributed.abort()  # ended in no agreed place (e.g. interrupted): no barrier

    def _stop_watch(self) -> None:
        if self.watch is not None:
            self.watch.stop()
            self.watch = None

    def _report_posted_failure(self, failure: RankFailure) -> None:
        """(Rank 0's FailureWatch thread) another process failed alone while this one waits in
        a collective that cannot complete: record the failure and say it, as this process ends
        without returning to its caller."""
        step = failure.step if failure.step is not None else self.step
        message = self._record_failure(failure.shared_message(), failure.reason, step)
        print(f"cnn-designer: error: {message}", file=sys.stderr, flush=True)

    def _leave_group(self, error: Exception) -> Exception:
        """This process failed where its peers may wait for it in a collective: learn whether a
        peer failed first (this failure then is its consequence), else post this failure; then
        leave the group, so the peers' collectives fail instead of waiting."""
        peer = distributed.posted_failure(self.dist)
        if peer is not None and not isinstance(error, PeerFailedError):
            error = PeerFailedError(peer)
        elif not isinstance(error, PeerFailedError):
            message, reason, step = self._describe(error)
            distributed.post_failure(RankFailure(self.dist.rank, message, reason, step))
        distributed.abort()
        return error

    def _after_leaving(self, message: str, own: bool) -> None:
        """Rank 0 has reported the failure; another process that failed alone waits until it
        has (or prints its message itself), as torchrun ends the others when one exits."""
        if self.dist.is_main:
            distributed.mark_failure_seen()
        elif not distributed.wait_until_failure_seen(SEEN_WAIT_SECONDS) and own:
            # rank 0 did not report it (it may wait in a collective that never fails): say it here
            print(f"cnn-designer: error: process {self.dist.rank}: {message}", file=sys.stderr)

    def _describe(self, error: BaseException) -> tuple[str, str, int]:
        """A failure's message, reason and step (the step its message names)."""
        running = self.step + 1 if self.in_step else self.step  # the step the failure is in
        if isinstance(error, PeerFailedError):
            failure = error.failure
            step = failure.step if failure.step is not None else running
            return failure.shared_message(), failure.reason, step
        if isinstance(error, NonFiniteLossError):
            return str(error), "nan", error.step
        if isinstance(error, RecordError):
            return str(error), "error", self.step
        if isinstance(error, DesignerError | DataFormatError):
            return str(error), "setup" if self.phase == "setup" else "error", running
        what = f"{type(error).__name__}: {error}"
        if self.phase == "setup":
            where = "before the first step"
        elif self.in_step:
            where = f"at step {running}"
        elif self.phase == "epoch_end":
            where = f"after step {running}, at the end of epoch {self.epochs_done + 1}"
        else:
            where = f"after step {running}"
        if isinstance(error, torch.OutOfMemoryError):
            return (
                f"out of memory {where}: lower the batch size or use a smaller network ({error})",
                "error",
                running,
            )
        if self.phase == "setup":
            return f"training could not start: {what}", "error", running
        return f"training failed {where}: {what}", "error", running

    @property
    def has_validation(self) -> bool:
        """Whether accuracies are measured on a validation split (else ``best`` is the best
        training accuracy: val_split 0)."""
        return getattr(self, "val_loader", None) is not None

    def best_accuracies(self) -> dict[str, float | None]:
        """The best accuracy under its true name, for result.json and the Finished event:
        without a validation split it is a training accuracy, never called a validation one."""
        if self.has_validation or self.best is None:
            return {"best_val_accuracy": self.best}
        return {"best_val_accuracy": None, "best_train_accuracy": self.best}

    def _checkpoint_record(self) -> dict[str, int] | None:
        """The epoch and step that last.pt holds (where a resume continues)."""
        if self.saved is None:
            return None
        return {"epoch": self.saved[0], "step": self.saved[1]}

    def _record_failure(self, message: str, reason: str, step: int) -> str:
        """Write the failure to result.json (once the run has started in its folder); returns
        the message, saying so when result.json could not be written."""
        if self.run_dir is None:
            return message
        try:
            runs.write_json(
                self.run_dir / "result.json",
                {
                    "status": "failed",
                    "reason": reason,
                    "message": message,
                    "step": step,
                    "epochs_done": self.epochs_done,
                    **self.best_accuracies(),
                    "checkpoint": self._checkpoint_record(),
                },
            )
        except OSError as problem:
            message += f" (result.json could not be written either: {_first_line(problem)})"
        return message

    def _fail(self, message: str, reason: str, step: int, error: BaseException) -> Failed:
        message = self._record_failure(message, reason, step)
        details = ""
        if reason != "nan":
            details = "".join(traceback.format_exception(error))
        return Failed(message, step, reason, details, str(self.run_dir) if self.run_dir else None)

    def _loop(self, began: float) -> Iterator[Event]:
        status = "completed"
        self.train_time, self.session_start = 0.0, self.step
        for epoch in range(self.start_epoch, self.s.epochs):
            self.phase = "train"
            totals = yield from self._epoch(epoch)
            if totals is None:
                status = "stopped"
                break
            yield self._end_epoch(epoch, *totals)
            more = epoch + 1 < self.s.epochs
            if more and self.stop_agreed:
                status = "stopped"
                break
            if more and self.control is not None and self.control.take_epoch_end_pause():
                self.control.pause()  # taken before the next epoch's first step
        yield self._finish(status, time.perf_counter() - began)

    def _stop_requested(self) -> bool:
        return self.control is not None and self.control.stop_requested

    def _epoch(
        self, epoch: int
    ) -> Generator[Event, None, tuple[float, float, float, float] | None]:
        """One epoch's steps; returns (train loss, train accuracy, lr, seconds), None if stopped."""
        s, ctrl = self.s, self.control
        self.loader.set_epoch(epoch)
        torch.manual_seed(s.seed * 1_000_003 + epoch * 101 + self.dist.rank)  # dropout masks
        self.model.train()
        start = mark = time.perf_counter()
        window: list[torch.Tensor] = []  # losses since the last Step event
        lrs: list[float] = []
        values: list[float] = []  # every loss of the epoch, as numbers
        sizes: list[int] = []
        hits: list[torch.Tensor] = []
        lr = s.lr
        for x, y in itertools.islice(self.loader, self.steps_per_epoch):
            if ctrl is not None and ctrl.pause_requested:
                paused = time.perf_counter()
                yield Paused(self.step)
                ctrl.wait_while_paused()
                yield Resumed(self.step)
                shift = time.perf_counter() - paused
                mark, start = mark + shift, start + shift
            # under torchrun a stop is agreed at the 10-step reports (every process together)
            if not self.dist.active and self._stop_requested():
                if window:
                    yield self._step_event(epoch, window, lrs, sizes, mark, start)
                return None
            if self.snap is not None and ctrl is not None and (view := ctrl.view_changes()):
                self.snap.apply_view(view)
            lr = lr_at(
                s.schedule,
                s.lr,
                self.step,
                self.total_steps,
                self.steps_per_epoch,
                s.step_epochs,
                s.gamma,
            )
            last = self.step + 1 == self.total_steps  # the final weights are shown too
            take = self.snap is not None and (self.snap.due() or last)
            self.in_step = True
            loss, hit = self.train_step(x, y, lr, take)
            self.step += 1
            self.in_step = False
            window.append(loss)
            lrs.append(lr)
            sizes.append(len(y))
            hits.append(hit)
            if take:
                yield self.snap.take(self.step, epoch + 1)  # type: ignore[union-attr]
            now = time.perf_counter()
            if (self.step % 10 == 0) if self.dist.active else (now - mark >= s.step_interval):
                event = self._step_event(epoch, window, lrs, sizes, mark, start)
                values += event.losses
                yield event
                window, lrs, mark = [], [], time.perf_counter()
                if self.stop_agreed:
                    return None
        if window:
            event = self._step_event(epoch, window, lrs, sizes, mark, start)
            values += event.losses
            yield event
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # the epoch's time includes its queued GPU work
        seconds = time.perf_counter() - start
        self.train_time += seconds
        loss_sum = sum(v * n for v, n in zip(values, sizes, strict=True))
        correct = torch.stack(hits).sum().double() if hits else torch.zeros((), dtype=torch.float64)
        totals = torch.tensor([loss_sum, float(correct), float(sum(sizes))], dtype=torch.float64)
        totals = all_sum(totals.to(self.device), self.dist).cpu()
        count = max(float(totals[2]), 1.0)
        return float(totals[0]) / count, float(totals[1]) / count, lr, seconds

    def _check_finite(self, losses: list[torch.Tensor], lrs: list[float]) -> list[float]:
        values = torch.stack(losses).float().tolist()
        bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
        if self.dist.active:  # one collective: a NaN anywhere, a stop asked anywhere
            any_bad, stop = any_flags(
                [bad is not None, self._stop_requested()], self.dist, self.device
            )
            self.stop_agreed = self.stop_agreed or stop
        else:
            any_bad = bad is not None
        if any_bad:
            self.together = True  # every process raises here
            if bad is None:
                raise NonFiniteLossError(
                    f"the loss became NaN in another process near step {self.step}: lower the learning rate or add BatchNorm",
                    self.step,
                )
            what = "NaN" if math.isnan(values[bad]) else "infinite"
            at = self.step - len(values) + bad + 1
            raise NonFiniteLossError(
                f"loss became {what} at step {at} (learning rate {lrs[bad]:g}): lower the learning rate or add BatchNorm",
                at,
            )
        return values

    def _step_event(
        self,
        epoch: int,
        window: list[torch.Tensor],
        lrs: list[float],
        sizes: list[int],
        mark: float,
        start: float,
    ) -> Step:
        """The Step event for the losses in ``window`` (checked for NaN first)."""
        values = self._check_finite(window, lrs)
        now = time.perf_counter()
        images = sum(sizes[len(sizes) - len(window) :]) * self.dist.world_size
        elapsed = self.train_time + now - start
        progress = self.step / max(self.total_steps, 1)
        done = (self.step - self.session_start) / max(self.total_steps - self.session_start, 1)
        eta = elapsed / done * (1 - done) if done > 0 else math.inf
        rate = images / max(now - mark, 1e-9)
        return Step(self.step, epoch + 1, tuple(values), lrs[-1], rate, progress, elapsed, eta)

    def _end_epoch(
        self, epoch: int, train_loss: float, train_acc: float, lr: float, seconds: float
    ) -> EpochEnd:
        self.phase = "epoch_end"
        ev = self.validate()
        score = ev.accuracy if ev is not None else train_acc
        is_best = self.best is None or score > self.best
        best = score if is_best else self.best
        record = {
            "epoch": epoch + 1,
            "step": self.step,
            "train_loss": train_loss,
            "train_accuracy": train_acc,
            "val_loss": ev.loss if ev else None,
            "val_accuracy": ev.accuracy if ev else None,
            "lr": lr,
            "seconds": round(seconds, 4),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        self._agreed(lambda: self._record_epoch(record, best, is_best))
        self.epochs_done, self.best = epoch + 1, best
        self.last_val = ev.accuracy if ev is not None else None
        if self.dist.active and epoch + 1 < self.s.epochs:
            self.stop_agreed = any_flag(
                self.stop_agreed or self._stop_requested(), self.dist, self.device
            )
        self.phase = "train"
        return EpochEnd(
            epoch + 1,
            self.step,
            train_loss,
            train_acc,
            ev.loss if ev else None,
            ev.accuracy if ev else None,
            lr,
            seconds,
            ev.confusion if ev else None,
            ev.per_class_accuracy if ev else None,
            ev.misclassified if ev else (),
            is_best,
        )

    def _record_epoch(self, record: dict[str, Any], best: float | None, is_best: bool) -> None:
        """The epoch's metrics line, then last.pt (the epoch is done once it is written; the
        line is taken back when it fails), then best.pt. Raises RecordError saying what failed."""
        folder = self.run_dir
        if folder is None:
            return
        epoch = int(record["epoch"])
        try:
            size = runs.append_metrics(folder, record)
        except OSError as error:
            raise self._record_error(folder, "metrics.jsonl", epoch, error) from error
        state = self._checkpoint_state(epoch, best)
        try:
            runs.save_checkpoint(folder / "last.pt", state)
        except Exception as error:
            runs.take_back_metrics(folder, size)
            raise self._record_error(folder, "last.pt", epoch, error) from error
        self.saved = (epoch, self.step)
        self.epochs_done, self.best = epoch, best
        if is_best:
            try:
                runs.save_checkpoint(folder / "best.pt", state)
            except Exception as error:
                raise self._record_error(folder, "best.pt", epoch, error) from error

    def _record_error(
        self, folder: Path, name: str, epoch: int, error: BaseException
    ) -> RecordError:
        kept = (
            f"last.pt keeps epoch {self.saved[0]} (step {self.saved[1]})"
            if self.saved is not None
            else "no epoch was saved yet"
        )
        again = (
            f"then continue with --resume {folder}"
            if self.saved is not None
            else "then train again"
        )
        return RecordError(
            f"run folder {folder}: cannot write {name} at the end of epoch {epoch} (step "
            f"{self.step}): {_first_line(error)}. The run stopped; {kept}. Make room on the disk or make "
            f"the folder writable, {again}"
        )

    def _checkpoint_state(self, epoch: int, best: float | None) -> dict[str, Any]:
        return {
            "model": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "epoch": epoch,
            "step": self.step,
            "best_val_accuracy": best,
            "settings": self.s.to_dict(),
            "graph": self.graph.to_data(),
            "classes": list(self.classes),
            "normalization": {"mean": self.mean, "std": self.std},
        }

    def _finish(self, status: str, seconds: float) -> Finished:
        self.phase = "finish"
        best = self.best_accuracies()
        extra: dict[str, Any] = {
            "world_size": self.dist.world_size,
            "global_batch_size": self.s.batch_size * self.dist.world_size,
        }
        if "best_train_accuracy" in best:  # no validation split: say what the figure is
            extra["best_train_accuracy"] = best["best_train_accuracy"]
        if self.dist.active:
            extra["replicas_max_abs_diff"] = replica_spread(self.module, self.dist)
        if self.run_dir is not None:
            extra["checkpoint"] = self._checkpoint_record()
            if self.saved is None or self.saved[1] != self.step:
                extra["note"] = self._checkpoint_note()
        result = {
            "status": status,
            "epochs_done": self.epochs_done,
            "steps": self.step,
            **best,
            "final_val_accuracy": self.last_val,
            "seconds": round(seconds, 3),
            "device": device_label(self.device),
            **extra,
        }
        folder = self.run_dir
        if folder is not None:
            self._agreed(lambda: self._write(folder, "result.json", result))
        elif self.dist.active:
            self._agreed(lambda: None)
        self.together = True
        return Finished(
            status,
            self.epochs_done,
            self.step,
            best["best_val_accuracy"],
            self.last_val,
            seconds,
            str(self.run_dir) if self.run_dir else None,
            extra,
        )

    def _checkpoint_note(self) -> str:
        """Why "steps" and the checkpoint's step differ (a stop during an epoch)."""
        if self.saved is None:
            return (
                f"stopped at step {self.step}, during epoch {self.epochs_done + 1}, before any "
                "checkpoint: there is nothing to resume"
            )
        return (
            f"stopped at step {self.step}, during epoch {self.epochs_done + 1}: last.pt holds "
            f"epoch {self.saved[0]} (step {self.saved[1]}), where --resume continues; the steps "
            "after it are not kept"
        )


def _changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The noted settings that differ, as "lr 0.01 → 0.001, ..." ("" when none do)."""
    parts = []
    for key in NOTED_ON_RESUME:
        old, new = runs.setting_at(before, key), runs.setting_at(after, key)
        if old != new:
            parts.append(f"{key} {old} → {new}")
    return ", ".join(parts)


def _first_line(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
