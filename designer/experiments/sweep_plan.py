"""What the sweep dialog runs: the ``cnn-designer sweep`` command line for the open design,
checked with the command's own ``plan`` before anything starts, and the trials read back from
the run folders while it runs.

The design is saved to a temporary project file (with its training settings) that the command
reads for every trial; or, for a design opened from a preset, the preset is named so that its
options can be varied, with the project's training settings as options. Trials land in the
design's own runs folder (``--out``) and the study in its ``sweep.db``, so the Runs page, the
trade-off plot and a later sweep of the same study all see them.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import DesignerError
from engine.experiments.space import setting_keys

MAX_FOLDERS = 5000  # run folders looked at per read, at most
MAX_TRIAL_BYTES = 1 << 20  # a trial.json larger than this is not ours
MAX_KEYS = 2000  # keys offered in a row's list, at most


@dataclass(frozen=True)
class Row:
    """One varied key: ``spec`` is KIND:VALUES, as ``--param KEY=SPEC`` takes it."""

    key: str
    spec: str

    @property
    def item(self) -> str:
        return f"{self.key.strip()}={self.spec.strip()}"


@dataclass(frozen=True)
class SweepRequest:
    rows: tuple[Row, ...]
    trials: int
    sampler: str
    prune: bool
    out: Path  # the runs folder
    study: str
    file: Path | None = None  # the design saved for the command
    preset: str | None = None  # or the preset it was opened from
    training: dict[str, Any] | None = None  # the project's training settings (for a preset)


def preset_flags(training: dict[str, Any]) -> list[str]:
    """The project's training settings as the command's options (for a --preset source)."""
    from designer.cli.train import OVERRIDES
    from engine.training.settings import TrainingSettings

    settings = TrainingSettings.from_dict(training or {}).to_dict()
    keys = setting_keys(settings)
    flags: list[str] = []
    for flag, (key, _kind) in OVERRIDES.items():
        value = keys.get(key)
        if value is not None and value != "":
            flags += [f"--{flag.replace('_', '-')}", str(value)]
    if settings.get("nesterov"):
        flags.append("--nesterov")
    if (settings.get("data") or {}).get("flip"):
        flags.append("--flip")
    if settings.get("mixed_precision") is False:
        flags.append("--no-amp")
    return flags


def command_line(request: SweepRequest) -> list[str]:
    """``sweep ...``: the arguments after ``python -m designer``."""
    source = [str(request.file)] if request.file is not None else ["--preset", str(request.preset)]
    if request.preset is not None and request.file is None:
        source += preset_flags(request.training or {})
    args = ["sweep", *source]
    for row in request.rows:
        args += ["--param", row.item]
    args += ["--trials", str(request.trials), "--sampler", request.sampler]
    args += ["--out", str(request.out), "--study", request.study]
    if request.prune:
        args.append("--prune")
    return args


def check(args: list[str]) -> str | None:
    """The command's own refusal of ``args`` (its message, as it prints it), or None."""
    from designer.cli import build_parser
    from designer.cli.sweep import plan

    parser = build_parser()
    try:
        parsed = parser.parse_args(args)
    except SystemExit:
        return f"the sweep's options were refused: {' '.join(args)}"
    try:
        plan(parsed)
    except DesignerError as error:
        return str(error)
    return None


def known_keys(graph: Any, training: dict[str, Any], preset: Any) -> list[str]:
    """Every key a sweep of this design can vary: settings, preset options, block parameters."""
    from engine.training.settings import SettingsError, TrainingSettings

    try:
        defaults = TrainingSettings.from_dict(training or {}).to_dict()
    except SettingsError:
        defaults = TrainingSettings().to_dict()
    keys = list(setting_keys(defaults))
    if preset is not None:
        keys += [f"option.{o.name}" for o in preset.options]
    for node in graph:  # a big design offers its first blocks' (any other can be typed)
        if len(keys) >= MAX_KEYS:
            break
        keys += [f"{node.name}.{p.name}" for p in node.spec.params]
    return keys


@dataclass
class TrialRow:
    number: int
    state: str
    params: dict[str, Any]
    value: float | None  # the validation accuracy: final when complete, best so far otherwise
    run_dir: Path | None  # None: a trial that made no run folder (known from the study only)
    message: str | None = None


def read_trials(root: Path, study: str, known: dict[Path, TrialRow]) -> list[TrialRow]:
    """The trials of ``study`` in the run folders under ``root``, by number. ``known`` keeps
    the finished ones between calls (they are not read again); never raises."""
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir())[-MAX_FOLDERS:]
    except OSError:
        folders = []
    rows: dict[int, TrialRow] = {}
    for folder in folders:
        row = known.get(folder)
        if row is None or row.state in ("RUNNING", "WAITING"):
            row = _trial(folder, study)
            if row is None:
                continue
            known[folder] = row
        if row.number not in rows or rows[row.number].state == "FAIL":
            rows[row.number] = row
    return [rows[n] for n in sorted(rows)]


def _trial(folder: Path, study: str) -> TrialRow | None:
    from engine.safe_files import read_regular_file
    from engine.training.runs import read_metrics

    try:
        data = json.loads(read_regular_file(folder / "trial.json", MAX_TRIAL_BYTES).decode())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, DesignerError):
        return None
    if not isinstance(data, dict) or data.get("study") != study:
        return None
    number, state = data.get("trial"), data.get("state")
    if not isinstance(number, int) or not isinstance(state, str):
        return None
    value = data.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        value = None
        with contextlib.suppress(Exception):  # best so far of a trial still training
            scores = [m.get("val_accuracy") for m in read_metrics(folder)]
            numbers = [float(s) for s in scores if isinstance(s, int | float)]
            value = max(numbers) if numbers else None
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    message = data.get("message") if isinstance(data.get("message"), str) else None
    return TrialRow(number, state, dict(params or {}), value, folder, message)


def best_trial(rows: list[TrialRow]) -> TrialRow | None:
    done = [r for r in rows if r.state == "COMPLETE" and r.value is not None]
    return max(done, key=lambda r: (r.value, -r.number)) if done else None
