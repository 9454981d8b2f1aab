"""``cnn-designer explain``: what the inspector shows for one block, on the command line.

Shapes, the output-size arithmetic, parameters and MACs, the receptive field with its jump and
start, and for a Conv2d the lecture's comparison with its dense and locally connected
equivalents. ``--json`` prints one object (see README, "Command line").
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from designer.cli.common import add_source_arguments, fail, load_graph, source_label
from engine import DesignerError, infer
from engine.analysis.equivalents import Equivalents, node_equivalents
from engine.analysis.receptive_field import (
    Field,
    number,
    pair_text,
    receptive_fields,
)
from engine.arithmetic import size_lines
from engine.catalog import fmt_shape


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain one block: shapes, arithmetic, receptive field, CNN vs MLP",
        description=(
            "What the inspector shows for one block: input and output shapes, the output-size "
            "arithmetic, parameters and MACs, the receptive field (size, jump, start) and, for "
            "a Conv2d, its dense and locally connected equivalents."
        ),
    )
    add_source_arguments(parser)
    parser.add_argument("--node", required=True, metavar="NAME", help="the block to explain")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def _shape(shape: Any) -> list[int] | None:
    return None if shape is None else [int(s) for s in shape]


def explanation(graph: Any, name: str) -> dict[str, Any]:
    """The JSON object of ``explain`` for node ``name`` (UnknownNameError if there is none)."""
    node = graph.node(name)
    result = infer(graph)
    found = result.nodes[name]
    field = receptive_fields(graph, result).get(name)
    inputs = [_shape(s) for s in found.inputs]
    data: dict[str, Any] = {
        "node": name,
        "type": node.type_id,
        "input_shape": inputs[0] if len(inputs) == 1 else (inputs or None),
        "output_shape": _shape(found.output),
        "params": found.params,
        "macs": found.macs,
        "arithmetic": size_lines(
            node.type_id, node.spec.with_defaults(node.params), found.inputs[0] if inputs else None
        ),
        "receptive_field": None if field is None else list(field.size),
        "jump": None if field is None else [number(j) for j in field.jump],
        "start": None if field is None else [number(s) for s in field.start],
        "whole_input": None if field is None else field.whole,
        "problems": [d.message for d in result.for_node(name)],
    }
    if node.type_id == "conv2d":
        rows = node_equivalents(graph, result, name)
        data["equivalents"] = None if rows is None else rows.as_dict()
    return data


def _field_lines(field: Field | None) -> list[str]:
    if field is None:
        return ["Receptive field: none (no image reaches this block, or its shapes are unknown)"]
    h, w = field.size
    lines = [
        f"Receptive field: {h}×{w} input pixels"
        + (" (the whole input map)" if field.whole else ""),
        f"Jump (effective stride): {pair_text(field.jump)} input pixels between neighbouring units",
        "Start: the first unit's field is centred on input pixel "
        + pair_text((number(field.start[0]), number(field.start[1]))),
    ]
    if field.note:
        lines.append(f"Note: {field.note}")
    return lines


def _equivalent_lines(rows: Equivalents) -> list[str]:
    table = [("", "weights", "biases", "params", "MACs")]
    table += [
        (label, f"{c.weights:,}", f"{c.biases:,}", f"{c.params:,}", f"{c.macs:,}")
        for label, c in rows.rows()
    ]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    lines = ["CNN vs MLP for this layer's sizes (the lecture's MLNN, MLNN-LC, MLNN-LC-PS):"]
    for row in table:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  " + "  ".join(cells))
    ratios = rows.ratios()
    lines.append(
        f"  dense / conv params: {ratios['dense_over_conv_params']:,.1f}×; "
        f"LC / conv params: {ratios['lc_over_conv_params']:,.1f}×; "
        f"dense / conv MACs: {ratios['dense_over_conv_macs']:,.1f}×"
    )
    return lines


def explanation_text(graph: Any, name: str) -> str:
    data = explanation(graph, name)
    node = graph.node(name)
    result = infer(graph)
    found = result.nodes[name]
    shapes_in = ", ".join(fmt_shape(s) for s in found.inputs) or "(none)"
    lines = [
        f"{name} ({node.spec.display_name}): {shapes_in} → {fmt_shape(found.output)}",
    ]
    if data["arithmetic"]:
        lines.append("Output size: " + data["arithmetic"][0])
        lines += [f"             {line}" for line in data["arithmetic"][1:]]
    count = lambda v: "?" if v is None else f"{v:,}"  # noqa: E731
    lines.append(f"Parameters: {count(found.params)}; MACs per sample: {count(found.macs)}")
    lines += _field_lines(receptive_fields(graph, result).get(name))
    if node.type_id == "conv2d":
        rows = node_equivalents(graph, result, name)
        if rows is not None:
            lines += _equivalent_lines(rows)
    lines += [f"Problem: {message}" for message in data["problems"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        graph = load_graph(args)
        graph.node(args.node)  # an unknown name: the message lists the closest ones
    except DesignerError as error:
        return fail(f"{source_label(args) if (args.file or args.preset) else 'explain'}: {error}")
    if args.json:
        print(json.dumps(explanation(graph, args.node), indent=1))
    else:
        print(explanation_text(graph, args.node))
    if not infer(graph).nodes[args.node].known:
        print(
            f"cnn-designer: {source_label(args)}: {args.node}'s shapes are unknown (the problems "
            "above say why); fix the design and explain again",
            file=sys.stderr,
        )
        return 1
    return 0
