"""Replace a Conv2d with its locally connected equivalent, as one undo step.

The new LocallyConnected2d block has the convolution's out_channels, kernel_size, stride,
padding and bias, takes its place (group and position) and its wires, and is selected. A
convolution with dilation, groups, or a 'same' padding an LC block cannot express is refused with
a message. The dense replacement (Flatten → Linear → Unflatten) is ``replace_dense``.
"""

from __future__ import annotations

from typing import Any

from designer.document import Document
from engine import GraphError
from engine.params import pair

REPLACE_NOTE = (
    "Replace this convolution by a LocallyConnected2d with the same windows (kernel, stride, "
    "padding, out_channels, bias) but its own weights at every output position: one undo step."
)


def _lc_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The LocallyConnected2d parameters equivalent to a Conv2d's; GraphError when none are."""
    kernel = pair(params["kernel_size"])
    if pair(params.get("dilation", 1)) != (1, 1):
        raise GraphError(
            f"{name} (conv2d): a locally connected layer has no dilation. Received: "
            f"dilation={params['dilation']!r}. Set dilation to 1 first."
        )
    if params.get("groups", 1) != 1:
        raise GraphError(
            f"{name} (conv2d): a locally connected layer has no groups. Received: "
            f"groups={params['groups']!r}. Set groups to 1 first."
        )
    padding = params.get("padding", 0)
    if padding == "same":
        if pair(params["stride"]) != (1, 1) or any(k % 2 == 0 for k in kernel):
            raise GraphError(
                f"{name} (conv2d): padding 'same' with stride {params['stride']!r} and kernel "
                f"{params['kernel_size']!r} is uneven; a locally connected layer pads evenly. "
                "Received: padding='same'. Use an odd kernel with stride 1, or numeric padding."
            )
        padding = [(k - 1) // 2 for k in kernel]
    return {
        "out_channels": params["out_channels"],
        "kernel_size": params["kernel_size"],
        "stride": params["stride"],
        "padding": padding,
        "bias": bool(params["bias"]),
    }


def replace_with_locally_connected(document: Document, name: str) -> str:
    """Replace Conv2d ``name`` by its LocallyConnected2d equivalent (one undo step); returns the
    new block's name. GraphError (nothing changed) when it is not a Conv2d or cannot be."""
    graph = document.graph
    node = graph.node(name)
    if node.type_id != "conv2d":
        raise GraphError(
            f"{name} ({node.type_id}): only a Conv2d has a locally connected equivalent. "
            f"Received: type={node.type_id}. Select a Conv2d."
        )
    params = _lc_params(name, node.spec.with_defaults(node.params))

    def action() -> str:
        pos = document.position(name)
        into, out_of = graph.in_edges(name), graph.out_edges(name)
        group = node.group
        graph.remove_node(name)
        document.place(name, None)
        new = graph.add_node("locally_connected2d", graph.unique_name("local"), params, group)
        document.place(new.name, pos)
        for edge in into:
            graph.connect(edge.src, new.name, edge.src_port, edge.dst_port)
        for edge in out_of:
            graph.connect(new.name, edge.dst, edge.src_port, edge.dst_port)
        return new.name

    return str(document.edit(f"Replace {name} with locally connected", action))
