"""The weights file's match report: what matched, what is missing, what differs in shape (with
both shapes), and Apply (the next run starts from the file) or Cancel. A file that cannot be
used shows why, with the report where one was made, and only Close."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)


class WeightsReportDialog(QDialog):
    """Shows a ``TransferReport`` (or a refusal); ``accepted`` means apply."""

    def __init__(
        self, parent: QWidget | None, report: Any, refusal: str = "", title: str = ""
    ) -> None:
        super().__init__(parent)
        self.setObjectName("weights_report")
        self.setWindowTitle(title or "Load weights")
        self.report = report
        self.refusal = refusal
        layout = QVBoxLayout(self)
        self.message = QLabel(self)
        self.message.setObjectName("weights_message")
        self.message.setWordWrap(True)
        if refusal:
            self.message.setText(f"<b>These weights cannot be used.</b><br>{_escape(refusal)}")
        else:
            counts = report.counts()
            self.message.setText(
                f"{counts['matched']} tensor(s) of the design will start from the file. "
                "Apply: the next run starts from these weights (the training settings keep "
                "the file's path; Undo takes it back)."
            )
        layout.addWidget(self.message)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("weights_report_text")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(report.text() if report is not None else "")
        self.text.setVisible(report is not None)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(self)
        if refusal:
            buttons.addButton(QDialogButtonBox.StandardButton.Close)
        else:
            self.apply_button = buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
            self.apply_button.setObjectName("apply_weights")
            buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout.addWidget(buttons)
        self.resize(720, 420)


def _escape(text: str) -> str:
    import html

    return html.escape(text).replace("\n", "<br>")
