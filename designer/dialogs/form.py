"""Pieces the designer's small form dialogs share: an error line, a path field with a Browse…
button, and the form + error + OK/Cancel layout."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def error_label(parent: QWidget) -> QLabel:
    """A hidden red line for what is wrong with the fields (object name "error")."""
    label = QLabel(parent)
    label.setObjectName("error")
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020")
    label.hide()
    return label


def with_browse(parent: QWidget, edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
    """``edit`` with a Browse… button beside it (named after the field, ``<name>_browse``)."""
    row = QWidget(parent)
    box = QHBoxLayout(row)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(edit)
    button = QPushButton("Browse…", row)
    button.setObjectName(f"{edit.objectName()}_browse")
    button.clicked.connect(lambda _checked=False: browse())
    box.addWidget(button)
    return row


def lay_out(dialog: QDialog, form: QFormLayout, error: QLabel, ok_text: str) -> QDialogButtonBox:
    """Stack ``form``, ``error`` and OK/Cancel buttons (OK reads ``ok_text``) in ``dialog``."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addLayout(form)
    layout.addWidget(error)
    layout.addWidget(buttons)
    return buttons
