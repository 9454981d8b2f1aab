"""The engine's own graph walks give networkx's orders and sets, on every preset and on cycles."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_edits_keep_the_store_equal_to_a_networkx_multigraph(data: st.DataObject) -> None:
    """Adds, wires (parallel ones into Add, cycles as a file may hold them), unwiring, removals,
    restores and renames: after each, the wires, neighbours, reachability, cycles and order of
    the store agree with a networkx MultiDiGraph that went through the same edits."""
    graph, reference = Graph(), nx.MultiDiGraph()
    order: list[str] = []  # node names in the order the store must keep
    removed: list = []
    renames = 0
    for _ in range(data.draw(st.integers(5, 30), label="edits")):
        names = list(order)
        action = data.draw(
            st.sampled_from(
                ["add", "add", "wire", "wire", "unwire", "remove", "restore", "rename", "loop"]
            )
        )
        if action == "add" or len(names) < 2:
            node = graph.add_node(data.draw(st.sampled_from(["relu", "add"])))
            reference.add_node(node.name)
            order.append(node.name)
        elif action in ("wire", "loop"):
            src, dst = data.draw(st.sampled_from(names)), data.draw(st.sampled_from(names))
            port = graph.free_input_port(dst)
            if port is None:
                continue
            edge = Edge(src, "out", dst, port)
            if action == "loop":
                graph.add_edge_unchecked(edge)
            else:
                try:
                    graph.connect(src, dst, "out", port)
                except Exception:  # refused: a cycle or the node itself
                    assert src == dst or src in nx.descendants(reference, dst)
                    continue
            reference.add_edge(src, dst, key=("out", port))
        elif action == "unwire" and graph.edges:
            edge = data.draw(st.sampled_from(graph.edges))
            graph.disconnect(edge)
            reference.remove_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        elif action == "remove":
            name = data.draw(st.sampled_from(names))
            removed.append(graph.remove_node(name))
            reference.remove_node(name)
            order.remove(name)
        elif action == "restore" and removed:
            record = removed.pop()
            ends = {name for e in record.edges for name in (e.src, e.dst)} - {record.node.name}
            if record.node.name in graph or not ends <= set(graph.names):
                continue  # the undo stack would have undone the later edits first
            graph.restore_node(record)
            reference.add_node(record.node.name)
            for e in record.edges:
                reference.add_edge(e.src, e.dst, key=(e.src_port, e.dst_port))
            order.append(record.node.name)
        elif action == "rename":
            old = data.draw(st.sampled_from(names))
            renames += 1
            new = f"renamed{renames}"
            graph.rename(old, new)
            nx.relabel_nodes(reference, {old: new}, copy=False)
            order[order.index(old)] = new
        assert graph.names == order
        wires = {(e.src, e.dst, (e.src_port, e.dst_port)) for e in graph.edges}
        assert wires == set(reference.edges(keys=True)) and len(graph.edges) == len(wires)
        for name in order:
            assert {(e.src, e.dst_port) for e in graph.in_edges(name)} == {
                (u, k[1]) for u, _, k in reference.in_edges(name, keys=True)
            }
            assert set(graph.predecessors(name)) == set(reference.predecessors(name))
        probe = data.draw(st.sampled_from(order))
        assert graph.downstream(probe) == nx.descendants(reference, probe)
        assert graph.upstream(probe) == nx.ancestors(reference, probe)
        looped = {
            n
            for c in nx.strongly_connected_components(reference)
            for n in c
            if len(c) > 1 or reference.has_edge(n, n)
        }
        assert {n for cycle in graph.cycles() for n in cycle} == looped
        evaluation, in_cycles = graph.evaluation_order()
        assert in_cycles == looped and set(evaluation) == set(order) - looped
