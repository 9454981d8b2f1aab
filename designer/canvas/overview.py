"""The minimap's picture of a scene, drawn straight from the items' positions.

``QGraphicsScene.render`` asks every item to paint itself (a call into Python per block and per
port, with the painter's state saved around each): a quarter of a second for 5,000 blocks, once
after every edit. At the minimap's size a block is a patch of its colour and a wire a line, so
this draws them in a few batched calls: one ``drawLines`` for the wires, one ``drawRects`` per
colour for the boxes, outlines for expanded groups and patches for notes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from designer.canvas.style import BACKGROUND, look

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene

NOTE_COLOUR = "#f6e7a1"


def box_patches(boxes: Iterable[Any]) -> dict[int, tuple[QColor, list[QRectF]]]:
    """The boxes' scene rectangles by the colour of their patch: the selection or the
    severity where marked, else the block's accent (as the items draw themselves at low
    detail)."""
    lk = look()
    selected, error, warning = lk.selected.color(), lk.error.color(), lk.warning.color()
    patches: dict[int, tuple[QColor, list[QRectF]]] = {}
    for box in boxes:
        if box.isSelected():
            colour = selected
        else:
            severity = box.content.severity
            colour = error if severity == "error" else warning if severity else box.accent()
        key = colour.rgba()
        entry = patches.get(key)
        if entry is None:
            entry = patches[key] = (colour, [])
        entry[1].append(box.rect.translated(box.pos()))
    return patches


def _at_least(rects: list[QRectF], pixel: float) -> list[QRectF]:
    """``rects``, those less than a pixel wide or high grown to one about their centre: the
    blocks of a long design are thinner than a pixel in its overview and would not show (nor
    the selected one among them)."""
    if not rects or min(min(r.width(), r.height()) for r in rects) >= pixel:
        return rects
    grown = []
    for r in rects:
        if r.width() < pixel or r.height() < pixel:
            centre = r.center()
            w, h = max(r.width(), pixel), max(r.height(), pixel)
            r = QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)
        grown.append(r)
    return grown


def draw_overview(painter: QPainter, scene: CanvasScene, source: QRectF, target: QRectF) -> None:
    """Draw ``source`` (scene coordinates) of ``scene`` into ``target`` (painter coordinates)."""
    _draw(
        painter,
        source,
        target,
        scene.edges.values(),
        scene.frames.values(),
        [*scene.nodes.values(), *scene.groups.values()],
        scene.notes.items.values(),
    )


def draw_region(
    painter: QPainter, scene: CanvasScene, source: QRectF, target: QRectF, region: QRectF
) -> None:
    """Draw again the part ``region`` (scene coordinates) of a picture ``draw_overview`` made
    with the same ``source`` and ``target``: that part cleared, then what lies in it."""
    from designer.canvas.edges import EdgeItem
    from designer.canvas.items import BoxItem, FrameItem
    from designer.canvas.notes import NoteItem

    edges: list[Any] = []
    frames: list[Any] = []
    boxes: list[Any] = []
    notes: list[Any] = []
    mode = Qt.ItemSelectionMode.IntersectsItemBoundingRect  # a wire's line lies in its box
    margin = 2 * source.width() / target.width()  # (patches grown to a pixel reach in)
    near = region.adjusted(-margin, -margin, margin, margin)
    for item in scene.items(near, mode):  # the scene's index: only what lies there
        if isinstance(item, EdgeItem):
            edges.append(item)
        elif isinstance(item, BoxItem):
            boxes.append(item)
        elif isinstance(item, FrameItem):
            frames.append(item)
        elif isinstance(item, NoteItem):
            notes.append(item)
    painter.save()
    _transform(painter, source, target)
    painter.setClipRect(region)
    painter.fillRect(region, QColor(BACKGROUND))
    painter.restore()
    _draw(painter, source, target, edges, frames, boxes, notes, clip=region)


def _transform(painter: QPainter, source: QRectF, target: QRectF) -> None:
    painter.translate(target.topLeft())
    painter.scale(target.width() / source.width(), target.height() / source.height())
    painter.translate(-source.topLeft())


def _draw(
    painter: QPainter,
    source: QRectF,
    target: QRectF,
    edges: Iterable[Any],
    frames: Iterable[Any],
    boxes: Iterable[Any],
    notes: Iterable[Any],
    clip: QRectF | None = None,
) -> None:
    painter.save()
    _transform(painter, source, target)
    if clip is not None:
        painter.setClipRect(clip)
    wire = QPen(look().wire.color(), 0)  # cosmetic: one pixel at any scale
    painter.setPen(wire)
    ends = [point for e in edges for point in e.ends]  # pairs: one line each
    if ends:
        painter.drawLines(ends)
    frame = QPen(look().frame.color(), 0)
    painter.setPen(frame)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for item in frames:
        painter.drawRect(item.rect)
    painter.setPen(Qt.PenStyle.NoPen)
    pixel = 1.0 / max(painter.deviceTransform().m11(), 1e-9)  # a device pixel, in scene units
    selected = look().selected.color().rgba()
    patches = box_patches(boxes)
    for key in sorted(patches, key=lambda key: key == selected):  # the selection on top
        colour, rects = patches[key]
        painter.setBrush(colour)
        painter.drawRects(_at_least(rects, pixel))
    notes = [item.rect.translated(item.pos()) for item in notes]
    if notes:
        painter.setBrush(QColor(NOTE_COLOUR))
        painter.drawRects(notes)
    painter.restore()
