"""Run folders: one per run, holding what it was, how it went and its checkpoints.

    <root>/<YYYYmmdd-HHMMSS>/
        settings.json   the TrainingSettings as a dict (plus dataset and device facts)
        graph.json      the graph trained (Graph.to_data())
        metrics.jsonl   one JSON object per epoch: epoch, step, train_loss, train_accuracy,
                        val_loss, val_accuracy, lr, seconds, time
        result.json     status ("completed", "stopped", "failed"), accuracies, message
        last.pt         checkpoint after the last completed epoch
        best.pt         checkpoint of the epoch with the best validation accuracy

Checkpoints hold only tensors and plain data and are read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.atomic_files import write_atomic

CHECKPOINT_FORMAT = "cnn-designer-checkpoint"


def new_run_dir(root: str | os.PathLike[str]) -> Path:
    """A fresh folder ``root/<timestamp>`` (a suffix keeps two runs in one second apart)."""
    base = Path(root).expanduser()
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = base / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    from engine.training.model import TrainingError  # imports torch: only when needed

    raise TrainingError(f"{base}: cannot create a run folder (too many runs at {stamp})")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic JSON write (NaN and infinity are written as null)."""
    write_atomic(path, json.dumps(_finite(data), indent=1, ensure_ascii=False) + "\n")


def append_metrics(run_dir: Path, record: dict[str, Any]) -> None:
    """Add one epoch's line to metrics.jsonl."""
    with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as stream:
        stream.write(json.dumps(_finite(record)) + "\n")


def read_metrics(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every epoch record of a run; damaged lines are skipped (see ``check_metrics``)."""
    return check_metrics(run_dir)[0]


# the numbers of an epoch record: each is a finite number or null
METRIC_FIELDS = (
    "epoch",
    "step",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "lr",
    "seconds",
)


def check_metrics(run_dir: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The epoch records of a run's metrics.jsonl and what is wrong with the file.

    A line that is not valid UTF-8, not JSON, not a JSON object, or whose numbers (epoch,
    losses, accuracies, ...) are not numbers is skipped and named in the problems; a truncated
    last line (a run writing it, or killed while writing) is skipped silently. Never raises."""
    path = Path(run_dir) / "metrics.jsonl"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], []
    except OSError as error:
        return [], [f"metrics.jsonl cannot be read ({_reason(error)})"]
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        last = number == len(lines)  # no newline after it: still being written
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(f"metrics.jsonl line {number}: not UTF-8 text")
            continue
        except (ValueError, RecursionError):  # json.JSONDecodeError; nesting too deep
            if not last:
                problems.append(f"metrics.jsonl line {number}: not valid JSON")
            continue
        if not isinstance(record, dict):
            problems.append(
                f"metrics.jsonl line {number}: a JSON {type(record).__name__}, "
                "not an object of epoch numbers"
            )
            continue
        bad = next((key for key in METRIC_FIELDS if not _number_or_none(record.get(key))), None)
        if bad is not None:
            problems.append(f"metrics.jsonl line {number}: {bad} is {record[bad]!r}, not a number")
            continue
        records.append(record)
    return records, problems


def _number_or_none(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save to a temporary file, then rename: a crash never leaves half a checkpoint."""
    import torch

    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        torch.save({"format": CHECKPOINT_FORMAT, "version": 1, **state}, temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint (or a run folder's last.pt), read with ``weights_only=True``."""
    import torch

    from engine.training.model import TrainingError

    source = Path(path).expanduser()
    if source.is_dir():
        source = source / "last.pt"
    if not source.is_file():
        raise TrainingError(f"checkpoint {source}: not found. Name a run folder or a .pt file")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's own text advises weights_only=False, which could run code from the file
        raise TrainingError(
            f"checkpoint {source}: not a CNN Designer checkpoint (only tensors and plain data "
            "are read from a checkpoint, for safety, and this file holds something else). Name "
            "a run folder or its last.pt or best.pt"
        ) from error
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TrainingError(
            f"checkpoint {source}: cannot be read ({reason}). Name a run folder or its last.pt "
            "or best.pt"
        ) from error
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise TrainingError(
            f"checkpoint {source}: not a CNN Designer checkpoint. Name a run folder or its "
            "last.pt or best.pt"
        )
    return state


@dataclass(frozen=True)
class RunInfo:
    """One run of a project as listed: folder, status and headline numbers.

    ``problems`` names what is damaged in the run folder (skipped lines, unreadable files);
    a run whose result.json cannot be read has status "unknown"."""

    path: Path
    name: str
    status: str
    epochs: int
    best_val_accuracy: float | None
    final_val_accuracy: float | None
    dataset: str | None
    settings: dict[str, Any]
    problems: tuple[str, ...] = ()

    def metrics(self) -> list[dict[str, Any]]:
        """The run's per-epoch records (for overlaying curves)."""
        return read_metrics(self.path)


def list_runs(root: str | os.PathLike[str]) -> list[RunInfo]:
    """Every run folder under ``root``, oldest first; runs still going show status "running".

    Never raises: a damaged run is listed with its ``problems``; an unreadable ``root`` or
    run folder is left out."""
    base = Path(root).expanduser()
    try:
        folders = sorted(p for p in base.iterdir() if _is_file(p / "settings.json"))
    except OSError:
        return []
    runs = []
    for path in folders:
        try:
            runs.append(read_run(path))
        except Exception as error:  # a backstop: read_run names every damage it knows of
            problem = f"cannot be read ({type(error).__name__}: {error})"
            runs.append(RunInfo(path, path.name, "unknown", 0, None, None, None, {}, (problem,)))
    return runs


def read_run(path: Path) -> RunInfo:
    """One run folder as listed (damage is named in ``problems``, never raised)."""
    problems: list[str] = []
    settings = _read_json(path / "settings.json", problems) or {}
    run_settings = settings.get("settings", {})
    if not isinstance(run_settings, dict):
        problems.append(
            f'settings.json: "settings" is a JSON {type(run_settings).__name__}, not an object'
        )
        run_settings = {}
    data = run_settings.get("data")
    if data is not None and not isinstance(data, dict):
        problems.append(f'settings.json: "data" is a JSON {type(data).__name__}, not an object')
    dataset = data.get("dataset") if isinstance(data, dict) else None
    before = len(problems)
    result = _read_json(path / "result.json", problems, missing_ok=True)
    status = "unknown"
    if result is None:  # no result.json: still running (or the designer died with it)
        status = "running"
    elif len(problems) == before:  # else what is wrong is named in problems
        written = result.get("status")
        if isinstance(written, str) and written:
            status = written
        else:
            problems.append(f"result.json: status is {written!r}, not a word such as completed")
    metrics, metric_problems = check_metrics(path)
    problems += metric_problems
    finals = [float(m["val_accuracy"]) for m in metrics if m.get("val_accuracy") is not None]
    return RunInfo(
        path=path,
        name=path.name,
        status=status,
        epochs=len(metrics),
        best_val_accuracy=max(finals) if finals else None,
        final_val_accuracy=finals[-1] if finals else None,
        dataset=dataset if isinstance(dataset, str) else None,
        settings=run_settings,
        problems=tuple(problems),
    )


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _read_json(path: Path, problems: list[str], missing_ok: bool = False) -> dict[str, Any] | None:
    """A JSON object file; None when it is missing (a problem unless ``missing_ok``); {} with
    the reason added to ``problems`` when it cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text)
    except FileNotFoundError:
        if not missing_ok:
            problems.append(f"{path.name}: missing")
        return None
    except OSError as error:
        problems.append(f"{path.name}: cannot be read ({_reason(error)})")
        return {}
    except UnicodeDecodeError:
        problems.append(f"{path.name}: not UTF-8 text")
        return {}
    except (ValueError, RecursionError):  # json.JSONDecodeError; nesting too deep
        problems.append(f"{path.name}: not valid JSON")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path.name}: a JSON {type(data).__name__}, not an object")
        return {}
    return data


def default_run_root(
    project_file: str | os.PathLike[str] | None, preset: str | None = None
) -> Path:
    """Where runs of a project go: ``<folder>/<name>.runs`` beside the project file, or
    ``runs/<preset>`` in the current folder for a preset."""
    if project_file is not None:
        path = Path(project_file).expanduser()
        return path.with_name(f"{path.stem}.runs")
    return Path("runs") / (preset or "untitled")
