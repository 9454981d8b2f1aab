"""Coloured outlines over canvas blocks: which blocks a design diff added, removed, changed or
rewired.

Each outline is a child item of the block's box (or of the collapsed group holding it), drawn
around it and above it, so it follows the box when it moves and goes with it when the scene is
rebuilt. Nothing of the design or of the canvas's own items changes; ``clear`` removes every
outline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from engine.diff import DesignDiff

if TYPE_CHECKING:
    from designer.canvas.items import BoxItem
    from designer.canvas.scene import CanvasScene

COLOURS = {  # kind -> outline colour
    "added": "#2ca02c",
    "removed": "#d62728",
    "changed": "#ff7f0e",
    "rewired": "#1f77b4",
}
PRIORITY = ("removed", "added", "changed", "rewired")  # a box marked twice shows the first
OUTLINE_WIDTH = 4.0
OUTLINE_GAP = 5.0  # between the box and its outline


def marks_of(diff: DesignDiff) -> tuple[dict[str, str], dict[str, str]]:
    """(marks on A's blocks, marks on B's blocks): block name -> kind in COLOURS."""
    new_of = dict(diff.renamed)
    old_of = {new: old for old, new in diff.renamed}
    a: dict[str, str] = {}
    b: dict[str, str] = {}
    for name in diff.removed:
        a[name] = "removed"
    for node in diff.added:
        b[node.name] = "added"
    touched = [c.node for c in diff.changed] + [r.node for r in diff.retyped]
    touched += [name for name, _old, _new in diff.regrouped]
    touched += [new for _old, new in diff.renamed]
    for name in touched:  # named as in B
        b.setdefault(name, "changed")
        a.setdefault(old_of.get(name, name), "changed")
    for src, _sp, dst, _dp in diff.wires_removed:  # named as in A
        for name in (src, dst):
            a.setdefault(name, "rewired")
            if new_of.get(name, name) not in b:
                b[new_of.get(name, name)] = "rewired"
    for src, _sp, dst, _dp in diff.wires_added:  # named as in B
        for name in (src, dst):
            b.setdefault(name, "rewired")
            if old_of.get(name, name) not in a:
                a[old_of.get(name, name)] = "rewired"
    return a, b


class Highlights:
    """The outlines shown on one scene."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene
        self.items: dict[str, QGraphicsPathItem] = {}  # box key -> its outline
        self.kinds: dict[str, str] = {}  # block name -> kind shown for it

    def show(self, marks: dict[str, str]) -> None:
        """Outline the blocks of ``marks`` (name -> kind); names not in the scene are skipped."""
        self.clear()
        chosen: dict[str, tuple[str, Any]] = {}  # box key -> (kind, box)
        for name, kind in marks.items():
            key, box = self._box(name)
            if box is None:
                continue
            self.kinds[name] = kind
            held = chosen.get(key)
            if held is None or PRIORITY.index(kind) < PRIORITY.index(held[0]):
                chosen[key] = (kind, box)
        for key, (kind, box) in chosen.items():
            self.items[key] = outline(box, kind)

    def kind_of_box(self, key: str) -> str | None:
        """The kind outlined on the box ``key`` ("node:NAME" or "group:NAME"), if any."""
        item = self.items.get(key)
        if item is None or not shiboken6.isValid(item):
            return None
        return str(item.data(0))

    def clear(self) -> None:
        for item in self.items.values():
            if shiboken6.isValid(item) and item.scene() is not None:
                item.scene().removeItem(item)
        self.items.clear()
        self.kinds.clear()

    def _box(self, name: str) -> tuple[str, BoxItem | None]:
        unit = self.scene.units.get(name)
        if unit is None:
            return "", None
        if unit[0] == "node":
            return f"node:{name}", self.scene.nodes.get(name)
        return f"group:{unit[1]}", self.scene.groups.get(unit[1])


def outline(box: BoxItem, kind: str) -> QGraphicsPathItem:
    """A coloured rounded outline around ``box``, as its child (kind kept as data 0)."""
    rect = QRectF(box.rect).adjusted(-OUTLINE_GAP, -OUTLINE_GAP, OUTLINE_GAP, OUTLINE_GAP)
    path = QPainterPath()
    path.addRoundedRect(rect, 8, 8)
    item = QGraphicsPathItem(path, box)
    pen = QPen(QColor(COLOURS[kind]), OUTLINE_WIDTH)
    pen.setStyle(Qt.PenStyle.DashLine if kind == "rewired" else Qt.PenStyle.SolidLine)
    item.setPen(pen)
    item.setBrush(Qt.BrushStyle.NoBrush)
    item.setData(0, kind)
    item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
    return item
