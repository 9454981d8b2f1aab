"""Pre-flight checks in the window (issue 20, point 2): Train refuses Small VGG (6 classes) on
the Digits settings before any process starts; the fix is one click, and undoable."""

from __future__ import annotations

from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.document import Document, preset_project
from designer.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    project = preset_project("small_vgg")
    project.training = {"data": {"dataset": "digits"}}  # what the settings offered
    win = MainWindow(Document(project), session=False)
    win.training.run_root = tmp_path / "runs"
    qtbot.addWidget(win)
    win.show()
    yield win
    win.training.shutdown()
    close_clean(win)


def click_later(label: str, seen: list[str]) -> None:
    """Click the button ``label`` of the pre-flight message once it is shown."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        for button in box.buttons():
            if button.text() == label:
                button.click()
                return
        seen.append(f"no button {label!r} among {[b.text() for b in box.buttons()]}")
        box.reject()

    QTimer.singleShot(0, click)


def test_train_refuses_the_class_mismatch_and_the_fix_is_one_click(window, tmp_path) -> None:
    controller = window.training
    seen: list[str] = []
    click_later("Cancel", seen)
    assert controller.train() is False
    assert controller.handle is None  # no process was started
    assert not (tmp_path / "runs").exists()
    assert "6 scores" in seen[0] and "10 classes" in seen[0] and "Traceback" not in seen[0]
    assert "--option" not in seen[0]  # the window's fixes are buttons, not command lines
    assert window.document.graph.node("fc").params["out_features"] == 6

    click_later("Set fc.out_features to 10", seen)
    assert controller.train() is False and controller.handle is None
    assert window.document.graph.node("fc").params["out_features"] == 10
    assert "Press Train" in window.statusBar().currentMessage()
    assert controller.check() is True  # trains-ready now
    assert "Check passed" in window.statusBar().currentMessage()
    window.document.undo_stack.undo()  # the fix is one undo step
    assert window.document.graph.node("fc").params["out_features"] == 6


def test_check_offers_the_data_set_the_preset_is_meant_for(window) -> None:
    controller = window.training
    seen: list[str] = []
    click_later("Train on shapes (the data set it is meant for)", seen)
    assert controller.actions["check"].text() == "&Check design"
    controller.actions["check"].trigger()
    assert len(seen) == 1, seen
    assert controller.settings().data.dataset == "shapes"
    assert controller.check() is True
    window.document.undo_stack.undo()
    assert controller.settings().data.dataset == "digits"


def test_a_preset_opens_with_the_data_set_it_is_meant_for() -> None:
    assert preset_project("small_vgg").training == {"data": {"dataset": "shapes"}}
    assert preset_project("lenet5_digits").training == {"data": {"dataset": "digits"}}
    assert preset_project("lenet5").training == {"data": {"dataset": "digits"}}
    assert preset_project("resnet18").training == {}


@pytest.fixture
def lenet(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    project = preset_project("lenet5_digits")
    project.training = {"data": {"dataset": "digits"}, "lr": 10.0}
    win = MainWindow(Document(project), session=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.training.shutdown()
    close_clean(win)


def test_deep_check_catches_lr_10_and_applies_the_lower_rate(lenet) -> None:
    controller = lenet.training
    seen: list[str] = []
    click_later("Set the learning rate to 1", seen)
    assert controller.deep_check() is False and controller.handle is None
    assert "lr=10" in seen[0]
    assert controller.settings().lr == 1.0
    lenet.document.undo_stack.undo()
    assert controller.settings().lr == 10.0


def test_deep_check_of_a_healthy_design_offers_the_suggested_rate(lenet) -> None:
    controller = lenet.training
    lenet.document.project.training = {"data": {"dataset": "digits"}}
    seen: list[str] = []
    click_later("Cancel", seen)
    assert controller.deep_check() is True
    assert "range test" in seen[0] and "Deep check passed" in lenet.statusBar().currentMessage()
