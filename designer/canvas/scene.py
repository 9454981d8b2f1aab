"""The canvas scene: items built from the document, following its graph and its signals.

The scene never changes the design itself: gestures call the document, the document changes
the engine graph, and the scene follows. Graph events only mark what is stale; the scene brings
its items up to date once per edit, when the document announces the new inference result
(``inferred``): the structure (items, wires, groups) when nodes or wires changed, and then the
texts, repainting only the items whose texts changed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsSceneHelpEvent,
    QGraphicsSceneMouseEvent,
)

from designer.canvas import style
from designer.canvas.bypass import changed_since_shown, show_node, update_changed_texts
from designer.canvas.content import group_content, node_ports
from designer.canvas.edges import LONG_WIRE, EdgeItem, flip_rect
from designer.canvas.interactions import (
    Interaction,
    MoveSelection,
    NewWire,
    Reconnect,
    RubberBand,
    port_near,
)
from designer.canvas.items import BoxItem, FrameItem, GroupAnchor, GroupItem, NodeItem, PortItem
from designer.canvas.notes import MoveNotes, NoteItem, NotesLayer, edit_note
from designer.canvas.scene_groups import place_group, sync_frames, sync_groups, update_frames
from designer.canvas.tooltips import show_tooltip
from designer.document import Document
from engine import DesignerError, Edge, InferenceResult, fmt_shape, group_prefixes
from engine.layout import (
    Unit,
    default_collapsed,
    layout_direction,
    layout_options,
    layout_positions,
    unit_of_nodes,
)

SCENE_MARGIN = 1500.0


def unit_size(unit: Unit) -> tuple[float, float]:
    """Size of a unit's item (the layout keeps them apart)."""
    if unit[0] == "group":
        return style.GROUP_WIDTH, style.GROUP_HEIGHT
    return style.NODE_WIDTH, style.NODE_HEIGHT


def boxes_bounds(boxes: list[BoxItem]) -> QRectF:
    """The rectangle holding every box (null when there is none): one pass over the
    positions, without a QRectF per box."""
    if not boxes:
        return QRectF()
    xs, ys, rights, bottoms = [], [], [], []
    for box in boxes:
        pos, rect = box.pos(), box.rect
        xs.append(pos.x())
        ys.append(pos.y())
        rights.append(pos.x() + rect.width())
        bottoms.append(pos.y() + rect.height())
    left, top = min(xs), min(ys)
    return QRectF(left, top, max(rights) - left, max(bottoms) - top)


class CanvasScene(QGraphicsScene):
    """Blocks, wires, collapsed groups and group frames of one document."""

    status_message = Signal(str)  # a refused edit, explained
    expand_requested = Signal(str)  # double-click on a collapsed group
    collapse_requested = Signal(str)  # double-click on an expanded group's title

    def __init__(self, document: Document, parent: Any = None) -> None:
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.groups: dict[str, GroupItem] = {}
        self.frames: dict[str, FrameItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.units: dict[str, Unit] = {}
        self.members: dict[str, list[str]] = {}  # group -> every node inside, at any depth
        self._boundary: dict[str, tuple[list[Edge], list[Edge]]] = {}
        self._nesting: dict[str, int] = {}  # frame -> how deep open groups nest inside it
        self._graph: Any = None
        self._hooks: dict[Any, Any] = {}
        self._structure_dirty = True
        self._ports_dirty: set[str] = set()
        self._selecting = False
        self.items_bounds = QRectF()  # of every block and collapsed group, in scene coordinates
        self._texts_of: InferenceResult | None = None  # the result the texts show
        self.defer_routing = False  # while many blocks move: route long wires once, after
        self.across = False  # laid out left to right: ports on the blocks' left and right
        self.interaction: Interaction | None = None
        self.setBackgroundBrush(QColor(style.BACKGROUND))
        document.inferred.connect(self._on_inferred)
        document.positions_changed.connect(self._on_positions_changed)
        document.selection_changed.connect(self._on_document_selection)
        document.collapsed_changed.connect(self._on_collapsed_changed)
        document.project_replaced.connect(self.rebuild)
        self.selectionChanged.connect(self._on_scene_selection)
        self.notes = NotesLayer(self)
        self.rebuild()

    # ----- following the document ----------------------------------------------------------
    def _watch_graph(self) -> None:
        if self._graph is self.document.graph:
            return
        if self._graph is not None:
            for event, hook in self._hooks.items():
                event.disconnect(hook)
        self._graph = graph = self.document.graph
        ev = graph.events

        def structural(*_args: Any) -> None:
            self._structure_dirty = True

        def params(name: str, *_args: Any) -> None:
            self._ports_dirty.add(name)

        self._hooks = {
            ev.node_added: structural,
            ev.node_removed: structural,
            ev.edge_added: structural,
            ev.edge_removed: structural,
            ev.node_renamed: structural,
            ev.groups_changed: structural,
            ev.params_changed: params,
        }
        for event, hook in self._hooks.items():
            event.connect(hook)

    def prepare_project(self) -> bool:
        """Collapse the modules of a project shown for the first time, and lay it out
        when some block has no position. Returns whether it was laid out (not an undo step)."""
        doc = self.document
        if "collapsed" not in doc.project.view:
            doc.project.view["collapsed"] = default_collapsed(doc.graph)
        if all(name in doc.project.layout for name in doc.graph.names):
            return False
        options = layout_options(doc.project.view)
        doc.project.layout.update(layout_positions(doc.graph, doc.collapsed, unit_size, options))
        return True

    def rebuild(self) -> None:
        """Drop every item and build the scene again (a new project was opened)."""
        self.cancel_interaction()
        self._watch_graph()
        self.laid_out = self.prepare_project()
        self.across = layout_direction(self.document.project.view) == "right"
        self._selecting = True
        self.clear()
        self._selecting = False
        self.notes.rebuild()
        self.nodes.clear()
        self.groups.clear()
        self.frames.clear()
        self.edges.clear()
        self.sync_structure()
        self.update_texts(self.document.result)

    def _follow_direction(self) -> None:
        """Turn the ports to the project's layout direction (it changed: a structure update)."""
        across = layout_direction(self.document.project.view) == "right"
        if across != self.across:
            self.across = across
            self._structure_dirty = True

    def _on_inferred(self, result: InferenceResult) -> None:
        self._watch_graph()
        self._follow_direction()
        if not self._structure_dirty and self._ports_dirty:
            for name in self._ports_dirty:
                item = self.nodes.get(name)
                if item is not None and name in self.document.graph:
                    ports = node_ports(self.document.graph.node(name), self._wired(name))
                    if (*ports, self.across) != item.port_signature:
                        self._structure_dirty = True
        self._ports_dirty.clear()
        if self._structure_dirty:
            self.sync_structure()
        if result is not self._texts_of:  # a project just rebuilt shows this result already
            self.update_texts(result)

    def _on_collapsed_changed(self) -> None:
        self.sync_structure()
        self.update_texts(self.document.result)

    def _on_positions_changed(self, names: list[str]) -> None:
        self._follow_direction()
        if self._structure_dirty:
            return  # the coming structure update places everything
        self.defer_routing = True
        try:
            self._move_items(names)
        finally:
            self.defer_routing = False
        self.refresh_long_edges()
        self._update_scene_rect()

    def _move_items(self, names: list[str]) -> None:
        groups: set[str] = set()
        graph = self.document.graph
        for name in names:
            item = self.nodes.get(name)
            pos = self.document.position(name)
            if item is not None and pos is not None:
                item.move_to(QPointF(*pos))
            unit = self.units.get(name)
            if unit is not None and unit[0] == "group":
                groups.add(unit[1])
            if name in graph:
                groups.update(group_prefixes(graph.node(name).group))
        for group in groups:
            if group in self.groups:
                place_group(self, self.groups[group])
        update_frames(self, groups)

    # ----- structure -----------------------------------------------------------------------
    def _wired(self, name: str) -> list[str]:
        return [e.dst_port for e in self.document.graph.in_edges(name)]

    def sync_structure(self) -> None:
        """Create, remove and re-attach items so that they match the graph and collapsed groups."""
        self._structure_dirty = False
        self._texts_of = None
        self._selecting = True  # removing selected items must not change the document's selection
        self.defer_routing = True
        try:
            self._sync_structure()
        finally:
            self._selecting = False
            self.defer_routing = False
        self.refresh_long_edges()
        self._on_document_selection(self.document.selection)

    def _sync_structure(self) -> None:
        graph = self.document.graph
        self.units = units = unit_of_nodes(graph, self.document.collapsed)
        self.members = defaultdict(list)
        for node in graph:
            for prefix in group_prefixes(node.group):
                self.members[prefix].append(node.name)
        self._sync_nodes(units)
        sync_groups(self, units)
        self._sync_edges(units)
        sync_frames(self, units)
        self._update_scene_rect()

    def _sync_nodes(self, units: dict[str, Unit]) -> None:
        graph = self.document.graph
        wired: dict[str, list[str]] = defaultdict(list)
        for edge in graph.edges:
            wired[edge.dst].append(edge.dst_port)
        for name, item in list(self.nodes.items()):
            if units.get(name) != ("node", name) or graph.node(name).type_id != item.type_id:
                self.removeItem(item)
                del self.nodes[name]
        for name, unit in units.items():
            if unit[0] != "node":
                continue
            item = self.nodes.get(name)
            added = item is None
            if item is None:
                item = self.nodes[name] = NodeItem(name, graph.node(name).type_id)
            item.set_ports(*node_ports(graph.node(name), wired.get(name, [])), self.across)
            pos = self.document.position(name) or (0.0, 0.0)
            if item.pos() != QPointF(*pos):
                item.setPos(QPointF(*pos))  # its wires are brought up to date by _sync_edges
            if added:  # ports and place first: the scene then takes it in one step
                self.addItem(item)

    def _end(self, unit: Unit, node: str, port: str, direction: str) -> Any:
        if unit[0] == "group":
            item = self.groups.get(unit[1])
            return None if item is None else GroupAnchor(item, direction)
        owner = self.nodes.get(node)
        return None if owner is None else owner.port(direction, port)

    def _owner(self, end: Any) -> BoxItem:
        return end.item if isinstance(end, GroupAnchor) else end.node

    def _sync_edges(self, units: dict[str, Unit]) -> None:
        wanted: dict[Edge, tuple[Any, Any]] = {}
        self._boundary = {g: ([], []) for g in self.groups}
        for edge in self.document.graph.edges:
            su, du = units[edge.src], units[edge.dst]
            if su == du and su[0] == "group":
                continue  # inside a collapsed group
            source = self._end(su, edge.src, edge.src_port, "out")
            target = self._end(du, edge.dst, edge.dst_port, "in")
            if source is None or target is None:
                continue
            wanted[edge] = (source, target)
            if du[0] == "group":
                self._boundary[du[1]][0].append(edge)
            if su[0] == "group":
                self._boundary[su[1]][1].append(edge)
        for edge, item in list(self.edges.items()):
            if edge not in wanted:
                self.removeItem(item)
                del self.edges[edge]
        for box in [*self.nodes.values(), *self.groups.values()]:
            box.edges.clear()
        attached = {end for ends in wanted.values() for end in ends if isinstance(end, PortItem)}
        for node in self.nodes.values():  # (a port drawn anew only where this changes)
            for port in [*node.inputs.values(), *node.outputs.values()]:
                port.set_connected(port in attached)
        for edge, (source, target) in wanted.items():
            item = self.edges.get(edge)
            if item is None:
                item = self.edges[edge] = EdgeItem(edge, source, target)
                self.addItem(item)
            else:
                item.set_ends(source, target)
                item.update_path()
            self._owner(source).edges.add(item)
            self._owner(target).edges.add(item)

    def _update_scene_rect(self) -> None:
        self.items_bounds = rect = boxes_bounds([*self.nodes.values(), *self.groups.values()])
        if rect.isNull():
            rect = QRectF(-400, -300, 800, 600)
        self.setSceneRect(rect.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN))

    def detour_lane(
        self, edge: EdgeItem, start: QPointF, end: QPointF, across: bool = False
    ) -> float | None:
        """The x of a vertical lane beside the blocks a straight wire would cross, or None.
        ``across``: the points are given with x and y swapped (a left-to-right layout), and
        so is the lane."""
        straight = QRectF(start, end).normalized().adjusted(-8, 10, 8, -10)
        ends = (self._owner(edge.source), self._owner(edge.target))
        area = flip_rect(straight, across)
        blocking = [
            flip_rect(item.scene_rect(), across)
            for item in self.items(area, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            if isinstance(item, BoxItem)
            and item not in ends
            and item.scene_rect().adjusted(-2, -2, 2, 2).intersects(area)  # (not its ports)
        ]
        if not blocking:
            return None
        right = max(r.right() for r in blocking) + 26
        left = min(r.left() for r in blocking) - 26
        cost_right = abs(right - start.x()) + abs(right - end.x())
        cost_left = abs(left - start.x()) + abs(left - end.x())
        return right if cost_right <= cost_left else left

    def refresh_long_edges(self) -> None:
        """Route long wires again (blocks in their way may have moved)."""
        for item in self.edges.values():
            start, end = item.source.anchor(), item.target.anchor()
            if (end.x() - start.x() if self.across else end.y() - start.y()) > LONG_WIRE:
                item.update_path()

    # ----- texts ---------------------------------------------------------------------------
    def update_texts(self, result: InferenceResult) -> int:
        """Bring every label up to date; returns how many items changed. After an incremental
        inference from the result shown, only the labels of the nodes it changed."""
        names = changed_since_shown(result, self._texts_of)
        if names is not None:
            self._texts_of = result
            return update_changed_texts(self, result, names)
        graph = self.document.graph
        by_node: dict[str | None, list] = defaultdict(list)
        for diagnostic in result.diagnostics:
            by_node[diagnostic.node].append(diagnostic)
        self._texts_of = result
        changed = 0
        for name, item in self.nodes.items():
            node_result = result.nodes.get(name)
            changed += show_node(item, graph.node(name), node_result, by_node.get(name, []))
        for group, item in self.groups.items():
            inputs, outputs = self._boundary.get(group, ([], []))
            diagnostics = [d for m in item.members for d in by_node.get(m, [])]
            content = group_content(group, item.members, result, inputs, outputs, diagnostics)
            changed += item.set_content(content)
        for edge, item in self.edges.items():
            changed += item.set_label(fmt_shape(result.edge_shape(edge)))
        for group, frame in self.frames.items():
            total = result.groups.get(group)
            params = "?" if total is None or total.params is None else f"{total.params:,}"
            frame.set_title(f"{group} · {params} params")
        return changed

    # ----- selection -----------------------------------------------------------------------
    def _on_scene_selection(self) -> None:
        if self._selecting:
            return
        names: list[str] = []
        for item in self.selectedItems():
            if isinstance(item, NodeItem):
                names.append(item.name)
            elif isinstance(item, GroupItem):
                names.extend(item.members)
        self._selecting = True
        try:
            self.document.set_selection(list(dict.fromkeys(names)))
        finally:
            self._selecting = False

    def _on_document_selection(self, names: list[str]) -> None:
        if self._selecting:
            return
        chosen = set(names)
        self._selecting = True
        try:
            for name, item in self.nodes.items():
                item.setSelected(name in chosen)
            for item in self.groups.values():
                item.setSelected(any(m in chosen for m in item.members))
        finally:
            self._selecting = False

    def select_items(self, items: list[QGraphicsItem]) -> None:
        """Select exactly ``items`` (one document update)."""
        self._selecting = True
        try:
            keep = set(items)
            for item in self.selectedItems():
                if item not in keep:
                    item.setSelected(False)
            for item in items:
                item.setSelected(True)
        finally:
            self._selecting = False
        self._on_scene_selection()

    # ----- edits started by gestures -------------------------------------------------------
    def connect_ports(self, src: str, src_port: str, dst: str, dst_port: str | None) -> bool:
        """Wire two ports; a refused wire is explained on ``status_message``."""
        try:
            self.document.connect(src, src_port, dst, dst_port)
        except DesignerError as error:
            self.status_message.emit(f"Cannot connect: {error}")
            return False
        return True

    def reconnect(self, edge: Edge, dst: str, dst_port: str | None) -> bool:
        """Move the end of a wire to another input (one undo step)."""

        def action(graph: Any) -> None:
            graph.disconnect(edge)
            graph.connect(edge.src, dst, edge.src_port, dst_port)

        try:
            self.document.run_edit("Reconnect", action)
        except DesignerError as error:
            self.status_message.emit(f"Cannot connect: {error}")
            return False
        return True

    # ----- mouse ---------------------------------------------------------------------------
    def item_at(self, pos: QPointF) -> QGraphicsItem | None:
        """The topmost item under ``pos`` (ports before their nodes)."""
        for item in self.items(
            pos,
            Qt.ItemSelectionMode.IntersectsItemShape,
            Qt.SortOrder.DescendingOrder,
            QTransform(),
        ):
            if isinstance(item, PortItem | BoxItem | EdgeItem | FrameItem | NoteItem):
                return item
        return None

    def port_or_box_at(self, pos: QPointF, direction: str) -> PortItem | BoxItem | None:
        """A port of ``direction`` under ``pos``, else the block or group there."""
        box = None
        for item in self.items(
            pos,
            Qt.ItemSelectionMode.IntersectsItemShape,
            Qt.SortOrder.DescendingOrder,
            QTransform(),
        ):
            if isinstance(item, PortItem) and item.direction == direction:
                return item
            if box is None and isinstance(item, BoxItem):
                box = item
        return box

    def cancel_interaction(self) -> None:
        """Abandon the gesture in progress."""
        if self.interaction is not None:
            self.interaction.cancel()
            self.interaction = None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.cancel_interaction()
        self.interaction = self._start(event)
        event.accept()

    def _start(self, event: QGraphicsSceneMouseEvent) -> Interaction:
        pos = event.scenePos()
        mods = event.modifiers()
        toggle = bool(
            mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        )
        item = port_near(self, pos) or self.item_at(pos)  # ports reach 12 screen pixels
        if isinstance(item, PortItem):
            edge = next((e for e in item.node.edges if e.target is item), None)
            if item.direction == "in" and edge is not None:
                return Reconnect(self, edge)
            return NewWire(self, item)
        if isinstance(item, NoteItem):
            return MoveNotes(self, pos, item, toggle)
        if isinstance(item, BoxItem):
            if toggle:
                item.setSelected(not item.isSelected())
            elif not item.isSelected():
                self.select_items([item])
            return MoveSelection(self, pos, item, toggle)
        if isinstance(item, FrameItem):
            boxes = {self.units[m] for m in self.members.get(item.group, [])}
            chosen = [
                self.nodes.get(u[1]) if u[0] == "node" else self.groups.get(u[1]) for u in boxes
            ]
            self.select_items([b for b in chosen if b is not None])
            return MoveSelection(self, pos, chosen[0] if chosen else item, True)  # type: ignore[arg-type]
        if isinstance(item, EdgeItem):
            if toggle:
                item.setSelected(not item.isSelected())
            else:
                self.select_items([item])
            return Interaction(self)
        return RubberBand(self, pos, toggle)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.interaction is not None:
            self.interaction.move(event)
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.interaction is not None and event.button() == Qt.MouseButton.LeftButton:
            interaction, self.interaction = self.interaction, None
            interaction.release(event)
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:
        show_tooltip(self, event)  # ports and wires make theirs when asked

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        item = self.item_at(event.scenePos())
        if isinstance(item, GroupItem):
            self.cancel_interaction()
            self.expand_requested.emit(item.group)
        elif isinstance(item, FrameItem):
            self.cancel_interaction()
            self.collapse_requested.emit(item.group)
        elif isinstance(item, NoteItem):
            self.cancel_interaction()
            edit_note(self, item, event.widget())
        else:
            super().mouseDoubleClickEvent(event)
