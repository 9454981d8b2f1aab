"""``cnn-designer runs DIR [--json] [--tradeoff params|macs|seconds]``: the runs of a runs folder
in a table (start, status, data, epochs, best validation accuracy and loss, parameters, MACs,
training time, design fingerprint) and, with --tradeoff, which of them are on the Pareto front
of accuracy against that cost. Never imports Qt or torch."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from designer.cli.common import fail


def register(subparsers: argparse._SubParsersAction) -> None:
    from engine.experiments.tradeoff import AXES

    parser = subparsers.add_parser(
        "runs",
        help="list the runs of a runs folder; --tradeoff marks the Pareto front",
        description=(
            "List every run folder under DIR (e.g. my_net.runs) with its headline numbers. "
            "With --tradeoff, the runs no other run beats on both accuracy and the cost are "
            "marked * (the Pareto front)."
        ),
    )
    parser.add_argument("dir", metavar="DIR", help="a runs folder, e.g. my_net.runs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--tradeoff",
        choices=AXES,
        metavar="COST",
        help=f"mark the Pareto front of best validation accuracy against COST: {', '.join(AXES)}",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.experiments.tradeoff import list_run_facts, tradeoff

    root = Path(args.dir).expanduser()
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        return fail(
            f"runs: the runs folder {what}. Received: DIR={args.dir}. Give the folder the runs "
            "went to, e.g. my_net.runs beside my_net.cnnd, or runs/PRESET"
        )
    facts = list_run_facts(root)
    plot = tradeoff(facts, args.tradeoff) if args.tradeoff else None
    front = {p.name for p in plot.front} if plot else set()
    if args.json:
        print(json.dumps(_json(facts, plot, front), indent=1))
        return 0
    if not facts:
        print(f"no runs in {root}")
        return 0
    _table(facts, front if plot else None)
    if plot is not None:
        _tradeoff_lines(plot)
    for fact in facts:
        for problem in fact.problems:
            print(f"note: {fact.name}: {problem}")
    return 0


def _json(facts: list[Any], plot: Any, front: set[str]) -> dict[str, Any]:
    from engine.experiments.tradeoff import facts_json

    data: dict[str, Any] = {
        "runs": [facts_json(f, f.name in front if plot else None) for f in facts]
    }
    if plot is not None:
        data["tradeoff"] = {
            "axis": plot.axis,
            "points": [
                {"name": p.name, "x": p.x, "y": p.y, "pareto": p.on_front} for p in plot.points
            ],
            "front": [p.name for p in plot.front],
            "excluded": [{"name": n, "reason": r} for n, r in plot.excluded],
        }
    return data


def _table(facts: list[Any], front: set[str] | None) -> None:
    head = ["run", "started", "status", "data", "epochs", "best acc", "best loss"]
    head += ["params", "MACs", "time", "design"]
    rows = []
    for f in facts:
        row = [
            f.name,
            f.started or "-",
            f.status,
            f.dataset or "-",
            str(f.epochs),
            "-" if f.best_val_accuracy is None else f"{f.best_val_accuracy:.2%}",
            "-" if f.best_val_loss is None else f"{f.best_val_loss:.4f}",
            "-" if f.params is None else f"{f.params:,}",
            "-" if f.macs is None else f"{f.macs:,}",
            "-" if f.seconds is None else f"{f.seconds:.1f} s",
            f.fingerprint or "-",
        ]
        if front is not None:
            row.insert(0, "*" if f.name in front else "")
        rows.append(row)
    if front is not None:
        head.insert(0, "")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    right = {"epochs", "best acc", "best loss", "params", "MACs", "time"}
    for r in [head, *rows]:
        cells = [
            c.rjust(w) if h in right else c.ljust(w)
            for c, w, h in zip(r, widths, head, strict=True)
        ]
        print("  ".join(cells).rstrip())


def _tradeoff_lines(plot: Any) -> None:
    from engine.experiments.tradeoff import AXIS_LABELS

    label = AXIS_LABELS[plot.axis]
    names = ", ".join(p.name for p in plot.front) or "none"
    print(f"\nPareto front (best validation accuracy against {label}), * above: {names}")
    for name, reason in plot.excluded:
        print(f"not plotted: {name}: {reason}")
