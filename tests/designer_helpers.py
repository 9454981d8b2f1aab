"""Shared helpers for the designer window tests: isolated settings and dialog recorders.

Dialogs are replaced with recorder functions through monkeypatch (never Mock objects: mocking
PySide6 methods segfaults since 6.10).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """``python -m designer ARGS`` as a person runs it: a subprocess in ``cwd`` with a bare
    environment (HOME there, the project's root on PYTHONPATH), bounded by ``timeout``."""
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


def isolate_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point QSettings and the user data dir (autosaves) at a temporary folder."""
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(home / "config"))
    return home


@dataclass
class DialogRecorder:
    """Stands in for QMessageBox.question/critical: records each call, answers ``answer``."""

    answer: Any = QMessageBox.StandardButton.Discard
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
        def question(parent: Any, title: str, text: str, *args: Any) -> Any:
            self.calls.append(("question", title, text))
            return self.answer

        def critical(parent: Any, title: str, text: str, *args: Any) -> Any:
            self.calls.append(("critical", title, text))
            return QMessageBox.StandardButton.Ok

        monkeypatch.setattr(QMessageBox, "question", question)
        monkeypatch.setattr(QMessageBox, "critical", critical)
        return self

    def kinds(self) -> list[str]:
        """The kinds of dialog shown so far."""
        return [call[0] for call in self.calls]


def close_clean(window: Any) -> None:
    """Close a window without the unsaved-changes prompt."""
    window.document.undo_stack.setClean()
    window.close()


def shown_window(
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int] | None = None,
) -> Any:
    """The designer window as a user first sees it (LeNet-5), shown (at ``size`` if given),
    with isolated settings and recorded dialogs; close it with ``close_clean``."""
    from designer.app import create_window

    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    window = create_window()
    qtbot.addWidget(window)
    if size is not None:
        window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


OPENED: list[Any] = []  # windows ``open_window`` opened; the ``clean_windows`` fixture closes them


def open_window(qtbot: Any, design: Any, size: tuple[int, int] = (1600, 1100)) -> Any:
    """A window without a session on preset ``design`` (a name) or on that Project, shown at
    ``size`` and settled (the canvas refits on each resize); for tests that use the
    ``clean_windows`` fixture, which closes it."""
    from designer.document import Document, preset_project
    from designer.main_window import MainWindow

    project = preset_project(design) if isinstance(design, str) else design
    window = MainWindow(Document(project), session=False)
    OPENED.append(window)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    for _ in range(5):
        QApplication.processEvents()
    return window


def chain_window(qtbot: Any, groups: int) -> Any:
    """``open_window`` on the benchmark's chain of ``groups`` groups (3 blocks each, with the
    input and the output), once its minimap has drawn."""
    from benchmarks.canvas_5000 import chain_graph
    from engine import Project

    window = open_window(qtbot, Project(chain_graph(groups)))
    minimap = window.canvas.minimap
    qtbot.waitUntil(minimap.isVisible)
    qtbot.waitUntil(lambda: minimap._pixmap is not None and not minimap._stale, timeout=5000)
    return window


def wheel(window: Any, notches: int, offset: QPoint | None = None) -> None:
    """Turn the mouse wheel ``notches`` notches (positive: away from the user, zooming in) over
    the canvas, ``offset`` from its centre."""
    viewport = window.canvas.viewport()
    at = viewport.rect().center() + (offset or QPoint(0, 0))
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


MEMORY_SETTINGS = {
    "data": {"dataset": "digits"},
    "batch_size": 32,
    "optimizer": "sgd",
    "device": "cpu",
}


def memory_window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A window on LeNet-5 with ``MEMORY_SETTINGS``, without a session, shown once the summary's
    memory plan is made; close it with ``close_clean``."""
    from designer.document import Document, preset_project
    from designer.main_window import MainWindow

    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    project = preset_project("lenet5")
    project.training = dict(MEMORY_SETTINGS)
    window = MainWindow(Document(project), session=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.summary.plans.current is not None, timeout=5000)
    return window


def memory_column(window: Any) -> dict[str, str]:
    """The summary's Memory column (its last), by block name."""
    model = window.summary.model
    column = model.columnCount() - 1
    assert model.headerData(column, Qt.Orientation.Horizontal, 0) == "Memory"
    return {row.name: model.data(model.index(i, column), 0) for i, row in enumerate(model.rows)}


def training_window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A window on LeNet-5 without a session, its runs under ``tmp_path / "runs"``; call
    ``window.training.shutdown()`` and ``close_clean`` after."""
    from designer.document import Document, preset_project
    from designer.main_window import MainWindow

    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    window = MainWindow(Document(preset_project("lenet5")), session=False)
    window.training.run_root = tmp_path / "runs"
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    return window


class LectureHost(QWidget):
    """A window as the lecture views see it: a document, and the runs folders of its design."""

    def __init__(self, document: Any, roots: list | None = None) -> None:
        super().__init__()
        self.document = document
        self.roots = list(roots or [])

    @property
    def run_roots(self) -> LectureHost:
        return self

    def all(self) -> list:
        return self.roots


def experiments_window(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any]
) -> Any:
    """``training_window`` on LeNet-5 for Digits with training ``settings`` (what the Sweep and
    Repeat dialogs train); close it with ``close_experiments_window``."""
    from engine.training.settings import TrainingSettings

    window = training_window(qtbot, tmp_path, monkeypatch)
    assert window.load_preset("lenet5_digits")
    window.training.store_settings(TrainingSettings.from_dict(settings))
    return window


def open_experiment_dialog(window: Any, name: str) -> Any:
    """Experiments ▸ the dialog ``name`` ("sweep", "repeat"), shown."""
    window.actions_by_name[f"experiments_{name}"].trigger()
    dialog = getattr(window.experiments, name)
    assert dialog.isVisible()
    return dialog


def close_experiments_window(window: Any) -> None:
    """Close the Sweep and Repeat dialogs (which stops what they run), then the window."""
    for dialog in (window.experiments.sweep, window.experiments.repeat):
        if dialog is not None:
            dialog.close()
    window.training.shutdown()
    close_clean(window)
