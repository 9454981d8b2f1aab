"""A sweep: an Optuna study whose trials are ordinary training runs.

Each trial samples the varied keys through Optuna's samplers (grid, random, TPE), builds the
design and settings, and trains in a new run folder under the run root (the same layout as
``cnn-designer train``, with ``trial.json`` beside ``settings.json``). Its value is the best
validation accuracy (maximised); with pruning, the validation accuracy of each epoch goes to
Optuna's MedianPruner, which may stop the run. The study lives in an Optuna RDB storage:
``sqlite:///<run root>/sweep.db`` by default, so the same command again continues the study;
a shared URL lets several machines run one study (Optuna's own distributed mode).

A stop asked through ``Sweep.stop`` (the command's handler for SIGINT, SIGTERM and SIGHUP) ends
the trial's training after its current batch; the trial is then marked FAIL in the study (an
``Interrupted`` raised outside any storage write) and its run folder records the stop; finished
trials stay. A KeyboardInterrupt raised inside a trial is recorded the same way.
A process killed outright leaves its trial RUNNING: the storage's heartbeat marks it FAIL once
it has been silent for ``GRACE_SECONDS``.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import DesignerError
from engine.experiments.space import SearchParam, SweepError
from engine.experiments.stopping import Interrupted as Interrupted  # the signal's end, raised here
from engine.experiments.stopping import StopRequest
from engine.graph import Graph
from engine.training import runs

SAMPLERS = ("tpe", "random", "grid")
HEARTBEAT_SECONDS = 10  # a running trial's heartbeat in the storage
GRACE_SECONDS = 60  # a trial silent this long belonged to a killed process: marked FAIL
OPEN_ATTEMPTS = 5  # tries to open a storage another process is creating at the same moment


class TrialFailedError(DesignerError):
    """A trial that could not run or whose run failed (the study goes on)."""


@dataclass(frozen=True)
class TrialReport:
    """One trial as the command prints it."""

    number: int
    state: str  # COMPLETE, PRUNED, FAIL, RUNNING, WAITING
    value: float | None
    params: dict[str, Any]
    run_dir: str | None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "state": self.state,
            "value": self.value,
            "params": self.params,
            "run_dir": self.run_dir,
            "message": self.message,
        }


@dataclass
class Sweep:
    """What a sweep needs: ``make_trial(values)`` returns the (graph, settings) of a trial's
    values (raising DesignerError when that combination cannot run)."""

    params: Sequence[SearchParam]
    make_trial: Callable[[dict[str, Any]], tuple[Graph, Any]]
    run_root: Path
    study_name: str
    sampler: str = "tpe"
    storage: str | None = None
    prune: bool = False
    definition: dict[str, Any] = field(default_factory=dict)
    stop: StopRequest = field(default_factory=StopRequest)  # asked by a signal's handler


def default_storage(run_root: Path) -> str:
    return f"sqlite:///{(Path(run_root).expanduser().resolve() / 'sweep.db').as_posix()}"


def open_storage(url: str) -> Any:
    """Optuna's RDB storage at ``url`` (with a heartbeat); raises SweepError naming it."""
    import optuna

    # the command prints each trial's end itself (Optuna's own log adds tracebacks)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for attempt in range(OPEN_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the heartbeat is marked experimental in places
                return optuna.storages.RDBStorage(
                    url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=GRACE_SECONDS
                )
        except Exception as error:  # SQLAlchemy: no such driver, host, file or permission
            # another process creating the same new database at this moment (two machines
            # started together): its tables or version row are there a moment later
            racing = type(error).__name__ in ("IntegrityError", "OperationalError")
            if racing and attempt + 1 < OPEN_ATTEMPTS and "unable to open" not in str(error):
                time.sleep(0.2 * (attempt + 1))
                continue
            raise _unreachable(url, error) from error
    raise AssertionError("unreachable")  # the loop returns or raises


def _unreachable(url: str, error: Exception) -> SweepError:
    """The one message for a storage that cannot be opened."""
    reason = " ".join(str(error).split())[:300] or type(error).__name__
    return SweepError(
        f"--storage {url}: cannot open the study's database ({type(error).__name__}: "
        f"{reason}). Check the URL (e.g. sqlite:///path/sweep.db or "
        "postgresql://user:password@host/database), that the server can be reached and "
        "that its Python driver is installed; or leave --storage out to keep the study in "
        "the runs folder"
    )


def make_sampler(sweep: Sweep) -> Any:
    import optuna

    if sweep.sampler == "grid":
        space = {p.key: p.grid_values() for p in sweep.params}
        return optuna.samplers.GridSampler(space)
    if sweep.sampler == "random":
        return optuna.samplers.RandomSampler()
    if sweep.sampler == "tpe":
        return optuna.samplers.TPESampler()
    raise SweepError(
        f"--sampler {sweep.sampler}: not a sampler. Received: --sampler {sweep.sampler!r}. "
        f"Choose one of {', '.join(SAMPLERS)}"
    )


def grid_size(params: Sequence[SearchParam]) -> int:
    size = 1
    for p in params:
        size *= len(p.grid_values())
    return size


def open_study(sweep: Sweep, storage: Any) -> Any:
    """Create the study, or load it when the storage holds it; a stored study made with other
    --param specs or another sampler is refused (its trials would not compare)."""
    import optuna

    pruner = optuna.pruners.MedianPruner() if sweep.prune else optuna.pruners.NopPruner()
    study = optuna.create_study(
        storage=storage,
        study_name=sweep.study_name,
        sampler=make_sampler(sweep),
        pruner=pruner,
        direction="maximize",
        load_if_exists=True,
    )
    wanted = {"params": [p.label for p in sweep.params], "sampler": sweep.sampler}
    stored = study.user_attrs.get("sweep")
    if stored is None:
        study.set_user_attr("sweep", {**wanted, **sweep.definition})
    elif _other_design(stored, sweep.definition):
        raise SweepError(
            f"study {sweep.study_name!r}: it was started on another design (design "
            f"{stored.get('design')}, from {stored.get('source')}). Received: design "
            f"{sweep.definition.get('design')} from {sweep.definition.get('source')}. Sweep "
            "the design it was started on to continue it, or give another --study NAME to "
            "start a new study for this design"
        )
    elif {k: stored.get(k) for k in wanted} != wanted:
        raise SweepError(
            f"study {sweep.study_name!r}: it was started with --param "
            f"{' --param '.join(stored.get('params') or [])} and --sampler "
            f"{stored.get('sampler')}. Received: --param {' --param '.join(wanted['params'])} "
            f"and --sampler {sweep.sampler}. Give the same ones to continue it, or another "
            "--study NAME to start a new study"
        )
    return study


def _other_design(stored: dict[str, Any], definition: dict[str, Any]) -> bool:
    """Whether a stored study was started on another design (its fingerprint, when both say)."""
    old, new = stored.get("design"), definition.get("design")
    return isinstance(old, str) and isinstance(new, str) and old != new


def report(trial: Any) -> TrialReport:
    """A frozen Optuna trial as a TrialReport."""
    return TrialReport(
        number=trial.number,
        state=trial.state.name,
        value=trial.value if trial.state.name == "COMPLETE" else None,
        params=dict(trial.params),
        run_dir=trial.user_attrs.get("run_dir"),
        message=trial.user_attrs.get("message"),
    )


def run_sweep(
    sweep: Sweep,
    trials: int,
    storage: Any,
    on_trial: Callable[[TrialReport], None] | None = None,
) -> Any:
    """Run ``trials`` more trials of the study (fewer when a grid runs out); returns it."""
    import optuna

    study = open_study(sweep, storage)
    sweep.stop.raise_if_requested()
    if sweep.sampler == "grid":
        done = sum(1 for t in study.get_trials(deepcopy=False) if t.state.is_finished())
        trials = min(trials, max(grid_size(sweep.params) - done, 0))
    if trials == 0:
        return study

    def objective(trial: Any) -> float:
        return _run_trial(sweep, trial)

    def callback(_study: Any, frozen: Any) -> None:
        if on_trial is not None:
            on_trial(report(frozen))
        sweep.stop.raise_if_requested()  # between trials: the study is written

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.optimize(objective, n_trials=trials, catch=(TrialFailedError,), callbacks=[callback])
    return study


def _run_trial(sweep: Sweep, trial: Any) -> float:
    import optuna

    from engine.training import run_record
    from engine.training.control import TrainingControl
    from engine.training.events import EpochEnd, Failed, Finished, RunStarted
    from engine.training.trainer import Trainer

    values = {p.key: p.suggest(trial) for p in sweep.params}
    if sweep.stop.requested:  # asked while Optuna started this trial: it never trains
        trial.set_user_attr("message", f"stopped by {sweep.stop.name} before it started")
        sweep.stop.raise_if_requested()
    try:
        graph, settings = sweep.make_trial(values)
    except DesignerError as error:
        trial.set_user_attr("message", str(error))
        raise TrialFailedError(f"trial {trial.number}: {error}") from error
    control = TrainingControl()
    trainer = Trainer(graph, settings, run_root=sweep.run_root, control=control, snapshots=False)
    events: Any = trainer.run()
    sweep.stop.watch(control)
    record = {"study": sweep.study_name, "trial": trial.number, "params": values}
    value: float | None = None
    pruned = False
    try:
        for event in events:
            if isinstance(event, RunStarted) and event.run_dir:
                trial.set_user_attr("run_dir", event.run_dir)
                _write_trial(event.run_dir, {**record, "state": "RUNNING"})
            elif isinstance(event, EpochEnd):
                score = event.val_accuracy if event.val_accuracy is not None else None
                score = event.train_accuracy if score is None else score
                trial.report(score, event.epoch)
                if sweep.prune and not pruned and trial.should_prune():
                    pruned = True
                    control.stop("the pruner (MedianPruner)")
            elif isinstance(event, Failed):
                trial.set_user_attr("message", event.message)
                _finish(trainer, {**record, "state": "FAIL", "message": event.message})
                raise TrialFailedError(f"trial {trial.number}: {event.message}")
            elif isinstance(event, Finished):
                extra = event.extra or {}
                value = event.best_val_accuracy
                if value is None:
                    value = extra.get("best_train_accuracy")
    except KeyboardInterrupt as error:
        name = getattr(error, "name", "SIGINT")
        message = run_record.record_ended(trainer, name)
        trial.set_user_attr("message", message)
        _finish(trainer, {**record, "state": "FAIL", "message": message})
        raise
    finally:
        events.close()
        sweep.stop.watch(None)
    if sweep.stop.requested:  # the run ended after its batch and recorded the signal
        message = run_record.stop_message(trainer, sweep.stop.name or "SIGINT")
        trial.set_user_attr("message", message)
        _finish(trainer, {**record, "state": "FAIL", "message": message})
        sweep.stop.raise_if_requested()
    if pruned:
        _finish(trainer, {**record, "state": "PRUNED"})
        raise optuna.TrialPruned()
    if value is None:
        _finish(trainer, {**record, "state": "FAIL", "message": "no epoch finished"})
        raise TrialFailedError(f"trial {trial.number}: the run finished no epoch")
    _finish(trainer, {**record, "state": "COMPLETE", "value": value})
    return float(value)


def _write_trial(run_dir: str | Path, record: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the run's own files say the rest
        runs.write_json(Path(run_dir) / "trial.json", record)


def _finish(trainer: Any, record: dict[str, Any]) -> None:
    if trainer.run_dir is not None:
        _write_trial(trainer.run_dir, record)


def summary(study: Any) -> dict[str, Any]:
    """The study as plain data: every trial, counts by state and the best trial."""
    reports = [report(t) for t in study.get_trials(deepcopy=False)]
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.state] = counts.get(r.state, 0) + 1
    complete = [r for r in reports if r.state == "COMPLETE" and r.value is not None]
    best = max(complete, key=lambda r: r.value or 0.0) if complete else None
    return {
        "study": study.study_name,
        "trials": [r.to_dict() for r in reports],
        "counts": counts,
        "best": best.to_dict() if best else None,
    }
