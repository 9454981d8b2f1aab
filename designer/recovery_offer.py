"""Offering a crashed session's work back, at start-up (``MainWindow.offer_recovery``).

The offer names the user's file (the autosave records it, ``recovery.ORIGINAL_KEY``) or says
the design was untitled; it never names the internal autosave file unless that cannot be read.
Recovered work gets its file's name back, marked as modified, so Save writes to the user's file
and the design's runs are found beside it. When that file was saved after the autosave, the
offer says that saving the recovered design would replace the newer file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from designer.recovery import claim, discard, orphaned_autosaves, release, take_original
from engine import DesignerError, load_project


def offer_recovery(window: Any) -> bool:
    """Offer each autosave left by a crash; True when one was restored into ``window``.

    A restored design goes to this session's autosave at once, before the crashed session's
    file is removed, so a second crash cannot lose it.
    """
    for path in orphaned_autosaves():
        lock = claim(path)
        if lock is None:  # another session has taken it meanwhile
            continue
        try:
            project = load_project(path)
        except (DesignerError, OSError) as error:
            window._show_error(
                "Cannot recover",
                "CNN Designer did not close properly last time, and the autosave of that "
                f"session ({path}) cannot be read, so its work cannot be recovered.\n\n{error}",
            )
            discard(path, lock)
            continue
        original = take_original(project)
        if not ask(window, path, original):
            discard(path, lock)
            continue
        document = window.document
        document.replace_project(project, original)
        document.undo_stack.resetClean()  # recovered work is unsaved work
        window._update_title()
        if window.autosaver is not None:
            window.autosaver.adopt(path, lock)  # removed once the next line has written it
            window.autosaver.autosave()
        else:
            release(path, lock)  # no autosave of our own: keep the file to offer again
        window.canvas.zoom_to_fit()
        return True
    return False


def recovery_question(autosave: Path, original: Path | None) -> str:
    """The text of the offer for ``autosave``, which holds work on ``original`` (None:
    untitled)."""
    try:
        saved_at: float | None = autosave.stat().st_mtime
    except OSError:
        saved_at = None
    when = f" (autosaved {datetime.fromtimestamp(saved_at):%Y-%m-%d %H:%M})" if saved_at else ""
    if original is None:
        return (
            f"CNN Designer did not close properly last time. Recover your untitled design{when}?"
            "\n\nIt opens as an untitled design: save it under a name of your choice."
        )
    text = (
        f"CNN Designer did not close properly last time. Recover your unsaved changes to "
        f"{original.name}{when}?\n\nThe file: {original}\n\nIt opens under that name, marked "
        "as modified; Save writes it there."
    )
    try:
        newer = saved_at is not None and original.stat().st_mtime > saved_at
    except OSError:
        newer = False
    if newer:
        text += (
            f"\n\n{original.name} was saved after this autosave: saving the recovered design "
            "would replace that newer file. Use Save As to keep both."
        )
    return text


def ask(window: Any, autosave: Path, original: Path | None) -> bool:
    """Ask whether to recover; True for Yes."""
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        window,
        "Recover unsaved work",
        recovery_question(autosave, original),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes
