"""The graph model: editing, events, undo records, renames, ports and refused cycles."""

from __future__ import annotations

from typing import Any

import pytest

from engine import DuplicateNameError, Edge, Graph, GraphError, UnknownNameError


def recorded(g: Graph) -> list[tuple[Any, ...]]:
    log: list[tuple[Any, ...]] = []
    for name in (
        "node_added",
        "node_removed",
        "edge_added",
        "edge_removed",
        "params_changed",
        "node_renamed",
        "groups_changed",
    ):
        getattr(g.events, name).connect(lambda *args, name=name: log.append((name, *args)))
    return log


def three() -> Graph:
    g = Graph()
    g.add_node("input", "input", {"shape": [3, 8, 8]})
    g.add_node("conv2d", "conv1")
    g.add_node("relu", "relu1")
    g.connect("input", "conv1")
    g.connect("conv1", "relu1")
    return g


def test_add_node_fills_defaults_and_names() -> None:
    g = Graph()
    node = g.add_node("conv2d", params={"out_channels": 8})
    assert node.name == "conv1" and g.add_node("conv2d").name == "conv2"
    assert node.params["kernel_size"] == 3 and node.params["out_channels"] == 8
    with pytest.raises(DuplicateNameError, match="a node called 'conv1' already exists"):
        g.add_node("relu", "conv1")
    with pytest.raises(UnknownNameError, match="Did you mean 'kernel_size'"):
        g.add_node("conv2d", params={"kernel": 3})
    with pytest.raises(UnknownNameError, match="unknown block type 'conv'"):
        g.add_node("conv")
    with pytest.raises(GraphError, match="a group name is one level"):
        g.add_node("relu", group=("a.b",))


def test_events_and_undo_records() -> None:
    g = three()
    log = recorded(g)
    removed = g.remove_node("conv1")
    assert [entry[0] for entry in log] == ["edge_removed", "edge_removed", "node_removed"]
    assert g.edges == []
    g.restore_node(removed)
    assert sorted(map(str, g.edges)) == ["conv1.out → relu1.in", "input.out → conv1.in"]
    old = g.set_params("conv1", {"out_channels": 4})
    assert old == {"out_channels": 16}
    assert log[-1] == ("params_changed", "conv1", {"out_channels": 4}, {"out_channels": 16})
    assert g.set_groups({"conv1": ("stem",)}) == {"conv1": ()}
    assert g.groups() == ["stem"] and g.group_members("stem") == ["conv1"]


def test_rename_keeps_wires() -> None:
    g = three()
    log = recorded(g)
    g.rename("conv1", "stem.conv")
    assert log == [("node_renamed", "conv1", "stem.conv")]
    assert [str(e) for e in g.in_edges("stem.conv")] == ["input.out → stem.conv.in"]
    assert g.topological_order() == ["input", "stem.conv", "relu1"]
    with pytest.raises(UnknownNameError):
        g.node("conv1")
    with pytest.raises(GraphError, match="letters, digits and underscores"):
        g.rename("relu1", "relu 1")


def test_cycles_are_refused() -> None:
    g = three()
    g.disconnect(Edge("input", "out", "conv1", "in"))
    with pytest.raises(GraphError, match=r"wiring relu1 → conv1 would make a cycle"):
        g.connect("relu1", "conv1")
    g.add_node("add", "add")
    g.connect("relu1", "add")
    with pytest.raises(GraphError, match="would make a cycle"):
        g.connect("add", "conv1")
    with pytest.raises(GraphError, match="would make a cycle"):
        g.connect("add", "add")
    assert g.cycles() == []


def test_ports() -> None:
    g = three()
    with pytest.raises(GraphError, match="already connected"):
        g.connect("input", "conv1", dst_port="in")
    with pytest.raises(GraphError, match="has no output port 'indices'"):
        g.connect("conv1", "relu1", "indices")
    g.add_node("add", "add")
    assert g.free_input_port("add") == "in0"
    g.connect("conv1", "add")
    g.connect("relu1", "add")
    assert [e.dst_port for e in g.in_edges("add")] == ["in0", "in1"]
    assert g.free_input_port("add") == "in2"
    g.add_node("maxpool2d", "pool", {"return_indices": True})
    g.add_node("maxunpool2d", "unpool")
    g.connect("relu1", "pool")
    g.connect("pool", "unpool", "indices", "indices")
    g.connect("pool", "unpool", "out", "in")
    assert [e.dst_port for e in g.in_edges("unpool")] == ["in", "indices"]
    g.set_params("pool", {"return_indices": False})  # the indices port vanishes with its wire
    assert [e.src_port for e in g.out_edges("pool")] == ["out"]
    with pytest.raises(GraphError, match="there is no wire"):
        g.disconnect(Edge("pool", "indices", "unpool", "indices"))


def test_in_edges_follow_edits_made_inside_event_callbacks() -> None:
    g = three()
    seen: list[list[str]] = []
    g.events.edge_added.connect(lambda edge: seen.append([str(e) for e in g.in_edges(edge.dst)]))
    g.add_node("relu", "relu2")
    g.connect("relu1", "relu2")
    assert seen == [["relu1.out → relu2.in"]]


def test_downstream_upstream_copy_and_data() -> None:
    g = three()
    assert g.downstream("input") == {"conv1", "relu1"} and g.upstream("relu1") == {"input", "conv1"}
    other = g.copy()
    other.set_params("conv1", {"out_channels": 2})
    assert g.node("conv1").params["out_channels"] == 16
    assert other.to_data()["edges"] == g.to_data()["edges"]
