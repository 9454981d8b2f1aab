"""The step-through's drawing: input grid, kernel and output grid, painted in one widget.

Everything is read from a :class:`StepModel`; nothing here computes a number. Window operations:
the padded input (padding shaded), the window's cells (with dilation: cells apart), the kernel,
the output filled up to the current step and the current step's arithmetic written below.
Scatter operations: the input cell read, the kernel, and the output cells it writes (for a
transposed convolution the uncropped output with the final crop outlined).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from designer.lecture.step_model import StepModel
from engine.lecture.steps_types import ScatterStep, WindowStep

WINDOW = QColor(255, 167, 38, 150)
CHOSEN = QColor(211, 47, 47)
WRITTEN = QColor(129, 199, 132)
CURRENT = QColor(25, 118, 210)
PADDING = QColor(224, 224, 224)
TEXT_ROWS = 3


def value_text(value: float) -> str:
    if math.isinf(value):
        return "−∞" if value < 0 else "∞"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}"


def _factor(value: float) -> str:
    """A factor of a product: negatives in brackets, "2×(−1)"."""
    text = value_text(value).replace("-", "−")
    return f"({text})" if text.startswith("−") else text


class StepCanvas(QWidget):
    """Paints the model's grids; ``model`` may change (call ``update``). Clicking an output
    cell emits ``output_clicked(row, col)``; ``field_cells`` (padded-input coordinates) are
    outlined: the window that output cell reads."""

    output_clicked = Signal(int, int)

    def __init__(self, model: StepModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.field_cells: set[tuple[int, int]] = set()
        self.setMinimumSize(520, 300)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ----- geometry ----------------------------------------------------------------------
    def _panels(self) -> list[tuple[str, np.ndarray]]:
        model = self.model
        left = model.padded_grid()
        panels: list[tuple[str, np.ndarray]] = []
        if left is not None:
            panels.append(("Input (padded)" if not model.scatter else "Input", left))
        if model.kernel is not None:
            panels.append(("Kernel", model.kernel))
        out = model.output_grid()
        if out is not None:
            label = "Output (uncropped)" if model.type_id == "conv_transpose2d" else "Output"
            panels.append((label, out))
        return panels

    def _cell_size(self, panels: list[tuple[str, np.ndarray]]) -> float:
        cols = sum(grid.shape[1] for _, grid in panels) + 1.5 * (len(panels) - 1)
        rows = max(grid.shape[0] for _, grid in panels)
        text = (TEXT_ROWS + 1.5) * self.fontMetrics().height()
        fit_w = (self.width() - 20) / max(cols, 1)
        fit_h = (self.height() - text - 20) / max(rows, 1)
        return max(4.0, min(44.0, fit_w, fit_h))

    def placed(self) -> tuple[list[tuple[str, np.ndarray, float, float]], float]:
        """Each panel with its top-left corner, and the cell size."""
        panels = self._panels()
        if not panels:
            return [], 1.0
        cell = self._cell_size(panels)
        top = 8 + self.fontMetrics().height()
        out, x = [], 10.0
        for title, grid in panels:
            out.append((title, grid, x, float(top)))
            x += (grid.shape[1] + 1.5) * cell
        return out, cell

    def output_cell_centre(self, row: int, col: int) -> tuple[float, float] | None:
        """Where output cell (row, col) is drawn (tests click there)."""
        placed, cell = self.placed()
        for title, _grid, x, top in placed:
            if title.startswith("Output"):
                return (x + (col + 0.5) * cell, top + (row + 0.5) * cell)
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        placed, cell = self.placed()
        at = event.position()
        for title, grid, x, top in placed:
            if not title.startswith("Output"):
                continue
            col, row = int((at.x() - x) // cell), int((at.y() - top) // cell)
            if 0 <= row < grid.shape[0] and 0 <= col < grid.shape[1] and at.x() >= x:
                self.output_clicked.emit(row, col)

    # ----- painting ----------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        model = self.model
        if model.result is None:
            painter.drawText(
                self.rect().adjusted(10, 10, -10, -10),
                Qt.TextFlag.TextWordWrap,
                model.error or "Nothing to show.",
            )
            return
        placed, cell = self.placed()
        line = self.fontMetrics().height()
        font = QFont(self.font())
        font.setPixelSize(max(6, min(14, int(cell * 0.4))))
        step = model.current
        for title, grid, x, top in placed:
            painter.setPen(self.palette().text().color())
            painter.setFont(self.font())
            painter.drawText(QRectF(x, 4, grid.shape[1] * cell + 60, line), title)
            painter.setFont(font)
            self._grid(painter, title, grid, x, top, cell, step)
            if title.startswith("Input") and self.field_cells:
                painter.setPen(QPen(QColor(123, 31, 162), 3))
                for r, c in self.field_cells:
                    painter.drawRect(QRectF(x + c * cell, top + r * cell, cell, cell))
        painter.setFont(self.font())
        painter.setPen(self.palette().text().color())
        text_top = self.height() - (TEXT_ROWS + 0.5) * line
        painter.drawText(
            QRectF(10, text_top, self.width() - 20, TEXT_ROWS * line),
            Qt.TextFlag.TextWordWrap,
            self.arithmetic(),
        )

    def _grid(
        self,
        painter: QPainter,
        title: str,
        grid: np.ndarray,
        x0: float,
        y0: float,
        cell: float,
        step: WindowStep | ScatterStep | None,
    ) -> None:
        model = self.model
        rows, cols = grid.shape
        fills: dict[tuple[int, int], QColor] = {}
        outlined: set[tuple[int, int]] = set()
        shown: dict[tuple[int, int], float] | None = None
        if title.startswith("Input") and model.result is not None and not model.scatter:
            top, left = model.result.pad
            h, w = model.input_grid.shape if model.input_grid is not None else (rows, cols)
            for r in range(rows):
                for c in range(cols):
                    if not (top <= r < top + h and left <= c < left + w):
                        fills[(r, c)] = PADDING
        if title.startswith("Output"):
            shown = model.shown_output()
            for key in shown:
                fills[key] = WRITTEN
        if isinstance(step, WindowStep):
            if title.startswith("Input"):
                for i, (_, r, c) in enumerate(step.cells):
                    fills[(r, c)] = WINDOW
                    if step.chosen == i:
                        outlined.add((r, c))
            elif title.startswith("Output"):
                outlined.add((step.output[1], step.output[2]))
        elif isinstance(step, ScatterStep):
            if title.startswith("Input"):
                fills[(step.source[1], step.source[2])] = WINDOW
            elif title.startswith("Output"):
                for _, r, c in step.targets:
                    outlined.add((r, c))
        if title == "Kernel" and step is not None:
            for r in range(rows):
                for c in range(cols):
                    fills[(r, c)] = WINDOW
        grid_pen = QPen(self.palette().mid().color())
        for r in range(rows):
            for c in range(cols):
                rect = QRectF(x0 + c * cell, y0 + r * cell, cell, cell)
                if (r, c) in fills:
                    painter.fillRect(rect, fills[(r, c)])
                painter.setPen(grid_pen)
                painter.drawRect(rect)
                if shown is not None and (r, c) not in shown:
                    continue  # not written yet
                value = shown[(r, c)] if shown is not None else float(grid[r, c])
                if cell >= 16:
                    painter.setPen(self.palette().text().color())
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, value_text(value))
        for r, c in outlined:
            colour = CURRENT if title.startswith("Output") else CHOSEN
            painter.setPen(QPen(colour, 3))
            painter.drawRect(QRectF(x0 + c * cell, y0 + r * cell, cell, cell))
        if title == "Output (uncropped)" and model.result is not None:
            top, left = model.result.pad
            out = np.asarray(model.result.output)
            pen = QPen(CURRENT, 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(
                QRectF(x0 + left * cell, y0 + top * cell, out.shape[2] * cell, out.shape[1] * cell)
            )

    # ----- the words under the grids -----------------------------------------------------
    def arithmetic(self) -> str:
        """The current step written out: the products and their sum, the maximum, the mean."""
        model = self.model
        step = model.current
        if step is None:
            return "Press Step or Play to move the window."
        if isinstance(step, ScatterStep):
            where = f"input[{step.source[1]}, {step.source[2]}] = {value_text(step.value)}"
            if model.type_id == "maxunpool2d":
                r, c = step.targets[0][1:]
                return f"{where} lands at output[{r}, {c}] (its max pooling index)."
            inside = sum(step.inside)
            return (
                f"{where}; × each kernel value, added into {len(step.targets)} output cells "
                f"({inside} inside the cropped output): "
                + ", ".join(value_text(a) for a in step.added)
            )
        r, c = step.output[1], step.output[2]
        head = f"output[{r}, {c}] = "
        if step.reduction == "sum":
            terms = [
                f"{_factor(v)}×{_factor(k)}" for v, k in zip(step.values, step.kernel, strict=True)
            ]
            return head + " + ".join(terms) + f" = {value_text(step.written)}"
        values = ", ".join(value_text(v) for v in step.values)
        if step.reduction == "max":
            return head + f"max({values}) = {value_text(step.written)}"
        if step.reduction == "mean":
            total = value_text(float(np.sum(step.values)))
            divisor = value_text(step.divisor or 1.0)
            return head + f"({total}) / {divisor} = {value_text(step.written)}"
        return head + f"LP of ({values}) = {value_text(step.written)}"
