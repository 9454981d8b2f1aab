"""The layer summary of a graph, like torchinfo's, computed without running the model."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from engine.catalog import CATALOG, fmt_shape
from engine.graph import Graph, group_name
from engine.inference import MACS_CONVENTION, InferenceResult, infer

BYTES_PER_VALUE = 4  # float32


class LayerRow(NamedTuple):
    """One row of the summary."""

    name: str
    type: str
    group: str
    output_shape: tuple[int, ...] | None
    params: int | None
    macs: int | None


def layer_rows(graph: Graph, result: InferenceResult) -> list[LayerRow]:
    """One row per node, in evaluation order."""
    display: dict[str, str] = {}
    for type_id in {node.type_id for node in graph}:  # old (aliased) ids included
        display[type_id] = CATALOG.get(type_id).display_name if type_id in CATALOG else type_id
    rows = []
    nodes = result.nodes
    for name in result.order:
        node = graph.node(name)
        node_result = nodes[name]
        rows.append(
            LayerRow(
                name,
                display[node.type_id],
                group_name(node.group),
                node_result.output,
                node_result.params,
                node_result.macs,
            )
        )
    return rows


def activation_bytes(result: InferenceResult, batch: int = 1) -> int:
    """Memory of every node's outputs for ``batch`` samples, in float32 bytes."""
    values = 0
    for node in result.nodes.values():
        for shape in node.outputs.values():
            if shape is not None:
                values += math.prod(shape)
    return values * batch * BYTES_PER_VALUE


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _megabytes(count: int) -> str:
    return f"{count / 2**20:.2f} MB"


def summary_text(graph: Graph, result: InferenceResult | None = None) -> str:
    """A table of name, type, output shape, parameters and MACs, with totals."""
    result = result or infer(graph)
    header = ("Layer", "Type", "Output shape", "Params", "MACs")
    table = [header] + [
        (row.name, row.type, fmt_shape(row.output_shape), _count(row.params), _count(row.macs))
        for row in layer_rows(graph, result)
    ]
    w0, w1, w2, w3, w4 = (max(map(len, column)) for column in zip(*table, strict=True))
    rule = "─" * (w0 + w1 + w2 + w3 + w4 + 8)
    lines = [
        f"{name:<{w0}}  {kind:<{w1}}  {shape:<{w2}}  {params:>{w3}}  {macs:>{w4}}"
        for name, kind, shape, params, macs in table
    ]
    lines[1:1] = [rule]
    lines[:0] = [rule]
    lines.append(rule)
    params = result.total_params
    lines += [
        f"Total params: {params:,} ({_megabytes(params * BYTES_PER_VALUE)})",
        f"Total MACs: {result.total_macs:,} ({MACS_CONVENTION})",
        f"Activations per sample: {_megabytes(activation_bytes(result))} (float32, forward pass)",
    ]
    if result.diagnostics:
        lines.append(rule)
        lines += [str(d) for d in result.diagnostics]
    return "\n".join(lines)


def summary_json(graph: Graph, result: InferenceResult | None = None) -> dict[str, Any]:
    """The summary as one JSON object (the ``summary --json`` contract)."""
    result = result or infer(graph)
    return {
        "layers": [
            {
                "name": row.name,
                "type": graph.node(row.name).type_id,
                "group": row.group,
                "output_shape": None if row.output_shape is None else list(row.output_shape),
                "params": row.params,
                "macs": row.macs,
            }
            for row in layer_rows(graph, result)
        ],
        "total_params": result.total_params,
        "total_macs": result.total_macs,
        "macs_convention": MACS_CONVENTION,
        "activation_bytes": activation_bytes(result),
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }
