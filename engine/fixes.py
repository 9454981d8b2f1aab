"""Quick fixes: apply a diagnostic's ``Fix`` to the graph.

The designer wraps ``apply_fix`` in one undo step (its command records the graph's events to
reverse them).
"""

from __future__ import annotations

from typing import Any

from engine.diagnostics import Fix, FixAction
from engine.errors import GraphError
from engine.graph import Graph, Node


def apply_fix(graph: Graph, fix: Fix) -> Node | None:
    """Perform ``fix`` on ``graph``. Returns the inserted node for INSERT_BEFORE fixes."""
    if fix.action is FixAction.SET_PARAMS:
        graph.set_params(fix.node, dict(fix.params))
        return None
    if fix.action is FixAction.INSERT_BEFORE:
        if fix.type_id is None or fix.port is None:
            raise GraphError(f"quick fix {fix.label!r} names no block type or port")
        return insert_before(graph, fix.node, fix.port, fix.type_id, dict(fix.params))
    if fix.action is FixAction.SET_BYPASSED:
        graph.set_bypassed(fix.node, bool(fix.params.get("bypassed", False)))
        return None
    raise GraphError(f"unknown quick fix action {fix.action!r}")


def insert_before(
    graph: Graph, node: str, port: str, type_id: str, params: dict[str, Any] | None = None
) -> Node:
    """Insert a new block on the wire into ``node.port`` (or unwired in front of it)."""
    target = graph.node(node)
    incoming = graph.edge_into(node, port)
    group = target.group
    new = graph.add_node(type_id, params=params, group=group)
    if incoming is not None:
        graph.disconnect(incoming)
        graph.connect(incoming.src, new.name, incoming.src_port)
    graph.connect(new.name, node, "out", port)
    return new
