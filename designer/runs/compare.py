"""The run browser's comparison tabs for the selected runs: their curves overlaid (validation
accuracy and loss against epoch, step or wall time; repeats of one design and settings
optionally drawn as a mean ± std band), the settings that differ, and the design diff of two.

The curves are persistent pyqtgraph items, one pair per run (``curves``, by run folder) and one
set per group of repeats (``bands``, by group); each redraw only calls ``setData``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.training.settling import ChartSettler
from designer.training.widgets import COLOURS, PlotArea, readable_plot
from engine.experiments.repeats import bands as repeat_bands
from engine.experiments.run_compare import curve, settings_diff

X_AXES = {"epoch": "epoch", "step": "step", "time": "wall time (s)"}
PLOTTED = ("val_accuracy", "val_loss")
EPOCH_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 10**9)
Records = list[dict[str, Any]]


class CurvesTab(QWidget):
    """The overlaid curves of the selected runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.x_axis = QComboBox(self)
        self.x_axis.setObjectName("runs_x_axis")
        for key, label in X_AXES.items():
            self.x_axis.addItem(label, key)
        self.group = QCheckBox("Group repeats as mean ± std", self)
        self.group.setObjectName("runs_group_repeats")
        self.group.setToolTip(
            "Runs of one design and settings that differ only in their seed are drawn as one "
            "line (the mean per epoch) in a band of ± one standard deviation"
        )
        self.view = PlotArea(self)
        self.settler = ChartSettler(self)
        self.acc_plot = readable_plot(self.view, "Validation accuracy")
        self.acc_plot.addLegend(offset=(-10, -10))
        self.loss_plot = readable_plot(self.view, "Validation loss")
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.bands: dict[str, list[Any]] = {}  # group -> [mean, upper, lower, fill] × 2 plots
        self._colours: dict[str, int] = {}  # run folder or group -> its colour, kept
        bar = QHBoxLayout()
        bar.addWidget(QLabel("x axis:", self))
        bar.addWidget(self.x_axis)
        bar.addWidget(self.group)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self._label_axes()

    @property
    def x_key(self) -> str:
        return str(self.x_axis.currentData())

    def _label_axes(self) -> None:
        for plot in (self.acc_plot, self.loss_plot):
            plot.setLabel("bottom", X_AXES[self.x_key])

    def show_runs(
        self,
        runs: Sequence[tuple[str, str, str | None]],
        records: dict[str, Records],
        only: str | None = None,
    ) -> None:
        """Draw ``runs`` ((folder, name, repeat group)) from their ``records``; ``only``:
        update that run's items alone (a followed run's new epoch)."""
        self._label_axes()
        groups: dict[str, list[str]] = {}
        if self.group.isChecked():
            for path, _name, key in runs:
                if key is not None:
                    groups.setdefault(key, []).append(path)
            groups = {k: v for k, v in groups.items() if len(v) > 1}
        grouped = {p for members in groups.values() for p in members}
        single = [(path, name) for path, name, _ in runs if path not in grouped]
        self._drop(self.curves, {p for p, _ in single})
        self._drop(self.bands, set(groups))
        for path, name in single:
            if only is not None and path != only and path in self.curves:
                continue
            if path not in self.curves:
                pen = pg.mkPen(self._colour(path), width=2)
                self.curves[path] = (
                    self.acc_plot.plot(pen=pen, symbol="o", symbolSize=5, name=name),
                    self.loss_plot.plot(pen=pen, symbol="o", symbolSize=5),
                )
            for item, key in zip(self.curves[path], PLOTTED, strict=True):
                xs, ys = curve(records.get(path, []), key, self.x_key)
                item.setData(np.array(xs, dtype=float), np.array(ys, dtype=float), connect="finite")
        for key, members in groups.items():
            names = [name for path, name, _ in runs if path in members]
            self._draw_band(key, [records.get(p, []) for p in members], names)
        self._epoch_ticks(max((len(records.get(p, [])) for p, _n, _k in runs), default=0))
        self.settler.start(self.view)  # new ranges: the axes' widths settle before the paint

    def _epoch_ticks(self, epochs: int) -> None:
        """Against epoch, whole epochs only on the x axis (no 1.5); else pyqtgraph's ticks."""
        for plot in (self.acc_plot, self.loss_plot):
            axis = plot.getAxis("bottom")
            if self.x_key == "epoch" and epochs > 0:
                step = next(s for s in EPOCH_STEPS if epochs / s <= 10)
                axis.setTickSpacing(step, step)
            else:
                axis.setTickSpacing()

    def _colour(self, key: str) -> str:
        """A run's or group's colour: the same while it is shown; a new one takes the first
        colour no shown one has."""
        if key not in self._colours:
            used = set(self._colours.values())
            self._colours[key] = min(set(range(len(used) + 1)) - used)
        return COLOURS[self._colours[key] % len(COLOURS)]

    def _drop(self, items: dict[str, Any], keep: set[str]) -> None:
        for key in [k for k in items if k not in keep]:
            self._colours.pop(key, None)
            drawn = _flat(items.pop(key))  # the accuracy plot's items, then the loss plot's
            half = len(drawn) // 2
            for index, item in enumerate(drawn):
                (self.acc_plot if index < half else self.loss_plot).removeItem(item)

    def _draw_band(self, key: str, curves: list[Records], names: list[str]) -> None:
        """One group of repeats: mean per epoch and a band of ± one standard deviation."""
        colour_name = self._colour(key)
        if key not in self.bands:
            pen = pg.mkPen(colour_name, width=2)
            edge = pg.mkPen(colour_name, width=0.5)
            fill_colour = pg.mkColor(colour_name)
            fill_colour.setAlpha(60)
            brush = pg.mkBrush(fill_colour)
            items: list[Any] = []
            label = f"{len(names)} repeats ({names[0]} …)"
            for plot in (self.acc_plot, self.loss_plot):
                mean = plot.plot(pen=pen, symbol="o", symbolSize=5, name=label)
                upper, lower = plot.plot(pen=edge), plot.plot(pen=edge)
                fill = pg.FillBetweenItem(upper, lower, brush=brush)
                fill.setZValue(-10)
                plot.addItem(fill)
                items += [mean, upper, lower, fill]
            self.bands[key] = items
        rows = repeat_bands(curves, PLOTTED)
        items = self.bands[key]
        x = self._band_x(rows, curves)
        for offset, metric in ((0, PLOTTED[0]), (4, PLOTTED[1])):
            mean = np.array([r[metric]["mean"] if r[metric] else np.nan for r in rows], dtype=float)
            std = np.array([r[metric]["std"] if r[metric] else np.nan for r in rows], dtype=float)
            items[offset].setData(x, mean, connect="finite")
            items[offset + 1].setData(x, mean + std, connect="finite")
            items[offset + 2].setData(x, mean - std, connect="finite")

    def _band_x(self, rows: list[dict[str, Any]], curves: list[Records]) -> np.ndarray:
        """The x of each epoch of a band: the epoch, or the mean step or time of the runs."""
        if self.x_key == "epoch":
            return np.array([r["epoch"] for r in rows], dtype=float)
        at: dict[int, list[float]] = {}
        for records in curves:
            xs, _ = curve(records, PLOTTED[0], self.x_key)
            for record, x in zip(records, xs, strict=True):
                if isinstance(record.get("epoch"), int):
                    at.setdefault(record["epoch"], []).append(x)
        return np.array([float(np.mean(at.get(r["epoch"], [np.nan]))) for r in rows])


def _flat(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


class SettingsTab(QTableWidget):
    """The settings (from settings.json) whose values differ between the selected runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runs_settings_diff")
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.differences: list[tuple[str, list[Any]]] = []

    def show_runs(self, names: list[str], settings: list[dict[str, Any]]) -> None:
        self.differences = settings_diff(settings) if len(settings) > 1 else []
        self.clear()
        self.clearSpans()
        self.setColumnCount(len(names))
        self.setHorizontalHeaderLabels(names)
        rows = self.differences or [("", [])]
        self.setRowCount(len(rows))
        self.setVerticalHeaderLabels([key for key, _ in rows])
        if not self.differences:
            text = "Select two runs or more" if len(settings) < 2 else "The settings are the same"
            self.setColumnCount(max(1, len(names)))
            self.setItem(0, 0, QTableWidgetItem(text))
            if self.columnCount() > 1:  # the message across the runs, never wrapped in one
                self.setSpan(0, 0, 1, self.columnCount())
            self.resizeColumnsToContents()
            needed = self.fontMetrics().horizontalAdvance(text) + 16
            shown = sum(self.columnWidth(c) for c in range(self.columnCount()))
            if shown < needed:
                last = self.columnCount() - 1
                self.setColumnWidth(last, self.columnWidth(last) + needed - shown)
            return
        for row, (_key, values) in enumerate(self.differences):
            for column, value in enumerate(values):
                text = "–" if value is None else json.dumps(value, default=repr)
                self.setItem(row, column, QTableWidgetItem(text))
        self.resizeColumnsToContents()


class DesignTab(QPlainTextEdit):
    """The design diff of two selected runs (engine.diff on their graph.json)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runs_design_diff")
        self.setReadOnly(True)
        self.diff: Any = None

    def show_runs(self, paths: list[str], names: list[str]) -> None:
        self.diff = None
        if len(paths) != 2:
            self.setPlainText("Select two runs to see what changed between their designs.")
            return
        # imported for a comparison only: 14 ms the first time, in the switch to the view
        from engine.diff import diff_graphs
        from engine.diff_report import diff_text
        from engine.errors import DesignerError
        from engine.experiments.run_compare import run_graph

        try:
            a, b = (run_graph(Path(p)) for p in paths)
            self.diff = diff_graphs(a, b)
        except DesignerError as error:
            self.setPlainText(f"The designs cannot be compared: {error}")
            return
        head = f"From {names[0]} to {names[1]}:\n\n"
        body = "The two runs trained the same design." if self.diff.empty else diff_text(self.diff)
        self.setPlainText(head + body)


class ComparePanel(QTabWidget):
    """Curves, Settings diff and Design diff of the selected runs, in tabs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runs_compare")
        self.curves_tab = CurvesTab(self)
        self.settings_tab = SettingsTab(self)
        self.design_tab = DesignTab(self)
        self.addTab(self.curves_tab, "Curves")
        self.addTab(self.settings_tab, "Settings diff")
        self.addTab(self.design_tab, "Design diff")
        self.setTabToolTip(1, "The settings that differ between the selected runs")
        self.setTabToolTip(2, "What changed between the designs of two selected runs")
