"""Frozen blocks drawn distinctly: a hatched veil over the block and a small lock in its
corner, a child item of the block (``NodeOverlays``), following the training settings.

A collapsed group gets the same mark when all its blocks are frozen, and the lock alone (its
tooltip counting them) when some are."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

FROZEN_COLOUR = "#3f6fb5"
LOCK = 12.0


class FrozenMark(QGraphicsItem):
    """Hatching over a frozen block and a lock at its top right."""

    def __init__(self, node: QGraphicsItem, payload: Any = None) -> None:
        super().__init__(node)
        self.rect = QRectF(node.rect)  # type: ignore[attr-defined]
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.partly = False  # a collapsed group of which only some blocks are frozen
        self.set_payload(payload)

    def set_payload(self, payload: Any) -> None:
        """None for a block; (frozen, total) blocks for a collapsed group."""
        if payload is None:
            self.partly = False
            self.setToolTip("Frozen: a run does not train this block's parameters")
        else:
            count, total = payload
            self.partly = count < total
            what = "all" if count == total else f"{count} of"
            self.setToolTip(
                f"Frozen: {what} its {total} blocks (a run does not train their parameters)"
            )
        self.update()

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-2, -LOCK / 2 - 2, LOCK / 2 + 2, 2)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colour = QColor(FROZEN_COLOUR)
        hatch = QColor(colour)
        hatch.setAlpha(90)
        if not self.partly:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(hatch, Qt.BrushStyle.BDiagPattern))
            painter.drawRoundedRect(self.rect, 6, 6)
        # the lock: a body and a shackle, at the top right corner
        x, y = self.rect.right() - LOCK / 2, self.rect.top() - LOCK / 2
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawArc(QRectF(x + LOCK * 0.2, y, LOCK * 0.6, LOCK * 0.7), 0, 180 * 16)
        painter.setBrush(colour)
        painter.drawRoundedRect(QRectF(x, y + LOCK * 0.4, LOCK, LOCK * 0.6), 2, 2)
