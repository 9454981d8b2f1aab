"""Bypassed blocks: how a design with some blocks switched off becomes the network it computes.

A bypassed block stays in the design (and in the project file) but passes its input through
unchanged. Inference gives it its input's shape, no parameters and no MACs, and reports it where
its shapes do not allow that (``engine.inference.bypassed_result``). The compiler and every
export work on ``without_bypassed(graph)``: the same design with each bypassed block taken out
and its input wired straight to the blocks it fed, so a bypassed layer is identity everywhere.
"""

from __future__ import annotations

from engine.graph import Edge, Graph


def has_bypassed(graph: Graph) -> bool:
    """Whether any block of ``graph`` is bypassed."""
    return any(node.bypassed for node in graph)


def without_bypassed(graph: Graph) -> Graph:
    """A copy of ``graph`` without its bypassed blocks, each one's source wired to its targets.

    Meant for a design that infers without errors, where every bypassed block has one wired
    input; a bypassed block without one is simply dropped with its wires.
    """
    reduced = graph.copy()
    order, in_cycles = reduced.evaluation_order()
    for name in [*order, *sorted(in_cycles)]:
        if not reduced.node(name).bypassed:
            continue
        incoming = reduced.in_edges(name)
        outgoing = reduced.out_edges(name)
        reduced.remove_node(name)
        if len(incoming) != 1:
            continue
        source = incoming[0]
        for edge in outgoing:
            reduced.add_edge_unchecked(Edge(source.src, source.src_port, edge.dst, edge.dst_port))
    return reduced
