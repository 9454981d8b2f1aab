"""``cnn-designer summary``: the layer table of a design, without running it."""

from __future__ import annotations

import argparse
import json
import sys

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
    if args.json:
        print(json.dumps(summary_json(graph, result), indent=1))
    else:
        print(summary_text(graph, result))
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
