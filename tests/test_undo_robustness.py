"""Undo gives back exactly the previous design, driven from the window as a user would: a deleted
design comes back in its own order, Ungroup on a collapsed group removes one level in one step,
and undoing a preset brings back the whole project (its view and metadata too)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from canvas_helpers import LEFT, NONE, _send
from designer_helpers import close_clean, shown_window
from PySide6.QtCore import QEvent, Qt

from designer.main_window import MainWindow
from engine.identifiers import name_problem

pytestmark = pytest.mark.gui

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    win = shown_window(qtbot, tmp_path, monkeypatch)
    yield win
    close_clean(win)


def act(win: MainWindow, name: str) -> None:
    win.actions_by_name[name].trigger()


def exact(win: MainWindow) -> dict[str, Any]:
    """The project as saved (as JSON text, so that every order counts), the walk order and the
    layer summary's rows."""
    doc = win.document
    return {
        "file": json.dumps(doc.project.to_data()),
        "order": list(doc.result.order),
        "rows": [row.name for row in win.summary.model.rows],
    }


def click_group(qtbot: Any, win: MainWindow, group: str) -> None:
    """Click the collapsed group ``group`` on the canvas."""
    view = win.canvas
    centre = view.canvas.groups[group].scene_rect().center()
    view.centerOn(centre)
    point = view.mapFromScene(centre)
    _send(view, QEvent.Type.MouseButtonPress, point, LEFT, LEFT)
    _send(view, QEvent.Type.MouseButtonRelease, point, LEFT, NONE)
    assert view.canvas.groups[group].isSelected()


def ungroup_by_keyboard(qtbot: Any, win: MainWindow) -> None:
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_G, CTRL_SHIFT)


@pytest.mark.parametrize("preset", ["resnet8", "googlenet"])
def test_undo_of_select_all_delete_gives_back_the_same_order(
    window: MainWindow, preset: str
) -> None:
    window.load_preset(preset)
    before = exact(window)
    act(window, "select_all")
    act(window, "delete")
    assert len(window.document.graph) == 0
    act(window, "undo")
    assert exact(window) == before
    act(window, "redo")
    act(window, "undo")
    assert exact(window) == before


def test_ungroup_a_selected_nested_collapsed_group_removes_one_level_in_one_step(
    qtbot: Any, window: MainWindow
) -> None:
    doc = window.document
    window.load_preset("resnet18")
    assert "layer1.0" in doc.collapsed
    members = doc.graph.group_members("layer1.0")
    click_group(qtbot, window, "layer1.0")
    steps = doc.undo_stack.count()
    ungroup_by_keyboard(qtbot, window)
    assert {doc.graph.node(m).group for m in members} == {("layer1",)}
    assert doc.undo_stack.count() == steps + 1
    assert "Cannot" not in window.statusBar().currentMessage()
    act(window, "undo")
    assert {doc.graph.node(m).group for m in members} == {("layer1", "0")}


def test_ungroup_a_selected_collapsed_group_says_nothing_wrong(
    qtbot: Any, window: MainWindow
) -> None:
    doc = window.document
    doc.set_selection(["conv1", "act1"])
    window.group_selection("g")
    window.canvas.collapse_group("g")
    click_group(qtbot, window, "g")
    window.statusBar().clearMessage()
    steps = doc.undo_stack.count()
    ungroup_by_keyboard(qtbot, window)
    assert doc.graph.node("conv1").group == () and doc.graph.node("act1").group == ()
    assert doc.undo_stack.count() == steps + 1
    assert "Cannot" not in window.statusBar().currentMessage()
    act(window, "undo")
    assert doc.graph.node("conv1").group == ("g",)


def test_ungroup_a_block_takes_it_out_of_its_innermost_group(window: MainWindow) -> None:
    doc = window.document
    act(window, "expand_all")
    window.load_preset("resnet18")
    act(window, "expand_all")
    doc.set_selection(["layer2.0.conv1"])
    act(window, "ungroup")
    assert doc.graph.node("layer2.0.conv1").group == ("layer2",)
    doc.set_selection([])
    act(window, "ungroup")
    assert window.statusBar().currentMessage().startswith("Cannot ungroup: select")


def test_undo_of_a_preset_gives_back_the_whole_project(window: MainWindow) -> None:
    doc = window.document
    before, before_file = copy.deepcopy(doc.project.to_data()), exact(window)["file"]
    collapsed_before = set(window.canvas.canvas.groups)
    doc.load_preset("resnet18")  # in place, as one undo step (the window opens a new design)
    after = copy.deepcopy(doc.project.to_data())
    assert after["metadata"]["preset"] == "resnet18" and "layer1.0" in doc.collapsed
    assert doc.undo_stack.undoText() == "Load preset resnet18"
    act(window, "undo")
    assert doc.project.to_data() == before and exact(window)["file"] == before_file
    assert doc.project.metadata["preset"] == "lenet5"
    assert set(window.canvas.canvas.groups) == collapsed_before  # the canvas followed the view
    act(window, "redo")
    assert doc.project.to_data() == after
    assert "layer1.0" in window.canvas.canvas.groups


def test_group_name_problems_talk_about_group_names(window: MainWindow) -> None:
    window.document.set_selection(["conv1", "act1"])
    window.group_selection("stage one")
    message = window.statusBar().currentMessage()
    assert message.startswith("Cannot group: a group name is made of letters, digits and")
    assert "Received: name='stage one'" in message and "node" not in message
    for bad in ("", "a b"):
        problem = name_problem(bad, "group")
        assert problem is not None and problem.startswith("a group name")
        assert "node" not in problem
        assert name_problem(bad).startswith("a node name")  # type: ignore[union-attr]
    assert name_problem("stage1.part2", "group") is None
