"""``cnn-designer summary``: the layer table of a design, without running it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from designer.cli.common import (
    add_source_arguments,
    fail,
    load_graph,
    parse_shape,
    source_label,
)
from engine import DesignerError, infer, summary_json, summary_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "summary",
        help="print the per-layer shapes, parameters and MACs of a project or preset",
        description="Shapes, parameters and MACs of every layer; exits 1 on an invalid graph.",
    )
    add_source_arguments(parser)
    parser.add_argument("--input", metavar="CxHxW", help="override the Input block's shape")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--weights",
        metavar="PATH",
        help="match a weights file (a state dict, a checkpoint or run folder of ours) to the "
        "design by name and report what matched, is missing, unexpected or of another shape",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        graph = load_graph(args)
        if args.input is not None:
            inputs = graph.nodes_of_type("input")
            if len(inputs) != 1:
                raise DesignerError(
                    f"--input needs exactly one Input block; the graph has {len(inputs)}"
                )
            graph.set_params(inputs[0].name, {"shape": parse_shape(args.input)})
    except DesignerError as error:
        return fail(str(error))
    result = infer(graph)
    report = None
    if args.weights and result.ok:
        from engine.transfer import classifier_prefix, design_shapes, match, read_weights

        try:
            found = read_weights(args.weights)
            report = match(found, design_shapes(graph), classifier_prefix(graph))
        except DesignerError as error:
            return fail(str(error))
    if args.json:
        data = summary_json(graph, result)
        if report is not None:
            data["weights"] = _report_json(report)
        print(json.dumps(data, indent=1))
    else:
        print(summary_text(graph, result))
        if report is not None:
            print(report.text())
    if report is not None:
        from engine.transfer import check_report

        try:
            check_report(report, strict=False)
        except DesignerError as error:
            print(f"cnn-designer: {error}", file=sys.stderr)
            return 1
    if not result.ok:  # the table (or the JSON) lists every problem; stderr says what to do
        count = f"{len(result.errors)} error{'s' if len(result.errors) != 1 else ''}"
        where = "the table above" if not args.json else "the JSON's diagnostics"
        print(
            f"cnn-designer: {source_label(args)}: the design has {count} ({where} "
            "lists them); fix them in the designer or in the file",
            file=sys.stderr,
        )
        return 1
    return 0


def _report_json(report: Any) -> dict[str, Any]:
    """The weights report as JSON: counts, then the names of each kind."""
    return {
        "file": report.source,
        **report.counts(),
        "missing_names": list(report.missing),
        "unexpected_names": list(report.unexpected),
        "mismatched_names": [
            {"name": m.name, "file_shape": list(m.file_shape), "design_shape": list(m.design_shape)}
            for m in report.mismatched
        ],
    }
