"""Mouse gestures on the canvas, one class each (as in Orange's canvas).

The scene starts a gesture on a left-button press according to what is under the mouse and
forwards the following moves and the release to it. A gesture edits the design only through the
document, once, when it ends: a moved selection is one undo step, a wire one connection.

A gesture is cancelled (its preview removed, nothing edited) when the design changes under it
(the canvas view cancels it on every undo-stack change: Undo, Delete, ...); each release also
checks that the blocks and wires it edits still exist.

Ports are easy targets: a press or a release within ``PORT_HIT_PIXELS`` screen pixels of a port
is on that port at every zoom where ports are drawn (``port_near``), so a drag that starts near
a port makes a wire, never a move. A refused edit is written where the gesture ended
(``hints.show_refusal``) as well as on the status bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QApplication, QGraphicsRectItem, QGraphicsSceneMouseEvent

from designer.canvas import editing, style
from designer.canvas.edges import EdgeItem, PendingWire
from designer.canvas.hints import WireHighlight, show_refusal
from designer.canvas.items import BoxItem, GroupItem, NodeItem, PortItem
from engine import DesignerError

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene
    from engine import Edge, Graph


PORT_HIT_PIXELS = 12.0  # a port's reach, in screen pixels, at every zoom that draws ports
PORT_REACH_MAX = 40.0  # scene units: 12 px down to the zoom below which ports are not drawn
INSIDE_BAND = 0.35  # inside its block, a port reaches this fraction of the block's height


def view_scale(scene: CanvasScene) -> float:
    """The zoom of the scene's (first) view: screen pixels per scene unit."""
    views = scene.views()
    return views[0].transform().m11() if views else 1.0


def port_near(scene: CanvasScene, pos: QPointF, direction: str | None = None) -> PortItem | None:
    """The port (of ``direction``, when given) nearest to ``pos`` within PORT_HIT_PIXELS on
    screen; inside a block only its top and bottom bands count, so its middle still moves it."""
    reach = min(PORT_REACH_MAX, max(style.PORT_RADIUS + 5.0, PORT_HIT_PIXELS / view_scale(scene)))
    area = QRectF(pos.x() - reach, pos.y() - reach, 2 * reach, 2 * reach)
    best: tuple[float, PortItem] | None = None
    for item in scene.items(area, Qt.ItemSelectionMode.IntersectsItemBoundingRect):
        if not isinstance(item, PortItem) or not item.isVisible():
            continue
        if direction is not None and item.direction != direction:
            continue
        anchor = item.anchor()
        distance = QLineF(anchor, pos).length()
        if distance > reach:
            continue
        box = item.node.scene_rect()
        if box.contains(pos) and abs(pos.y() - anchor.y()) > INSIDE_BAND * box.height():
            continue
        if best is None or distance < best[0]:
            best = (distance, item)
    return None if best is None else best[1]


def refuse(scene: CanvasScene, at: QPointF, text: str) -> None:
    """Explain a refused gesture where it happened and on the status bar."""
    scene.status_message.emit(text)
    show_refusal(scene, at, text)


def _quick_add(scene: CanvasScene) -> Any:
    """The search-to-add of the scene's view (None without a view)."""
    views = scene.views()
    return getattr(views[0], "quick_add", None) if views else None


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
        item = port_near(self.scene, pos, wanted) or self.scene.port_or_box_at(pos, wanted)
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
        at = event.scenePos()
        target = self._target(at)
        if self.port.scene() is not self.scene:
            self.cancel()
            return  # the block dragged from is gone
        if target is None:
            self._release_in_space(at)
            return
        self.cancel()
        if isinstance(target, GroupItem):
            refuse(
                self.scene,
                at,
                f"Expand the group {target.group} (double-click it) to wire its blocks",
            )
            return
        if self.port.direction == "out":
            src, src_port = self.port.node.name, self.port.port
            dst, dst_port = _input_end(target)
        else:
            dst, dst_port = self.port.node.name, self.port.port
            src, src_port = _output_end(target)
        try:
            self.scene.document.connect(src, src_port, dst, dst_port)
        except DesignerError as error:
            refuse(self.scene, at, f"Cannot connect: {error}")

    def _release_in_space(self, at: QPointF) -> None:
        """Released over empty canvas after a real drag: search for a block to put there,
        wired to the port (the pending wire stays until the search closes)."""
        moved = QLineF(at, self.port.anchor()).length() * view_scale(self.scene)
        quick_add = _quick_add(self.scene)
        if quick_add is None or moved < QApplication.startDragDistance():
            self.cancel()
            return
        quick_add.open_for_wire(at, self.port.node.name, self.port.port, self.port.direction, self)

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
        item = port_near(self.scene, event.scenePos(), "in") or self.scene.port_or_box_at(
            event.scenePos(), "in"
        )
        hot = item if isinstance(item, PortItem) else None
        if hot is not self.hot:
            if self.hot is not None:
                self.hot.set_hot(False)
            if hot is not None:
                hot.set_hot(True)
            self.hot = hot

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        at = event.scenePos()
        target = port_near(self.scene, at, "in") or self.scene.port_or_box_at(at, "in")
        self.cancel()
        edge = self.edge
        if not self.moved or not _has_wire(self.scene.document.graph, edge):
            return  # a click, or the wire was removed meanwhile
        if isinstance(target, PortItem | NodeItem):
            dst, dst_port = _input_end(target)
            if (dst, dst_port) == (edge.dst, edge.dst_port):
                return
            self._reconnect(edge, dst, dst_port, at)
        elif isinstance(target, GroupItem):
            refuse(
                self.scene,
                at,
                f"Expand the group {target.group} (double-click it) to wire its blocks",
            )
        else:
            self.scene.document.disconnect(edge)
            self.scene.status_message.emit(f"Removed the wire {edge}")

    def _reconnect(self, edge: Edge, dst: str, dst_port: str | None, at: QPointF) -> None:
        def action(graph: Graph) -> None:
            graph.disconnect(edge)
            graph.connect(edge.src, dst, edge.src_port, dst_port)

        try:
            self.scene.document.run_edit("Reconnect", action)
        except DesignerError as error:
            refuse(self.scene, at, f"Cannot connect: {error}")

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


class WireDrop:
    """Where a dragged block would be inserted into a wire: the wire under the mouse, drawn
    highlighted while the drag hovers over it (a palette drag, or an unwired block moved)."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.edge_item: EdgeItem | None = None
        self.mark: WireHighlight | None = None

    def hover(self, pos: QPointF, moving: NodeItem | None = None) -> EdgeItem | None:
        """Highlight the wire under ``pos`` (not one of ``moving``'s); returns it."""
        reach = max(4.0, 6.0 / view_scale(self.scene))
        area = QRectF(pos.x() - reach, pos.y() - reach, 2 * reach, 2 * reach)
        found = None
        for item in self.scene.items(area, Qt.ItemSelectionMode.IntersectsItemShape):
            if isinstance(item, EdgeItem) and item.isVisible():
                if moving is not None and moving.edges:
                    break  # a wired block is not inserted
                found = item
                break
        if found is not self.edge_item:
            self.clear()
            if found is not None:
                self.edge_item = found
                self.mark = WireHighlight(found.path)
                self.scene.addItem(self.mark)
        return found

    def clear(self) -> None:
        """Remove the highlight."""
        if self.mark is not None and self.mark.scene() is not None:
            self.scene.removeItem(self.mark)
        self.mark = None
        self.edge_item = None

    def drop(self, at: QPointF, type_id: str | None = None, name: str | None = None) -> bool:
        """Insert a new ``type_id`` block (or the unwired block ``name``) into the highlighted
        wire, centred on ``at``; False when no wire was highlighted or it was refused."""
        edge_item = self.edge_item
        self.clear()
        if edge_item is None or edge_item.scene() is not self.scene:
            return False
        pos = (
            round(at.x() - style.NODE_WIDTH / 2, 1),
            round(at.y() - style.NODE_HEIGHT / 2, 1),
        )
        try:
            block = editing.insert_into_wire(
                self.scene.document, edge_item.edge, pos, type_id=type_id, name=name
            )
        except DesignerError as error:
            refuse(self.scene, at, f"Cannot insert into the wire: {error}")
            return False
        self.scene.document.set_selection([block])
        return True


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
        # one unwired block that has an input and an output can be dropped into a wire
        only = self.items[0] if len(self.items) == 1 else None
        self.loose = (
            only
            if isinstance(only, NodeItem) and not only.edges and only.inputs and only.outputs
            else None
        )
        self.wire_drop = WireDrop(scene) if self.loose is not None else None

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        delta = event.scenePos() - self.press
        if not self.dragging:
            if QLineF(QPointF(), delta).length() < QApplication.startDragDistance():
                return
            self.dragging = True
        for item, start in self.starts.items():
            item.move_to(start + delta)
        if self.wire_drop is not None:
            self.wire_drop.hover(event.scenePos(), self.loose)

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        if not self.dragging:
            if not self.toggle and len(self.items) > 1:  # a click in a selection selects one
                self.scene.select_items([self.clicked])
            return
        delta = event.scenePos() - self.press
        if self.wire_drop is not None and self.wire_drop.edge_item is not None:
            assert self.loose is not None
            centre = self.starts[self.loose] + delta + self.loose.rect.center()
            if self.loose.scene() is self.scene and self.wire_drop.drop(
                centre, name=self.loose.name
            ):
                return
            self.cancel()
            return
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
        if self.wire_drop is not None:
            self.wire_drop.clear()
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
