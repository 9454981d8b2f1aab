"""A titled grid of numbers for the lecture views: each cell coloured by its value (blue
negative, red positive) with the value written when the cell is large enough.

Large grids are cut to a window of ``MAX_SIDE`` cells a side by :func:`window_of`, which says
so; the view shows the note. Clicking a cell emits ``clicked(row, col)`` (grid coordinates).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from designer.lecture.step_canvas import value_text

MAX_SIDE = 16


def window_of(grid: np.ndarray, what: str, side: int = MAX_SIDE) -> tuple[np.ndarray, str]:
    """The top-left ``side``×``side`` window of a 2-D grid and a note when it was cut."""
    arr = np.asarray(grid, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    h, w = arr.shape
    if max(h, w) <= side:
        return arr, ""
    note = (
        f"{what} is {h}×{w}, too large to draw cell by cell: its top-left "
        f"{min(h, side)}×{min(w, side)} window is shown."
    )
    return arr[:side, :side], note


def vector_grid(values: np.ndarray, width: int = 8) -> np.ndarray:
    """A vector laid out in rows of ``width`` (NaN pads the last row)."""
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    rows = -(-flat.size // width) if flat.size else 1
    out = np.full(rows * width, np.nan)
    out[: flat.size] = flat
    return out.reshape(rows, width)


def fill(value: float, scale: float) -> QColor:
    if not np.isfinite(value) or scale <= 0:
        return QColor(255, 255, 255, 0)
    t = min(1.0, abs(value) / scale)
    alpha = int(40 + 160 * t) if value else 0
    return QColor(229, 57, 53, alpha) if value > 0 else QColor(30, 136, 229, alpha)


class GridPanel(QWidget):
    """One grid with its title; ``grid`` is what is drawn (tests read it)."""

    clicked = Signal(int, int)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.grid = np.zeros((0, 0))
        self.marked: set[tuple[int, int]] = set()
        self.box: tuple[int, int, int, int] | None = None  # rows r0..r1, cols c0..c1 outlined
        self.min_cell = 4.0
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_grid(self, grid: np.ndarray | None, marked: set[tuple[int, int]] | None = None) -> None:
        self.grid = np.zeros((0, 0)) if grid is None else np.asarray(grid, dtype=np.float64)
        if self.grid.ndim == 1:
            self.grid = self.grid[None]
        self.marked = set(marked or ())
        self.update()

    def _cell(self) -> float:
        rows, cols = self.grid.shape if self.grid.size else (1, 1)
        top = self.fontMetrics().height() + 6
        return max(
            self.min_cell, min(40.0, (self.width() - 4) / cols, (self.height() - top - 4) / rows)
        )

    def cell_rect(self, row: int, col: int) -> QRectF:
        cell = self._cell()
        top = self.fontMetrics().height() + 6
        return QRectF(2 + col * cell, top + row * cell, cell, cell)

    def shown_title(self) -> str:
        """The title on one line, elided ("…") when the panel is narrower than it; the full
        title is the tooltip."""
        if self.toolTip() != self.title:
            self.setToolTip(self.title)
        return self.fontMetrics().elidedText(
            self.title, Qt.TextElideMode.ElideRight, max(0, self.width() - 4)
        )

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        text = self.palette().text().color()
        painter.setPen(text)
        painter.drawText(
            QRectF(2, 0, self.width() - 2, self.fontMetrics().height() + 4), self.shown_title()
        )
        if not self.grid.size:
            return
        finite = self.grid[np.isfinite(self.grid)]
        scale = float(np.max(np.abs(finite))) if finite.size else 0.0
        cell = self._cell()
        font = painter.font()
        font.setPixelSize(max(6, min(12, int(cell * 0.32))))
        painter.setFont(font)
        grid_pen = QPen(self.palette().mid().color())
        rows, cols = self.grid.shape
        for r in range(rows):
            for c in range(cols):
                value = float(self.grid[r, c])
                rect = self.cell_rect(r, c)
                if not np.isfinite(value):
                    continue
                painter.fillRect(rect, fill(value, scale))
                painter.setPen(grid_pen)
                painter.drawRect(rect)
                if cell >= 22:
                    painter.setPen(text)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, value_text(value))
        painter.setPen(QPen(QColor(255, 143, 0), 3))
        for r, c in self.marked:
            painter.drawRect(self.cell_rect(r, c))
        if self.box is not None:
            r0, c0, r1, c1 = self.box
            painter.setPen(QPen(QColor(123, 31, 162), 3))
            painter.drawRect(self.cell_rect(r0, c0).united(self.cell_rect(r1, c1)))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        cell = self._cell()
        top = self.fontMetrics().height() + 6
        col = int((event.position().x() - 2) // cell)
        row = int((event.position().y() - top) // cell)
        rows, cols = self.grid.shape
        if 0 <= row < rows and 0 <= col < cols:
            self.clicked.emit(row, col)
