"""Replace a Conv2d with its dense equivalent, as one undo step.

The catalog's dense layer takes a flat vector, so the equivalent is three blocks: Flatten →
Linear(C·H·W → C'·H'·W', the convolution's bias setting) → Unflatten back to the convolution's
C'×H'×W' map. They take the convolution's place (group and position, spaced along the way it
was wired) and its wires; the Linear is returned so it can be selected. Its parameters are the
"dense (MLNN)" row of the inspector. A convolution whose shapes are unknown, or whose dense
equivalent would be too big to build, is refused with a message and nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from designer.document import Document
from engine import DesignerError, GraphError

# a Linear this large would take over 2 GB of float32 weights: refused rather than built
MAX_DENSE_PARAMS = 500_000_000
DENSE_NOTE = (
    "Replace this convolution by Flatten → Linear → Unflatten: the dense layer connecting every "
    "input value to every output value (the lecture's MLNN), one undo step."
)
STEP = 60.0  # canvas units between the three new blocks


def dense_plan(document: Document, name: str) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
    """(input shape, output shape, bias) of Conv2d ``name``; GraphError when it has none."""
    graph = document.graph
    node = graph.node(name)
    if node.type_id != "conv2d":
        raise GraphError(
            f"{name} ({node.type_id}): only a Conv2d has a dense equivalent here. Received: "
            f"type={node.type_id}. Select a Conv2d."
        )
    found = document.result.nodes.get(name)
    if found is None or not found.inputs or found.inputs[0] is None or found.output is None:
        raise GraphError(
            f"{name} (conv2d): the dense equivalent needs the block's input and output shapes. "
            "Received: shapes unknown. Fix the problems listed for this block first."
        )
    shape_in, shape_out = tuple(found.inputs[0]), tuple(found.output)
    bias = bool(node.spec.with_defaults(node.params)["bias"])
    params = math.prod(shape_in) * math.prod(shape_out) + (math.prod(shape_out) if bias else 0)
    if params > MAX_DENSE_PARAMS:
        raise GraphError(
            f"{name} (conv2d): its dense equivalent is too big to build. Received: "
            f"params={params:,} ({'×'.join(map(str, shape_in))} inputs to "
            f"{'×'.join(map(str, shape_out))} outputs). Use a smaller input (at most "
            f"{MAX_DENSE_PARAMS:,} parameters), or compare the sizes in the inspector's rows."
        )
    return shape_in, shape_out, bias


def replace_with_dense(document: Document, name: str) -> str:
    """Replace Conv2d ``name`` by Flatten → Linear → Unflatten (one undo step); returns the
    Linear's name. GraphError (nothing changed) when it is not a Conv2d or cannot be."""
    graph = document.graph
    _, shape_out, bias = dense_plan(document, name)
    group = graph.node(name).group

    def action() -> str:
        pos = document.position(name) or (0.0, 0.0)
        into, out_of = graph.in_edges(name), graph.out_edges(name)
        graph.remove_node(name)
        document.place(name, None)
        flat = graph.add_node("flatten", graph.unique_name("flatten"), {}, group).name
        fc = graph.add_node(
            "linear",
            graph.unique_name("dense"),
            {"out_features": math.prod(shape_out), "bias": bias},
            group,
        ).name
        back = graph.add_node(
            "unflatten", graph.unique_name("unflatten"), {"shape": list(shape_out)}, group
        ).name
        for offset, new in enumerate((flat, fc, back), -1):
            document.place(new, (pos[0], pos[1] + offset * STEP))
        graph.connect(flat, fc)
        graph.connect(fc, back)
        for edge in into:
            graph.connect(edge.src, flat, edge.src_port, "in")
        for edge in out_of:
            graph.connect(back, edge.dst, "out", edge.dst_port)
        return fc

    return str(document.edit(f"Replace {name} with its dense equivalent", action))


def replace_actions(
    document: Document, name: str, report: Callable[[str], object]
) -> list[tuple[str, Callable[[], object]]]:
    """The canvas context menu's entries for Conv2d ``name``: replace it with its locally
    connected or its dense equivalent (the new block selected); a refusal goes to ``report``."""
    from designer.lecture.replace import replace_with_locally_connected

    if name not in document.graph or document.graph.node(name).type_id != "conv2d":
        return []

    def run(replace: Callable[[Document, str], str]) -> None:
        try:
            document.set_selection([replace(document, name)])
        except DesignerError as error:
            report(f"Cannot replace: {error}")

    return [
        ("Replace with locally connected", lambda: run(replace_with_locally_connected)),
        ("Replace with dense equivalent", lambda: run(replace_with_dense)),
    ]
