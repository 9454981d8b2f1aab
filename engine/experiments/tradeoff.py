"""The trade-off between accuracy and cost over runs: the points and their Pareto front.

    facts = [run_facts(info) for info in runs.list_runs(root)]
    plot = tradeoff(facts, "params")  # or "macs", "seconds"
    plot.points, plot.front, plot.excluded

Each point is a run: x its cost (parameters, MACs or training time, smaller is better), y its
best validation accuracy (larger is better). A run is on the Pareto front when no other run is
at least as good on both and better on one: two runs with the same cost and accuracy are both
on it, and of two runs with the same cost only the more accurate one is. Runs without an
accuracy or a cost are left out and listed with the reason. Points and front are in x order.

Parameters and MACs of a run come from its graph.json (the design it trained), inferred once per
design fingerprint; training time is the sum of its epochs' seconds in metrics.jsonl. Qt-free,
and torch-free: inference counts without building the model.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import DesignerError, FileReadError
from engine.training import runs

AXES = ("params", "macs", "seconds")
AXIS_LABELS = {"params": "parameters", "macs": "MACs", "seconds": "training time (s)"}

_COSTS: dict[str, tuple[int, int]] = {}  # design fingerprint -> (parameters, MACs)
_COSTS_KEPT = 512  # designs remembered at most


class TradeoffError(DesignerError, ValueError):
    """A trade-off asked for along an axis that does not exist."""


@dataclass(frozen=True)
class RunFacts:
    """One run's headline numbers, as the run browser and the trade-off plot show them."""

    path: Path
    name: str
    status: str
    dataset: str | None
    epochs: int
    started: str | None  # "YYYY-mm-dd HH:MM:SS", from the run folder's name
    best_val_accuracy: float | None
    best_val_loss: float | None
    params: int | None
    macs: int | None
    seconds: float | None  # training time: the sum of the epochs' seconds
    fingerprint: str | None  # short hash of the design (blocks, parameters, wires)
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class TradeoffPoint:
    name: str
    x: float
    y: float
    on_front: bool
    run: Any  # the record it came from


@dataclass(frozen=True)
class Tradeoff:
    axis: str
    points: tuple[TradeoffPoint, ...]  # every plotted run, in x order (ties: y descending)
    front: tuple[TradeoffPoint, ...]  # the Pareto runs, in x order
    excluded: tuple[tuple[str, str], ...]  # (run name, why it is not plotted)


def tradeoff(records: Sequence[Any], axis: str = "params") -> Tradeoff:
    """Points and Pareto front of ``records`` (objects with ``name``, ``best_val_accuracy`` and
    the axis's attribute: ``params``, ``macs`` or ``seconds``). Raises TradeoffError for an
    unknown axis."""
    if axis not in AXES:
        raise TradeoffError(
            f"trade-off axis: unknown axis. Received: axis={axis!r}. "
            f"Choose one of {', '.join(AXES)}"
        )
    plotted: list[tuple[float, float, int, Any]] = []
    excluded: list[tuple[str, str]] = []
    for index, record in enumerate(records):
        name = str(getattr(record, "name", index))
        y = _number(getattr(record, "best_val_accuracy", None))
        x = _number(getattr(record, axis, None))
        if y is None:
            excluded.append((name, "no validation accuracy"))
        elif x is None:
            excluded.append((name, f"no {AXIS_LABELS[axis]}"))
        else:
            plotted.append((x, y, index, record))
    plotted.sort(key=lambda p: (p[0], -p[1], p[2]))
    points: list[TradeoffPoint] = []
    best_y = -math.inf
    best_x = math.nan
    for x, y, _index, record in plotted:
        on_front = y > best_y or (y == best_y and x == best_x)
        if y > best_y:
            best_y, best_x = y, x
        points.append(TradeoffPoint(str(getattr(record, "name", _index)), x, y, on_front, record))
    front = tuple(p for p in points if p.on_front)
    return Tradeoff(axis, tuple(points), front, tuple(excluded))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def run_facts(info: runs.RunInfo) -> RunFacts:
    """The facts of a listed run: ``info`` plus its best validation loss, training time, and
    the parameters, MACs and fingerprint of its graph.json (damage is added to problems)."""
    problems = list(info.problems)
    metrics = runs.read_metrics(info.path)
    losses = [float(m["val_loss"]) for m in metrics if m.get("val_loss") is not None]
    seconds = [float(m["seconds"]) for m in metrics if m.get("seconds") is not None]
    params = macs = None
    fingerprint = None
    design = _read_graph(info.path / "graph.json", problems)
    if design is not None:
        fingerprint = design_fingerprint(design)
        costs = _costs(design, fingerprint, problems)
        if costs is not None:
            params, macs = costs
    return RunFacts(
        path=info.path,
        name=info.name,
        status=info.status,
        dataset=info.dataset,
        epochs=info.epochs,
        started=_started(info.name),
        best_val_accuracy=info.best_val_accuracy,
        best_val_loss=min(losses) if losses else None,
        params=params,
        macs=macs,
        seconds=round(sum(seconds), 3) if seconds else None,
        fingerprint=fingerprint,
        problems=tuple(problems),
    )


def list_run_facts(root: str | Path) -> list[RunFacts]:
    """``run_facts`` of every run under ``root``, oldest first (never raises)."""
    return [run_facts(info) for info in runs.list_runs(root)]


def design_fingerprint(design: dict[str, Any]) -> str:
    """A short hash of a design as plain data (``Graph.to_data()``): its blocks with their
    types, parameters and bypass flags, and its wires; groups and layout do not count."""
    nodes = design.get("nodes") if isinstance(design.get("nodes"), list) else []
    edges = design.get("edges") if isinstance(design.get("edges"), list) else []
    kept = [
        [n.get("name"), n.get("type"), n.get("params"), bool(n.get("bypassed"))]
        for n in nodes or []
        if isinstance(n, dict)
    ]
    wires = sorted(json.dumps(e, default=repr) for e in edges or [])
    text = json.dumps({"nodes": kept, "edges": wires}, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _read_graph(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(runs.read_record(path).decode("utf-8"))
    except FileNotFoundError:
        problems.append("graph.json: missing, so its parameters and MACs are unknown")
        return None
    except FileReadError as error:  # a FIFO, a device, a file past the cap: never waited on
        problems.append(f"graph.json: {error.reason}")
        return None
    except OSError as error:
        problems.append(f"graph.json: cannot be read ({error.strerror or error})")
        return None
    except (UnicodeDecodeError, ValueError, RecursionError):
        problems.append("graph.json: not valid JSON, so its parameters and MACs are unknown")
        return None
    if not isinstance(data, dict):
        problems.append(f"graph.json: a JSON {type(data).__name__}, not a design")
        return None
    return data


def _costs(design: dict[str, Any], fingerprint: str, problems: list[str]) -> tuple[int, int] | None:
    """(parameters, MACs) of a design, inferred once per fingerprint."""
    if fingerprint in _COSTS:
        return _COSTS[fingerprint]
    from engine.inference import infer
    from engine.project import FORMAT, VERSION, project_from_data

    try:
        graph = project_from_data(
            {"format": FORMAT, "version": VERSION, "graph": design}, "graph.json"
        ).graph
        result = infer(graph)
    except Exception as error:  # a damaged design: named, never raised
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        problems.append(f"graph.json: not a design this version reads ({first})")
        return None
    if not result.ok:
        problems.append(f"graph.json: the design has errors ({result.errors[0].message})")
        return None
    if len(_COSTS) >= _COSTS_KEPT:
        _COSTS.pop(next(iter(_COSTS)))
    _COSTS[fingerprint] = (result.total_params, result.total_macs)
    return _COSTS[fingerprint]


def _started(name: str) -> str | None:
    """The start time in a run folder's name (``20261202-053238`` or ``...-1``)."""
    try:
        moment = time.strptime(name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", moment)


def facts_json(facts: RunFacts, on_front: bool | None = None) -> dict[str, Any]:
    """A run's facts as plain JSON data (``runs --json``)."""
    data: dict[str, Any] = {
        "name": facts.name,
        "path": str(facts.path),
        "started": facts.started,
        "status": facts.status,
        "dataset": facts.dataset,
        "epochs": facts.epochs,
        "best_val_accuracy": facts.best_val_accuracy,
        "best_val_loss": facts.best_val_loss,
        "params": facts.params,
        "macs": facts.macs,
        "seconds": facts.seconds,
        "fingerprint": facts.fingerprint,
        "problems": list(facts.problems),
    }
    if on_front is not None:
        data["pareto"] = on_front
    return data
