"""Frozen blocks under edits (issue 20, point 4): renaming a frozen block in the inspector keeps
it frozen (the freeze list follows, in the rename's one undo step), and a collapsed group shows
a frozen mark: hatched when all its blocks are frozen, the lock alone when some are."""

from __future__ import annotations

from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtCore import Qt

from designer.document import Document, preset_project
from designer.main_window import MainWindow
from designer.transfer.marks import FrozenMark


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    win = MainWindow(Document(preset_project("lenet5")), session=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.transfer.shutdown()
    close_clean(win)


def marked(items: dict) -> dict[str, FrozenMark]:
    """The frozen marks among the children of the scene's ``items`` (blocks or groups)."""
    found = {}
    for name, item in items.items():
        for child in item.childItems():
            if isinstance(child, FrozenMark):
                found[name] = child
    return found


def test_renaming_a_frozen_block_in_the_inspector_keeps_it_frozen(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:
    doc, scene = window.document, window.canvas.canvas
    dict(window.canvas.node_actions("conv1"))["Freeze (do not train)"]()
    doc.set_selection(["conv1"])
    edit = window.inspector.name_edit
    qtbot.waitUntil(lambda: edit.text() == "conv1", timeout=3000)
    edit.selectAll()
    qtbot.keyClicks(edit, "stem")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert "stem" in doc.graph and "conv1" not in doc.graph
    assert doc.project.training["freeze"] == ["stem"]
    qtbot.waitUntil(lambda: set(marked(scene.nodes)) == {"stem"}, timeout=3000)
    assert "(trainable 61,550, frozen 156)" in window.summary.totals.text()
    window.save_as(tmp_path / "net.cnnd")
    from engine import load_project

    assert load_project(tmp_path / "net.cnnd").training["freeze"] == ["stem"]
    doc.undo_stack.undo()  # one step takes the name and the freeze entry back
    assert "conv1" in doc.graph and doc.project.training["freeze"] == ["conv1"]
    qtbot.waitUntil(lambda: set(marked(scene.nodes)) == {"conv1"}, timeout=3000)
    doc.undo_stack.redo()
    assert doc.project.training["freeze"] == ["stem"]
    # a block that is not frozen renames without touching the list
    doc.rename("conv2", "middle")
    assert doc.project.training["freeze"] == ["stem"]


def test_a_collapsed_group_shows_whether_its_blocks_are_frozen(window: MainWindow, qtbot) -> None:
    window.load_preset("resnet18")
    doc, view = window.document, window.canvas
    scene = view.canvas
    doc.set_collapsed("layer1", True)
    qtbot.waitUntil(lambda: "layer1" in scene.groups, timeout=3000)
    assert marked(scene.groups) == {}
    dict(view.group_actions("layer1"))["Freeze group (do not train)"]()
    qtbot.waitUntil(lambda: set(marked(scene.groups)) == {"layer1"}, timeout=3000)
    mark = marked(scene.groups)["layer1"]
    members = doc.graph.group_members("layer1")
    assert not mark.partly and f"all its {len(members)} blocks" in mark.toolTip()
    from designer.transfer.frozen import unfreeze_blocks

    unfreeze_blocks(doc, [members[0]])  # the group is frozen only in part: the lock alone
    qtbot.waitUntil(lambda: marked(scene.groups)["layer1"].partly, timeout=3000)
    tip = marked(scene.groups)["layer1"].toolTip()
    assert f"{len(members) - 1} of its {len(members)} blocks" in tip
    collapsed = doc.collapsed
    doc.set_collapsed_groups(())  # every group expanded: the blocks carry the marks
    qtbot.waitUntil(lambda: not scene.groups, timeout=3000)
    qtbot.waitUntil(lambda: set(marked(scene.nodes)) == set(members[1:]), timeout=3000)
    doc.set_collapsed_groups(collapsed)
    qtbot.waitUntil(lambda: "layer1" in marked(scene.groups), timeout=3000)
    assert marked(scene.nodes) == {}  # the blocks inside are not drawn
    dict(view.group_actions("layer1"))["Freeze group (do not train)"]()
    dict(view.group_actions("layer1"))["Unfreeze group"]()
    qtbot.waitUntil(lambda: marked(scene.groups) == {}, timeout=3000)


def test_regrouping_keeps_frozen_blocks_frozen(window: MainWindow, qtbot) -> None:
    from designer.canvas.editing import group_nodes
    from designer.transfer.frozen import frozen_names

    window.load_preset("resnet18")
    doc, view = window.document, window.canvas
    members = doc.graph.group_members("layer1")
    dict(view.group_actions("layer1"))["Freeze group (do not train)"]()
    assert doc.project.training["freeze"] == ["layer1"]
    # Ungroup the collapsed group: its blocks leave it and stay frozen, named one by one
    doc.ungroup(members, ["layer1"])
    assert "layer1" not in doc.graph.groups()
    assert frozen_names(doc) == set(members)
    assert sorted(doc.project.training["freeze"]) == sorted(members)
    doc.undo_stack.undo()  # one undo step takes back the groups and the list
    assert doc.project.training["freeze"] == ["layer1"] and frozen_names(doc) == set(members)
    # a block grouped with one outside its frozen group leaves that group: still frozen
    group_nodes(doc, [members[0], "conv1"], "stem")
    assert doc.graph.node(members[0]).group[0] == "stem"  # no longer inside layer1
    assert doc.project.training["freeze"] == ["layer1", members[0]]
    assert frozen_names(doc) == set(members)
    assert "conv1" not in frozen_names(doc)
    doc.undo_stack.undo()
    assert doc.project.training["freeze"] == ["layer1"]
