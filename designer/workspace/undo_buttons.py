"""The toolbar's Undo and Redo: a fixed short label, so the toolbar never jumps.

The Edit menu keeps the undo stack's own actions ("Undo Change parameters", with the keys);
the toolbar gets plain actions labelled "Undo" and "Redo" whose tooltip names what they undo,
enabled as the stack allows. They carry no keys (the menu's actions have them): no key is bound
twice.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction


def add_undo_buttons(window: Any, shortcuts: dict[str, tuple[str, ...]]) -> None:
    """Create ``undo_button`` and ``redo_button`` in ``window.actions_by_name``."""
    stack = window.document.undo_stack
    for name, text, act, can, what, changed, can_changed in (
        ("undo", "Undo", stack.undo, stack.canUndo, stack.undoText, stack.undoTextChanged,
         stack.canUndoChanged),
        ("redo", "Redo", stack.redo, stack.canRedo, stack.redoText, stack.redoTextChanged,
         stack.canRedoChanged),
    ):  # fmt: skip
        button = QAction(text, window)
        button.setObjectName(f"{name}_button")
        button.triggered.connect(lambda _checked=False, f=act: f())
        keys = ", ".join(shortcuts.get(name, ()))

        def tip(*_args: object, b: QAction = button, t: str = text, w=what, k: str = keys) -> None:
            subject = w()
            b.setToolTip(f"{t} {subject} ({k})" if subject else f"{t} ({k})")

        def enable(*_args: object, b: QAction = button, c=can) -> None:
            b.setEnabled(c())

        changed.connect(tip)
        can_changed.connect(enable)
        tip()
        enable()
        window.actions_by_name[button.objectName()] = button
