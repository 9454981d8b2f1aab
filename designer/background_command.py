"""One ``python -m MODULE ARGS`` in a background process (``QProcess``; the window never waits
for it), as the Repeat and Sweep dialogs and the lessons' experiments run their commands.

The process runs from the project's root with that root on ``PYTHONPATH`` and unbuffered
output. Each complete, non-blank line of its output is emitted as ``line`` as it comes (a line
split across two reads is emitted once, whole); ``ended`` follows the last line with the exit
status, or ``failed_to_start`` with Qt's reason where the interpreter could not be started.
``stop`` ends it as Ctrl-C would (SIGTERM) and kills it where it has not ended after a grace;
``shut_down`` waits for that, bounded, when the window or the dialog closes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

ROOT = Path(__file__).resolve().parents[1]  # where `python -m designer` finds the package
KILL_WAIT_MS = 5000  # how long a killed process is waited for


class BackgroundCommand(QObject):
    """``python -m module ARGS`` in a QProcess, one run at a time; stdout and stderr merged
    into ``line`` unless ``merged`` is False (then stderr is read with ``error_text``)."""

    line = Signal(str)
    ended = Signal(int)  # the exit status
    failed_to_start = Signal(str)  # Qt's name for the error

    def __init__(self, parent: QObject, module: str = "designer", merged: bool = True) -> None:
        super().__init__(parent)
        self.module, self.merged = module, merged
        self.process: QProcess | None = None
        self.stopping = False  # Stop was asked of the current run
        self._rest = ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, args: list[str]) -> None:
        """Start ``python -m module *args`` (a new process; the last one must have ended)."""
        self.stopping = False
        self._rest = ""
        process = self.process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        path = env.value("PYTHONPATH", "")
        env.insert("PYTHONPATH", str(ROOT) + (f":{path}" if path else ""))
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(str(ROOT))
        if self.merged:
            process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        process.start(sys.executable, ["-m", self.module, *args])

    def stop(self, grace_ms: int) -> bool:
        """SIGTERM, then a kill where it has not ended after ``grace_ms``; False when it was
        not running."""
        if not self.running:
            return False
        assert self.process is not None
        self.stopping = True
        process = self.process
        process.terminate()
        # tied to the process: it never fires once the process (with its owner) is deleted
        QTimer.singleShot(grace_ms, process, lambda: self._kill_if_running(process))
        return True

    def _kill_if_running(self, process: QProcess) -> None:
        if process is self.process and self.running:
            process.kill()

    def shut_down(self, grace_ms: int) -> None:
        """Stop it and wait for it: ``grace_ms`` after SIGTERM, then killed (bounded)."""
        if not self.running:
            return
        if not self.stopping:
            self.stop(grace_ms)
        assert self.process is not None
        self.process.waitForFinished(grace_ms)
        if self.running:
            self.process.kill()
            self.process.waitForFinished(KILL_WAIT_MS)

    def kill(self, wait_ms: int = KILL_WAIT_MS) -> None:
        """End it at once (no grace) and wait for it, at most ``wait_ms``."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.waitForFinished(wait_ms)

    def error_text(self) -> str:
        """Its stderr read so far (empty where the channels are merged)."""
        if self.process is None:
            return ""
        return bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")

    def _read(self, flush: bool = False) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", "replace")
        *lines, self._rest = (self._rest + text).split("\n")
        if flush:
            lines.append(self._rest)
            self._rest = ""
        for chunk in lines:
            for line in chunk.splitlines():
                if line.strip():
                    self.line.emit(line)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed_to_start.emit(error.name)

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._read(flush=True)
        self.ended.emit(code)
