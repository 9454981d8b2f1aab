"""Removals put back in place: a node or wire restored for an undo returns to the place it had in
every order the graph keeps (nodes, wires, each node's neighbours), so the walk order, the layer
summary and the saved file come back exactly, and the cached walk order follows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Edge, Graph
from presets import PRESETS


def snapshot(graph: Graph) -> dict[str, Any]:
    """Everything whose order an undo must give back (a dict compares without order: use JSON)."""
    return {
        "data": json.dumps(graph.to_data()),
        "order": graph.evaluation_order()[0],
        "in": {n: [str(e) for e in graph.in_edges(n)] for n in graph.names},
        "out": {n: [str(e) for e in graph.out_edges(n)] for n in graph.names},
        "pred": {n: graph.predecessors(n) for n in graph.names},
    }


@pytest.mark.parametrize("preset", ["resnet8", "googlenet"])
def test_removing_every_node_and_restoring_in_place_gives_back_every_order(preset: str) -> None:
    graph = PRESETS.get(preset).create()
    before = snapshot(graph)
    removed = [graph.remove_node(name) for name in graph.names]  # front to back, like Delete
    assert len(graph) == 0
    for record in reversed(removed):  # the undo order
        graph.restore_node(record, in_place=True)
    assert snapshot(graph) == before


def test_removal_events_say_where_and_restore_edge_puts_a_wire_back() -> None:
    graph = Graph()
    graph.add_node("input", "x", {"shape": [3, 8, 8]})
    graph.add_node("relu", "a")
    graph.add_node("add", "sum")
    graph.add_node("relu", "b")
    graph.connect("x", "a")
    graph.connect("x", "b")
    graph.connect("a", "sum", dst_port="in0")
    graph.connect("b", "sum", dst_port="in1")
    log: list[tuple[Any, ...]] = []
    graph.events.edge_removed.connect(lambda *args: log.append(("edge", *args)))
    graph.events.node_removed.connect(lambda *args: log.append(("node", *args)))
    before = snapshot(graph)
    wire = Edge("x", "out", "a", "in")  # the first of x's two wires
    slot = graph.disconnect(wire)
    assert log == [("edge", wire, slot)] and slot == (0, 0, 0, 0)
    graph.restore_edge(wire, slot)
    assert snapshot(graph) == before  # not appended after x → b
    record = graph.remove_node("a")
    assert log[-1] == ("node", record.node, 1) and record.index == 1
    assert [entry[1] for entry in log[1:-1]] == record.edges
    version = graph.structure_version
    graph.restore_node(record, in_place=True)
    assert snapshot(graph) == before and graph.structure_version > version


def test_restore_without_in_place_still_appends() -> None:
    graph = PRESETS.get("lenet5").create()
    first = graph.names[0]
    graph.restore_node(graph.remove_node(first))
    assert graph.names[-1] == first


@given(st.data())
def test_any_removals_undone_in_reverse_give_back_every_order(data: st.DataObject) -> None:
    graph = PRESETS.get("resnet8").create()
    before = snapshot(graph)
    undo: list[tuple[str, Any]] = []
    for _ in range(data.draw(st.integers(1, 12))):
        if data.draw(st.booleans()) and graph.edges:
            wire = data.draw(st.sampled_from(graph.edges))
            undo.append(("edge", (wire, graph.disconnect(wire))))
        elif len(graph):
            undo.append(("node", graph.remove_node(data.draw(st.sampled_from(graph.names)))))
    graph.evaluation_order()  # cached for the edited graph: it must not outlive the undo
    for kind, record in reversed(undo):
        if kind == "edge":
            graph.restore_edge(*record)
        else:
            graph.restore_node(record, in_place=True)
    assert snapshot(graph) == before
    fresh = graph.copy()  # no cache: its walk order is computed from scratch
    assert graph.evaluation_order() == fresh.evaluation_order()
