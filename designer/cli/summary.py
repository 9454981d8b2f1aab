"""``cnn-designer summary``: the layer table of a design, without running it."""

from __future__ import annotations

import argparse
import json

from designer.cli.common import add_source_arguments, fail, load_graph, parse_shape
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
    return 0 if result.ok else 1
