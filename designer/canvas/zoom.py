"""Zoom and pan arithmetic of the canvas view: fitting a design, zooming around a point,
and dragging the view by hand.

The scale limits live here; ``designer.canvas.view`` re-exports them.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtWidgets import QGraphicsView

from designer.canvas import style

MIN_SCALE = 0.05
MAX_SCALE = 3.0
# zoom to fit never goes below the zoom where the blocks' short names read (8 px and a
# little more): a design that does not fit at this zoom is fitted by width and shown from its
# top (an expanded ResNet-152 as specks showed nothing and had Qt paint every block)
FIT_MIN_SCALE = style.DETAIL_SCALE * 1.05
# a design fitted by width is shown no larger than needed to read every text
PARTIAL_FIT_MAX = style.FULL_SCALE * 1.1
# Find zooms in to at least this (every text of the block reads)
FIND_SCALE = 1.0


class PanGesture:
    """Drag the view with the middle button, or the left one while Space is held."""

    def __init__(self, view: QGraphicsView, start: QPoint) -> None:
        self.view = view
        self.last = start
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, pos: QPoint) -> None:
        delta = pos - self.last
        self.last = pos
        bars = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        bars[0].setValue(bars[0].value() - delta.x())
        bars[1].setValue(bars[1].value() - delta.y())

    def end(self) -> None:
        self.view.viewport().unsetCursor()


def fit_rect(view: QGraphicsView, rect: QRectF) -> None:
    """Show scene rectangle ``rect`` whole in ``view``, not bigger than 1:1 and never smaller
    than FIT_MIN_SCALE: a rectangle that does not fit at that zoom is fitted by width (between
    FIT_MIN_SCALE and PARTIAL_FIT_MAX) and shown from its top. A null ``rect`` is shown at 1:1
    around the origin."""
    view.resetTransform()
    if rect.isNull():
        view.centerOn(0.0, 0.0)
        return
    framed = rect.adjusted(-40, -40, 40, 40)
    port = view.viewport().rect()
    by_width = port.width() / framed.width()
    scale = min(by_width, port.height() / framed.height(), 1.0)
    if scale >= FIT_MIN_SCALE:
        view.scale(scale, scale)
        view.centerOn(rect.center())
    else:
        scale = max(FIT_MIN_SCALE, min(by_width, PARTIAL_FIT_MAX))
        view.scale(scale, scale)
        seen = view.mapToScene(port).boundingRect()
        left = rect.center().x() - seen.width() / 2
        if framed.width() > seen.width():
            left = framed.left()
        view.centerOn(left + seen.width() / 2, framed.top() + seen.height() / 2)


def zoom_around(view: QGraphicsView, factor: float, at: QPoint) -> None:
    """Zoom ``view`` by ``factor`` (kept between MIN_SCALE and MAX_SCALE), keeping the scene
    point under viewport point ``at`` where it is."""
    scale = view.transform().m11()
    factor = max(MIN_SCALE / scale, min(MAX_SCALE / scale, factor))
    under = view.mapToScene(at)
    view.scale(factor, factor)
    # Scroll the point that was under the cursor back under it: Qt's AnchorUnderMouse uses
    # the last mouse move the view saw, which is stale after a pan.
    shift = view.mapFromScene(under) - at
    bars = view.horizontalScrollBar(), view.verticalScrollBar()
    bars[0].setValue(bars[0].value() + shift.x())
    bars[1].setValue(bars[1].value() + shift.y())
