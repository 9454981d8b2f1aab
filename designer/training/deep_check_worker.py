"""Training ▸ Deep check off the UI thread: the checks run on a worker thread while a progress
dialog with Cancel is shown (the window keeps drawing and answering). Cancel returns at once;
the checks' thread then ends on its own, a few seconds later, and its result is dropped."""

from __future__ import annotations

from typing import Any

from designer.dialogs.background import describe_error, run_in_background


def run_deep_checks(window: Any, graph_data: dict[str, Any], settings: Any) -> Any:
    """The findings of ``engine.preflight_deep.deep_checks``; None when cancelled. Raises
    RuntimeError carrying the worker's message when the checks themselves failed."""
    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtWidgets import QProgressDialog

    def work() -> Any:
        from engine.preflight_deep import deep_checks
        from engine.training.model import graph_from_data

        return deep_checks(graph_from_data(graph_data), settings)

    loop = QEventLoop()
    outcome: dict[str, Any] = {}
    dialog = QProgressDialog(
        "Deep check: running the design on 16 images… (a few seconds; PyTorch loads first)",
        "Cancel",
        0,
        0,
        window,
    )
    dialog.setObjectName("deep_check_progress")
    dialog.setWindowTitle("Deep check")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)

    def done(value: Any) -> None:
        outcome["value"] = value
        loop.quit()

    def failed(error: Exception) -> None:
        outcome["error"] = describe_error(error)
        loop.quit()

    dialog.canceled.connect(loop.quit)
    job = run_in_background(work, done, failed)
    dialog.show()
    if not job.finished:
        loop.exec()
    dialog.canceled.disconnect(loop.quit)
    dialog.close()
    dialog.deleteLater()
    if "error" in outcome:
        raise RuntimeError(outcome["error"])
    if "value" not in outcome:
        job.cancel()  # the thread runs to its end; nobody hears of it
        return None
    return outcome["value"]
