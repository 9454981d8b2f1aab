"""Pre-flight fixes one click away in the window (issue 20, point 2): the data converted to fit
the Input block (a resize), and a ReLU before the loss, which the deep check catches, bypassed
by the button its message offers; each fix one undo step, and the check passes after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.document import Document, preset_project
from designer.main_window import MainWindow
from engine.fixes import insert_before


def open_window(qtbot, tmp_path: Path, monkeypatch, preset: str, training: dict) -> MainWindow:
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    project = preset_project(preset)
    project.training = training
    win = MainWindow(Document(project), session=False)
    win.training.run_root = tmp_path / "runs"
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def windows(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    opened: list[MainWindow] = []

    def make(preset: str, training: dict) -> MainWindow:
        opened.append(open_window(qtbot, tmp_path, monkeypatch, preset, training))
        return opened[-1]

    yield make
    for win in opened:
        win.training.shutdown()
        close_clean(win)


def click_later(prefix: str, seen: list[tuple[str, list[str]]]) -> None:
    """Click the first button of the pre-flight message whose text starts with ``prefix``."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        labels = [b.text() for b in box.buttons()]
        seen.append((box.text(), labels))
        for button in box.buttons():
            if button.text().startswith(prefix):
                button.click()
                return
        box.reject()

    QTimer.singleShot(0, click)


def test_check_converts_the_data_to_fit_the_input_block_in_one_click(windows) -> None:
    """LeNet-5 reads 1×32×32; Digits are 1×8×8 and the settings do not convert them."""
    win = windows("lenet5", {"data": {"dataset": "digits", "fit_input": False}})
    controller = win.training
    seen: list[tuple[str, list[str]]] = []
    click_later("Convert the data to fit the Input block", seen)
    assert controller.check() is False
    text, labels = seen[0]
    assert "8×8" in text and "Traceback" not in text and "--" not in text
    assert "Convert the data to fit the Input block" in labels
    assert any(label.startswith("Set") and "8" in label for label in labels), labels  # or Input
    assert controller.settings().data.resize == (32, 32)
    assert controller.check() is True
    assert "Check passed" in win.statusBar().currentMessage()
    win.document.undo_stack.undo()  # one undo step
    assert controller.settings().data.resize is None


def test_deep_check_offers_to_bypass_a_relu_before_the_loss(windows) -> None:
    win = windows("lenet5_digits", {"data": {"dataset": "digits"}})
    doc, controller = win.document, win.training
    add = doc.run_edit("Add ReLU", lambda graph: insert_before(graph, "output", "in", "relu"))
    relu = add.name
    seen: list[tuple[str, list[str]]] = []
    click_later("Bypass", seen)
    assert controller.deep_check() is False and controller.handle is None
    text, labels = seen[0]
    assert "exactly 0" in text and "cannot learn" in text and "Traceback" not in text
    assert f"Bypass {relu} so the last layer feeds the Output block" in labels, labels
    assert doc.graph.node(relu).bypassed
    click_later("Cancel", seen)
    assert controller.deep_check() is True  # it learns now
    doc.undo_stack.undo()  # the fix was one undo step
    assert not doc.graph.node(relu).bypassed


def test_deep_check_applies_the_range_tests_rate_in_one_click(windows) -> None:
    win = windows("lenet5_digits", {"data": {"dataset": "digits"}})
    controller = win.training
    seen: list[tuple[str, list[str]]] = []
    click_later("Use the suggested learning rate", seen)
    assert controller.deep_check() is True
    text, labels = seen[0]
    assert "range test" in text
    (label,) = [b for b in labels if b.startswith("Use the suggested learning rate")]
    suggested = float(label.rsplit(" ", 1)[1])
    assert f"near lr {label.rsplit(' ', 1)[1]}" in text
    assert controller.settings().lr == suggested != 0.001
    assert win.statusBar().currentMessage() == f"Applied: {label}"
    win.document.undo_stack.undo()  # one undo step
    assert controller.settings().lr == 0.001


def test_check_offers_to_bypass_a_relu_before_the_loss(windows) -> None:
    win = windows("lenet5_digits", {"data": {"dataset": "digits"}})
    doc, controller = win.document, win.training
    relu = doc.run_edit("Add", lambda graph: insert_before(graph, "output", "in", "relu")).name
    seen: list[tuple[str, list[str]]] = []
    click_later("Bypass", seen)
    assert controller.check() is True  # it can train: a warning, not a refusal
    text, labels = seen[0]
    assert f"{relu} (relu) feeds the Output block" in text and "Traceback" not in text
    assert f"Bypass {relu} so the last layer feeds the Output block" in labels
    assert doc.graph.node(relu).bypassed
    assert win.statusBar().currentMessage().startswith("Check passed; applied: Bypass")
    assert controller.check() is True and "warning" not in win.statusBar().currentMessage()
