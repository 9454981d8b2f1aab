"""The minimap's picture of a scene, drawn straight from the items' positions.

``QGraphicsScene.render`` asks every item to paint itself (a call into Python per block and per
port, with the painter's state saved around each): a quarter of a second for 5,000 blocks, once
after every edit. At the minimap's size a block is a patch of its colour and a wire a line, so
this draws them in a few batched calls: one ``drawLines`` for the wires, one ``drawRects`` per
colour for the boxes, outlines for expanded groups and patches for notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from designer.canvas.style import look

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene

NOTE_COLOUR = "#f6e7a1"


def box_colour(box: object) -> QColor:
    """A box's patch colour: the selection or its severity where marked, else its accent (as
    the items draw themselves at low detail)."""
    lk = look()
    if box.isSelected():  # type: ignore[attr-defined]
        return lk.selected.color()
    severity = box.content.severity  # type: ignore[attr-defined]
    if severity == "error":
        return lk.error.color()
    if severity == "warning":
        return lk.warning.color()
    return QColor(box.accent())  # type: ignore[attr-defined]


def draw_overview(painter: QPainter, scene: CanvasScene, source: QRectF, target: QRectF) -> None:
    """Draw ``source`` (scene coordinates) of ``scene`` into ``target`` (painter coordinates)."""
    painter.save()
    painter.translate(target.topLeft())
    painter.scale(target.width() / source.width(), target.height() / source.height())
    painter.translate(-source.topLeft())
    wire = QPen(look().wire.color(), 0)  # cosmetic: one pixel at any scale
    painter.setPen(wire)
    lines = [QLineF(e.source.anchor(), e.target.anchor()) for e in scene.edges.values()]
    if lines:
        painter.drawLines(lines)
    frame = QPen(look().frame.color(), 0)
    painter.setPen(frame)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for item in scene.frames.values():
        painter.drawRect(item.rect)
    patches: dict[int, tuple[QColor, list[QRectF]]] = {}
    for box in [*scene.nodes.values(), *scene.groups.values()]:
        colour = box_colour(box)
        key = colour.rgba()
        if key not in patches:
            patches[key] = (colour, [])
        patches[key][1].append(box.scene_rect())
    painter.setPen(Qt.PenStyle.NoPen)
    for colour, rects in patches.values():
        painter.setBrush(colour)
        painter.drawRects(rects)
    notes = [item.rect.translated(item.pos()) for item in scene.notes.items.values()]
    if notes:
        painter.setBrush(QColor(NOTE_COLOUR))
        painter.drawRects(notes)
    painter.restore()
