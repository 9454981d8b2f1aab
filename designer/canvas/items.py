"""Scene items for blocks: a node with its ports, a collapsed group, an expanded group's frame.

Items hold only what they draw (texts, severity); the scene computes those from the document.
Each item repaints only when its content really changes, and nodes are cached as pixmaps
(DeviceCoordinateCache), so panning a big graph repaints almost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.canvas import style
from designer.canvas.style import look

if TYPE_CHECKING:
    from designer.canvas.edges import EdgeItem

NODE_Z = 10.0
FRAME_Z = -10.0


@dataclass(frozen=True)
class Content:
    """What a block or group shows: three lines of text, its severity and its tooltip."""

    title: str
    subtitle: str
    detail: str
    severity: str  # "", "warning" or "error"
    tooltip: str
    kind: str = ""  # the type (or "12 blocks"), shown under the short name when zoomed out


class PortItem(QGraphicsItem):
    """An input (top edge) or output (bottom edge) port of a node."""

    def __init__(
        self, node: NodeItem, port: str, direction: str, x: float, across: bool = False
    ) -> None:
        super().__init__(node)
        self.node = node
        self.port = port
        self.direction = direction  # "in" or "out"
        self.connected = False
        self.hot = False
        if across:  # a left-to-right layout: inputs on the left edge, outputs on the right
            self.setPos(0.0 if direction == "in" else node.rect.width(), x)
        else:
            self.setPos(x, 0.0 if direction == "in" else node.rect.height())
        self.setZValue(1.0)
        # its node draws it (NodeItem.paint): one call into Python per block, not three
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)

    def tooltip_text(self) -> str:
        """Its tooltip, made when shown (CanvasScene.helpEvent): 10,000 ports need none set."""
        return f"{self.direction}put {self.port!r} of {self.node.name}"

    def boundingRect(self) -> QRectF:
        r = style.PORT_RADIUS + 1.5
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        reach = style.PORT_RADIUS + 5.0  # easier to hit than to see
        path.addEllipse(QPointF(0, 0), reach, reach)
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        pass  # never called (ItemHasNoContents): the node draws its ports (draw_port)

    def draw_port(self, painter: QPainter) -> None:
        """Draw the port, in its node's coordinates."""
        lk = look()
        painter.setBrush(
            lk.port_hot if self.hot else lk.port_fill if self.connected else lk.port_free
        )
        painter.drawEllipse(self.pos(), style.PORT_RADIUS, style.PORT_RADIUS)

    def set_connected(self, connected: bool) -> None:
        """Drawn filled while a wire is attached."""
        if connected != self.connected:
            self.connected = connected
            self.node.update()

    def set_hot(self, hot: bool) -> None:
        """Highlight while a wire is dragged over the port."""
        if hot != self.hot:
            self.hot = hot
            self.node.update()

    def anchor(self) -> QPointF:
        """Where wires attach, in scene coordinates."""
        return self.scenePos()


class BoxItem(QGraphicsItem):
    """Common part of a node and a collapsed group: a rounded box with three lines of text."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__()
        self.rect = QRectF(0, 0, width, height)
        self.content = Content("", "", "", "", "")
        self._simple: tuple[Any, ...] = (None, False, None)  # (content, kind_reads, texts)
        self.edges: set[EdgeItem] = set()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(NODE_Z)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-2, -2, 2, 2)

    def set_content(self, content: Content) -> bool:
        """Show new texts; returns whether anything changed (and repaints only then)."""
        if content == self.content:
            return False
        if content.tooltip != self.content.tooltip:
            self.setToolTip(content.tooltip)
        self.content = content
        self.update()
        return True

    def move_to(self, pos: QPointF) -> None:
        """Put the box at ``pos`` (scene coordinates), its wires following.

        A method rather than an ``itemChange`` override: Qt calls ``itemChange`` from C++ for
        every change of every item (flags, tooltip, children, scene), about 16 times per block
        while a design opens, and each call into Python cost more than the change itself.
        """
        if pos != self.pos():
            self.setPos(pos)
            for edge in self.edges:
                edge.update_path()

    def scene_rect(self) -> QRectF:
        """The box (without ports) in scene coordinates."""
        return self.rect.translated(self.pos())

    def accent(self) -> Any:
        """The colour of the stripe on the left."""
        raise NotImplementedError

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        self._paint_box(painter, style.painter_scale(painter))

    def _paint_box(self, painter: QPainter, scale: float) -> None:
        """The box at ``scale`` (screen pixels per scene unit, worked out once a paint)."""
        lk = look()
        c = self.content
        fill = {"error": lk.error_fill, "warning": lk.warning_fill}.get(c.severity, self._fill())
        border = {"error": lk.error, "warning": lk.warning}.get(c.severity, lk.border)
        if self.isSelected():
            border = lk.selected
        painter.setPen(border)
        painter.setBrush(fill)
        if scale < style.DETAIL_SCALE:  # a few pixels: one patch of its colour
            marked = self.isSelected() or c.severity
            painter.fillRect(self.rect, border.color() if marked else self.accent())
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.drawRoundedRect(self.rect, style.CORNER, style.CORNER)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.accent())
        painter.drawRoundedRect(QRectF(1.5, 1.5, 6, self.rect.height() - 3), 3, 3)
        if style.BODY_PX * scale >= style.MIN_TEXT_PX - 1e-6:  # (style.readable)
            self._paint_texts(painter)
        else:
            self._paint_simple(painter, style.KIND_PX * scale >= style.MIN_TEXT_PX - 1e-6)

    def _paint_texts(self, painter: QPainter) -> None:
        """The full form: short name, type with its key parameters, parameter count."""
        lk, c = look(), self.content
        width = self.rect.width() - 22
        line = self.rect.height() / 3.0
        painter.setPen(lk.text)
        painter.setFont(lk.title)
        painter.drawText(
            QRectF(14, 3, width, line),
            Qt.AlignmentFlag.AlignVCenter,
            style.elided(style.short_name(c.title), lk.title_metrics, width),
        )
        painter.setFont(lk.body)
        painter.drawText(
            QRectF(14, 2 + line, width, line),
            Qt.AlignmentFlag.AlignVCenter,
            style.elided(c.subtitle, lk.body_metrics, width),
        )
        painter.setPen(lk.muted)
        painter.drawText(
            QRectF(14, 2 * line - 1, width, line),
            Qt.AlignmentFlag.AlignVCenter,
            style.elided(c.detail, lk.body_metrics, width),
        )

    def _paint_simple(self, painter: QPainter, kind_reads: bool) -> None:
        """Zoomed out: the short name in a large font, and the type while it reads
        (``kind_reads``)."""
        lk = look()
        width = self.rect.width() - 20
        height = self.rect.height()
        font, name, kind = self._simple_texts(kind_reads, width)
        painter.setPen(lk.text)
        painter.setFont(font)
        name_box = QRectF(13, 2, width, height * 0.55 if kind else height - 4)
        align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        painter.drawText(name_box, align, name)
        if kind:
            painter.setPen(lk.muted)
            painter.setFont(lk.kind)
            painter.drawText(QRectF(13, height * 0.55 - 2, width, height * 0.45), align, kind)

    def _simple_texts(self, kind_reads: bool, width: float) -> tuple[Any, str, str]:
        """The font and the elided short name and type of the zoomed-out form, measured once
        per content (a zoom or pan at the fit repaints every block in view)."""
        key = (self.content, kind_reads)
        if self._simple[0] is not key[0] or self._simple[1] != kind_reads:
            lk, c = look(), self.content
            name = style.short_name(c.title)
            font, metrics = lk.name, lk.name_metrics
            if metrics.horizontalAdvance(name) > width and kind_reads:
                font, metrics = lk.name_small, lk.name_small_metrics  # long, still readable
            kind = style.elided(c.kind, lk.kind_metrics, width) if c.kind and kind_reads else ""
            self._simple = (*key, (font, style.elided(name, metrics, width), kind))
        return self._simple[2]

    def _fill(self) -> Any:
        return look().node_fill


class NodeItem(BoxItem):
    """One block, with its input ports on top and its output ports at the bottom."""

    def __init__(self, name: str, type_id: str) -> None:
        super().__init__(style.NODE_WIDTH, style.NODE_HEIGHT)
        self.name = name
        self.type_id = type_id
        self._accent = style.block_colour(type_id)
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.port_signature: tuple[tuple[str, ...], tuple[str, ...], bool] = ((), (), False)

    def accent(self) -> Any:
        return self._accent

    def boundingRect(self) -> QRectF:
        reach = style.PORT_RADIUS + 1.5  # the ports it draws stand out of the box
        return self.rect.adjusted(-reach, -reach, reach, reach)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.rect.adjusted(-2, -2, 2, 2))  # the box; its ports are hit by theirs
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        scale = style.painter_scale(painter)
        self._paint_box(painter, scale)
        if scale >= style.DETAIL_SCALE:
            painter.setPen(look().border)
            for port in [*self.inputs.values(), *self.outputs.values()]:
                port.draw_port(painter)

    def set_ports(
        self, inputs: tuple[str, ...], outputs: tuple[str, ...], across: bool = False
    ) -> bool:
        """Rebuild the port items when the ports changed; returns whether they did.
        ``across``: a left-to-right layout (ports on the left and right edges)."""
        signature = (inputs, outputs, across)
        if signature == self.port_signature:
            return False
        scene = self.scene()
        for port in [*self.inputs.values(), *self.outputs.values()]:
            port.setParentItem(None)
            if scene is not None:
                scene.removeItem(port)
        width = self.rect.height() if across else self.rect.width()
        self.inputs = {
            p: PortItem(self, p, "in", width * (i + 1) / (len(inputs) + 1), across)
            for i, p in enumerate(inputs)
        }
        self.outputs = {
            p: PortItem(self, p, "out", width * (i + 1) / (len(outputs) + 1), across)
            for i, p in enumerate(outputs)
        }
        self.port_signature = signature
        return True

    def port(self, direction: str, name: str) -> PortItem | None:
        """The port item ``name`` on the ``direction`` ("in"/"out") side."""
        return (self.inputs if direction == "in" else self.outputs).get(name)


class GroupItem(BoxItem):
    """A collapsed group drawn as one node: its name, size, in → out shapes and parameters."""

    def __init__(self, group: str, members: list[str]) -> None:
        super().__init__(style.GROUP_WIDTH, style.GROUP_HEIGHT)
        self.group = group
        self.members = members
        self.across = False  # a left-to-right layout: wires attach to the left and right
        self._accent = style.block_colour("")

    def accent(self) -> Any:
        return look().selected.color()

    def _fill(self) -> Any:
        return look().group_fill

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        # a second outline offset behind the box reads as "a stack of blocks"
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(look().border)
        painter.setBrush(look().group_fill)
        painter.drawRoundedRect(self.rect.adjusted(3, -3, 3, -3), style.CORNER, style.CORNER)
        super().paint(painter, option, widget)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-2, -5, 5, 2)

    def anchor(self, direction: str) -> QPointF:
        """Where wires into (top centre) or out of (bottom centre) the group attach (the
        middle of the left and right edges in a left-to-right layout)."""
        if self.across:
            x = 0.0 if direction == "in" else self.rect.width()
            return self.mapToScene(QPointF(x, self.rect.height() / 2))
        y = 0.0 if direction == "in" else self.rect.height()
        return self.mapToScene(QPointF(self.rect.width() / 2, y))


class GroupAnchor:
    """An end of a wire attached to a collapsed group rather than a port."""

    def __init__(self, item: GroupItem, direction: str) -> None:
        self.item = item
        self.direction = direction

    def anchor(self) -> QPointF:
        return self.item.anchor(self.direction)


class FrameItem(QGraphicsItem):
    """The outline of an expanded group around its visible members, with a title tab.

    Only the tab is hit-testable (double-click collapses the group, a drag moves it), so
    clicks inside the frame reach the canvas background (rubber band) and the members.
    """

    def __init__(self, group: str, depth: int) -> None:
        super().__init__()
        self.group = group
        self.depth = depth
        self.title = group
        self.rect = QRectF()
        self.setZValue(FRAME_Z + depth)
        self.setToolTip(f"group {group}: double-click the title to collapse it")

    def set_bounds(self, members: QRectF, nesting: int) -> None:
        """Surround ``members`` (scene rect); ``nesting`` = depth of groups inside this one."""
        margin = style.FRAME_MARGIN * (1 + nesting)
        rect = members.adjusted(
            -margin, -margin - style.FRAME_HEADER * (1 + nesting), margin, margin
        )
        if rect != self.rect:
            self.prepareGeometryChange()
            self.rect = rect

    def set_title(self, title: str) -> None:
        """Change the tab's text."""
        if title != self.title:
            self.title = title
            self.update()

    def header(self) -> QRectF:
        """The title tab."""
        width = min(self.rect.width(), look().small_metrics.horizontalAdvance(self.title) + 24)
        return QRectF(self.rect.left(), self.rect.top(), width, style.FRAME_HEADER)

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.header())
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lk = look()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(lk.frame)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self.rect, 8, 8)
        header = self.header()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(lk.group_fill)
        painter.drawRoundedRect(header, 5, 5)
        painter.setPen(lk.muted)
        if style.readable(painter, style.SMALL_PX):
            painter.setFont(lk.small)
            painter.drawText(
                header.adjusted(8, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, "▾ " + self.title
            )
        elif style.readable(painter, style.KIND_PX):  # zoomed out: the short name, larger
            text = style.elided(
                style.short_name(self.group), lk.kind_metrics, self.rect.width() - 16
            )
            tab = QRectF(header.topLeft(), lk.kind_metrics.size(0, text)).adjusted(0, 0, 16, 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(tab, 5, 5)
            painter.setPen(lk.muted)
            painter.setFont(lk.kind)
            painter.drawText(tab.adjusted(8, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)
