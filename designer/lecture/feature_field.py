"""Receptive fields on the Feature maps page (issue 18, point 3): clicking a unit of a feature
map outlines, on the input image beside it, the input pixels that unit sees.

The field comes from ``engine.analysis.receptive_field`` for the design open in the page's
window, its box on the image from ``engine.analysis.unit_field`` (exact for that unit); the
layer shown (a module path of the compiled network) is matched to its block. The page keeps
the ``FeatureMaps`` it shows last in ``shown``; the mosaic's tiles are laid out by
``designer.training.images.tile`` (near-square grid, ``PAD`` pixels apart).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QObject, QPointF, QRectF
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from designer.lecture.step_field import padding_words, unit_box, unit_size
from designer.training.images import PAD, grid_shape
from engine import DesignerError
from engine.analysis.receptive_field import receptive_fields
from engine.identifiers import distinct_module_paths


def mosaic_unit(shape: tuple[int, ...], x: float, y: float) -> tuple[int, int, int] | None:
    """(map, row, col) under mosaic pixel (x, y) for maps of ``shape`` (C×H×W), None on a
    grid line or outside (a flat layer has no spatial units)."""
    if len(shape) != 3:
        return None
    n, h, w = min(shape[0], 64), shape[1], shape[2]
    rows, cols = grid_shape(n)
    tx, ty = math.floor(x) - PAD, math.floor(y) - PAD
    if tx < 0 or ty < 0:
        return None
    col, inner_x = divmod(tx, w + PAD)
    row, inner_y = divmod(ty, h + PAD)
    index = row * cols + col
    if col >= cols or row >= rows or index >= n or inner_x >= w or inner_y >= h:
        return None
    return index, inner_y, inner_x


def block_of(layer: str, graph: Any) -> str | None:
    """The block whose compiled module path is ``layer``."""
    if layer in graph:
        return str(layer)
    names = list(graph.names())
    for name, path in distinct_module_paths(names).items():
        if path == layer:
            return str(name)
    return None


class FeatureField(QObject):
    """Follows clicks on ``page.maps`` and draws the field on ``page.input``."""

    def __init__(self, page: Any) -> None:
        super().__init__(page)
        self.page = page
        self.unit: tuple[int, int, int] | None = None
        self.box: tuple[int, int, int, int] | None = None
        self.text = ""
        self.rect = QGraphicsRectItem()
        self.rect.setPen(QPen(QColor(123, 31, 162), 0))
        self.rect.setZValue(10)
        self.rect.hide()
        page.input.box.addItem(self.rect)
        page.maps.view.scene().sigMouseClicked.connect(self._clicked)
        page.layer.currentTextChanged.connect(lambda _name: self.clear())

    def clear(self) -> None:
        self.unit, self.box, self.text = None, None, ""
        self.rect.hide()

    def _clicked(self, event: Any) -> None:
        at = self.page.maps.item.mapFromScene(event.scenePos())
        self.click_mosaic(at.x(), at.y())

    def click_mosaic(self, x: float, y: float) -> None:
        """Show the field of the unit under mosaic pixel (x, y)."""
        fm = getattr(self.page, "shown", None)
        document = getattr(self.page.window(), "document", None)
        if fm is None or document is None:
            return
        unit = mosaic_unit(tuple(fm.maps.shape), x, y)
        if unit is None:
            return
        node = block_of(fm.layer, document.graph)
        try:
            fields = receptive_fields(document.graph, document.result) if node else {}
        except (DesignerError, KeyError, ValueError, ZeroDivisionError):
            fields = {}
        field = fields.get(node) if node else None
        self.unit = unit
        if field is None:
            self.box, self.text = None, f"{fm.layer}: receptive field unknown for this layer"
            self.rect.hide()
        else:
            size = (int(fm.image.shape[1]), int(fm.image.shape[2]))
            self.box, exact = unit_box(document, str(node), field, (unit[1], unit[2]), size)
            h, w = unit_size(field, exact)
            self.text = (
                f"map {unit[0]}, unit ({unit[1]}, {unit[2]}): a {h}×{w} receptive field"
                + padding_words(exact)
            )
            if self.box is not None:
                r0, c0, r1, c1 = self.box
                self.rect.setRect(QRectF(QPointF(c0, r0), QPointF(c1 + 1, r1 + 1)))
                self.rect.show()
        self.page.input.caption.setText(self.text)
