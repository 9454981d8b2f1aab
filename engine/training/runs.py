"""Run folders: one per run, holding what it was, how it went and its checkpoints.

    <root>/<YYYYmmdd-HHMMSS>/
        settings.json   the TrainingSettings as a dict (plus dataset and device facts); a
                        resumed run adds "sessions": each session's start epoch and settings
        graph.json      the graph trained (Graph.to_data())
        metrics.jsonl   one JSON object per epoch: epoch, step, train_loss, train_accuracy,
                        val_loss, val_accuracy, lr, seconds, time
        result.json     status ("completed", "stopped", "failed"), accuracies, message;
                        "steps" (or a failure's "step") is how far training went, "checkpoint"
                        the epoch and step last.pt holds (where a resume continues)
        last.pt         checkpoint after the last completed epoch
        best.pt         checkpoint of the epoch with the best validation accuracy

An epoch is recorded in order: its metrics line, then last.pt (the epoch counts as done once
last.pt is written; its metrics line is taken back when that fails), then best.pt. A run folder
is written only once a run has really started in it: a refused resume leaves it as it was.

A resumed run continues the same training, so it keeps what ``resume_conflicts`` checks (the
graph, the data set and its split, input conversion and normalisation, the seed and the loss);
the epochs, learning rate, optimiser and its settings, schedule, batch size, augmentation and
device may change (each session's settings are kept in settings.json).

Checkpoints hold only tensors and plain data; ``engine.training.checkpoints`` writes, reads
(safely: see ``engine.torch_files``) and checks them.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.atomic_files import write_atomic, write_files_atomic
from engine.errors import FileReadError
from engine.training.checkpoints import CHECKPOINT_FORMAT as CHECKPOINT_FORMAT
from engine.training.checkpoints import load_checkpoint as load_checkpoint
from engine.training.checkpoints import save_checkpoint as save_checkpoint


def new_run_dir(root: str | os.PathLike[str]) -> Path:
    """A fresh folder ``root/<timestamp>`` (a suffix keeps two runs in one second apart).
    Raises TrainingError naming the problem (a file in the way, no permission) and the fix."""
    from engine.training.model import TrainingError  # imports torch: only when needed

    base = Path(root).expanduser()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TrainingError(_root_problem(base, error)) from error
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = base / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as error:
            raise TrainingError(_root_problem(base, error)) from error
    raise TrainingError(f"{base}: cannot create a run folder (too many runs at {stamp})")


def _root_problem(base: Path, error: OSError) -> str:
    """Why no run folder can be made under ``base``, and what to do."""
    fix = "Choose another folder for the runs (--out DIR)"
    blocker = next((p for p in (base, *base.parents) if p.exists() and not p.is_dir()), None)
    if blocker == base:
        return (
            f"{base} is a file, not a folder, so the run folder cannot be made in it. {fix}, "
            "or move the file away"
        )
    if blocker is not None:
        return (
            f"{base}: {blocker} is a file, not a folder, so the run folder cannot be made "
            f"there. {fix}"
        )
    if isinstance(error, PermissionError):
        return f"{base}: cannot create the run folder there (permission denied). {fix}"
    return f"{base}: cannot create the run folder there ({_reason(error)}). {fix}"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic JSON write (NaN and infinity are written as null)."""
    write_atomic(path, json.dumps(_finite(data), indent=1, ensure_ascii=False) + "\n")


def append_metrics(run_dir: Path, record: dict[str, Any]) -> int:
    """Add one epoch's line to metrics.jsonl; returns the file's size before it (for
    ``take_back_metrics``)."""
    path = run_dir / "metrics.jsonl"
    with open(path, "a", encoding="utf-8") as stream:
        size = stream.tell()
        stream.write(json.dumps(_finite(record)) + "\n")
    return size


def take_back_metrics(run_dir: Path, size: int) -> None:
    """Cut metrics.jsonl back to ``size`` bytes (the epoch whose checkpoint failed is not
    done); best effort: a resume drops lines past its checkpoint anyway (``trim_metrics``)."""
    with contextlib.suppress(OSError):
        os.truncate(run_dir / "metrics.jsonl", size)


def trim_metrics(run_dir: Path, epochs: int) -> int:
    """Keep the records of epochs 1..``epochs`` only (one per epoch, the last written), for a
    run resumed from the checkpoint of epoch ``epochs``: lines of later epochs (whose weights
    were lost) go, as those epochs are trained again. Damaged lines stay. Returns the number
    of lines dropped; raises OSError when the file cannot be read (not a regular file, too large)
    or rewritten."""
    path = run_dir / "metrics.jsonl"
    try:
        data = read_record(path)  # a regular file of at most RECORD_MAX_BYTES (a FIFO blocks)
    except FileNotFoundError:
        return 0
    lines = data.splitlines(keepends=True)
    last_line: dict[int, int] = {}  # epoch -> index of its last line
    epoch_of: dict[int, int] = {}
    for index, raw in enumerate(lines):
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            continue
        epoch = record.get("epoch") if isinstance(record, dict) else None
        if isinstance(epoch, int) and not isinstance(epoch, bool):
            epoch_of[index] = epoch
            last_line[epoch] = index
    drop = {
        index for index, epoch in epoch_of.items() if epoch > epochs or last_line[epoch] != index
    }
    if drop:
        kept = b"".join(line for index, line in enumerate(lines) if index not in drop)
        write_files_atomic([(path, kept)])
    return len(drop)


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
        data = read_record(path)
    except FileNotFoundError:
        return [], []
    except FileReadError as error:  # a FIFO, a device, a file past the cap: never waited on
        return [], [f"metrics.jsonl: {error.reason}"]
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


# settings a resumed run keeps: (key in TrainingSettings.to_dict(), data set it applies to or None)
KEPT_ON_RESUME: tuple[tuple[str, str | None], ...] = (
    ("data.dataset", None),
    ("data.root", "imagefolder"),  # the folder is the data set (elsewhere, where it is cached)
    ("data.shapes_count", "shapes"),
    ("data.limit", None),
    ("data.val_split", None),
    ("data.normalize", None),
    ("data.channels", None),
    ("data.resize", None),
    ("seed", None),  # it chooses the split and the sample of --limit
    ("loss", None),  # the recorded losses would change meaning
)


def resume_conflicts(
    run_settings: dict[str, Any] | None,
    run_graph: dict[str, Any] | None,
    settings: dict[str, Any],
    graph: dict[str, Any],
) -> list[str]:
    """What differs between a run (its checkpoint's settings and graph, as plain data) and a
    session that would resume it, among what a resumed run must keep; [] when nothing does.
    A checkpoint without settings or graph is not compared on that side."""
    problems: list[str] = []
    if isinstance(run_graph, dict):
        problems += _graph_differences(run_graph, graph)
    if isinstance(run_settings, dict):
        dataset = setting_at(settings, "data.dataset")
        for key, only_for in KEPT_ON_RESUME:
            if only_for is not None and dataset != only_for:
                continue
            old, new = setting_at(run_settings, key), setting_at(settings, key)
            if _plain(old) != _plain(new):
                problems.append(f"{key} is {_plain(new)!r}, the run's is {_plain(old)!r}")
    return problems


def setting_at(settings: dict[str, Any], key: str) -> Any:
    """The value of ``key`` ("lr", "data.limit") in settings as plain data (None if absent)."""
    value: Any = settings
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _graph_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The blocks, parameters and connections that differ (layout and groups do not count)."""

    def nodes(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        items = data.get("nodes") or []
        return {n["name"]: n for n in items if isinstance(n, dict) and "name" in n}

    def edges(data: dict[str, Any]) -> list[tuple[Any, ...]]:
        items = data.get("edges") or []
        return [tuple(e) for e in items if isinstance(e, list | tuple) and len(e) == 4]

    before, after = nodes(old), nodes(new)
    found: list[str] = []
    for name, node in after.items():
        was = before.get(name)
        if was is None:
            found.append(f"block {name!r} is new")
        elif was.get("type") != node.get("type"):
            found.append(f"{name} is a {node.get('type')} block, the run's is a {was.get('type')}")
        else:
            params, old_params = node.get("params") or {}, was.get("params") or {}
            for key in sorted(set(params) | set(old_params)):
                if _plain(params.get(key)) != _plain(old_params.get(key)):
                    found.append(
                        f"{name}.{key} is {params.get(key)!r}, the run's is {old_params.get(key)!r}"
                    )
    found += [f"block {name!r} was removed" for name in before if name not in after]
    old_edges, new_edges = set(edges(old)), set(edges(new))
    found += [f"connection {e[0]} → {e[2]} is new" for e in edges(new) if e not in old_edges]
    found += [f"connection {e[0]} → {e[2]} was removed" for e in edges(old) if e not in new_edges]
    return found


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


RECORD_MAX_BYTES = 64 << 20  # a run's JSON record files, each


def read_record(path: Path) -> bytes:
    """A run record file's bytes; FileNotFoundError when it is missing, FileReadError when it
    is not a regular file (a FIFO would block forever) or is larger than RECORD_MAX_BYTES."""
    from engine.safe_files import read_regular_file

    try:
        return read_regular_file(path, RECORD_MAX_BYTES, "run record file")
    except FileReadError as error:
        if error.errno == errno.ENOENT:
            raise FileNotFoundError(errno.ENOENT, "missing", str(path)) from error
        raise


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _read_json(path: Path, problems: list[str], missing_ok: bool = False) -> dict[str, Any] | None:
    """A JSON object file; None when it is missing (a problem unless ``missing_ok``); {} with
    the reason added to ``problems`` when it cannot be read."""
    try:
        text = read_record(path).decode("utf-8")
        data = json.loads(text)
    except FileNotFoundError:
        if not missing_ok:
            problems.append(f"{path.name}: missing")
        return None
    except FileReadError as error:  # a FIFO, a device, a file past the cap: never waited on
        problems.append(f"{path.name}: {error.reason}")
        return {}
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
