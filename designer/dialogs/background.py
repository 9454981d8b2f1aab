"""Run slow work (anything that imports torch) on Qt's thread pool, off the UI thread.

``run_in_background(fn, on_done, on_error)`` calls ``fn()`` on a pool thread and then
``on_done(value)`` or ``on_error(exception)`` on the UI thread. ``BusyIndicator`` shows a
message and an indeterminate progress bar in a window's status bar while such work runs.
A job can be cancelled (its callbacks are then skipped: the dialog that asked is gone); the job
object stays alive until its thread has finished.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QMainWindow, QProgressBar

_RUNNING: set[BackgroundJob] = set()  # jobs whose thread has not reported yet


class _Task(QRunnable):
    """The pool side: call the function and report through the job's signals."""

    def __init__(self, job: BackgroundJob, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.job = job
        self.fn = fn

    def run(self) -> None:
        try:
            value = self.fn()
        except Exception as error:  # reported to the UI thread, never raised in the pool
            self.job.failed.emit(error)
        except SystemExit as error:  # user code (an imported model) called exit()
            self.job.failed.emit(RuntimeError(f"the code called exit({error.code!r})"))
        else:
            self.job.succeeded.emit(value)


class BackgroundJob(QObject):
    """One call of a function on the thread pool; results arrive on the UI thread."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        super().__init__()  # no parent: lives in the UI thread until its task reports
        self.on_done = on_done
        self.on_error = on_error
        self.cancelled = False
        self.finished = False
        self.succeeded.connect(self._done)
        self.failed.connect(self._failed)
        self._task = _Task(self, fn)
        self._task.setAutoDelete(False)  # kept by this job: Python owns it

    def start(self) -> BackgroundJob:
        _RUNNING.add(self)
        QThreadPool.globalInstance().start(self._task)
        return self

    def cancel(self) -> None:
        """Skip the callbacks (the work itself runs to its end)."""
        self.cancelled = True

    @Slot(object)
    def _done(self, value: Any) -> None:
        self._end()
        if not self.cancelled:
            self.on_done(value)

    @Slot(object)
    def _failed(self, error: Exception) -> None:
        self._end()
        if not self.cancelled:
            self.on_error(error)

    def _end(self) -> None:
        self.finished = True
        _RUNNING.discard(self)


def cancel_job(holder: dict[str, Any]) -> None:
    """Skip the callbacks of the job in ``holder["job"]`` and forget it. ``holder`` is the
    owner's ``__dict__``, so that this can run once the owner's Qt object is gone (connected to
    the window's ``destroyed``)."""
    job = holder.get("job")
    if job is not None:
        job.cancel()
        holder["job"] = None


def describe_error(error: BaseException) -> str:
    """A failure as a person reads it: the engine's message, or the exception's type and text."""
    from engine import DesignerError

    if isinstance(error, DesignerError | OSError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception], None],
) -> BackgroundJob:
    """Start ``fn()`` on the thread pool; the callbacks run on the UI thread."""
    return BackgroundJob(fn, on_done, on_error).start()


class BusyIndicator:
    """A message and an indeterminate progress bar in ``window``'s status bar."""

    def __init__(self, window: QMainWindow, message: str) -> None:
        self.window = window
        self.bar = QProgressBar(window)
        self.bar.setObjectName("busy_indicator")
        self.bar.setRange(0, 0)  # indeterminate: a moving bar
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        window.statusBar().addPermanentWidget(self.bar)
        window.statusBar().showMessage(message)

    def stop(self, message: str = "", ms: int = 15_000) -> None:
        """Remove the bar and show ``message`` (if any) for ``ms`` milliseconds."""
        self.window.statusBar().removeWidget(self.bar)
        self.bar.deleteLater()
        if message:
            self.window.statusBar().showMessage(message, ms)
        else:
            self.window.statusBar().clearMessage()
