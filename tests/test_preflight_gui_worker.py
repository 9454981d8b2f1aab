"""Training ▸ Deep check runs on a worker thread (issue 20, point 2): the window keeps
answering while the checks run, and Cancel returns at once with nothing changed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QPushButton

from designer.document import Document, preset_project
from designer.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
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


def test_deep_check_runs_off_the_ui_thread_and_cancel_returns_at_once(window) -> None:
    import engine.preflight_deep as deep

    threads: list[str] = []
    ticks: list[float] = []
    real = deep.deep_checks

    def slow_checks(*args, **kwargs):  # the real checks, on whichever thread runs them, slowed
        threads.append(threading.current_thread().name)
        time.sleep(3.0)
        return real(*args, **kwargs)

    deep.deep_checks = slow_checks
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    shown: list[str] = []

    def cancel_when_shown() -> None:
        box = window.findChild(QProgressDialog, "deep_check_progress")
        if box is None or not box.isVisible():
            if isinstance(QApplication.activeModalWidget(), QMessageBox):
                QApplication.activeModalWidget().reject()  # never hang on a later question
                return
            QTimer.singleShot(20, cancel_when_shown)
            return
        shown.append(box.labelText())
        (button,) = [b for b in box.findChildren(QPushButton) if b.text() == "Cancel"]
        QTimer.singleShot(600, button.click)  # the window answers meanwhile: the timer ticks

    try:
        QTimer.singleShot(0, cancel_when_shown)
        began = time.monotonic()
        assert window.training.deep_check() is False
        took = time.monotonic() - began
    finally:
        timer.stop()
        deep.deep_checks = real
    assert threads and threads[0] != threading.main_thread().name
    assert took < 2.5  # cancelled before the slowed checks could end
    assert len([t for t in ticks if t >= began]) >= 8  # the event loop ran throughout
    assert shown and shown[0].startswith("Deep check: running the design on 16 images")
    assert "Deep check cancelled" in window.statusBar().currentMessage()
    assert window.training.settings().lr == 10.0  # nothing applied
    from designer.app import wait_for_background_work

    wait_for_background_work()  # the abandoned checks end on their own, unheard
    assert window.training.settings().lr == 10.0
