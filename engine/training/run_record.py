"""A run's record in its run folder, kept by the trainer (rank 0): settings.json, graph.json,
metrics.jsonl, last.pt/best.pt and result.json, and the checks before a resume.

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

Each function takes the ``Trainer`` whose run it records.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.training import checkpoints, runs
from engine.training.events import RunStarted
from engine.training.model import TrainingError

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

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
    "data.vflip",
    "data.crop_scale",
    "data.rotation",
    "data.brightness",
    "data.contrast",
    "data.saturation",
    "data.hue",
)


class RecordError(TrainingError):
    """The run folder could not be written during training (a full disk, a removed folder)."""


def open_run_folder(t: Trainer, started: RunStarted) -> RunStarted:
    """Rank 0 starts the run's record: a new run folder, or the resumed one (its settings,
    metrics past its checkpoint and earlier result). Raises TrainingError saying why not."""
    if not t.dist.is_main:
        return started
    if t.resume_dir is not None:
        return reopen(t, t.resume_dir, started)
    if t.run_root is None:
        return started
    path = runs.new_run_dir(t.run_root)
    t.run_dir = path
    started = dataclasses.replace(started, run_dir=str(path))
    write(t, path, "settings.json", settings_record(t, started))
    write(t, path, "graph.json", t.graph.to_data())
    return started


def reopen(t: Trainer, path: Path, started: RunStarted) -> RunStarted:
    """Continue the record of the run in ``path`` (a resume in place)."""
    started = dataclasses.replace(started, run_dir=str(path))
    earlier: list[str] = []
    record = runs._read_json(path / "settings.json", earlier) or {}
    sessions = record.get("sessions")
    if not isinstance(sessions, list):
        first = record.get("settings")
        first = first if isinstance(first, dict) else t.resumed_settings
        sessions = [{"start_epoch": 0, "settings": first}] if first else []
    sessions = [*sessions, {"start_epoch": t.start_epoch, "settings": t.s.to_dict()}]
    write(t, path, "settings.json", {**settings_record(t, started), "sessions": sessions})
    t.run_dir = path  # the run has started in it: its end will be recorded there
    for name in ("last.pt", "best.pt"):  # what a killed writer left (this run owns the folder)
        checkpoints.remove_leftovers(path / name)
    try:
        dropped = runs.trim_metrics(path, t.start_epoch)
    except OSError as error:
        raise write_error(t, path, "metrics.jsonl", error) from error
    if dropped:
        note = (
            f"metrics.jsonl: {dropped} line(s) past the checkpoint (epoch "
            f"{t.start_epoch}) removed; those epochs are trained again"
        )
        started = dataclasses.replace(started, notes=(*started.notes, note))
    # the folder holds the result of its earlier session: the run is going again, and a
    # process that dies now must not leave that old status behind
    with contextlib.suppress(OSError):
        (path / "result.json").unlink(missing_ok=True)
    return started


def settings_record(t: Trainer, started: RunStarted) -> dict[str, Any]:
    """settings.json: the session's settings and the run's facts."""
    facts = {k: v for k, v in vars(started).items() if k not in ("settings", "layers")}
    return {"settings": t.s.to_dict(), "run": facts}


def write(t: Trainer, folder: Path, name: str, data: dict[str, Any]) -> None:
    """Write ``name`` in ``folder`` as JSON; raises TrainingError saying why not."""
    try:
        runs.write_json(folder / name, data)
    except OSError as error:
        raise write_error(t, folder, name, error) from error


def write_error(t: Trainer, folder: Path, name: str, error: BaseException) -> TrainingError:
    """The TrainingError for a file of the run folder that could not be written."""
    other = (
        "resume a copy of the run folder"
        if folder == t.resume_dir
        else "choose another folder for the runs (--out DIR)"
    )
    return TrainingError(
        f"run folder {folder}: cannot write {name} ({_first_line(error)}). Make the folder "
        f"writable or free some disk space, or {other}"
    )


def check_resume(t: Trainer, source: str | Path) -> dict[str, Any]:
    """Read the checkpoint to resume and refuse one this session cannot continue (before
    any data is loaded); changes no file (the run folder is taken over in
    ``open_run_folder``, once the run starts)."""
    state = runs.load_checkpoint(source)
    run_settings = state.get("settings")
    conflicts = runs.resume_conflicts(
        run_settings, state.get("graph"), t.s.to_dict(), t.graph.to_data()
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
    if epoch >= t.s.epochs:
        raise TrainingError(
            f"checkpoint {source}: already trained for {epoch} epochs. Set epochs above {epoch} to train on"
        )
    return state


def load_resumed(t: Trainer, source: str | Path, state: dict[str, Any]) -> None:
    """Continue from the checkpoint ``state`` read from ``source`` (see ``check_resume``)."""
    run_settings = state.get("settings")
    epoch = int(state["epoch"])
    try:
        t.module.load_state_dict(state["model"])
    except RuntimeError as error:
        raise TrainingError(
            f"checkpoint {source}: its weights do not fit this graph ({_first_line(error)}). "
            "Resume with the graph the run trained"
        ) from error
    if isinstance(run_settings, dict):
        t.resumed_settings = run_settings
        changed = _changes(run_settings, t.s.to_dict())
        if changed:
            t.notes.append(f"resumed at epoch {epoch} with changed settings: {changed}")
    if (run_settings or {}).get("optimizer") == t.s.optimizer:
        _load_state(t.optimizer, state["optimizer"], source, "optimizer", "--optimizer")
    else:
        t.notes.append(f"optimizer changed to {t.s.optimizer}: its state starts afresh")
    if t.scaler is not None and state.get("scaler"):
        _load_state(t.scaler, state["scaler"], source, "scaler", "--no-amp")
    t.start_epoch = t.epochs_done = epoch
    t.step = int(state["step"])
    t.best = state.get("best_val_accuracy")
    path = Path(source).expanduser()
    if path.is_dir():
        t.resume_dir = path
        t.saved = (epoch, t.step)


def _load_state(
    target: Any, data: dict[str, Any], source: str | Path, name: str, flag: str
) -> None:
    """``target.load_state_dict(data)``; a state that does not fit is a TrainingError."""
    try:
        target.load_state_dict(data)
    except Exception as error:  # torch raises ValueError, KeyError, TypeError... on bad states
        frozen = (
            " (a run trained with --freeze resumes with the same --freeze: the optimiser "
            "holds only the parameters it trains)"
            if name == "optimizer"
            else ""
        )
        raise TrainingError(
            f"checkpoint {source}: its {name} state does not fit this run{frozen}. "
            f"Resume with another {name} ({flag}) to start its "
            "state afresh, or from another checkpoint"
        ) from error


def checkpoint_record(t: Trainer) -> dict[str, int] | None:
    """The epoch and step that last.pt holds (where a resume continues)."""
    if t.saved is None:
        return None
    return {"epoch": t.saved[0], "step": t.saved[1]}


def record_failure(t: Trainer, message: str, reason: str, step: int) -> str:
    """Write the failure to result.json (once the run has started in its folder); returns
    the message, saying so when result.json could not be written."""
    if t.run_dir is None:
        return message
    try:
        runs.write_json(
            t.run_dir / "result.json",
            {
                "status": "failed",
                "reason": reason,
                "message": message,
                "step": step,
                "epochs_done": t.epochs_done,
                **t.best_accuracies(),
                "checkpoint": checkpoint_record(t),
            },
        )
    except OSError as problem:
        message += f" (result.json could not be written either: {_first_line(problem)})"
    return message


def stop_message(t: Trainer, signal_name: str) -> str:
    """What a run stopped by a signal says: where it was and what last.pt holds."""
    if t.saved is not None and t.saved[1] == t.step:
        return (
            f"stopped by {signal_name} after epoch {t.saved[0]} (step {t.step}): last.pt "
            "holds it, where --resume continues"
        )
    where = f"stopped by {signal_name} at step {t.step}, during epoch {t.epochs_done + 1}"
    if t.saved is None:
        return f"{where}, before any checkpoint: there is nothing to resume"
    return (
        f"{where}: last.pt holds epoch {t.saved[0]} (step {t.saved[1]}), where --resume "
        "continues; the steps after it are not kept"
    )


def record_ended(t: Trainer, signal_name: str) -> str:
    """Write result.json for a run ended at once by a signal (SIGTERM, SIGHUP, a second
    Ctrl-C): status "stopped", where it was, and what last.pt holds (where a resume continues).
    Returns the message, saying so when result.json could not be written."""
    message = stop_message(t, signal_name)
    if t.run_dir is None:
        return message
    try:
        runs.write_json(
            t.run_dir / "result.json",
            {
                "status": "stopped",
                "stopped_by": signal_name,
                "message": message,
                "epochs_done": t.epochs_done,
                "steps": t.step,
                **t.best_accuracies(),
                "final_val_accuracy": t.last_val,
                "checkpoint": checkpoint_record(t),
            },
        )
    except OSError as problem:
        message += f" (result.json could not be written: {_first_line(problem)})"
    return message


def record_epoch(t: Trainer, record: dict[str, Any], best: float | None, is_best: bool) -> None:
    """The epoch's metrics line, then last.pt (the epoch is done once it is written; the
    line is taken back when it fails), then best.pt. Raises RecordError saying what failed."""
    folder = t.run_dir
    if folder is None:
        return
    epoch = int(record["epoch"])
    try:
        size = runs.append_metrics(folder, record)
    except OSError as error:
        raise record_error(t, folder, "metrics.jsonl", epoch, error) from error
    state = checkpoint_state(t, epoch, best)
    try:
        runs.save_checkpoint(folder / "last.pt", state)
    except Exception as error:
        runs.take_back_metrics(folder, size)
        raise record_error(t, folder, "last.pt", epoch, error) from error
    t.saved = (epoch, t.step)
    t.epochs_done, t.best = epoch, best
    if is_best:
        try:
            runs.save_checkpoint(folder / "best.pt", state)
        except Exception as error:
            raise record_error(t, folder, "best.pt", epoch, error) from error


def record_error(
    t: Trainer, folder: Path, name: str, epoch: int, error: BaseException
) -> RecordError:
    """The RecordError for a record that could not be written at the end of ``epoch``."""
    kept = (
        f"last.pt keeps epoch {t.saved[0]} (step {t.saved[1]})"
        if t.saved is not None
        else "no epoch was saved yet"
    )
    again = f"then continue with --resume {folder}" if t.saved is not None else "then train again"
    return RecordError(
        f"run folder {folder}: cannot write {name} at the end of epoch {epoch} (step "
        f"{t.step}): {_first_line(error)}. The run stopped; {kept}. Make room on the disk or make "
        f"the folder writable, {again}"
    )


def checkpoint_state(t: Trainer, epoch: int, best: float | None) -> dict[str, Any]:
    """What last.pt and best.pt hold after ``epoch``."""
    return {
        "model": t.module.state_dict(),
        "optimizer": t.optimizer.state_dict(),
        "scaler": t.scaler.state_dict() if t.scaler is not None else {},
        "epoch": epoch,
        "step": t.step,
        "best_val_accuracy": best,
        "settings": t.s.to_dict(),
        "graph": t.graph.to_data(),
        "classes": list(t.classes),
        "normalization": {"mean": t.mean, "std": t.std},
    }


def checkpoint_note(t: Trainer) -> str:
    """Why "steps" and the checkpoint's step differ (a stop during an epoch)."""
    if t.saved is None:
        return (
            f"stopped at step {t.step}, during epoch {t.epochs_done + 1}, before any "
            "checkpoint: there is nothing to resume"
        )
    return (
        f"stopped at step {t.step}, during epoch {t.epochs_done + 1}: last.pt holds "
        f"epoch {t.saved[0]} (step {t.saved[1]}), where --resume continues; the steps "
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
