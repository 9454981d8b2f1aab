"""Issue 17 (Scale): after an edit the inspector gives its editors only the values that changed
(setting all of them again restyled and repainted every editor after each edit of a big
design), while a value changed by the edit, an undo or another block still shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import close_clean, shown_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSpinBox

from designer.main_window import MainWindow
from designer.panels.param_editors import ParamEditor


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    win = shown_window(qtbot, tmp_path, monkeypatch)  # LeNet-5
    yield win
    close_clean(win)


def click_block(qtbot, window: MainWindow, name: str) -> None:
    rect = window.canvas.scene_item_rects()[name]
    at = window.canvas.mapFromScene(rect.center())
    qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=at)


def test_only_changed_values_are_set_again(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[tuple[str, Any]] = []
    real = ParamEditor.set_value

    def recorded(editor: ParamEditor, value: Any) -> None:  # the real one, recorded
        given.append((editor.spec.name, value))
        real(editor, value)

    monkeypatch.setattr(ParamEditor, "set_value", recorded)
    doc = window.document
    click_block(qtbot, window, "conv1")
    editors = window.inspector.editors
    assert doc.selection == ["conv1"] and {name for name, _ in given} == set(editors)
    spin = editors["out_channels"].widget
    assert isinstance(spin, QSpinBox)
    # the user types a new channel count and presses Enter: one value changed, one set
    given.clear()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "12")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert doc.graph.node("conv1").params["out_channels"] == 12
    assert given == [("out_channels", 12)]
    assert "12×28×28" in window.inspector.details.text()
    # an edit of another block: nothing of conv1 changed, no editor is set
    given.clear()
    doc.set_params("fc1", {"out_features": 100})
    assert given == []
    # undo of conv1's edit: its value is set back and shown
    doc.undo_stack.undo()  # fc1
    doc.undo_stack.undo()  # conv1
    assert given == [("out_channels", 6)] and spin.value() == 6
    # another block: its form, every value set
    given.clear()
    click_block(qtbot, window, "conv2")
    assert doc.selection == ["conv2"]
    editors = window.inspector.editors
    assert {name for name, _ in given} == set(editors)
    shown = editors["out_channels"].widget.value()
    assert shown == doc.graph.node("conv2").params["out_channels"]
