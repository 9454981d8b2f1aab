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
    """Every epoch record of a run (a truncated last line is skipped)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


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
    """One run of a project as listed: folder, status and headline numbers."""

    path: Path
    name: str
    status: str
    epochs: int
    best_val_accuracy: float | None
    final_val_accuracy: float | None
    dataset: str | None
    settings: dict[str, Any]

    def metrics(self) -> list[dict[str, Any]]:
        """The run's per-epoch records (for overlaying curves)."""
        return read_metrics(self.path)


def list_runs(root: str | os.PathLike[str]) -> list[RunInfo]:
    """Every run folder under ``root``, oldest first; runs still going show status "running"."""
    base = Path(root).expanduser()
    if not base.is_dir():
        return []
    runs = []
    for path in sorted(p for p in base.iterdir() if (p / "settings.json").is_file()):
        settings = _read_json(path / "settings.json")
        result = _read_json(path / "result.json")
        metrics = read_metrics(path)
        finals = [float(m["val_accuracy"]) for m in metrics if m.get("val_accuracy") is not None]
        runs.append(
            RunInfo(
                path=path,
                name=path.name,
                status=str(result.get("status", "running")),
                epochs=len(metrics),
                best_val_accuracy=max(finals) if finals else None,
                final_val_accuracy=finals[-1] if finals else None,
                dataset=(settings.get("settings", {}).get("data") or {}).get("dataset"),
                settings=settings.get("settings", {}),
            )
        )
    return runs


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def default_run_root(
    project_file: str | os.PathLike[str] | None, preset: str | None = None
) -> Path:
    """Where runs of a project go: ``<folder>/<name>.runs`` beside the project file, or
    ``runs/<preset>`` in the current folder for a preset."""
    if project_file is not None:
        path = Path(project_file).expanduser()
        return path.with_name(f"{path.stem}.runs")
    return Path("runs") / (preset or "untitled")
