"""The trainer: a Qt-free generator of plain-data events around a real PyTorch training loop.

    for event in train(graph, settings, run_root="runs"):
        ...  # RunStarted, Step, Snapshot, EpochEnd, ..., then Finished or Failed

It never raises for a failing run: setup problems, a NaN loss, an exception inside the model or
out-of-memory end in a ``Failed`` event (and result.json) while the last good checkpoint stays.
A failure's message and its ``step`` (in the event and result.json) name the same step: "at
step N" for a failure inside step N, "after step N" for one between steps (at an epoch's end).

The run folder's records and the checks before a resume are in ``engine.training.run_record``;
how failures are described and shared under torchrun, in ``engine.training.failures``. A stop
request is taken by all processes together, at the next 10-step report or epoch end.

A model with BatchNorm over one value per channel (after Flatten or a 1×1 map) cannot train on a
batch of one sample: see ``engine.training.data_setup.trainable_batches``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from engine.compiler import compile_graph
from engine.graph import Graph
from engine.inference import infer
from engine.training import distributed, failures, run_record, tensorboard
from engine.training.control import TrainingControl
from engine.training.cores import CoreShare
from engine.training.data_setup import prepare_data, trainable_batches
from engine.training.distributed import (
    DistContext,
    all_sum,
    any_flag,
    any_flags,
    replica_spread,
)
from engine.training.evaluation import evaluate
from engine.training.events import (
    EpochEnd,
    Event,
    Finished,
    Paused,
    Resumed,
    RunStarted,
    Step,
)
from engine.training.failures import NonFiniteLossError as NonFiniteLossError
from engine.training.failures import PeerFailedError as PeerFailedError
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
    start_weights,
)
from engine.training.run_record import RecordError as RecordError
from engine.training.schedule import lr_at
from engine.training.settings import TrainingSettings
from engine.training.snapshots import SnapshotTaker


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
        initial_weights: Mapping[str, torch.Tensor] | None = None,
        freeze: Sequence[str] = (),
    ) -> None:
        """``initial_weights``: tensors (from ``engine.transfer.load_pretrained``) loaded over
        the initial weights; ``freeze``: groups or blocks whose parameters are not trained."""
        self.initial_weights, self.freeze = initial_weights, tuple(freeze)
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
        self.train_time = 0.0  # seconds in the epochs' steps, this session
        self._epoch_began: float | None = None  # when the epoch under way began (pauses out)
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
        self.tb: tensorboard.EventWriter | None = None  # TensorBoard events (rank 0)
        self.cores: CoreShare | None = None  # fits the thread count on the CPU, while training

    # ---- set-up -------------------------------------------------------------------------
    def training_seconds(self) -> float:
        """Seconds spent in the epochs' steps so far (pauses and validation left out)."""
        began = self._epoch_began
        return self.train_time + (time.perf_counter() - began if began is not None else 0.0)

    def setup(self) -> RunStarted:
        """Set the run up; raises (on every process alike) when it cannot start. Only then is
        the run folder created or, for a resume, changed."""
        self.phase = "setup"
        started = failures.agreed(self, self._prepare)
        started = failures.agreed(self, lambda: run_record.open_run_folder(self, started))
        self.tb = tensorboard.open_for(self)
        if self.dist.active:
            from torch.nn.parallel import DistributedDataParallel

            if self.dist.is_main:  # from here on a process may fail alone (see run)
                self.watch = distributed.FailureWatch(
                    self.dist, lambda failure: failures.report_posted_failure(self, failure)
                )
                self.watch.start()
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.module, device_ids=ids)
        return started

    def _prepare(self) -> RunStarted:
        """Everything that may fail before the run starts; changes no file."""
        s = self.s
        if s.tensorboard and (missing := tensorboard.missing_message()):
            raise TrainingError(missing)
        node_name, input_shape = input_node(self.graph)
        result = infer(self.graph)
        state = (
            None if self.resume_from is None else run_record.check_resume(self, self.resume_from)
        )
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
        self.freeze, notes = start_weights(
            self.module,
            self.graph,
            s,
            self.initial_weights,
            self.freeze,
            resuming=self.resume_from is not None,
        )
        self.notes += notes
        self.optimizer = make_optimizer(self.module, s)
        self.loss_fn = loss_function(s.loss, len(self.classes))
        self.amp = s.mixed_precision and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda") if self.amp else None
        if self.resume_from is not None and state is not None:
            run_record.load_resumed(self, self.resume_from, state)
        self.steps_per_epoch = trainable_batches(
            self.graph, result, self.loader, s.batch_size, self.notes, self.dist.active
        )
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
                clock=self.training_seconds,
            )
            if self.control is not None:  # none while the last one is on its way
                self.snap.room = self.control.snapshot_room
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

    def _feature_source(self, index: int) -> tuple[torch.Tensor, Any, int]:
        split = self.val_split if self.val_split is not None else self.train_split
        i = index % len(split)
        images = split.images[i : i + 1]
        return self.loader.normalize(images), images[0].cpu().numpy(), int(split.labels[i])

    def _autocast(self) -> Any:
        if self.amp:
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

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
            failures.stop_watch(self)  # this process reports its failure itself
            alone = self.dist.active and not self.together
            if alone:  # failed where the other processes are not: they must not wait for it
                error = failures.leave_group(self, error)
            message, reason, step = failures.describe(self, error)
            yield failures.failed_event(self, message, reason, step, error)
            if alone:  # the Failed event was taken (rank 0 has printed it)
                failures.after_leaving(self, message, own=not isinstance(error, PeerFailedError))
        finally:
            failures.stop_watch(self)
            if self.cores is not None:
                self.cores.close()
            if self.tb is not None:
                self.tb.close()
            if self.dist.active and not self.together:
                distributed.abort()  # ended in no agreed place (e.g. interrupted): no barrier

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

    def _loop(self, began: float) -> Iterator[Event]:
        status = "completed"
        self.train_time, self.session_start = 0.0, self.step
        if self.device.type == "cpu" and not self.dist.active:
            self.cores = CoreShare()
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
        start = mark = self._epoch_began = time.perf_counter()
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
                self._epoch_began = start
                if self.cores is not None:
                    self.cores.restart()
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
            take = self.snap is not None and self.snap.due(final=last)
            self.in_step = True
            loss, hit = self.train_step(x, y, lr, take)
            self.step += 1
            self.in_step = False
            if self.cores is not None:
                self.cores.after_step()
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
        self._epoch_began = None
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
        failures.agreed(self, lambda: run_record.record_epoch(self, record, best, is_best))
        if self.tb is not None:
            self.tb.epoch(record)
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
            self.cores.threads if self.cores is not None else torch.get_num_threads(),
        )

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
        stopped_by = getattr(self.control, "stop_reason", None)
        if status == "stopped" and stopped_by:
            extra["stopped_by"] = stopped_by
            extra["message"] = run_record.stop_message(self, stopped_by)
        tensorboard.finish(self.tb, extra)
        if self.run_dir is not None:
            extra["checkpoint"] = run_record.checkpoint_record(self)
            if self.saved is None or self.saved[1] != self.step:
                extra["note"] = run_record.checkpoint_note(self)
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
            failures.agreed(self, lambda: run_record.write(self, folder, "result.json", result))
        elif self.dist.active:
            failures.agreed(self, lambda: None)
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
