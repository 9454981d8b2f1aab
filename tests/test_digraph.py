"""The engine's own graph walks give networkx's orders and sets, on every preset and on cycles."""

from __future__ import annotations

import networkx as nx
import pytest

from engine import Edge, Graph
from engine.digraph import CycleError, OrderedDiGraph, reachable, topological_generations
from engine.layout import layered_layout
from presets import PRESETS


def as_networkx(graph: Graph) -> nx.MultiDiGraph:
    wiring = nx.MultiDiGraph()
    wiring.add_nodes_from(graph.names)
    for edge in graph.edges:
        wiring.add_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
    return wiring


@pytest.mark.parametrize("name", [preset.name for preset in PRESETS])
def test_every_preset_sorts_and_reaches_as_networkx_does(name: str) -> None:
    graph = PRESETS.get(name).create()
    wiring = as_networkx(graph)
    assert graph.topological_order() == list(nx.topological_sort(wiring))
    middle = graph.names[len(graph) // 2]
    assert graph.downstream(middle) == nx.descendants(wiring, middle)
    assert graph.upstream(middle) == nx.ancestors(wiring, middle)


def test_generations_match_networkx_with_parallel_wires_and_out_of_order_nodes() -> None:
    successors = {"d": ["b"], "a": ["b", "c"], "b": ["e"], "c": ["e"], "e": [], "f": ["c"]}
    reference = nx.DiGraph()
    reference.add_nodes_from(successors)
    reference.add_edges_from((u, v) for u, vs in successors.items() for v in vs)
    assert list(topological_generations(successors)) == [
        list(g) for g in nx.topological_generations(reference)
    ]
    assert reachable(successors, "a") == {"b", "c", "e"} == nx.descendants(reference, "a")


def test_a_cycle_has_no_order_and_is_reported_by_its_members() -> None:
    with pytest.raises(CycleError, match="2 nodes"):
        list(topological_generations({"a": ["b"], "b": ["c"], "c": ["b"]}))
    graph = PRESETS.get("lenet5").create()
    graph.add_edge_unchecked(Edge("act2", "out", "conv2", "in"))  # as a hand-edited file may
    order, in_cycles = graph.evaluation_order()
    assert in_cycles == {"conv2", "act2"}
    assert graph.cycles() == [["act2", "conv2"]]
    assert set(order) == set(graph.names) - in_cycles
    place = {name: i for i, name in enumerate(order)}
    for edge in graph.edges:
        if edge.src in place and edge.dst in place:
            assert place[edge.src] < place[edge.dst], edge


def test_a_rename_keeps_the_node_and_its_wires_in_place() -> None:
    graph = PRESETS.get("lenet5").create()
    names, edges = graph.names, graph.to_data()["edges"]
    graph.rename("conv2", "second_conv")
    assert graph.names == [n if n != "conv2" else "second_conv" for n in names]
    renamed = [[("second_conv" if part == "conv2" else part) for part in e] for e in edges]
    assert graph.to_data()["edges"] == renamed
    assert graph.upstream("second_conv") == {"input", "conv1", "act1", "pool1"}
    graph.rename("second_conv", "conv2")
    assert graph.to_data()["edges"] == edges


def test_ordered_digraph_keeps_insertion_order() -> None:
    small: OrderedDiGraph[str] = OrderedDiGraph()
    small.add_edge("b", "c")
    small.add_edge("a", "c")
    small.add_node("b")
    assert list(small) == ["b", "c", "a"] and small.edges() == [("b", "c"), ("a", "c")]
    assert list(small.predecessors["c"]) == ["b", "a"] and "a" in small and len(small) == 3


def test_layout_of_a_graph_with_a_cycle_still_places_every_node() -> None:
    graph = PRESETS.get("lenet5").create()
    graph.add_edge_unchecked(Edge("act2", "out", "conv2", "in"))
    placed = layered_layout(graph)
    assert len(placed) == len(graph) and len(set(placed.values())) == len(graph)
