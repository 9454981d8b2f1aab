"""Notes on the canvas: items that follow the project's notes (``engine.notes``).

The engine's ``Notes`` is the source of truth; ``NotesLayer`` builds one ``NoteItem`` per note and
follows the collection's events, so undo, redo and opening a file simply show up. Gestures edit
through the document (one undo step each): ``MoveNotes`` drags selected notes, a double-click
edits the text in a dialog, Delete removes the selected notes with the selected blocks, and the
canvas menu offers "Add note here".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.canvas import style
from designer.canvas.interactions import Interaction
from designer.canvas.items import NODE_Z
from engine import DesignerError
from engine.notes import Note

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene

NOTE_Z = NODE_Z - 1.0  # under the blocks, over wires and group frames
NOTE_FILL = QColor("#fff4b8")
NOTE_BORDER = QColor("#c9b458")
NOTE_TEXT = QColor("#3b3320")
NEW_NOTE_TEXT = "Note: double-click to edit"


class NoteItem(QGraphicsItem):
    """One note: a pale yellow card with its text wrapped inside."""

    def __init__(self, note: Note) -> None:
        super().__init__()
        self.note_id = note.id
        self.text = ""
        self.rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(NOTE_Z)
        self.show_note(note)

    def show_note(self, note: Note) -> None:
        """Show ``note``'s text, place and size."""
        rect = QRectF(0, 0, note.width, note.height)
        if rect != self.rect:
            self.prepareGeometryChange()
            self.rect = rect
        self.text = note.text
        self.setToolTip(note.text)
        self.setPos(QPointF(note.x, note.y))
        self.update()

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-2, -2, 2, 2)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lk = style.look()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = lk.selected if self.isSelected() else QPen(NOTE_BORDER, 1.2)
        painter.setPen(border)
        painter.setBrush(NOTE_FILL)
        painter.drawRoundedRect(self.rect, 4, 4)
        if not style.readable(painter, style.BODY_PX):
            return
        painter.setPen(NOTE_TEXT)
        painter.setFont(lk.body)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.drawText(self.rect.adjusted(8, 6, -8, -6), int(flags), self.text)


class NotesLayer:
    """The note items of a scene, kept in step with the document's notes."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.items: dict[str, NoteItem] = {}
        self._notes: Any = None
        self._hooks: dict[Any, Any] = {}

    def rebuild(self) -> None:
        """Build every note item again (the scene was cleared: a project was opened)."""
        notes = self.scene.document.project.notes
        if notes is not self._notes:
            for event, hook in self._hooks.items():
                event.disconnect(hook)
            self._notes = notes
            self._hooks = {
                notes.events.note_added: lambda note, _i: self._show(note),
                notes.events.note_removed: lambda note, _i: self._drop(note.id),
                notes.events.note_changed: lambda new, _old: self._show(new),
            }
            for event, hook in self._hooks.items():
                event.connect(hook)
        self.items = {}  # the scene's clear() deleted the old items
        for note in notes:
            self._show(note)

    def _show(self, note: Note) -> None:
        item = self.items.get(note.id)
        if item is None:
            item = self.items[note.id] = NoteItem(note)
            self.scene.addItem(item)
        else:
            item.show_note(note)

    def _drop(self, note_id: str) -> None:
        item = self.items.pop(note_id, None)
        if item is not None:
            self.scene.removeItem(item)

    def selected_ids(self) -> list[str]:
        """The ids of the selected notes."""
        return [note_id for note_id, item in self.items.items() if item.isSelected()]


class MoveNotes(Interaction):
    """Drag the selected notes; one undo step ("Move note") when released."""

    def __init__(self, scene: CanvasScene, press: QPointF, clicked: NoteItem, toggle: bool) -> None:
        super().__init__(scene)
        if toggle:
            clicked.setSelected(not clicked.isSelected())
        elif not clicked.isSelected():
            scene.select_items([clicked])
        self.press = press
        self.items = [i for i in scene.selectedItems() if isinstance(i, NoteItem)]
        self.starts = {item: item.pos() for item in self.items}
        self.dragging = False

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        delta = event.scenePos() - self.press
        if not self.dragging:
            if QLineF(QPointF(), delta).length() < QApplication.startDragDistance():
                return
            self.dragging = True
        for item, start in self.starts.items():
            item.setPos(start + delta)

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        if not self.dragging:
            return
        delta = event.scenePos() - self.press
        notes = self.scene.document.project.notes
        positions = {
            item.note_id: (round((s + delta).x(), 1), round((s + delta).y(), 1))
            for item, s in self.starts.items()
            if item.note_id in notes
        }
        if positions:
            self.scene.document.move_notes(positions)

    def cancel(self) -> None:
        for item, start in self.starts.items():
            item.setPos(start)


def edit_note(scene: CanvasScene, item: NoteItem, parent: QWidget | None = None) -> bool:
    """Ask for a note's new text (a multi-line dialog); returns whether it changed."""
    from PySide6.QtWidgets import QInputDialog

    notes = scene.document.project.notes
    if item.note_id not in notes:
        return False
    old = notes.get(item.note_id).text
    text, ok = QInputDialog.getMultiLineText(parent, "Edit note", "Note:", old)
    if not ok or text == old:
        return False
    try:
        scene.document.set_note_text(item.note_id, text)
    except DesignerError as error:
        scene.status_message.emit(f"Cannot edit the note: {error}")
        return False
    return True


def add_note(scene: CanvasScene, centre: QPointF, text: str = NEW_NOTE_TEXT) -> str:
    """Add a note centred on ``centre`` (scene coordinates) and select it; returns its id."""
    from engine.notes import DEFAULT_NOTE_SIZE

    width, height = DEFAULT_NOTE_SIZE
    note_id = scene.document.add_note(text, (centre.x() - width / 2, centre.y() - height / 2))
    item = scene.notes.items.get(note_id)
    if item is not None:
        scene.select_items([item])
    return note_id


def note_actions(scene: CanvasScene, item: NoteItem, parent: QWidget | None) -> list[Any]:
    """What the context menu of a note offers."""
    if not item.isSelected():
        scene.select_items([item])
    return [
        ("Edit note…", lambda: edit_note(scene, item, parent)),
        ("Delete note", lambda: scene.document.remove_notes(scene.notes.selected_ids())),
    ]


def delete_with_notes(scene: CanvasScene, delete_blocks: Any) -> None:
    """Delete the selected notes together with what ``delete_blocks()`` deletes (the selected
    blocks and wires), as one undo step."""
    ids = scene.notes.selected_ids()
    doc = scene.document
    if not ids:
        delete_blocks()
        return
    if not doc.selection and not any(i.isSelected() for i in scene.edges.values()):
        doc.remove_notes(ids)
        return
    doc.undo_stack.beginMacro("Delete")
    try:
        delete_blocks()
        doc.remove_notes(ids)
    finally:
        doc.undo_stack.endMacro()
