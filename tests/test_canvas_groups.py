"""Groups on the canvas: presets open collapsed, double-click expands and collapses in place,
group and ungroup a selection, and no blocks overlap in any preset."""

from __future__ import annotations

from typing import Any

import pytest
from canvas_helpers import double_click, make_view, overlaps

from designer.document import Document
from engine import Project
from engine.layout import default_collapsed
from presets import PRESETS


def _preset_view(qtbot: Any, name: str) -> tuple[Document, Any, list[str]]:
    return make_view(qtbot, Project(PRESETS.get(name).create()))


def test_a_preset_opens_laid_out_with_its_modules_collapsed(qtbot: Any) -> None:
    doc, view, _ = _preset_view(qtbot, "resnet18")
    graph = doc.graph
    assert doc.collapsed == set(default_collapsed(graph))
    assert set(view.canvas.groups) == doc.collapsed
    assert all(doc.position(n) is not None for n in graph.names)
    assert doc.undo_stack.count() == 0  # the first layout is not an edit
    item = view.canvas.groups["layer2.0"]
    assert item.content.title == "layer2.0"
    assert item.content.detail == "64×56×56 → 128×28×28"
    total = doc.result.groups["layer2.0"].params
    assert f"{total:,} params" in item.content.subtitle
    visible = view.items_rect()
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(visible)


def test_double_click_expands_in_place_and_collapses_back(qtbot: Any) -> None:
    doc, view, _ = _preset_view(qtbot, "resnet18")
    count = len(view.canvas.nodes)
    view.center_on_node("layer1.1.conv1")
    double_click(view, view.canvas.groups["layer1.1"].scene_rect().center())
    assert "layer1.1" not in doc.collapsed
    assert "layer1.1.conv1" in view.canvas.nodes and "layer1.1" in view.canvas.frames
    assert len(view.canvas.nodes) > count
    assert not overlaps(view)
    frame = view.canvas.frames["layer1.1"]
    view.center_on_node("layer1.1.conv1")
    double_click(view, frame.header().center())
    assert "layer1.1" in doc.collapsed and "layer1.1" in view.canvas.groups
    assert not overlaps(view)
    doc.undo_stack.undo()  # expanding and collapsing are undo steps
    assert "layer1.1" not in doc.collapsed and "layer1.1.conv1" in view.canvas.nodes
    doc.undo_stack.undo()
    assert "layer1.1" in doc.collapsed and len(view.canvas.nodes) == count


def test_group_and_ungroup_a_selection(qtbot: Any) -> None:
    doc, view, messages = _preset_view(qtbot, "lenet5")
    doc.set_selection(["conv1", "act1", "pool1"])
    view.group_selection("stage1")
    assert {doc.graph.node(n).group for n in ("conv1", "act1", "pool1")} == {("stage1",)}
    assert "stage1" in view.canvas.frames
    view.collapse_group("stage1")
    assert "stage1" in view.canvas.groups and "conv1" not in view.canvas.nodes
    assert view.canvas.groups["stage1"].content.detail == "1×32×32 → 6×14×14"
    assert not overlaps(view)
    doc.set_selection(["fc1", "act3"])
    view.group_selection("stage1")
    assert "already exists" in messages[-1]
    view.expand_group("stage1")
    doc.set_selection(["conv1", "act1", "pool1"])
    view.ungroup_selection()
    assert doc.graph.node("conv1").group == ()
    assert "stage1" not in view.canvas.frames


def test_selecting_a_hidden_block_selects_its_group(qtbot: Any) -> None:
    doc, view, _ = _preset_view(qtbot, "resnet18")
    doc.set_selection(["layer3.1.conv2"])
    assert view.canvas.groups["layer3.1"].isSelected()
    view.canvas.select_items([view.canvas.groups["layer4.0"]])
    assert set(doc.selection) == set(doc.graph.group_members("layer4.0"))


@pytest.mark.parametrize("name", [p.name for p in PRESETS])
def test_every_preset_without_overlaps_collapsed_and_expanded(qtbot: Any, name: str) -> None:
    doc = Document()
    from designer.canvas import CanvasView

    view = CanvasView(doc)
    qtbot.addWidget(view)
    doc.replace_project(Project(PRESETS.get(name).create()))
    assert not doc.result.errors
    assert set(view.canvas.nodes) | {
        m for g in view.canvas.groups.values() for m in g.members
    } == set(doc.graph.names)
    assert not overlaps(view)
    view.expand_all()
    assert not view.canvas.groups and len(view.canvas.nodes) == len(doc.graph)
    assert not overlaps(view)
    view.collapse_all()
    assert set(view.canvas.groups) == set(default_collapsed(doc.graph))
    assert not overlaps(view)


def test_pasted_groups_take_the_first_free_copy_name() -> None:
    """layer1 → layer1_copy → layer1_copy2 …: a bounded search for a free group name."""
    from designer.canvas.editing import _fresh_groups
    from engine import Graph

    graph = Graph()
    graph.add_node("relu", "a", group=("layer1",))
    nodes = [{"name": "a", "type": "relu", "group": ["layer1", "0"]}]
    assert _fresh_groups(graph, nodes) == {("layer1", "0"): ("layer1_copy", "0")}
    graph.add_node("relu", "b", group=("layer1_copy",))
    assert _fresh_groups(graph, nodes) == {("layer1", "0"): ("layer1_copy2", "0")}
    assert _fresh_groups(Graph(), nodes) == {("layer1", "0"): ("layer1", "0")}
