"""What the Sweep and Repeat dialogs share: one ``cnn-designer`` command at a time in the
background (``BackgroundCommand``), its Start and Stop buttons, its message and output log, and
the temporary folder holding the design saved for it. Closing the dialog stops the command.

A subclass builds ``start_button``, ``stop_button``, ``message`` and ``log``, and defines
``_read_line`` (each line of output), ``_finished`` (the exit status), ``stop`` and
``shut_down`` (with its own grace before a kill).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QPushButton

from designer.background_command import BackgroundCommand


class CommandDialog(QDialog):
    """A dialog of ``window`` named ``name`` that runs a command said as ``what`` in messages
    ("The sweep could not start …")."""

    start_button: QPushButton
    stop_button: QPushButton
    message: QLabel
    log: QPlainTextEdit

    def __init__(self, window: Any, name: str, title: str, what: str) -> None:
        super().__init__(window)
        self.window = window
        self.what = what
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.command = BackgroundCommand(self)
        self.command.line.connect(self._read_line)
        self.command.ended.connect(self._finished)
        self.command.failed_to_start.connect(self._failed_to_start)
        self.temp: Path | None = None  # the design saved for the command

    @property
    def process(self) -> QProcess | None:
        return self.command.process

    @property
    def running(self) -> bool:
        return self.command.running

    def _read_line(self, line: str) -> None:
        self.log.appendPlainText(line)

    def _finished(self, code: int) -> None:
        raise NotImplementedError

    def _failed_to_start(self, reason: str) -> None:
        self.message.setText(f"The {self.what} could not start ({sys.executable}): {reason}")
        self._ended()

    def _failed_text(self, code: int) -> str:
        """The exit status and the output's last line."""
        last = self.log.toPlainText().strip().splitlines()[-1:] or ["(no output)"]
        return f"The {self.what} ended with status {code}: {last[0]}"

    def _ended(self) -> None:
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self._remove_temp()

    def _remove_temp(self) -> None:
        if self.temp is not None:
            shutil.rmtree(self.temp, ignore_errors=True)
            self.temp = None

    def shut_down(self) -> None:
        raise NotImplementedError

    def closeEvent(self, event: Any) -> None:
        """Closing while it runs stops the command."""
        self.shut_down()
        super().closeEvent(event)
