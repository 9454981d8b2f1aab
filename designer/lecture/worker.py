"""Run the lecture views' torch work off the UI thread, one job at a time per view.

``Job(fn, parent)`` runs ``fn()`` in a QThread; ``done`` carries its result, ``failed`` the
message of a ``DesignerError``, ``OSError`` or ``ValueError`` it raised (any other error is
reported as a message naming its class too, never raised into the event loop). The parent
keeps the job alive; a job whose parent closes finishes its work and is then dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from engine import DesignerError

_ALIVE: set[QThread] = set()  # threads still running: kept until they end, whoever closed


_QUIT_HOOKED: list[bool] = []
QUIT_WAIT_MS = 30_000  # at quit, how long each running job may still take


def _wait_all() -> None:
    """At quit: let running jobs end (bounded) so no thread is destroyed while it runs."""
    for thread in list(_ALIVE):
        thread.wait(QUIT_WAIT_MS)


def _hook_quit() -> None:
    app = QCoreApplication.instance()
    if app is not None and not _QUIT_HOOKED:
        app.aboutToQuit.connect(_wait_all)
        _QUIT_HOOKED.append(True)


class _Thread(QThread):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.result: Any = None
        self.error = ""

    def run(self) -> None:
        try:
            self.result = self.fn()
        except (DesignerError, OSError, ValueError, RuntimeError, KeyError) as error:
            self.error = str(error) or type(error).__name__
        except Exception as error:  # a backstop: the view says it, the UI keeps running
            self.error = f"{type(error).__name__}: {error}"


class Job(QObject):
    """One background computation; emits ``done(result)`` or ``failed(message)``."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = _Thread(fn)
        _ALIVE.add(self.thread)
        self.thread.finished.connect(self._finished)
        self.thread.finished.connect(lambda t=self.thread: _ALIVE.discard(t))
        self.running = True

    def start(self) -> Job:
        _hook_quit()
        self.thread.start()
        return self

    def _finished(self) -> None:
        self.running = False
        if self.thread.error:
            self.failed.emit(self.thread.error)
        else:
            self.done.emit(self.thread.result)

    def wait(self, ms: int = 60_000) -> bool:
        """Block until the job ends (tests, closing); False when it is still running."""
        return self.thread.wait(ms)
