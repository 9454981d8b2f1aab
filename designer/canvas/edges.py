"""Wires: an edge of the graph drawn from an output port to an input port, labelled with the
tensor shape it carries, and the pending wire that follows the mouse while one is dragged."""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker, QStaticText, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.canvas.style import SMALL_PX, look, readable
from engine import Edge

EDGE_Z = 0.0
LONG_WIRE = 160.0  # wires spanning more than this (vertically) go around blocks in their way
LABEL_PAD = 3.0
BACK_GAP = 24.0  # a wire into a block less than this below its source goes around the side


class Anchor(Protocol):
    """Something a wire end attaches to (a port, or a collapsed group's top or bottom)."""

    def anchor(self) -> QPointF: ...


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A smooth S-curve leaving ``start`` downwards and entering ``end`` from above."""
    path = QPainterPath(start)
    bend = max(30.0, abs(end.y() - start.y()) * 0.5)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


def routed_path(start: QPointF, end: QPointF, lane: float) -> QPainterPath:
    """A wire that leaves ``start``, runs down the vertical ``lane`` past the blocks in its
    way, and enters ``end`` from above."""
    turn = 36.0
    path = QPainterPath(start)
    path.cubicTo(
        QPointF(start.x(), start.y() + turn),
        QPointF(lane, start.y()),
        QPointF(lane, start.y() + turn),
    )
    path.lineTo(QPointF(lane, end.y() - turn))
    path.cubicTo(QPointF(lane, end.y()), QPointF(end.x(), end.y() - turn), end)
    return path


def back_path(start: QPointF, end: QPointF, lane: float) -> QPainterPath:
    """A wire into a block beside or above its source: down out of ``start``, along the
    vertical ``lane`` between (or beside) the two blocks, and into ``end`` from above, instead
    of an S-curve looping behind both blocks."""
    turn = 18.0
    below, above = start.y() + turn, end.y() - turn
    path = QPainterPath(start)
    path.cubicTo(
        QPointF(start.x(), below), QPointF(start.x(), below), QPointF((start.x() + lane) / 2, below)
    )
    path.cubicTo(QPointF(lane, below), QPointF(lane, below), QPointF(lane, below - turn))
    path.lineTo(QPointF(lane, above + turn))
    path.cubicTo(QPointF(lane, above), QPointF(lane, above), QPointF((lane + end.x()) / 2, above))
    path.cubicTo(QPointF(end.x(), above), QPointF(end.x(), above), end)
    return path


SWAP = QTransform(0.0, 1.0, 1.0, 0.0, 0.0, 0.0)  # x and y exchanged


def swapped(point: QPointF) -> QPointF:
    """``point`` with x and y exchanged."""
    return QPointF(point.y(), point.x())


def _same(point: QPointF) -> QPointF:
    return point


def flip_rect(rect: QRectF, across: bool) -> QRectF:
    """``rect`` with x and y exchanged when ``across``."""
    return QRectF(rect.y(), rect.x(), rect.height(), rect.width()) if across else rect


def box_of(end: Anchor) -> QRectF | None:
    """The scene rectangle of the block or collapsed group a wire end belongs to."""
    owner = getattr(end, "node", None) or getattr(end, "item", None)
    return None if owner is None else owner.scene_rect()


def back_lane(source: QRectF, target: QRectF) -> float:
    """The x of the lane a wire into a block beside or above its source runs up: in the gap
    between the two blocks, or beside both when they overlap horizontally."""
    if source.right() + 20 <= target.left():
        return (source.right() + target.left()) / 2
    if target.right() + 20 <= source.left():
        return (target.right() + source.left()) / 2
    return max(source.right(), target.right()) + 24


@cache
def label_size(text: str) -> QRectF:
    """The size of a shape label (designs repeat a few shapes thousands of times)."""
    metrics = look().small_metrics
    return QRectF(0, 0, metrics.horizontalAdvance(text), metrics.height())


class EdgeItem(QGraphicsItem):
    """One wire with its shape label (e.g. 64×56×56, ? when unknown)."""

    def __init__(self, edge: Edge, source: Anchor, target: Anchor) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.label = ""
        self._static: QStaticText | None = None  # made with the first label
        self._label_size = QRectF()
        self._hit: QPainterPath | None = None
        self._label_rect = QRectF()
        self.lane: float | None = None  # x of the detour around blocks in the way, if any
        # (path, _down_path: the route, and as if laid out top to bottom; _bounds: set by
        # update_path below)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(EDGE_Z)
        self.update_path()

    def set_ends(self, source: Anchor, target: Anchor) -> None:
        """Attach to other ports or groups (after a group was collapsed or expanded)."""
        if source is not self.source or target is not self.target:
            self.source, self.target = source, target
            self.update_path()

    def set_label(self, text: str) -> bool:
        """Show a new shape; returns whether it changed (repaints only then)."""
        if text == self.label:
            return False
        self.label = text
        if self._static is None:
            self._static = QStaticText(text)
            self._static.setTextFormat(Qt.TextFormat.PlainText)
        else:
            self._static.setText(text)
        self._label_size = label_size(text)
        self._layout_label()
        self.update()
        return True

    def tooltip_text(self) -> str:
        """Its tooltip, made when shown (CanvasScene.helpEvent), not at every label change."""
        return f"{self.edge}: {self.label}" if self.label else ""

    def update_path(self) -> None:
        """Follow the ends after a node moved.

        The route is worked out as for a top-to-bottom layout; in a left-to-right one
        (``scene.across``) x and y are swapped before and after (SWAP).
        """
        self.prepareGeometryChange()
        scene = self.scene()
        across = bool(getattr(scene, "across", False))
        flip = swapped if across else _same
        self.ends = (self.source.anchor(), self.target.anchor())  # (the minimap's line)
        start, end = flip(self.ends[0]), flip(self.ends[1])
        path = wire_path(start, end)
        self.lane = None
        routing = scene is not None and not getattr(scene, "defer_routing", False)
        if routing and end.y() - start.y() > LONG_WIRE:
            self.lane = scene.detour_lane(self, start, end, across)  # type: ignore[attr-defined]
            if self.lane is not None:
                path = routed_path(start, end, self.lane)
        elif end.y() < start.y() + BACK_GAP:
            boxes = box_of(self.source), box_of(self.target)
            if boxes[0] is not None and boxes[1] is not None:
                self.lane = back_lane(flip_rect(boxes[0], across), flip_rect(boxes[1], across))
                path = back_path(start, end, self.lane)
        self._down_path = path
        self.path = SWAP.map(path) if across else path
        self._hit = None  # the wide outline clicks hit: made when first asked for (shape)
        self._layout_label()

    def _layout_label(self) -> None:
        self.prepareGeometryChange()
        if not self.label:  # (a new wire: its label comes with the texts, laid out then)
            self._label_rect = QRectF()
            self._bounds = self.path.boundingRect().adjusted(-3, -3, 3, 3)
            return
        size = self._label_size
        path = self._down_path
        across = bool(getattr(self.scene(), "across", False))
        if self.lane is None:
            anchor = path.pointAtPercent(0.5)
        elif path.elementAt(0).y > path.currentPosition().y():  # up a side lane
            anchor = QPointF(self.lane, (path.elementAt(0).y + path.currentPosition().y()) / 2)
        else:  # on the detour, just below where it leaves the source
            anchor = QPointF(self.lane, path.elementAt(0).y + 60)
        if across:  # above the (horizontal) wire, centred
            point = swapped(anchor)
            rect = QRectF(
                point.x() - size.width() / 2,
                point.y() - size.height() - 5,
                size.width(),
                size.height(),
            )
        else:
            rect = QRectF(
                anchor.x() + 6, anchor.y() - size.height() / 2, size.width(), size.height()
            )
        self._label_rect = rect.adjusted(-LABEL_PAD, -1, LABEL_PAD, 1)
        self._bounds = self.path.boundingRect().adjusted(-3, -3, 3, 3).united(self._label_rect)

    def label_rect(self) -> QRectF:
        """Where the shape label is drawn (scene coordinates)."""
        return QRectF(self._label_rect)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._hit is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10.0)
            self._hit = stroker.createStroke(self.path)
        path = QPainterPath(self._hit)
        path.addRect(self._label_rect)
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lk = look()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(lk.wire_selected if self.isSelected() else lk.wire)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path)
        # the label is hidden where it would not read
        if self._static is not None and self.label and readable(painter, SMALL_PX):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(lk.label_fill)
            painter.drawRoundedRect(self._label_rect, 3, 3)
            painter.setPen(lk.text)
            painter.setFont(lk.small)
            painter.drawStaticText(
                QPointF(self._label_rect.left() + LABEL_PAD, self._label_rect.top() + 1),
                self._static,
            )


class PendingWire(QGraphicsItem):
    """The dashed wire that follows the mouse while a connection is being dragged."""

    def __init__(self, fixed: QPointF, from_output: bool) -> None:
        super().__init__()
        self.fixed = fixed
        self.from_output = from_output
        self.path = QPainterPath()
        self.setZValue(100.0)
        self.move_to(fixed)

    def move_to(self, point: QPointF) -> None:
        """Let the free end follow the mouse."""
        self.prepareGeometryChange()
        across = bool(getattr(self.scene(), "across", False))
        flip = swapped if across else _same
        if self.from_output:
            self.path = wire_path(flip(self.fixed), flip(point))
        else:
            self.path = wire_path(flip(point), flip(self.fixed))
        if across:
            self.path = SWAP.map(self.path)

    def boundingRect(self) -> QRectF:
        return self.path.boundingRect().adjusted(-3, -3, 3, 3)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> Any:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(look().wire_pending)
        painter.drawPath(self.path)
