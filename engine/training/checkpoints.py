"""Checkpoints (a run folder's last.pt and best.pt): written atomically, read safely, checked.

A checkpoint is read with ``engine.torch_files.load_torch_file`` (regular files only, the
archive's declared sizes checked first, ``weights_only``, never torch's advice to load unsafely),
then every field a resume or a prediction uses is checked (its type and range), so that a
damaged or crafted file is refused at once with the field, its value and what to do, instead of
training an epoch first or failing with Python's own words.

    format, version      "cnn-designer-checkpoint", 1
    model                the state dict (names → tensors)
    optimizer, scaler    the optimiser's and the gradient scaler's states (objects)
    epoch, step          epochs and steps done (whole numbers: epoch ≥ 1, step ≥ epoch)
    best_val_accuracy    a number in [0, 1], or null before any
    settings, graph      the run's settings and graph (objects)
    classes              the class names (a list of text), normalization (an object)
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine.atomic_files import remove_stale_temps, temp_prefix

CHECKPOINT_FORMAT = "cnn-designer-checkpoint"
CHECKPOINT_VERSION = 1
MAX_EPOCHS = 10**9  # far beyond any run; a larger count is a damaged or crafted file
MAX_STEPS = 2**62

_FIX = (
    "The file is damaged or was not written by CNN Designer: resume from another checkpoint "
    "(a run folder's last.pt or best.pt), or start a new run"
)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save to a temporary file, then rename: a crash never leaves half a checkpoint.
    Temporaries that an earlier writer of ``path`` left when it was killed are removed first."""
    import torch

    remove_stale_temps(path)
    handle, temp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}, temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def remove_leftovers(path: Path) -> list[Path]:
    """On a resume, which owns the run folder: remove every temporary a killed writer of
    ``path`` left (``atomic_files.remove_stale_temps``, and those of the older naming without
    a process id whatever their age). Only ``path``'s own temporaries are touched; never raises."""
    removed = remove_stale_temps(path)
    older = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    try:
        entries = [e for e in os.scandir(path.parent) if older.fullmatch(e.name)]
    except OSError:
        return removed
    for entry in entries:
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint (or a run folder's last.pt), read safely and checked field by field;
    raises TrainingError naming the file, the field, its value and what to do."""
    from engine.torch_files import TorchFileError, load_torch_file
    from engine.training.model import TrainingError

    source = Path(path).expanduser()
    if source.is_dir():
        source = source / "last.pt"
    try:
        state = load_torch_file(source)
    except TorchFileError as error:
        what = f"not a CNN Designer checkpoint ({error.reason})" if error.content else error.reason
        raise TrainingError(
            f"checkpoint {source}: {what}. Name a run folder or its last.pt or best.pt"
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise TrainingError(
            f"checkpoint {source}: not a CNN Designer checkpoint. Name a run folder or its "
            "last.pt or best.pt"
        )
    check_record(state, source)
    return state


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _accuracy(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0 <= value <= 1


def _state_dict(value: Any) -> bool:
    import torch

    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()
    )


def check_record(state: dict[str, Any], source: str | os.PathLike[str]) -> None:
    """TrainingError naming the first field of a checkpoint that is missing, of the wrong type
    or out of range (see the module's docstring)."""
    from engine.training.model import TrainingError

    version = state.get("version")
    if _whole(version, CHECKPOINT_VERSION + 1, 2**31):
        raise TrainingError(
            f"checkpoint {source}: written by a newer CNN Designer (checkpoint version "
            f"{version}; this one reads version {CHECKPOINT_VERSION}). Received: "
            f"version={version}. Update CNN Designer to resume it"
        )
    epoch = state.get("epoch")
    least_steps = epoch if isinstance(epoch, int) and _whole(epoch, 1, MAX_EPOCHS) else 0
    rules: list[tuple[str, Callable[[Any], bool], str]] = [
        (
            "version",
            lambda v: _whole(v, CHECKPOINT_VERSION, CHECKPOINT_VERSION),
            f"the format's version, {CHECKPOINT_VERSION}",
        ),
        ("model", _state_dict, "the model's weights (names → tensors)"),
        ("optimizer", lambda v: isinstance(v, dict), "the optimiser's state (an object)"),
        ("scaler", lambda v: v is None or isinstance(v, dict), "the scaler's state (an object)"),
        ("epoch", lambda v: _whole(v, 1, MAX_EPOCHS), "the epochs done, a whole number ≥ 1"),
        (
            "step",
            lambda v: _whole(v, least_steps, MAX_STEPS),
            "the steps done, a whole number at least the epochs done",
        ),
        ("best_val_accuracy", _accuracy, "an accuracy from 0 to 1, or null"),
        ("settings", lambda v: isinstance(v, dict), "the run's settings (an object)"),
        ("graph", lambda v: isinstance(v, dict), "the run's graph (an object)"),
        (
            "classes",
            lambda v: v is None or (isinstance(v, list) and all(isinstance(c, str) for c in v)),
            "the class names (a list of text)",
        ),
        (
            "normalization",
            lambda v: v is None or isinstance(v, dict),
            "the normalisation (an object)",
        ),
    ]
    optional = {"scaler", "classes", "normalization"}
    for name, valid, meaning in rules:
        if name not in state:
            if name in optional:
                continue
            raise TrainingError(f"checkpoint {source}: its {name} is missing ({meaning}). {_FIX}")
        value = state[name]
        if not valid(value):
            shown = f"a {type(value).__name__}" if name in ("model", "optimizer") else _short(value)
            raise TrainingError(
                f"checkpoint {source}: {name} must be {meaning}. Received: {name}={shown}. {_FIX}"
            )
