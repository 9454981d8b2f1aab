"""Text that never widens the window: a label and a status bar that elide what does not fit.

A QLabel asks its layout for room for its whole text, and a top-level window grows to honour
its children's minimum sizes: one long run folder path in a label once widened the designer
past the screen's edge. These widgets ask for a fixed small room whatever their text, draw
what fits with an ellipsis, and keep the whole text in the tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QStatusBar, QWidget

MIN_TEXT_WIDTH = 80  # pixels: what an elided text asks for, whatever its length


def one_line(text: str) -> str:
    """``text`` on one line (line breaks become spaces)."""
    return " ".join(text.split("\n"))


class ElidedLabel(QWidget):
    """One line of text, elided in the middle or at the end when it does not fit; the whole
    text is the tooltip whenever some of it is hidden. Its size hints never follow its text."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(parent)
        self._text = ""
        self._tip = ""  # a tooltip of the caller's own (kept beside the whole text)
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        text = one_line(text)
        if text != self._text:
            self._text = text
            self._update_tip()
            self.update()

    def setToolTip(self, tip: str) -> None:
        """The caller's tooltip (e.g. a run's notes), shown below the whole text when that is
        elided."""
        self._tip = tip
        self._update_tip()

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self._text) > self.contentsRect().width()

    def elided_text(self) -> str:
        return self.fontMetrics().elidedText(self._text, self._mode, self.contentsRect().width())

    def _update_tip(self) -> None:
        parts = [self._text] if self._text and self.is_elided() else []
        parts += [self._tip] if self._tip else []
        QWidget.setToolTip(self, "\n".join(parts))

    def sizeHint(self) -> QSize:
        return QSize(MIN_TEXT_WIDTH * 3, self.fontMetrics().height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(MIN_TEXT_WIDTH, self.fontMetrics().height() + 4)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._update_tip()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.contentsRect(), int(flags), self.elided_text())


class ElidingStatusBar(QStatusBar):
    """A status bar whose messages are elided to its width (QStatusBar clips them) with the
    whole message in the tooltip; a message never changes the bar's size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status_bar")
        self.messageChanged.connect(self._on_message)

    def _on_message(self, text: str) -> None:
        self.setToolTip(one_line(text) if text else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        text = self.currentMessage()
        if not text:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        room: QRect = self.rect().adjusted(6, 0, -24, 0)  # the size grip sits at the right
        shown = self.fontMetrics().elidedText(
            one_line(text), Qt.TextElideMode.ElideMiddle, room.width()
        )
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(room, int(flags), shown)
