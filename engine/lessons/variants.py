"""The variants the lecture's experiments compare, built from a base design (torch-free).

Each function returns a new graph (the base is left alone) made with the graph's public edits:
dropout set to p (a Dropout inserted before the classifier when the design has none), every
activation swapped for another type, BatchNorm removed or inserted after every convolution,
every convolution replaced by its locally connected equivalent. A design a variant cannot be
made from raises GraphError naming the design's problem and the fix.
"""

from __future__ import annotations

from typing import Any

from engine.errors import GraphError
from engine.graph import Graph
from engine.params import pair

ACTIVATIONS = frozenset(
    {"relu", "leaky_relu", "prelu", "elu", "gelu", "silu", "relu6", "hardswish", "sigmoid", "tanh"}
)
DROPOUTS = ("dropout", "dropout2d")


def _splice_out(graph: Graph, name: str) -> None:
    """Remove one-input block ``name`` and wire its source to everything it fed."""
    (into,) = graph.in_edges(name)
    out_of = graph.out_edges(name)
    graph.remove_node(name)
    for edge in out_of:
        graph.connect(into.src, edge.dst, into.src_port, edge.dst_port)


def _insert_after(graph: Graph, name: str, type_id: str, new: str, params: dict[str, Any]) -> str:
    """Insert a one-input block between ``name`` and everything ``name``'s "out" fed."""
    out_of = [e for e in graph.out_edges(name) if e.src_port == "out"]
    for edge in out_of:
        graph.disconnect(edge)
    node = graph.add_node(type_id, graph.unique_name(new), params, graph.node(name).group)
    graph.connect(name, node.name)
    for edge in out_of:
        graph.connect(node.name, edge.dst, "out", edge.dst_port)
    return node.name


def _replace(graph: Graph, name: str, type_id: str, params: dict[str, Any]) -> None:
    """Swap block ``name`` for a ``type_id`` block of the same name, group and wires."""
    node = graph.node(name)
    into, out_of = graph.in_edges(name), graph.out_edges(name)
    graph.remove_node(name)
    graph.add_node(type_id, name, params, node.group)
    for edge in into:
        graph.connect(edge.src, name, edge.src_port, edge.dst_port)
    for edge in out_of:
        graph.connect(name, edge.dst, edge.src_port, edge.dst_port)


def with_dropout(base: Graph, p: float) -> Graph:
    """Every Dropout at probability ``p``; a design without one gets a Dropout before its last
    Linear (the classifier), as the lecture's experiment drops the hidden units."""
    if not 0.0 <= p < 1.0:
        raise GraphError(
            f"dropout variant: p must be from 0 up to (not including) 1. Received: p={p!r}. "
            "Use 0 for no dropout or 0.5 as in the lecture."
        )
    graph = base.copy()
    drops = [n.name for n in graph if n.type_id in DROPOUTS]
    if not drops:
        linears = [n for n in graph.topological_order() if graph.node(n).type_id == "linear"]
        if not linears:
            raise GraphError(
                "dropout variant: the design has no Dropout and no Linear to put one before. "
                "Received: linear blocks=0. Add a Linear classifier (or a Dropout) first."
            )
        (into,) = graph.in_edges(linears[-1])
        drops = [_insert_after(graph, into.src, "dropout", "dropout", {"p": p})]
    for name in drops:
        graph.set_params(name, {"p": float(p)})
    return graph


def with_activation(base: Graph, type_id: str) -> Graph:
    """Every activation (ReLU, tanh, sigmoid, ...) replaced by a ``type_id`` block of the same
    name and place."""
    if type_id not in ACTIVATIONS:
        raise GraphError(
            f"activation variant: not an activation. Received: type={type_id!r}. Use one of "
            f"{', '.join(sorted(ACTIVATIONS))}."
        )
    graph = base.copy()
    found = [n.name for n in graph if n.type_id in ACTIVATIONS]
    if not found:
        raise GraphError(
            "activation variant: the design has no activation to swap. Received: "
            "activations=0. Add a ReLU after a convolution first."
        )
    for name in found:
        if graph.node(name).type_id != type_id:
            _replace(graph, name, type_id, {})
    return graph


def without_batchnorm(base: Graph) -> Graph:
    """Every BatchNorm removed, its input wired straight to what it fed."""
    graph = base.copy()
    for node in list(graph):
        if node.type_id == "batchnorm":
            _splice_out(graph, node.name)
    return graph


def with_batchnorm(base: Graph) -> Graph:
    """A BatchNorm after every Conv2d (and LocallyConnected2d) not already followed by one."""
    graph = base.copy()
    convs = [n.name for n in graph if n.type_id in ("conv2d", "locally_connected2d")]
    if not convs:
        raise GraphError(
            "BatchNorm variant: the design has no convolution to normalise. Received: "
            "convolutions=0. Add a Conv2d first."
        )
    for name in convs:
        after = [graph.node(e.dst).type_id for e in graph.out_edges(name)]
        if after != ["batchnorm"]:
            _insert_after(graph, name, "batchnorm", f"{name}_bn", {})
    return graph


def local_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The LocallyConnected2d parameters with a Conv2d's windows; GraphError when it has none
    (dilation, groups, an uneven 'same' padding)."""
    kernel = pair(params["kernel_size"])
    problems = []
    if pair(params.get("dilation", 1)) != (1, 1):
        problems.append(f"dilation={params['dilation']!r}")
    if params.get("groups", 1) != 1:
        problems.append(f"groups={params['groups']!r}")
    padding = params.get("padding", 0)
    if padding == "same":
        if pair(params["stride"]) != (1, 1) or any(k % 2 == 0 for k in kernel):
            problems.append("padding='same' with an even kernel or a stride")
        padding = [(k - 1) // 2 for k in kernel]
    if problems:
        raise GraphError(
            f"{name} (conv2d): a locally connected layer has no dilation, groups or uneven "
            f"padding. Received: {', '.join(problems)}. Use dilation 1, groups 1 and numeric "
            "padding first."
        )
    return {
        "out_channels": params["out_channels"],
        "kernel_size": params["kernel_size"],
        "stride": params["stride"],
        "padding": padding,
        "bias": bool(params["bias"]),
    }


def with_local(base: Graph) -> Graph:
    """Every Conv2d replaced by its locally connected equivalent, keeping its name."""
    graph = base.copy()
    convs = [n for n in graph if n.type_id == "conv2d"]
    if not convs:
        raise GraphError(
            "LC variant: the design has no Conv2d to replace. Received: convolutions=0. Add a "
            "Conv2d first."
        )
    for node in convs:
        params = local_params(node.name, node.spec.with_defaults(node.params))
        _replace(graph, node.name, "locally_connected2d", params)
    return graph
