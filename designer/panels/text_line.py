"""A one-line text whose changes repaint only itself.

A ``QLabel`` given a new text tells the layout system its size may have changed; the layout
then asks its parent, and so on up to the main window, which lays out every dock again and
repaints the whole bottom area (the table, its scroll bar, the tabs): 3 to 6 ms after every
edit for the layer summary's totals line, whose counts change with most edits. ``TextLine``
keeps a fixed one-line height, ignores the text's width in the layout (a long line is elided,
its whole text in the tooltip) and only repaints itself.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

MARGIN = 3


class TextLine(QWidget):
    """One line of text, elided where the widget is too narrow (``text()`` is the whole)."""

    def __init__(self, parent: QWidget | None = None, tooltip: str = "") -> None:
        super().__init__(parent)
        self._text = ""
        self._tooltip = tooltip
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAutoFillBackground(True)  # opaque: what lies behind it is not repainted
        self.setToolTip(tooltip)

    def text(self) -> str:
        """The whole text."""
        return self._text

    def setText(self, text: str) -> None:  # QLabel's name, for its callers
        """Show ``text``; repaints this line only."""
        if text == self._text:
            return
        self._text = text
        self._update_tip()
        self.update()

    def _update_tip(self) -> None:
        """The tooltip: the whole text while it is elided, then the tooltip given."""
        elided = self.fontMetrics().horizontalAdvance(self._text) > self.width() - 2 * MARGIN
        tip = "\n\n".join(t for t in (self._text if elided else "", self._tooltip) if t)
        if tip != self.toolTip():
            self.setToolTip(tip)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tip()

    def sizeHint(self) -> QSize:
        return QSize(200, self.fontMetrics().height() + 2 * MARGIN)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height() + 2 * MARGIN)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        box = self.rect().adjusted(MARGIN, 0, -MARGIN, 0)
        text = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, box.width())
        painter.drawText(box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        painter.end()
