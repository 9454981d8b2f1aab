"""Issue 17, item 5: "New and Open reset the view". After zooming far out on expanded ResNet-50
and panning, File ▸ Open (Ctrl+O) of LeNet-5 shows it fitted as a window opened on it does,
every block in view; undo history starts afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from designer_helpers import open_window, wheel
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from designer.document import preset_project
from engine.project import save_project

pytestmark = pytest.mark.usefixtures("clean_windows")

OFF_CENTRE = QPoint(300, 200)  # where the wheel turns, from the canvas's centre


def test_open_resets_the_zoom_and_place_of_the_design_before(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = open_window(qtbot, "lenet5")  # LeNet-5 as a window opened on it shows it
    fitted = reference.canvas.transform().m11()
    window = open_window(qtbot, "resnet50")
    button = window.design_toolbar.widgetForAction(window.actions_by_name["expand_all"])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wheel(window, -15, OFF_CENTRE)
    assert window.canvas.transform().m11() < 0.2
    wheel(window, 6, OFF_CENTRE)  # in again about a point off the centre: panned as well
    assert abs(window.canvas.transform().m11() - fitted) > 0.1 * fitted
    window.document.undo_stack.setClean()
    path = tmp_path / "lenet5.cnnd"
    save_project(preset_project("lenet5"), path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(path), ""))
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(window.document.graph) == 14)
    for _ in range(5):
        QApplication.processEvents()
    view = window.canvas
    assert view.transform().m11() == pytest.approx(fitted, rel=0.02)
    seen = view.visible_scene_rect()
    assert all(seen.contains(rect) for rect in view.scene_item_rects().values())
    assert not window.document.undo_stack.canUndo()
