"""The minimap: an overview of the whole design in a corner of the canvas, with the part the
canvas shows as a rectangle; a click or a drag on it pans the canvas there.

It costs little for big designs: the design is drawn once into a pixmap at the minimap's size,
blocks as patches of their colour and wires as lines, straight from the items' positions
(``overview.py``: where asking each item to paint took a quarter of a second), again only after
the scene changed and the changes settled (``REDRAW_DELAY_MS``), and never while the minimap is
hidden. After an edit that leaves the design's bounds as they were only the changed regions the
scene reports are drawn again (the whole took 15-45 ms at 5,000 blocks, an edit's regions about
a millisecond).
Panning and zooming the canvas only move the rectangle.

Shown by default while the design does not fit in the canvas, hidden while it does; once the
user toggles it (View menu, shortcut) that choice holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from designer.canvas import style
from designer.canvas.overview import draw_overview, draw_region

if TYPE_CHECKING:
    from designer.canvas.view import CanvasView

SIZE = QSize(240, 170)
MARGIN = 12  # from the canvas's corner
MAX_REGIONS = 64  # changed regions drawn one by one; more are drawn as their bounding box
MAX_REGION_SHARE = 0.25  # a change over more of the design draws the whole again
REDRAW_DELAY_MS = 250
FRAME = 60.0  # scene units around the design
MIN_ACROSS = 24.0  # a long design's overview is at least this wide (tall) in pixels: scrolled
MAX_LENGTH = 16  # along it, the overview is at most this many minimaps long


def _shift(low: float, high: float, start: float, end: float) -> float:
    """How far to move [low, high] to lie within [start, end] (centred if it is longer)."""
    if high - low >= end - start:
        return (start + end) / 2 - (low + high) / 2
    if low < start:
        return start - low
    if high > end:
        return end - high
    return 0.0


def _merged(rects: list[QRect]) -> list[QRect]:
    """``rects`` with those that overlap or touch joined into their bounding rectangle."""
    merged: list[QRect] = []
    for rect in rects:
        joined = True
        while joined:
            joined = False
            for other in merged:
                if other.adjusted(-1, -1, 1, 1).intersects(rect):
                    merged.remove(other)
                    rect = rect.united(other)
                    joined = True
                    break
        merged.append(rect)
    return merged


class Minimap(QWidget):
    """The overview of ``view``'s scene, a child widget over its bottom-right corner."""

    shown_changed = Signal(bool)

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.setObjectName("minimap")
        self.view = view
        self.choice: bool | None = None  # the user's toggle; None: shown while it does not fit
        self.source = QRectF()  # the scene rectangle the pixmap shows
        self.target = QRectF()  # where the pixmap is drawn in the widget
        self._pixmap: QPixmap | None = None
        self._stale = True
        self._regions: list[QRectF] | None = None  # changed since the last draw; None: all
        self.redraws = 0  # how many times the overview was drawn (panning draws none)
        self.partial_redraws = 0  # of which only the changed regions
        self._dragging = False  # a long overview holds still while dragged on
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._redraw)
        self.setFixedSize(SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the canvas there")
        self.hide()
        view.view_changed.connect(self._on_view_changed)
        view.canvas.changed.connect(self._on_scene_changed)

    # ----- showing -------------------------------------------------------------------------
    def wanted(self) -> bool:
        """Whether the minimap should show: the user's choice, else while the design does
        not fit in the canvas."""
        if self.choice is not None:
            return self.choice
        rect = self.view.items_rect()
        if rect.isNull():
            return False
        seen = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        return not seen.adjusted(-1, -1, 1, 1).contains(rect)

    def set_choice(self, shown: bool | None) -> None:
        """Show or hide it for good (None: again by whether the design fits)."""
        self.choice = shown
        self._on_view_changed()

    def toggle(self) -> None:
        """Show it if hidden, hide it if shown (the user's choice from now on)."""
        self.set_choice(not self.isVisible())

    def _on_view_changed(self) -> None:
        port = self.view.viewport().geometry()
        self.move(port.right() - SIZE.width() - MARGIN, port.bottom() - SIZE.height() - MARGIN)
        wanted = self.wanted()
        if wanted != self.isVisible():
            self.setVisible(wanted)
            if wanted:
                self.raise_()
                self._place()
                # drawn once the events are processed: a design just opened announces its new
                # items (the scene's ``changed``) first, and is then drawn once, not twice
                self._stale = True
                self._regions = None
                self._timer.start(0)
            self.shown_changed.emit(wanted)
        elif wanted:
            if not self._dragging:
                self._scroll()  # (a long overview follows the canvas)
            self.update()  # the rectangle moved

    def _on_scene_changed(self, regions: list[QRectF] | None = None, *_args: object) -> None:
        if self._regions is not None and regions is not None and self.isVisible():
            self._regions.extend(regions)
        else:
            self._regions = None  # while hidden, or unknown: the whole is drawn again
        self._stale = True
        if self.isVisible() and not self._timer.isActive():
            self._timer.start(REDRAW_DELAY_MS)

    # ----- drawing -------------------------------------------------------------------------
    def _place(self) -> bool:
        """Fit the design's rectangle (``source``) into the widget (``target``); False when
        the design is empty. A design so long that it would be a sliver (a 5,000-block chain
        wrapped into eight columns was 5 pixels wide) is drawn ``MIN_ACROSS`` wide instead and
        scrolled with the canvas (``_scroll``)."""
        rect = self.view.items_rect()
        if rect.isNull():
            return False
        self.source = rect.adjusted(-FRAME, -FRAME, FRAME, FRAME)
        inner = self._inner()
        sx, sy = inner.width() / self.source.width(), inner.height() / self.source.height()
        small, big = min(sx, sy), max(sx, sy)
        across = min(self.source.width(), self.source.height())
        scale = min(big, max(small, MIN_ACROSS / across), MAX_LENGTH * small)
        size = self.source.size() * scale
        if size != self.target.size():
            self.target = QRectF(QPointF(0, 0), size)
            self.target.moveCenter(inner.center())
        self._scroll()
        return True

    def _inner(self) -> QRectF:
        return QRectF(self.rect()).adjusted(4, 4, -4, -4)

    def _scroll(self) -> None:
        """Centre the overview in the widget; one longer than the widget is moved only as far
        as it takes to keep the part the canvas shows inside (within the overview's ends), so
        that a click on it does not move it under the pointer."""
        inner, target = self._inner(), self.target
        if target.isEmpty() or self.source.isEmpty():
            return
        seen = self.scene_to_map(self.view.visible_scene_rect())
        left = inner.center().x() - target.width() / 2
        top = inner.center().y() - target.height() / 2
        if target.width() > inner.width():
            left = target.left() + _shift(seen.left(), seen.right(), inner.left(), inner.right())
            left = max(inner.right() - target.width(), min(inner.left(), left))
        if target.height() > inner.height():
            top = target.top() + _shift(seen.top(), seen.bottom(), inner.top(), inner.bottom())
            top = max(inner.bottom() - target.height(), min(inner.top(), top))
        target.moveTopLeft(QPointF(left, top))

    def _redraw(self) -> None:
        """Draw the scene into the pixmap, fitted to the minimap: only the changed regions
        where the design's bounds and the minimap's size are as they were, else the whole."""
        self._timer.stop()
        if not self.isVisible():
            return  # hidden again meanwhile (as while a window settles): drawn when shown
        source, target, regions = QRectF(self.source), QRectF(self.target), self._regions
        if not self._place():
            self._pixmap = None
            self.update()
            return
        ratio = self.devicePixelRatioF()
        pixmap = self._pixmap
        if (
            pixmap is None
            or regions is None
            or source != self.source
            or target.size() != self.target.size()
            or pixmap.devicePixelRatio() != ratio
            or not self._draw_regions(pixmap, regions)
        ):
            size = self.target.size()
            pixmap = QPixmap((size * ratio).toSize().expandedTo(QSize(1, 1)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(QColor(style.BACKGROUND))
            painter = QPainter(pixmap)
            draw_overview(painter, self.view.canvas, self.source, QRectF(QPointF(0, 0), size))
            painter.end()
        else:
            self.partial_redraws += 1
        self.redraws += 1
        self._pixmap = pixmap
        self._regions = []
        self._stale = False
        self.update()

    def _draw_regions(self, pixmap: QPixmap, regions: list[QRectF]) -> bool:
        """Draw again the changed ``regions`` (scene coordinates), each widened to whole pixels
        of the pixmap; False (nothing drawn) when they cover too much: draw the whole."""
        regions = [r for r in regions if r.intersects(self.source)]
        if len(regions) > MAX_REGIONS:
            bounds = QRectF()
            for r in regions:
                bounds = bounds.united(r)
            regions = [bounds]
        area = self.source.width() * self.source.height()
        if sum(r.width() * r.height() for r in regions) > MAX_REGION_SHARE * area:
            return False
        size = self.target.size()
        whole = QRectF(QPointF(0, 0), size)
        scale = size.width() / self.source.width()
        ratio = pixmap.devicePixelRatio()
        # each region in device pixels, widened to whole ones (and one more for the pens); the
        # scene reports a block's rectangle once per change of it: the same ones merge here
        pixels: list[QRect] = []
        for region in regions:
            local = QRectF(
                (region.left() - self.source.left()) * scale * ratio,
                (region.top() - self.source.top()) * scale * ratio,
                region.width() * scale * ratio,
                region.height() * scale * ratio,
            )
            pixels.append(local.toAlignedRect().adjusted(-1, -1, 1, 1))
        painter = QPainter(pixmap)
        for rect in _merged(pixels):
            widened = QRectF(
                self.source.left() + rect.left() / ratio / scale,
                self.source.top() + rect.top() / ratio / scale,
                rect.width() / ratio / scale,
                rect.height() / ratio / scale,
            )
            draw_region(painter, self.view.canvas, self.source, whole, widened)
        painter.end()
        return True

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._stale and not self._timer.isActive():
            self._timer.start(REDRAW_DELAY_MS)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#9aa4b1"), 1))
        painter.setBrush(QColor(style.BACKGROUND))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        if self._pixmap is not None:
            painter.setClipRect(self._inner().adjusted(-2, -2, 2, 2))  # (a long one, scrolled)
            painter.drawPixmap(self.target.topLeft(), self._pixmap)
            seen = self.scene_to_map(self.view.visible_scene_rect())
            painter.setClipRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
            colour = QColor(style.SELECTED_COLOUR)
            painter.setPen(QPen(colour, 1.5))
            colour.setAlpha(40)
            painter.setBrush(colour)
            painter.drawRect(seen)
        painter.end()

    # ----- mapping and panning -------------------------------------------------------------
    def scene_to_map(self, rect: QRectF) -> QRectF:
        """Where scene rectangle ``rect`` lies on the minimap (widget coordinates)."""
        if self.source.isEmpty():
            return QRectF()
        sx = self.target.width() / self.source.width()
        sy = self.target.height() / self.source.height()
        return QRectF(
            self.target.left() + (rect.left() - self.source.left()) * sx,
            self.target.top() + (rect.top() - self.source.top()) * sy,
            rect.width() * sx,
            rect.height() * sy,
        )

    def map_to_scene(self, point: QPointF) -> QPointF:
        """The scene point under minimap point ``point``."""
        if self.target.isEmpty():
            return QPointF()
        return QPointF(
            self.source.left()
            + (point.x() - self.target.left()) * self.source.width() / self.target.width(),
            self.source.top()
            + (point.y() - self.target.top()) * self.source.height() / self.target.height(),
        )

    def _pan_to(self, point: QPointF) -> None:
        self.view.pan_to(self.map_to_scene(point))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self._pan_to(event.position())
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._dragging:
            self._dragging = False
            self._scroll()
            self.update()
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._pan_to(event.position())
            event.accept()
