"""Transient marks a gesture leaves on the canvas: a refusal written where it happened, and the
highlight of the wire a dragged block would be inserted into."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QStyleOptionGraphicsItem,
    QWidget,
)

NOTE_MS = 3500  # how long a refusal stays
NOTE_WIDTH = 360.0  # screen pixels: longer messages wrap
HIGHLIGHT = "#1a73e8"


class RefusalNote(QGraphicsItem):
    """A refusal ("Cannot connect: ... has no free input port") drawn at the point of the
    gesture, the same size at every zoom, fading after a few seconds."""

    def __init__(self, text: str, at: QPointF) -> None:
        super().__init__()
        self.text = text
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(500.0)
        self.setPos(at)
        self.font = QFont()
        metrics = QFontMetricsF(self.font)
        flags = int(Qt.TextFlag.TextWordWrap)
        box = metrics.boundingRect(QRectF(0, 0, NOTE_WIDTH, 1000), flags, text)
        self.rect = QRectF(12, 12, box.width() + 16, box.height() + 10)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-1, -1, 1, 1)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#b3261e"), 1.0))
        painter.setBrush(QColor("#fff4f2"))
        painter.drawRoundedRect(self.rect, 4, 4)
        painter.setPen(QColor("#27313d"))
        painter.setFont(self.font)
        painter.drawText(self.rect.adjusted(8, 5, -8, -5), int(Qt.TextFlag.TextWordWrap), self.text)


def show_refusal(scene: QGraphicsScene, at: QPointF, text: str) -> RefusalNote:
    """Write ``text`` beside scene point ``at`` for a few seconds (the previous one goes)."""
    for item in scene.items():
        if isinstance(item, RefusalNote):
            scene.removeItem(item)
    note = RefusalNote(text, at)
    scene.addItem(note)

    def remove() -> None:
        if note.scene() is scene:
            scene.removeItem(note)

    QTimer.singleShot(NOTE_MS, scene, remove)
    return note


class WireHighlight(QGraphicsPathItem):
    """A wide band under a wire: dropping the dragged block here inserts it into that wire."""

    def __init__(self, path: QPainterPath) -> None:
        super().__init__(path)
        colour = QColor(HIGHLIGHT)
        colour.setAlpha(150)
        pen = QPen(colour, 7.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setCosmetic(True)  # as wide at every zoom
        self.setPen(pen)
        self.setZValue(-0.5)  # under the wire itself, over nothing else
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
