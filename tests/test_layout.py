"""The layered canvas layout (engine/layout.py): headless, no Qt."""

from __future__ import annotations

import itertools

import pytest

from engine import Graph
from engine.layout import (
    DEFAULT_GROUP_SIZE,
    DEFAULT_NODE_SIZE,
    default_collapsed,
    layered_layout,
    layout_positions,
)
from presets import PRESETS
from presets.builder import GraphBuilder


def _size(unit: tuple[str, str]) -> tuple[float, float]:
    return DEFAULT_GROUP_SIZE if unit[0] == "group" else DEFAULT_NODE_SIZE


def _overlaps(placed: dict) -> list[tuple]:
    rects = []
    for unit, (x, y) in placed.items():
        w, h = _size(unit)
        rects.append((unit, x, y, x + w, y + h))
    found = []
    for i, (a, ax0, ay0, ax1, ay1) in enumerate(rects):
        for b, bx0, by0, bx1, by1 in rects[i + 1 :]:
            if ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1:
                found.append((a, b))
    return found


def _inception_like() -> Graph:
    b = GraphBuilder()
    x = b.input((8, 16, 16))
    with b.group("mixed"):
        b1 = b.add("conv2d", "b1", x, out_channels=4, kernel_size=1)
        b2 = b.add("conv2d", "b2a", x, out_channels=4, kernel_size=1)
        b2 = b.add("conv2d", "b2b", b2, out_channels=4, kernel_size=3, padding=1)
        b3 = b.add("maxpool2d", "b3", x, kernel_size=3, stride=1, padding=1)
        y = b.add("concat", "cat", b1, b2, b3)
    b.output(y)
    return b.graph


def test_chain_goes_straight_down() -> None:
    graph = PRESETS.get("lenet5").create()
    positions = layout_positions(graph)
    order = graph.topological_order()
    ys = [positions[n][1] for n in order]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert len({positions[n][0] for n in order}) == 1  # one column


def test_branches_stand_side_by_side_and_the_join_is_centred() -> None:
    graph = _inception_like()
    pos = layout_positions(graph)
    first = ["mixed.b1", "mixed.b2a", "mixed.b3"]
    assert len({pos[n][1] for n in first}) == 1  # same layer
    xs = sorted(pos[n][0] for n in first)
    assert all(b - a >= DEFAULT_NODE_SIZE[0] for a, b in itertools.pairwise(xs))
    assert pos["mixed.cat"][1] > pos["mixed.b2b"][1] > pos["mixed.b2a"][1]
    centre = pos["input"][0]
    assert min(xs) < centre < max(xs)  # the branches spread around the split


def test_layout_is_deterministic() -> None:
    graph = PRESETS.get("resnet18").create()
    collapsed = default_collapsed(graph)
    assert layered_layout(graph, collapsed) == layered_layout(graph, collapsed)
    again = PRESETS.get("resnet18").create()
    assert layout_positions(graph, collapsed) == layout_positions(again, collapsed)


def test_collapsed_group_is_one_unit_and_members_share_its_place() -> None:
    graph = _inception_like()
    placed = layered_layout(graph, {"mixed"})
    assert set(placed) == {("node", "input"), ("group", "mixed"), ("node", "output")}
    positions = layout_positions(graph, {"mixed"})
    members = graph.group_members("mixed")
    assert {positions[m] for m in members} == {placed[("group", "mixed")]}
    assert placed[("node", "input")][1] < placed[("group", "mixed")][1]
    assert placed[("group", "mixed")][1] < placed[("node", "output")][1]


def test_a_cycle_or_an_empty_graph_does_not_break_the_layout() -> None:
    assert layered_layout(Graph()) == {}
    graph = Graph()
    graph.add_node("relu", "a")
    graph.add_node("relu", "b")
    graph.connect("a", "b")
    from engine import Edge

    graph.add_edge_unchecked(Edge("b", "out", "a", "in"))
    placed = layered_layout(graph)
    assert set(placed) == {("node", "a"), ("node", "b")}
    assert not _overlaps(placed)


def test_default_collapsed_picks_modules() -> None:
    assert default_collapsed(PRESETS.get("lenet5").create()) == []
    resnet = default_collapsed(PRESETS.get("resnet18").create())
    assert "layer1.0" in resnet and "layer1.0.downsample" not in resnet
    assert "layer1" not in resnet
    googlenet = default_collapsed(PRESETS.get("googlenet").create())
    assert "inception3a" in googlenet and "inception3a.branch1" not in googlenet


@pytest.mark.parametrize("name", [p.name for p in PRESETS])
def test_no_overlaps_collapsed_and_expanded(name: str) -> None:
    graph = PRESETS.get(name).create()
    for collapsed in (default_collapsed(graph), []):
        placed = layered_layout(graph, collapsed)
        assert not _overlaps(placed), (name, collapsed and "collapsed")
