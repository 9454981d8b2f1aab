"""The comparison window of a finished experiment: the variants side by side.

A table (variant, parameters, best validation accuracy, median seconds per epoch, run folder), the validation
accuracy and loss per epoch of every variant, and what the experiment is about: the first
layer's filters (dropout) or the gradient norm of every layer on a log scale (activations).
Everything is read from the run folders (metrics.jsonl, result.json, lesson_measure.json);
what is kept for the tests: ``curves``, ``losses``, ``norms``, ``filters``, ``seconds``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.lessons.experiments import Experiment
from engine.lessons.measure import read_measure
from engine.training.runs import read_metrics

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
ZOOM = 12  # screen pixels per filter weight


def filter_image(filters: list[Any]) -> np.ndarray:
    """The filters (out × kh × kw) side by side, each scaled to 0-255 on its own, one dark
    column between them: a uint8 array (kh, out·(kw + 1) − 1)."""
    stack = np.asarray(filters, dtype=np.float64)
    tiles = []
    for f in stack:
        low, high = float(f.min()), float(f.max())
        tiles.append((f - low) / (high - low) * 255 if high > low else np.full_like(f, 128))
        tiles.append(np.zeros((f.shape[0], 1)))
    return np.hstack(tiles[:-1]).astype(np.uint8)


def _pixmap(image: np.ndarray) -> QPixmap:
    data = np.ascontiguousarray(np.kron(image, np.ones((ZOOM, ZOOM), dtype=np.uint8)))
    h, w = data.shape
    qimage = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(qimage.copy())


def _result(run: str) -> dict[str, Any]:
    try:
        data = json.loads((Path(run) / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class CompareWindow(QDialog):
    """The variants of one experiment, side by side."""

    def __init__(
        self,
        experiment: Experiment,
        results: list[dict[str, Any]],
        parent: QWidget | None = None,
        note: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("lesson_compare")
        self.setWindowTitle(f"Experiment: {experiment.title}")
        self.experiment, self.results = experiment, results
        self.curves: dict[str, list[float]] = {}
        self.losses: dict[str, list[float]] = {}
        self.norms: dict[str, dict[str, float]] = {}
        self.filters: dict[str, np.ndarray] = {}
        self.seconds: dict[str, float] = {}  # the median seconds per epoch of each variant
        layout = QVBoxLayout(self)
        self.note = QLabel(note, self)  # which design was trained, on which data set
        self.note.setObjectName("compare_note")
        self.note.setWordWrap(True)
        self.note.setVisible(bool(note))
        layout.addWidget(self.note)
        self.table = QTableWidget(len(results), 5, self)
        self.table.setObjectName("compare_table")
        self.table.setHorizontalHeaderLabels(
            ["Variant", "Parameters", "Best val accuracy", "Seconds per epoch", "Run folder"]
        )
        self.table.horizontalHeaderItem(3).setToolTip(
            "The median of the epochs' times in metrics.jsonl (the first epoch of a process "
            "also loads torch and the data)"
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.table)
        plots = QHBoxLayout()
        # accuracy rises to the top right: its legend goes to the bottom right
        self.accuracy_plot = self._plot("Validation accuracy", "epoch", (-10, -10))
        self.loss_plot = self._plot("Validation loss", "epoch")
        plots.addWidget(self.accuracy_plot)
        plots.addWidget(self.loss_plot)
        layout.addLayout(plots)
        self.norm_plot: pg.PlotWidget | None = None
        if "grad_norms" in experiment.shows:
            self.norm_plot = self._plot("Gradient norm per layer (log scale)", "layer")
            self.norm_plot.setLogMode(False, True)
            layout.addWidget(self.norm_plot)
        self.filter_row = QHBoxLayout()
        layout.addLayout(self.filter_row)
        for row, record in enumerate(results):
            self._add(row, record)
        self._fit_table()
        self._headroom()
        self.resize(1100, 800 if self.norm_plot is not None else 680)

    def _headroom(self) -> None:
        """Gradient norms grow towards the output, where the legend is: the log axis goes
        1.5 decades above the largest, so the legend sits above every curve."""
        values = [v for norms in self.norms.values() for v in norms.values() if v > 0]
        if self.norm_plot is not None and values:
            low, high = math.log10(min(values)), math.log10(max(values))
            self.norm_plot.setYRange(low, high + 1.5, padding=0.05)

    def _fit_table(self) -> None:
        """Columns as wide as their contents and headers, the table as tall as its rows."""
        table = self.table
        table.resizeColumnsToContents()
        table.resizeRowsToContents()
        height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
        height += sum(table.rowHeight(row) for row in range(table.rowCount()))
        table.setFixedHeight(height + 2)

    def _plot(self, title: str, axis: str, legend: tuple[int, int] = (-10, 10)) -> pg.PlotWidget:
        plot = pg.PlotWidget(self, title=title)
        plot.setLabel("bottom", axis)
        plot.addLegend(offset=legend)
        plot.showGrid(x=True, y=True, alpha=0.2)
        return plot

    def _add(self, row: int, record: dict[str, Any]) -> None:
        label, run = str(record.get("label")), record.get("run")
        colour = COLOURS[row % len(COLOURS)]
        result = _result(run) if run else {}
        best = result.get("best_val_accuracy")
        cells = [
            label,
            f"{record['params']:,}" if isinstance(record.get("params"), int) else "?",
            f"{best:.1%}" if isinstance(best, int | float) else record.get("message") or "?",
            "?",
            str(run or ""),
        ]
        metrics = [m for m in read_metrics(run) if m.get("val_accuracy") is not None] if run else []
        times = [float(m["seconds"]) for m in metrics if isinstance(m.get("seconds"), int | float)]
        if times:
            self.seconds[label] = float(np.median(times))
            cells[3] = f"{self.seconds[label]:.2f}"
        for column, text in enumerate(cells):
            self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.item(row, 0).setForeground(QColor(colour))  # the colour of its curves
        if not run:
            return
        epochs = [float(m["epoch"]) for m in metrics]
        self.curves[label] = [float(m["val_accuracy"]) for m in metrics]
        self.losses[label] = [float(m["val_loss"]) for m in metrics]
        pen = pg.mkPen(colour, width=2)
        marks = {"symbolBrush": colour, "symbolPen": colour}
        self.accuracy_plot.plot(
            epochs, self.curves[label], pen=pen, symbol="o", name=label, **marks
        )
        self.loss_plot.plot(epochs, self.losses[label], pen=pen, symbol="o", name=label, **marks)
        measure = read_measure(run) or {}
        norms = measure.get("grad_norms") or {}
        if self.norm_plot is not None and norms:
            self.norms[label] = {str(k): float(v) for k, v in norms.items()}
            values = [max(v, 1e-12) for v in self.norms[label].values()]
            self.norm_plot.plot(
                list(range(len(values))), values, pen=pen, symbol="s", name=label, **marks
            )
            ticks = [list(enumerate(self.norms[label]))]
            self.norm_plot.getAxis("bottom").setTicks(ticks)
        if "filters" in self.experiment.shows and measure.get("filters"):
            self.filters[label] = filter_image(measure["filters"])
            box = QVBoxLayout()
            title = QLabel(f"{label}: {measure.get('filters_of')} filters", self)
            picture = QLabel(self)
            picture.setObjectName(f"filters_{row}")
            picture.setPixmap(_pixmap(self.filters[label]))
            picture.setAlignment(Qt.AlignmentFlag.AlignLeft)
            box.addWidget(title)
            box.addWidget(picture)
            self.filter_row.addLayout(box)
