"""Shared helpers for the designer window tests: isolated settings and dialog recorders.

Dialogs are replaced with recorder functions through monkeypatch (never Mock objects: mocking
PySide6 methods segfaults since 6.10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox, QWidget


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


def shown_window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The designer window as a user first sees it (LeNet-5), shown, with isolated settings
    and recorded dialogs; close it with ``close_clean``."""
    from designer.app import create_window

    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    window = create_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


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
