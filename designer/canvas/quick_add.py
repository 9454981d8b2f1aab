"""Search-to-add: a type-to-filter list of block types opened at the cursor.

Tab, or a double-click on empty canvas, opens it; typing filters (names, type ids and common
words: "fc", "dense" → Linear, "bn" → BatchNorm, "deconv" → ConvTranspose2d, "pool"), Up and
Down choose, Enter places the block, Escape (or a click elsewhere) closes it. With one block
selected the new block goes below that block and is wired in after it (its outgoing wires now
leave the new block) and is selected, so pressing Tab again builds a chain. A wire released over
empty canvas opens the same list with the blocks that accept its tensor first; the chosen block
is placed there and connected, and Escape leaves nothing. Each addition is one undo step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import editing, style
from designer.canvas.hints import show_refusal
from engine import CATALOG, DesignerError
from engine.block_search import accepting_types, search

if TYPE_CHECKING:
    from designer.canvas.view import CanvasView

TYPE_ROLE = Qt.ItemDataRole.UserRole
BELOW_GAP = 40.0
MAX_ROWS = 14  # rows the popup shows before it scrolls
POPUP_OFFSET = 14  # screen pixels between the point of the gesture and the popup  # scene units between a selected block and the block added after it
_NAVIGATION = {
    Qt.Key.Key_Up: -1,
    Qt.Key.Key_Down: 1,
    Qt.Key.Key_PageUp: -8,
    Qt.Key.Key_PageDown: 8,
}


class QuickAddPopup(QFrame):
    """A frameless search box over a list of block types; emits ``chosen(type_id)`` on Enter
    or a click, ``dismissed()`` when closed without a choice."""

    chosen = Signal(str)
    dismissed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("quickAdd")
        self.hint = QLabel(self)
        self.hint.setStyleSheet("color: #66707c;")
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add a block: type a name, fc, bn, pool…")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addWidget(self.hint)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.setFixedWidth(300)
        self.preferred: list[str] = []
        self._done = False
        self.edit.textChanged.connect(self.refilter)
        self.edit.installEventFilter(self)
        self.list.itemClicked.connect(self._on_clicked)

    def open_at(self, global_pos: QPoint, preferred: list[str], hint: str) -> None:
        """Show at ``global_pos`` (kept on the screen), empty, the ``preferred`` types first."""
        self.preferred = list(preferred)
        self._done = False
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.edit.clear()
        self.refilter("")
        screen = self.screen().availableGeometry() if self.screen() else None
        x, y = global_pos.x(), global_pos.y()
        if screen is not None:
            x = max(screen.left(), min(x, screen.right() - self.width()))
            y = max(screen.top(), min(y, screen.bottom() - self.height()))
        self.move(x, y)
        self.show()
        self.raise_()
        self.activateWindow()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def refilter(self, text: str) -> None:
        """List the block types matching ``text``, best first, the preferred ones on top."""
        self.list.clear()
        favoured = set(self.preferred)
        for spec in search(text, self.preferred):
            label = f"{spec.display_name}    {spec.category}"
            item = QListWidgetItem(label, self.list)
            item.setData(TYPE_ROLE, spec.type_id)
            item.setToolTip(spec.description)
            if favoured and spec.type_id not in favoured:
                item.setForeground(QColor("#9aa0a6"))  # does not take this tensor as it is
        if self.list.count():
            self.list.setCurrentRow(0)
        # as tall as its rows (up to MAX_ROWS), so that a short list hides little canvas
        rows = max(1, min(MAX_ROWS, self.list.count()))
        row = self.list.sizeHintForRow(0) if self.list.count() else self.fontMetrics().height()
        self.list.setFixedHeight(rows * max(row, 1) + 2 * self.list.frameWidth() + 2)
        self.adjustSize()

    def current_type(self) -> str | None:
        """The type id of the highlighted row."""
        item = self.list.currentItem()
        return None if item is None else item.data(TYPE_ROLE)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in _NAVIGATION:
                count = self.list.count()
                if count:
                    row = self.list.currentRow() + _NAVIGATION[Qt.Key(key)]
                    self.list.setCurrentRow(max(0, min(count - 1, row)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.accept()
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(watched, event)

    def accept(self) -> None:
        """Choose the highlighted type (nothing happens when the list is empty)."""
        type_id = self.current_type()
        if type_id is None:
            return
        self._done = True
        self.close()
        self.chosen.emit(type_id)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.list.setCurrentItem(item)
        self.accept()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        if not self._done:
            self._done = True
            self.dismissed.emit()


@dataclass
class Request:
    """What the open popup will add: where, and what it wires to."""

    at: QPointF  # scene point of the gesture
    after: str | None = None  # the selected block the new one follows
    source: tuple[str, str] | None = None  # (block, output port) a wire was dragged from
    target: tuple[str, str] | None = None  # (block, input port) a wire was dragged from
    gesture: Any = None  # the wire gesture whose pending wire stays until the popup closes


class QuickAdd:
    """The canvas view's search-to-add: opens the popup and makes the chosen edit."""

    def __init__(self, view: CanvasView) -> None:
        self.view = view
        self.popup = QuickAddPopup(view)
        self.popup.chosen.connect(self._on_chosen)
        self.popup.dismissed.connect(self._on_dismissed)
        self.request: Request | None = None

    def is_open(self) -> bool:
        """Whether the popup is showing."""
        return self.popup.isVisible()

    def _cursor_point(self) -> QPoint:
        """The mouse in viewport coordinates, or the viewport's centre when it is outside."""
        viewport = self.view.viewport()
        point = viewport.mapFromGlobal(QCursor.pos())
        return point if viewport.rect().contains(point) else viewport.rect().center()

    def open(self, view_point: QPoint | None = None) -> None:
        """Open at ``view_point`` (viewport coordinates; default the mouse): the block goes
        there, or below the one selected block, wired in after it."""
        point = self._cursor_point() if view_point is None else view_point
        at = self.view.mapToScene(point)
        selection = self.view.document.selection
        after = selection[0] if len(selection) == 1 else None
        if after is not None and after not in self.view.canvas.nodes:
            after = None  # inside a collapsed group: placed at the cursor, not wired
        hint = f"Add after {after}" if after is not None else "Add a block here"
        self._show(Request(at, after=after), point, [], hint)

    def open_for_wire(
        self, at: QPointF, node: str, port: str, direction: str, gesture: Any
    ) -> None:
        """Open where a wire from ``node.port`` was released over empty canvas (scene point
        ``at``); for an output, the blocks that accept its tensor come first."""
        point = self.view.mapFromScene(at)
        if direction == "out":
            shape = _output_shape(self.view, node, port)
            preferred = accepting_types(shape) if shape is not None else []
            hint = f"Feed {node}'s output ({_shape_text(shape)}) into…"
            request = Request(at, source=(node, port), gesture=gesture)
        else:
            preferred = []
            hint = f"Feed {node}.{port} from…"
            request = Request(at, target=(node, port), gesture=gesture)
        self._show(request, point, preferred, hint)

    def _show(self, request: Request, point: QPoint, preferred: list[str], hint: str) -> None:
        if self.request is not None:
            self._end_gesture()
        self.request = request
        # just beside the point, so that the wire's end and the spot stay in sight
        corner = self.view.viewport().mapToGlobal(point) + QPoint(POPUP_OFFSET, POPUP_OFFSET)
        self.popup.open_at(corner, preferred, hint)

    def _end_gesture(self) -> None:
        request, self.request = self.request, None
        if request is not None and request.gesture is not None:
            request.gesture.cancel()  # removes the pending wire

    def _on_dismissed(self) -> None:
        self._end_gesture()  # Escape or a click elsewhere: nothing is added

    def _on_chosen(self, type_id: str) -> None:
        request = self.request
        self._end_gesture()
        if request is None or type_id not in CATALOG:
            return
        doc = self.view.document
        try:
            name = self._add(request, type_id)
        except DesignerError as error:
            message = f"Cannot add {CATALOG.get(type_id).display_name}: {error}"
            self.view.status_message.emit(message)
            show_refusal(self.view.canvas, request.at, message)
            return
        doc.set_selection([name])
        item = self.view.canvas.nodes.get(name)
        if item is not None:
            self.view.ensureVisible(item.scene_rect(), 40, 40)

    def _add(self, request: Request, type_id: str) -> str:
        doc = self.view.document
        width, height = style.NODE_WIDTH, style.NODE_HEIGHT
        at = request.at
        if request.source is not None:  # the wire enters the new block's top
            pos = (at.x() - width / 2, at.y())
            return editing.add_wired(doc, type_id, _rounded(pos), source=request.source)
        if request.target is not None:  # the wire leaves the new block's bottom
            pos = (at.x() - width / 2, at.y() - height)
            return editing.add_wired(doc, type_id, _rounded(pos), target=request.target)
        after = request.after if request.after in doc.graph else None
        if after is not None and (corner := doc.position(after)) is not None:
            pos = (corner[0], corner[1] + height + BELOW_GAP)
        else:
            after = None
            pos = (at.x() - width / 2, at.y() - height / 2)
        return editing.add_after(doc, type_id, _rounded(pos), after)


def _rounded(pos: tuple[float, float]) -> tuple[float, float]:
    return round(pos[0], 1), round(pos[1], 1)


def _output_shape(view: CanvasView, node: str, port: str) -> tuple[int, ...] | None:
    result = view.document.result.nodes.get(node)
    if result is None or not result.outputs:
        return None
    return result.outputs.get(port)


def _shape_text(shape: tuple[int, ...] | None) -> str:
    return "output" if shape is None else "×".join(str(s) for s in shape)
