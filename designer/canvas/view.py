"""CanvasView: the node-graph editor widget the main window embeds.

Wheel zooms around the mouse, the middle button or Space+drag pans, a block dragged from the
palette (MIME ``application/x-cnn-designer-block``) is created centred on the drop point, a
double-click expands a collapsed group or collapses an expanded group (on its frame's title),
and the context menu of a block offers its quick fixes, rename, delete, group and ungroup.

Groups: when a project without a ``collapsed`` view entry is shown (a fresh preset), the
modules (ResNet blocks, Inception modules: ``engine.layout.default_collapsed``) start collapsed; a project without
positions is laid out (not an undo step) and fitted to the view. Expanding or collapsing lays
the design out again so that nothing overlaps; it is one undo step.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from designer.canvas import editing, style
from designer.canvas.bypass import toggle_bypass
from designer.canvas.edges import EdgeItem
from designer.canvas.interactions import WireDrop
from designer.canvas.items import BoxItem, FrameItem, GroupItem, NodeItem
from designer.canvas.minimap import Minimap
from designer.canvas.notes import NoteItem, add_note, delete_with_notes, note_actions
from designer.canvas.placement import free_centre, preferred_centre
from designer.canvas.quick_add import QuickAdd
from designer.canvas.scene import CanvasScene, unit_size
from designer.canvas.zoom import (
    FIND_SCALE,
    FIT_MIN_SCALE,
    MAX_SCALE,
    MIN_SCALE,
    PARTIAL_FIT_MAX,
    PanGesture,
    fit_rect,
    zoom_around,
)
from designer.document import Document
from designer.mime import MIME_BLOCK
from engine import CATALOG, DesignerError, Edge
from engine.layout import DIRECTIONS, VIEW_DIRECTION_KEY, default_collapsed

__all__ = [
    "FIND_SCALE",
    "FIT_MIN_SCALE",
    "MAX_SCALE",
    "MIN_SCALE",
    "PARTIAL_FIT_MAX",
    "Action",
    "CanvasView",
    "PanGesture",
]

Action = tuple[str, Callable[[], object]]


class CanvasView(QGraphicsView):
    """The canvas of a Document: shows its scene and turns user commands into edits."""

    status_message = Signal(str)
    view_changed = Signal()  # zoomed or scrolled

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        self.document = document
        self.canvas = CanvasScene(document)
        super().__init__(self.canvas, parent)
        self.canvas.setParent(self)
        # a viewport made from Python: every item's paint() is handed it, and PySide6 finding
        # the Python type of a widget that Qt made loads every QtWidgets class (6 ms at start-up)
        self.setViewport(QWidget())
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        # no scroll bars, as in other node editors: the view pans with the middle button or
        # Space+drag and zooms with the wheel; bars that come and go as the zoom changes would
        # also resize the viewport right after a fit and force a second fit and paint
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan: PanGesture | None = None
        self._space = False
        # the design is fitted to the view whenever the view changes size (as the window
        # settles after show, on any platform), until the user zooms or pans it
        self._fit_pending = True
        self._paste_count = 0
        self.canvas.status_message.connect(self.status_message)
        self.canvas.expand_requested.connect(self.expand_group)
        self.canvas.collapse_requested.connect(self.collapse_group)
        document.project_replaced.connect(self._on_project_replaced)
        # a gesture in progress is abandoned when the design changes under it (Undo, Delete or
        # any other edit while a wire's end or blocks are dragged): what it would commit may
        # name blocks and wires that are gone. Its own edit, on release, comes after the scene
        # has let go of it.
        document.undo_stack.indexChanged.connect(self._on_design_changed)
        document.collapsed_changed.connect(self._on_design_changed)
        self.quick_add = QuickAdd(self)  # Tab or a double-click on empty canvas
        self.wire_drop = WireDrop(self.canvas)  # a palette block dragged over a wire
        self.minimap = Minimap(self)

    def _on_design_changed(self, *_args: object) -> None:
        self.canvas.cancel_interaction()

    def _on_project_replaced(self) -> None:
        self._fit_pending = True
        self._paste_count = 0
        self.zoom_to_fit()  # and for an empty design, 1:1 at the origin

    # ----- view ----------------------------------------------------------------------------
    def zoom_to_fit(self) -> None:
        """Show the whole design, not bigger than 1:1 and never so small that the blocks'
        short names do not read (FIT_MIN_SCALE).

        A design that does not fit at FIT_MIN_SCALE is fitted by width (between FIT_MIN_SCALE
        and PARTIAL_FIT_MAX) and shown from its top; the minimap and the wheel show the rest.
        An empty design is shown at 1:1 around the origin, so that the zoom of a big design
        never carries over to a new one.
        """
        fit_rect(self, self.items_rect())
        self._view_changed()

    def _view_changed(self) -> None:
        """The zoom or the scrolled position changed (the minimap follows)."""
        self.view_changed.emit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.view_changed.emit()

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene the canvas shows."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def pan_to(self, point: QPointF) -> None:
        """Centre the canvas on scene point ``point`` (the minimap's click), keeping the zoom."""
        self._fit_pending = False  # the user has taken the view over
        self.centerOn(point)
        self._view_changed()

    def items_rect(self) -> QRectF:
        """The bounding rectangle of every block and group (kept by the scene)."""
        return QRectF(self.canvas.items_bounds)

    def center_on_node(self, name: str) -> None:
        """Zoom in to block ``name`` (or the collapsed group holding it), so that its texts
        read (FIND_SCALE, when the view is further out), centre it and select it."""
        item = self._box_of(name)
        if item is None:
            self.status_message.emit(f"No block called {name!r}")
            return
        self._fit_pending = False
        scale = self.transform().m11()
        if scale < FIND_SCALE:
            self.resetTransform()
            self.scale(FIND_SCALE, FIND_SCALE)
        self.centerOn(item.scene_rect().center())
        self.document.set_selection([name])
        self._view_changed()

    def _box_of(self, name: str) -> BoxItem | None:
        unit = self.canvas.units.get(name)
        if unit is None:
            return None
        return self.canvas.nodes.get(name) if unit[0] == "node" else self.canvas.groups.get(unit[1])

    def scene_item_rects(self) -> dict[str, QRectF]:
        """Scene rectangles of the visible blocks and collapsed groups, by name."""
        rects = {name: item.scene_rect() for name, item in self.canvas.nodes.items()}
        rects.update({group: item.scene_rect() for group, item in self.canvas.groups.items()})
        return rects

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._fit_pending = False  # the user has taken the view over
        zoom_around(self, 1.0015 ** event.angleDelta().y(), event.position().toPoint())
        self._view_changed()
        event.accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_pending:
            self.zoom_to_fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_pending:
            self.zoom_to_fit()
        self._view_changed()

    # ----- panning -------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # Tab opens search-to-add (before QWidget moves the focus to the next widget)
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            plain = event.modifiers() in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.KeypadModifier,
            )
            if event.key() == Qt.Key.Key_Tab and plain:
                self.canvas.cancel_interaction()
                self.quick_add.open()
                event.accept()
                return True
        return super().event(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        left = event.button() == Qt.MouseButton.LeftButton
        if left and self.canvas.item_at(self.mapToScene(point)) is None:
            self.canvas.cancel_interaction()
            self.quick_add.open(point)  # a double-click on empty canvas: search-to-add
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.canvas.cancel_interaction()
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        middle = event.button() == Qt.MouseButton.MiddleButton
        if middle or (self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan = PanGesture(self, event.position().toPoint())
            self._fit_pending = False  # the user has taken the view over
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan is not None:
            self._pan.move(event.position().toPoint())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan is not None:
            self._pan.end()
            self._pan = None
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ----- drag and drop from the palette ----------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(MIME_BLOCK):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(MIME_BLOCK):
            type_id = bytes(event.mimeData().data(MIME_BLOCK).data()).decode("utf-8", "replace")
            if editing.insertable(type_id):  # over a wire: highlight it (a drop inserts)
                self.wire_drop.hover(self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        if not data.hasFormat(MIME_BLOCK):
            super().dropEvent(event)
            return
        type_id = bytes(data.data(MIME_BLOCK).data()).decode("utf-8")
        point = self.mapToScene(event.position().toPoint())
        if self.wire_drop.edge_item is not None and editing.insertable(type_id):
            if self.wire_drop.drop(point, type_id=type_id):
                event.acceptProposedAction()
            return
        self.wire_drop.clear()
        if self.add_block_at(type_id, point) is not None:
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.wire_drop.clear()
        super().dragLeaveEvent(event)

    # ----- adding blocks -------------------------------------------------------------------
    def add_block_at(self, type_id: str, centre: QPointF) -> str | None:
        """Create a block of ``type_id`` centred on ``centre``; None (and a message) if refused."""
        if type_id not in CATALOG:
            self.status_message.emit(
                f"Unknown block type {type_id!r}: drag a block from the palette"
            )
            return None
        pos = (
            round(centre.x() - style.NODE_WIDTH / 2, 1),
            round(centre.y() - style.NODE_HEIGHT / 2, 1),
        )
        try:
            name = self.document.add_node(type_id, pos)
        except DesignerError as error:
            self.status_message.emit(str(error))
            return None
        self.document.set_selection([name])
        return name

    def add_block_at_center(self, type_id: str) -> str:
        """Create a block in view near the selection (below the selected block when it is in
        view, else the view's middle), on a free spot (``placement``)."""
        name = self.add_block_at(type_id, free_centre(self, preferred_centre(self)))
        if name is None:
            raise DesignerError(f"could not add a block of type {type_id!r}")
        return name

    # ----- selection and clipboard -----------------------------------------------------------
    def select_all(self) -> None:
        """Select every block."""
        self.document.set_selection(self.document.graph.names)

    def selected_edges(self) -> list[Edge]:
        """Wires selected on the canvas."""
        return [i.edge for i in self.canvas.selectedItems() if isinstance(i, EdgeItem)]

    def delete_selection(self) -> None:
        """Delete the selected blocks, groups, wires and notes (one undo step)."""
        edges = self.selected_edges()
        delete_with_notes(
            self.canvas, lambda: editing.delete(self.document, self.document.selection, edges)
        )

    def copy_selection(self) -> None:
        """Put the selected blocks, their wires and positions on the clipboard."""
        if not self.document.selection:
            self.status_message.emit("Nothing to copy: select some blocks first")
            return
        data = editing.clip_data(self.document, self.document.selection)
        mime = QMimeData()
        import json  # on first copy: kept off the start-up

        text = json.dumps(data)
        mime.setData(editing.MIME_NODES, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self._paste_count = 0

    def paste(self) -> None:
        """Add the clipboard's blocks beside the originals, selected."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(editing.MIME_NODES):
            self.status_message.emit("The clipboard holds no blocks: copy some first")
            return
        import json

        try:
            data = json.loads(bytes(mime.data(editing.MIME_NODES).data()).decode("utf-8"))
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep
            self.status_message.emit("Cannot paste: the clipboard's blocks are not JSON text")
            return
        self._paste_count += 1
        self._paste_data(data)

    def _paste_data(self, data: dict) -> None:
        """Paste ``data`` beside the blocks it was copied from, on free space (where it was
        when that is free), select the copies and scroll them into view."""
        taken = [
            (r.left(), r.top(), r.right(), r.bottom()) for r in self.scene_item_rects().values()
        ]
        try:
            editing.check_clip_data(data)
            names = editing.paste(
                self.document, data, editing.free_offset(self.document, data, taken)
            )
        except DesignerError as error:
            self.status_message.emit(f"Cannot paste: {error}")
            return
        self.document.set_selection(names)
        rects = [self.canvas.nodes[n].scene_rect() for n in names if n in self.canvas.nodes]
        if rects:
            bounds = rects[0]
            for rect in rects[1:]:
                bounds = bounds.united(rect)
            self.ensureVisible(bounds, 40, 40)

    def duplicate_selection(self) -> None:
        """Copy and paste the selection in one go (the clipboard is left alone)."""
        if self.document.selection:
            self._paste_data(editing.clip_data(self.document, self.document.selection))

    # ----- layout and groups ---------------------------------------------------------------
    def auto_layout(self) -> None:
        """Lay the design out again (one undo step) and fit it."""
        editing.auto_layout(self.document, unit_size)
        self.zoom_to_fit()

    def set_layout_direction(self, direction: str) -> None:
        """Lay the design out top to bottom ("down") or left to right ("right"), saved in the
        project's view (one undo step), and fit it."""
        if direction not in DIRECTIONS:
            self.status_message.emit(
                f"Unknown layout direction {direction!r}: use one of {', '.join(DIRECTIONS)}"
            )
            return

        def action(_graph: object) -> None:
            self.document.set_entry("view", VIEW_DIRECTION_KEY, direction)
            editing.place_all(self.document, self.document.collapsed, unit_size)

        self.document.run_edit(f"Layout {DIRECTIONS[direction].lower()}", action)
        self.zoom_to_fit()

    def group_selection(self, name: str) -> None:
        """Group the selected blocks as ``name``."""
        try:
            editing.group_nodes(self.document, self.document.selection, name)
        except DesignerError as error:
            self.status_message.emit(f"Cannot group: {error}")

    def ungroup_selection(self) -> None:
        """Take the selection out of one group level, as one undo step: a selected collapsed
        group is dissolved (its blocks stay in the groups around it), other selected blocks
        leave their innermost group."""
        # read the whole selection before editing: the edit redraws groups and reselects
        groups = [i for i in self.canvas.selectedItems() if isinstance(i, GroupItem)]
        names = [n for n in self.document.selection if n in self.canvas.nodes]
        names += [n for item in groups for n in item.members]
        try:
            self.document.ungroup(names, [item.group for item in groups])
        except DesignerError as error:
            self.status_message.emit(f"Cannot ungroup: {error}")

    def _collapse(self, groups: set[str], text: str) -> None:
        editing.set_collapsed(self.document, groups, text, unit_size)

    def expand_group(self, name: str) -> None:
        """Draw group ``name``'s blocks (the layout makes room)."""
        self._collapse(self.document.collapsed - {name}, f"Expand {name}")

    def collapse_group(self, name: str) -> None:
        """Draw group ``name`` as one node."""
        self._collapse(self.document.collapsed | {name}, f"Collapse {name}")

    def expand_all(self) -> None:
        """Show every block."""
        self._collapse(set(), "Expand all groups")
        self.zoom_to_fit()

    def collapse_all(self) -> None:
        """Draw every module (ResNet block, Inception module, ...) as one node."""
        self._collapse(set(default_collapsed(self.document.graph)), "Collapse all groups")
        self.zoom_to_fit()

    # ----- context menu --------------------------------------------------------------------
    def rename_node(self, name: str, new: str) -> bool:
        """Rename a block; a refused name becomes a status message."""
        try:
            self.document.rename(name, new)
        except DesignerError as error:
            self.status_message.emit(f"Cannot rename: {error}")
            return False
        return True

    def toggle_bypass(self) -> None:
        """Bypass the selected blocks, or restore them (Ctrl+B; one undo step)."""
        refusal = toggle_bypass(self.document)
        if refusal is not None:
            self.status_message.emit(refusal)

    def add_note_at_center(self) -> str:
        """Add a note in the middle of the visible canvas; returns its id."""
        return add_note(self.canvas, self.mapToScene(self.viewport().rect().center()))

    def node_actions(self, name: str) -> list[Action]:
        """What the context menu of block ``name`` offers: its quick fixes first."""
        actions: list[Action] = []
        for diagnostic in self.document.result.for_node(name):
            fix = diagnostic.fix
            if fix is not None:
                actions.append((f"Fix: {fix.label}", lambda f=fix: self.document.apply_fix(f)))
        actions.append(("Rename…", lambda: self._ask_rename(name)))
        actions.append(("Delete", lambda: editing.delete(self.document, [name])))
        bypassed = self.document.graph.node(name).bypassed
        actions.append(("Restore (un-bypass)" if bypassed else "Bypass", self.toggle_bypass))
        actions.append(("Group selection…", self._ask_group))
        if self.document.graph.node(name).group:
            actions.append(("Ungroup", self.ungroup_selection))
        from designer.lecture.replace_dense import replace_actions  # LC / dense equivalent
        from designer.lecture.views import lecture_actions  # step-through, backprop, ...

        host = self.window() if getattr(self.window(), "document", None) is self.document else self
        replace = replace_actions(self.document, name, self.status_message.emit)
        return actions + replace + lecture_actions(host, name)

    def group_actions(self, group: str) -> list[Action]:
        """What the context menu of a collapsed group or a frame offers."""
        members = self.canvas.members.get(group, [])
        collapsed = group in self.document.collapsed
        toggle = (
            ("Expand", lambda: self.expand_group(group))
            if collapsed
            else ("Collapse", lambda: self.collapse_group(group))
        )
        return [
            toggle,
            ("Ungroup", lambda: self._ungroup(members, group)),
            ("Delete group", lambda: editing.delete(self.document, members)),
        ]

    def _ungroup(self, members: list[str], group: str) -> None:
        try:
            editing.ungroup_nodes(self.document, members, group)
        except DesignerError as error:
            self.status_message.emit(f"Cannot ungroup: {error}")

    def _ask_rename(self, name: str) -> None:
        from PySide6.QtWidgets import QInputDialog  # on first use: its enums cost start-up time

        new, ok = QInputDialog.getText(self, "Rename block", "New name:", text=name)
        if ok and new and new != name:
            self.rename_node(name, new.strip())

    def _ask_group(self) -> None:
        from designer.canvas.group_dialog import ask_group_name

        name = ask_group_name(self, self.document)
        if name is not None:
            self.group_selection(name)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.canvas.item_at(self.mapToScene(event.pos()))
        if isinstance(item, NodeItem):
            if item.name not in self.document.selection:
                self.document.set_selection([item.name])
            actions = self.node_actions(item.name)
        elif isinstance(item, GroupItem | FrameItem):
            actions = self.group_actions(item.group)
        elif isinstance(item, EdgeItem):
            edge = item.edge
            actions = [("Delete wire", lambda: editing.delete(self.document, [], [edge]))]
        elif isinstance(item, NoteItem):
            actions = note_actions(self.canvas, item, self)
        else:
            at = self.mapToScene(event.pos())
            actions = [("Add note here", lambda: add_note(self.canvas, at))]
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        for text, callback in actions:
            menu.addAction(text, callback)
        menu.exec(event.globalPos())
