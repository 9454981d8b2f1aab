"""The layer summary of a graph, like torchinfo's, computed without running the model."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from engine.analysis.receptive_field import jump_text, number, receptive_fields, size_text
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


def _display_names(graph: Graph) -> dict[str, str]:
    """The display name of each block type in ``graph`` (old, aliased ids included)."""
    return {type_id: _display_name(type_id) for type_id in {node.type_id for node in graph}}


def layer_rows(graph: Graph, result: InferenceResult) -> list[LayerRow]:
    """One row per node, in evaluation order."""
    display = _display_names(graph)
    return [layer_row(graph, result, name, display) for name in result.order]


def layer_row(
    graph: Graph, result: InferenceResult, name: str, display: dict[str, str] | None = None
) -> LayerRow:
    """The row of node ``name`` (``display``: the display names by type, when known)."""
    node = graph.node(name)
    node_result = result.nodes[name]
    kind = display[node.type_id] if display is not None else _display_name(node.type_id)
    return LayerRow(
        name,
        kind + (" (bypassed)" if node.bypassed else ""),
        group_name(node.group),
        node_result.output,
        node_result.params,
        node_result.macs,
    )


def _display_name(type_id: str) -> str:
    return CATALOG.get(type_id).display_name if type_id in CATALOG else type_id


def node_activation_values(result: InferenceResult, name: str) -> int:
    """How many values node ``name``'s outputs hold (one sample)."""
    node = result.nodes.get(name)
    if node is None:
        return 0
    return sum(math.prod(shape) for shape in node.outputs.values() if shape is not None)


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
    display = _display_names(graph)
    # designs repeat shapes and counts: each is written once
    shape_text: dict[tuple[int, ...] | None, str] = {}
    count_text: dict[int | None, str] = {None: "?"}
    table = [("Layer", "Type", "Output shape", "RF", "Jump", "Params", "MACs")]
    nodes = result.nodes
    fields = receptive_fields(graph, result)
    for name in result.order:
        node_result = nodes[name]
        shape, params, macs = node_result.output, node_result.params, node_result.macs
        if shape not in shape_text:
            shape_text[shape] = fmt_shape(shape)
        if params not in count_text:
            count_text[params] = f"{params:,}"
        if macs not in count_text:
            count_text[macs] = f"{macs:,}"
        kind = display[graph.node(name).type_id]
        field = fields.get(name)
        table.append(
            (
                name,
                kind,
                shape_text[shape],
                size_text(field),
                jump_text(field),
                count_text[params],
                count_text[macs],
            )
        )
    widths = [max(map(len, column)) for column in zip(*table, strict=True)]
    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))
    aligns = "<<<<<>>"  # names and shapes to the left, counts to the right
    line = "  ".join(f"{{:{a}{w}}}" for a, w in zip(aligns, widths, strict=True)).format
    lines = [rule, line(*table[0]), rule, *[line(*row) for row in table[1:]], rule]
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


def _listed(field: Any, what: str) -> list[int | float] | None:
    if field is None:
        return None
    return [number(v) if what == "jump" else v for v in getattr(field, what)]


def summary_json(graph: Graph, result: InferenceResult | None = None) -> dict[str, Any]:
    """The summary as one JSON object (the ``summary --json`` contract)."""
    result = result or infer(graph)
    fields = receptive_fields(graph, result)
    return {
        "layers": [
            {
                "name": row.name,
                "type": graph.node(row.name).type_id,
                "group": row.group,
                "output_shape": None if row.output_shape is None else list(row.output_shape),
                "params": row.params,
                "macs": row.macs,
                # input pixels one unit sees and the step between units (None: no image input)
                "receptive_field": _listed(fields.get(row.name), "size"),
                "jump": _listed(fields.get(row.name), "jump"),
            }
            for row in layer_rows(graph, result)
        ],
        "total_params": result.total_params,
        "total_macs": result.total_macs,
        "macs_convention": MACS_CONVENTION,
        "activation_bytes": activation_bytes(result),
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }
