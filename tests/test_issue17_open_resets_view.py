"""Issue 17, item 5: "New and Open reset the view". After zooming far out on expanded ResNet-50
and panning, File ▸ Open (Ctrl+O) of LeNet-5 shows it fitted as a window opened on it does,
every block in view; undo history starts afresh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from designer.document import Document, preset_project
from designer.main_window import MainWindow
from engine.project import save_project

OPENED: list[MainWindow] = []


@pytest.fixture(autouse=True)
def _clean_windows(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    yield
    while OPENED:
        close_clean(OPENED.pop())


def open_window(qtbot: Any, preset: str) -> MainWindow:
    window = MainWindow(Document(preset_project(preset)), session=False)
    OPENED.append(window)
    qtbot.addWidget(window)
    window.resize(1600, 1100)
    window.show()
    qtbot.waitExposed(window)
    for _ in range(5):
        QApplication.processEvents()
    return window


def wheel(window: MainWindow, notches: int) -> None:
    viewport = window.canvas.viewport()
    at = viewport.rect().center() + QPoint(300, 200)
    for _ in range(abs(notches)):
        event = QWheelEvent(
            QPointF(at),
            QPointF(viewport.mapToGlobal(at)),
            QPoint(0, 0),
            QPoint(0, 120 if notches > 0 else -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)


def test_open_resets_the_zoom_and_place_of_the_design_before(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = open_window(qtbot, "lenet5")  # LeNet-5 as a window opened on it shows it
    fitted = reference.canvas.transform().m11()
    window = open_window(qtbot, "resnet50")
    button = window.design_toolbar.widgetForAction(window.actions_by_name["expand_all"])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wheel(window, -15)
    assert window.canvas.transform().m11() < 0.2
    wheel(window, 6)  # in again about a point off the centre: panned as well
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
