"""Overlays drawn on blocks without touching the blocks' own painting: one child item per
block, kept in step with the scene's node items (which the scene replaces on a rename or a new
project). ``NodeOverlays`` does the bookkeeping; ``PreviewBadge`` is the live preview's badge
beside a block (a thumbnail of its output, mean and spread, a dead or saturated mark).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.canvas import style
from designer.canvas.style import look

BADGE_WIDTH = 100.0
BADGE_GAP = 8.0
MARK_COLOURS = {"dead": style.ERROR_COLOUR, "saturated": style.WARNING_COLOUR}


class NodeOverlays:
    """Child items of the scene's node items (or collapsed groups' items), one per block (or
    group) that has a payload."""

    def __init__(
        self, scene: Any, make: Callable[[Any, Any], QGraphicsItem], source: str = "nodes"
    ) -> None:
        self.scene = scene
        self.make = make  # (node item, payload) -> a new overlay item parented to it
        self.source = source  # the scene's items to follow: "nodes", or "groups" (collapsed)
        self.items: dict[str, QGraphicsItem] = {}
        self.payloads: dict[str, Any] = {}

    def show(self, payloads: dict[str, Any]) -> None:
        """Overlay exactly the blocks of ``payloads`` (others lose theirs)."""
        self.payloads = dict(payloads)
        self.sync()

    def sync(self) -> None:
        """Follow the scene: an overlay per block with a payload, on its current node item."""
        nodes = getattr(self.scene, self.source)
        for name in list(self.items):
            item = self.items[name]
            node = nodes.get(name)
            if name not in self.payloads or node is None or item.parentItem() is not node:
                self._drop(name)
        for name, payload in self.payloads.items():
            node = nodes.get(name)
            if node is None:
                continue
            item = self.items.get(name)
            if item is None:
                self.items[name] = self.make(node, payload)
            else:
                item.set_payload(payload)  # type: ignore[attr-defined]

    def clear(self) -> None:
        self.show({})

    def _drop(self, name: str) -> None:
        item = self.items.pop(name)
        if not shiboken6.isValid(item):  # went with its parent (a collapsed group expanded)
            return
        scene = item.scene()
        item.setParentItem(None)
        if scene is not None:
            scene.removeItem(item)


class PreviewBadge(QGraphicsItem):
    """Beside a block: its output's first channels, "μ … σ …", and a mark when dead or
    saturated (a red or orange frame and the word)."""

    def __init__(self, node: QGraphicsItem, preview: Any) -> None:
        super().__init__(node)
        self.height = float(getattr(node, "rect", QRectF(0, 0, 180, 62)).height())
        self.setPos(float(node.rect.width()) + BADGE_GAP, 0.0)  # type: ignore[attr-defined]
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.preview: Any = None
        self.image = QImage()
        self.set_payload(preview)

    def set_payload(self, preview: Any) -> None:
        if preview is self.preview:
            return
        self.preview = preview
        thumb = preview.thumb
        height, width = thumb.shape
        self.image = QImage(
            thumb.tobytes(), width, height, width, QImage.Format.Format_Grayscale8
        ).copy()  # owns its pixels (the bytes object goes away)
        shape = "×".join(str(s) for s in preview.shape)
        mark = f"\n{preview.mark.upper()}" if preview.mark else ""
        self.setToolTip(
            f"Live preview of one sample: output {shape}\nmean {preview.mean:.6g}, "
            f"std {preview.std:.6g}{mark}"
        )
        self.update()

    @property
    def text(self) -> str:
        """The line under the thumbnail."""
        p = self.preview
        return p.mark if p.mark else f"μ {p.mean:.2g} σ {p.std:.2g}"

    def boundingRect(self) -> QRectF:
        return QRectF(-1, -1, BADGE_WIDTH + 2, self.height + 2)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lk = look()
        rect = QRectF(0, 0, BADGE_WIDTH, self.height)
        colour = MARK_COLOURS.get(self.preview.mark)
        painter.setPen(QPen(QColor(colour), 2.2) if colour else lk.border)
        painter.setBrush(lk.label_fill)
        painter.drawRoundedRect(rect, 4, 4)
        if not style.detail_shown(painter):
            return
        image_box = rect.adjusted(4, 4, -4, -18)
        if not self.image.isNull():
            scale = min(
                image_box.width() / self.image.width(), image_box.height() / self.image.height()
            )
            w, h = self.image.width() * scale, self.image.height() * scale
            target = QRectF(image_box.center().x() - w / 2, image_box.top(), w, h)
            painter.drawImage(target, self.image)
        if style.readable(painter, style.SMALL_PX):
            painter.setFont(lk.small)
            painter.setPen(QPen(QColor(colour)) if colour else lk.text)
            painter.drawText(
                rect.adjusted(4, 0, -4, -3),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                self.text,
            )
