"""The trade-off plot: best validation accuracy against parameters, MACs or training time.

Every run of the project (the runs folders the Runs page lists) or a given list of run folders
is one point; the Pareto front (``engine.experiments.tradeoff``) is drawn as a line through its
runs, which are listed beside the plot. Clicking a point or a listed run emits
``run_opened(path)``. Runs that cannot be plotted (no accuracy, no cost) are named below the
list with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.experiments.tradeoff import AXES, AXIS_LABELS, RunFacts, Tradeoff, run_facts, tradeoff
from engine.training.runs import list_runs, read_run

FRONT_COLOUR = "#d62728"
POINT_COLOUR = "#1f77b4"
MAX_RUNS = 5000  # runs plotted at most (the oldest beyond it are left out, and said so)


def collect_facts(roots: Iterable[Path] = (), folders: Iterable[Path] = ()) -> list[RunFacts]:
    """The facts of every run under ``roots`` and of each run folder in ``folders`` (each run
    once, at most MAX_RUNS); never raises: a damaged run carries its problems."""
    seen: set[str] = set()
    facts: list[RunFacts] = []
    infos = [info for root in roots for info in list_runs(root)]
    for folder in folders:
        try:
            infos.append(read_run(Path(folder)))
        except Exception:  # read_run names what it can; a folder that vanished lists nothing
            continue
    for info in infos[-MAX_RUNS:]:
        key = str(Path(info.path).resolve())
        if key not in seen:
            seen.add(key)
            facts.append(run_facts(info))
    return facts


def _cost(axis: str, value: float) -> str:
    if axis == "seconds":
        return f"{value:.1f} s"
    return f"{value:,.0f} {AXIS_LABELS[axis]}"


class TradeoffView(QWidget):
    """The plot, the axis choice and the list of the front's runs."""

    run_opened = Signal(str)  # the run folder of a clicked point or listed run

    def __init__(self, facts: list[RunFacts], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tradeoff_view")
        self.facts = facts
        self.plot: Tradeoff | None = None
        self.axis = QComboBox(self)
        self.axis.setObjectName("tradeoff_axis")
        for axis in AXES:
            self.axis.addItem(AXIS_LABELS[axis], axis)
        self.axis.currentIndexChanged.connect(lambda _i: self.redraw())
        self.chart = pg.PlotWidget(self, background="w")
        self.chart.setObjectName("tradeoff_chart")
        item = self.chart.getPlotItem()
        item.setLabel("left", "best validation accuracy")
        for side in ("left", "bottom"):  # plain numbers: no "(x0.001)" or "k" on the axis
            item.getAxis(side).enableAutoSIPrefix(False)
        item.showGrid(x=True, y=True, alpha=0.2)
        self.points = pg.ScatterPlotItem(size=10, hoverable=True, tip=self._tip)
        self.points.sigClicked.connect(self._point_clicked)
        self.front_line = pg.PlotDataItem(pen=pg.mkPen(FRONT_COLOUR, width=2))
        item.addItem(self.front_line)
        item.addItem(self.points)
        self.front_list = QListWidget(self)
        self.front_list.setObjectName("tradeoff_front")
        self.front_list.setWordWrap(True)
        self.front_list.setMinimumWidth(260)
        self.front_list.itemActivated.connect(self._item_opened)
        self.front_list.itemClicked.connect(self._item_opened)
        self.excluded = QLabel("", self)
        self.excluded.setWordWrap(True)
        self.excluded.setObjectName("tradeoff_excluded")
        top = QHBoxLayout()
        top.addWidget(QLabel("Accuracy against", self))
        top.addWidget(self.axis)
        top.addStretch(1)
        side = QVBoxLayout()
        side.addWidget(QLabel("Pareto front (click a run to open it):", self))
        side.addWidget(self.front_list, 1)
        side.addWidget(self.excluded)
        body = QHBoxLayout()
        body.addWidget(self.chart, 2)
        body.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        self.redraw()

    @property
    def axis_name(self) -> str:
        return str(self.axis.currentData())

    def set_axis(self, axis: str) -> None:
        self.axis.setCurrentIndex(self.axis.findData(axis))

    def set_facts(self, facts: list[RunFacts]) -> None:
        self.facts = facts
        self.redraw()

    def redraw(self) -> None:
        axis = self.axis_name
        self.plot = plot = tradeoff(self.facts, axis)
        spots = [
            {
                "pos": (p.x, p.y),
                "data": str(p.run.path),
                "brush": pg.mkBrush(FRONT_COLOUR if p.on_front else POINT_COLOUR),
                "pen": pg.mkPen("k" if p.on_front else None),
            }
            for p in plot.points
        ]
        self.points.setData(spots)
        self.front_line.setData([p.x for p in plot.front], [p.y for p in plot.front])
        self.chart.getPlotItem().setLabel("bottom", AXIS_LABELS[axis])
        self.front_list.clear()
        for p in plot.front:
            text = f"{p.name}: {p.y:.1%} at {_cost(axis, p.x)}"
            entry = QListWidgetItem(text)
            entry.setData(Qt.ItemDataRole.UserRole, str(p.run.path))
            entry.setToolTip(str(p.run.path))
            self.front_list.addItem(entry)
        if not plot.points:
            self.front_list.addItem(QListWidgetItem("(no run to plot yet)"))
        left_out = [f"{name}: {why}" for name, why in plot.excluded]
        self.excluded.setText(("Not plotted: " + "; ".join(left_out)) if left_out else "")

    def _tip(self, x: float, y: float, data: Any) -> str:
        return f"{Path(str(data)).name}\n{y:.2%} at {_cost(self.axis_name, x)}"

    def _point_clicked(self, _item: Any, points: Any, _event: Any = None) -> None:
        if len(points):
            self.run_opened.emit(str(points[0].data()))

    def _item_opened(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path:
            self.run_opened.emit(str(path))


class TradeoffWindow(QDialog):
    """The trade-off view in a window of its own (not modal), with a Refresh button."""

    def __init__(
        self,
        parent: QWidget | None,
        roots: Iterable[Path] = (),
        folders: Iterable[Path] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tradeoff_window")
        self.setWindowTitle("Trade-off: accuracy against cost")
        self.roots, self.folders = list(roots), list(folders)
        self.view = TradeoffView(collect_facts(self.roots, self.folders), self)
        refresh = QPushButton("Refresh", self)
        refresh.clicked.connect(self.refresh)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        for button in (refresh, close):
            button.setAutoDefault(False)
        where = ", ".join(str(r) for r in self.roots)
        count = len(self.folders)
        chosen = f"The {count} run{'s' if count != 1 else ''} chosen in the Runs view"
        self.source = QLabel(f"Runs in {where}" if where else chosen, self)
        self.source.setObjectName("tradeoff_source")
        self.source.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.source, 1)
        buttons.addWidget(refresh)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.resize(900, 560)

    @property
    def run_opened(self) -> Any:
        return self.view.run_opened

    def refresh(self) -> None:
        """Read the run folders again."""
        self.view.set_facts(collect_facts(self.roots, self.folders))
