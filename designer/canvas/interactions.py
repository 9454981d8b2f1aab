"""Mouse gestures on the canvas, one class each (as in Orange's canvas).

The scene starts a gesture on a left-button press according to what is under the mouse and
forwards the following moves and the release to it. A gesture edits the design only through the
document, once, when it ends: a moved selection is one undo step, a wire one connection.

A gesture is cancelled (its preview removed, nothing edited) when the design changes under it
(the canvas view cancels it on every undo-stack change: Undo, Delete, ...); each release also
checks that the blocks and wires it edits still exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QApplication, QGraphicsRectItem, QGraphicsSceneMouseEvent

from designer.canvas.edges import EdgeItem, PendingWire
from designer.canvas.items import BoxItem, GroupItem, NodeItem, PortItem

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene
    from engine import Edge, Graph


class Interaction:
    """A gesture in progress; ``release`` ends it (the scene then forgets it)."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        """The mouse moved with the button held."""

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        """The button was released: finish the gesture."""

    def cancel(self) -> None:
        """Abandon the gesture without editing anything (Escape, focus lost)."""


class NewWire(Interaction):
    """Drag from an output port to an input port (or from a free input port back to an output)."""

    def __init__(self, scene: CanvasScene, port: PortItem) -> None:
        super().__init__(scene)
        self.port = port
        self.wire = PendingWire(port.anchor(), from_output=port.direction == "out")
        scene.addItem(self.wire)
        self.hot: PortItem | None = None

    def _target(self, pos: QPointF) -> PortItem | BoxItem | None:
        wanted = "in" if self.port.direction == "out" else "out"
        item = self.scene.port_or_box_at(pos, wanted)
        if isinstance(item, PortItem) and item.node is self.port.node:
            return None
        if isinstance(item, NodeItem) and item is self.port.node:
            return None
        return item

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        self.wire.move_to(event.scenePos())
        target = self._target(event.scenePos())
        hot = target if isinstance(target, PortItem) else None
        if hot is not self.hot:
            if self.hot is not None:
                self.hot.set_hot(False)
            if hot is not None:
                hot.set_hot(True)
            self.hot = hot

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        target = self._target(event.scenePos())
        self.cancel()
        if target is None or self.port.scene() is not self.scene:
            return  # nothing under the mouse, or the block dragged from is gone
        if isinstance(target, GroupItem):
            self.scene.status_message.emit(
                f"Expand the group {target.group} (double-click it) to wire its blocks"
            )
            return
        if self.port.direction == "out":
            src, src_port = self.port.node.name, self.port.port
            dst, dst_port = _input_end(target)
        else:
            dst, dst_port = self.port.node.name, self.port.port
            src, src_port = _output_end(target)
        self.scene.connect_ports(src, src_port, dst, dst_port)

    def cancel(self) -> None:
        if self.hot is not None:
            self.hot.set_hot(False)
            self.hot = None
        if self.wire.scene() is not None:
            self.scene.removeItem(self.wire)


def _input_end(target: PortItem | BoxItem) -> tuple[str, str | None]:
    if isinstance(target, PortItem):
        return target.node.name, target.port
    assert isinstance(target, NodeItem)
    return target.name, None  # the first free input port


def _output_end(target: PortItem | BoxItem) -> tuple[str, str]:
    if isinstance(target, PortItem):
        return target.node.name, target.port
    assert isinstance(target, NodeItem)
    return target.name, next(iter(target.outputs), "out")


class Reconnect(Interaction):
    """Drag the end of a wire off an input port: drop it on another input to move the wire, or
    anywhere else to delete it."""

    def __init__(self, scene: CanvasScene, edge_item: EdgeItem) -> None:
        super().__init__(scene)
        self.edge_item = edge_item
        self.edge = edge_item.edge
        self.wire = PendingWire(edge_item.source.anchor(), from_output=True)
        self.origin = edge_item.target.anchor()
        self.moved = False
        edge_item.hide()
        scene.addItem(self.wire)
        self.hot: PortItem | None = None

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        if QLineF(event.scenePos(), self.origin).length() > QApplication.startDragDistance():
            self.moved = True
        self.wire.move_to(event.scenePos())
        item = self.scene.port_or_box_at(event.scenePos(), "in")
        hot = item if isinstance(item, PortItem) else None
        if hot is not self.hot:
            if self.hot is not None:
                self.hot.set_hot(False)
            if hot is not None:
                hot.set_hot(True)
            self.hot = hot

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        target = self.scene.port_or_box_at(event.scenePos(), "in")
        self.cancel()
        edge = self.edge
        if not self.moved or not _has_wire(self.scene.document.graph, edge):
            return  # a click, or the wire was removed meanwhile
        if isinstance(target, PortItem | NodeItem):
            dst, dst_port = _input_end(target)
            if (dst, dst_port) == (edge.dst, edge.dst_port):
                return
            self.scene.reconnect(edge, dst, dst_port)
        elif isinstance(target, GroupItem):
            self.scene.status_message.emit(
                f"Expand the group {target.group} (double-click it) to wire its blocks"
            )
        else:
            self.scene.document.disconnect(edge)
            self.scene.status_message.emit(f"Removed the wire {edge}")

    def cancel(self) -> None:
        if self.hot is not None:
            self.hot.set_hot(False)
            self.hot = None
        if self.wire.scene() is not None:
            self.scene.removeItem(self.wire)
        if self.edge_item.scene() is not None:
            self.edge_item.show()


def _has_wire(graph: Graph, edge: Edge) -> bool:
    return edge.src in graph and edge in graph.out_edges(edge.src)


class MoveSelection(Interaction):
    """Drag selected blocks and groups; one undo step ("Move") when released."""

    def __init__(self, scene: CanvasScene, press: QPointF, clicked: BoxItem, toggle: bool) -> None:
        super().__init__(scene)
        self.press = press
        self.clicked = clicked
        self.toggle = toggle
        self.items = [i for i in scene.selectedItems() if isinstance(i, BoxItem)]
        self.starts = {item: item.pos() for item in self.items}
        self.dragging = False

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        delta = event.scenePos() - self.press
        if not self.dragging:
            if QLineF(QPointF(), delta).length() < QApplication.startDragDistance():
                return
            self.dragging = True
        for item, start in self.starts.items():
            item.move_to(start + delta)

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        if not self.dragging:
            if not self.toggle and len(self.items) > 1:  # a click in a selection selects one
                self.scene.select_items([self.clicked])
            return
        delta = event.scenePos() - self.press
        doc = self.scene.document
        positions: dict[str, tuple[float, float]] = {}
        for item in self.items:
            if item.scene() is not self.scene:
                continue  # removed meanwhile (its block deleted, its group expanded)
            if isinstance(item, NodeItem):
                end = self.starts[item] + delta
                positions[item.name] = (round(end.x(), 1), round(end.y(), 1))
            elif isinstance(item, GroupItem):
                for member in item.members:
                    old = doc.position(member) or (0.0, 0.0)
                    positions[member] = (round(old[0] + delta.x(), 1), round(old[1] + delta.y(), 1))
        positions = {name: pos for name, pos in positions.items() if name in doc.graph}
        if positions:
            doc.move_nodes(positions)
        else:
            self.cancel()

    def cancel(self) -> None:
        """Put the items back where the document has them (an undo during the drag may have
        moved them), or where they started."""
        doc = self.scene.document
        for item, start in self.starts.items():
            names = (
                [item.name]
                if isinstance(item, NodeItem)
                else item.members
                if isinstance(item, GroupItem)
                else []
            )
            known = [pos for name in names if (pos := doc.position(name)) is not None]
            if known:  # a block's position, or a group's top-left member corner
                item.move_to(QPointF(min(p[0] for p in known), min(p[1] for p in known)))
            else:
                item.move_to(start)


class RubberBand(Interaction):
    """Drag on the background: select the blocks inside the rectangle (Ctrl/Shift adds)."""

    def __init__(self, scene: CanvasScene, press: QPointF, add: bool) -> None:
        super().__init__(scene)
        self.press = press
        self.add = add
        self.before = list(scene.selectedItems()) if add else []
        self.rect_item = QGraphicsRectItem()
        colour = QColor("#1a73e8")
        self.rect_item.setPen(QPen(colour, 0))
        colour.setAlpha(40)
        self.rect_item.setBrush(QBrush(colour))
        self.rect_item.setZValue(200.0)
        self.rect_item.hide()
        scene.addItem(self.rect_item)
        if not add:
            scene.select_items([])

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        rect = QRectF(self.press, event.scenePos()).normalized()
        self.rect_item.setRect(rect)
        self.rect_item.show()

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        rect = QRectF(self.press, event.scenePos()).normalized()
        self.cancel()
        if rect.width() < 2 and rect.height() < 2:
            return
        inside = [
            item
            for item in self.scene.items(rect, Qt.ItemSelectionMode.IntersectsItemShape)
            if isinstance(item, BoxItem)
        ]
        self.scene.select_items(list(dict.fromkeys([*self.before, *inside])))

    def cancel(self) -> None:
        if self.rect_item.scene() is not None:
            self.scene.removeItem(self.rect_item)
