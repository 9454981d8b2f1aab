"""Autosave and crash recovery.

While a window runs it holds a lock file and, every minute when there are unsaved changes,
writes the project to ``autosave-<pid>.cnnd`` in the recovery folder of the user's data directory
(QStandardPaths.AppDataLocation). A clean exit or a save removes that file. On the next start,
an autosave whose lock no process holds any more is left from a crash: it is offered back.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from designer.document import Document
from engine import save_project

AUTOSAVE_INTERVAL_MS = 60_000
_serial = itertools.count(1)  # several windows in one process get their own files


def recovery_dir() -> Path:
    """Where autosaves live (created on demand)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    folder = Path(base or Path.home() / ".cnn-designer") / "recovery"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _lock_for(autosave: Path) -> QLockFile:
    lock = QLockFile(str(autosave.with_suffix(".lock")))
    lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, never its age
    return lock


def orphaned_autosaves() -> list[Path]:
    """Autosaves of sessions that ended without a clean exit, newest first."""
    found = []
    for path in recovery_dir().glob("autosave-*.cnnd"):
        lock = _lock_for(path)
        if lock.tryLock(0):  # nobody holds it: its session crashed
            lock.unlock()
            found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def discard(path: Path) -> None:
    """Remove an autosave and its lock."""
    path.unlink(missing_ok=True)
    path.with_suffix(".lock").unlink(missing_ok=True)


class Autosaver(QObject):
    """Writes the document to its recovery file every minute while it has unsaved changes."""

    def __init__(self, document: Document, interval_ms: int = AUTOSAVE_INTERVAL_MS) -> None:
        super().__init__(document)
        self.document = document
        self.path = recovery_dir() / f"autosave-{os.getpid()}-{next(_serial)}.cnnd"
        self.lock = _lock_for(self.path)
        self.lock.tryLock(0)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        document.file_changed.connect(self._on_file_changed)

    def autosave(self) -> bool:
        """Write the recovery file now if there are unsaved changes; True when written."""
        if not self.document.modified:
            return False
        try:
            save_project(self.document.project, self.path)
        except OSError:
            return False  # a full disk must not interrupt the user; the next minute retries
        return True

    def _on_file_changed(self) -> None:
        if not self.document.modified:
            self.path.unlink(missing_ok=True)  # saved: nothing to recover

    def finish(self) -> None:
        """A clean exit: stop, remove the recovery file and release the lock."""
        self.timer.stop()
        self.path.unlink(missing_ok=True)
        self.lock.unlock()
        self.path.with_suffix(".lock").unlink(missing_ok=True)
