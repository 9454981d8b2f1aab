"""Comparing runs: the settings that differ, the design a run trained, and which runs are
repeats of one another (one design and settings, other seeds).

    settings_diff([run_a.settings, run_b.settings])  # [("lr", [0.001, 0.01]), ...]
    run_graph(run_dir)                               # the Graph of its graph.json
    repeat_key(run.settings, fingerprint)            # equal for repeats

Qt-free and torch-free.
"""

from __future__ import annotations

import errno
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import DesignerError, FileReadError
from engine.safe_files import read_regular_file

MAX_GRAPH_BYTES = 64 << 20  # as a project file


class RunDesignError(DesignerError, ValueError):
    """A run whose graph.json cannot be read as a design."""


def flatten(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted keys (``data.limit``); lists and other values as they are."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(
        b, sort_keys=True, default=repr
    )


def settings_diff(settings: Sequence[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """The keys whose values differ between the runs' settings (a key a run lacks counts as
    None), each with every run's value, in key order."""
    flats = [flatten(s) if isinstance(s, dict) else {} for s in settings]
    keys = sorted({k for flat in flats for k in flat})
    found = []
    for key in keys:
        values = [flat.get(key) for flat in flats]
        if any(not _same(values[0], v) for v in values[1:]):
            found.append((key, values))
    return found


def repeat_key(settings: dict[str, Any], fingerprint: str | None) -> str | None:
    """What repeats of one run share: the design's fingerprint and every setting but the seed
    (None when the design is unknown)."""
    if fingerprint is None or not isinstance(settings, dict):
        return None
    kept = {k: v for k, v in settings.items() if k != "seed"}
    return fingerprint + json.dumps(kept, sort_keys=True, default=repr)


def run_graph(run_dir: str | Path) -> Any:
    """The design a run trained (its graph.json as a Graph); RunDesignError naming the file
    and the reason when it cannot be read."""
    from engine.project import FORMAT, VERSION, project_from_data

    path = Path(run_dir) / "graph.json"
    try:  # a FIFO or a device is refused, never waited on
        raw = read_regular_file(path, MAX_GRAPH_BYTES, "run design", "Pick another run")
        data = json.loads(raw.decode("utf-8"))
    except FileReadError as error:
        if error.errno == errno.ENOENT:
            raise RunDesignError(
                f"{path}: missing. The run did not record its design (runs made before designs "
                "were recorded); open the project it was trained from instead"
            ) from error
        raise RunDesignError(f"{path}: {error.reason}. Pick another run") from error
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise RunDesignError(f"{path}: not valid JSON, so the design is lost") from error
    if not isinstance(data, dict):
        raise RunDesignError(f"{path}: a JSON {type(data).__name__}, not a design")
    try:
        project = project_from_data(
            {"format": FORMAT, "version": VERSION, "graph": data}, str(path)
        )
    except DesignerError as error:
        raise RunDesignError(f"{path}: not a design this version reads ({error})") from error
    return project.graph


def curve(records: Sequence[dict[str, Any]], key: str, x: str = "epoch") -> tuple[list, list]:
    """One metric of a run against ``x``: "epoch", "step" or "time" (seconds since the run
    began, the epochs' seconds added up). A missing value is NaN (a gap)."""
    xs: list[float] = []
    ys: list[float] = []
    elapsed = 0.0
    for index, record in enumerate(records):
        seconds = _number(record.get("seconds"))
        elapsed += 0.0 if math.isnan(seconds) else seconds
        if x == "time":
            xs.append(elapsed)
        elif x == "step":
            step = _number(record.get("step"))
            xs.append(index + 1.0 if math.isnan(step) else step)
        else:
            epoch = _number(record.get("epoch"))
            xs.append(index + 1.0 if math.isnan(epoch) else epoch)
        ys.append(_number(record.get(key)))
    return xs, ys


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan
