"""The Runs page: every run of the project, with the curves of the checked ones overlaid
(read from each run's metrics.jsonl).

After Save As the design's runs folder changes (``designer.run_history``): the page lists the
runs of the current folder, then those of the folders the design had before in this session,
each marked with its folder, so that Save As never hides a run the page showed.

A run that is training is followed (``follow``, at each of its epoch ends): its row and its
curves are read again from its own folder only, and only while the page is shown (else once
when it is shown); the first time, the whole folder is listed once, with the run checked."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.training.widgets import COLOURS, PlotArea, readable_plot
from engine.training.runs import RunInfo, check_metrics, list_runs, read_metrics


def _percent(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "–"


Curves = tuple[np.ndarray, np.ndarray, np.ndarray]


def _curves(path: str) -> Curves:
    """Epochs, validation accuracies and losses of a run (NaN, drawn as a gap, where a value
    is missing; 0.0 is a value)."""
    return _curves_of(read_metrics(path))


def _curves_of(records: list[dict]) -> Curves:
    """``_curves`` of records already read."""

    def column(key: str) -> np.ndarray:
        values = [r.get(key) for r in records]
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    epochs = [r.get("epoch") for r in records]
    x = np.array([i + 1 if e is None else e for i, e in enumerate(epochs)], dtype=float)
    return x, column("val_accuracy"), column("val_loss")


class RunsPage(QWidget):
    """Runs listed with status and accuracy; checked runs are overlaid."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self.earlier: list[Path] = []  # the design's runs folders before its last Save As
        self.runs: list[RunInfo] = []
        self.earlier_runs: list[RunInfo] = []
        self.following: str | None = None  # the run folder of a run that is training
        self._follow_pending = False  # its epoch ended while the page was hidden
        self.follow_reads = 0  # how often a followed run was read again (for tests)
        self.folder = QLabel("", self)
        self.folder.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("runs_list")
        self.list.itemChanged.connect(lambda _item: self.redraw())
        refresh = QPushButton("Refresh", self)
        refresh.clicked.connect(lambda: self.set_root(self.root) if self.root else None)
        self.view = PlotArea(self)
        self.acc_plot = readable_plot(self.view, "Validation accuracy")
        self.acc_plot.setLabel("bottom", "epoch")
        self.acc_plot.addLegend(offset=(-10, -10))
        self.loss_plot = readable_plot(self.view, "Validation loss")
        self.loss_plot.setLabel("bottom", "epoch")
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        side = QVBoxLayout()
        side.addWidget(self.folder)
        side.addWidget(self.list, 1)
        side.addWidget(refresh)
        layout = QHBoxLayout(self)
        layout.addLayout(side, 1)
        layout.addWidget(self.view, 3)

    def set_root(self, root: Path, earlier: list[Path] | None = None) -> None:
        """List the runs under ``root`` (the newest checked), then those under the ``earlier``
        folders (None: the ones given last time); a damaged run is marked, with what is wrong
        in its tooltip."""
        self.root = Path(root)
        if earlier is not None:
            self.earlier = [Path(e) for e in earlier if Path(e) != self.root]
        checked = {item.data(Qt.ItemDataRole.UserRole) for item in self._items() if self._on(item)}
        try:
            self.runs = list_runs(self.root)
            self.folder.setText(self._folder_text())
        except Exception as error:  # list_runs contains what it knows; this is a backstop
            self.runs = []
            self.folder.setText(f"Runs in {self.root} cannot be listed: {error}")
        self.earlier_runs = []
        for folder in self.earlier:
            try:
                self.earlier_runs += list_runs(folder)
            except Exception:  # a folder that went away meanwhile lists nothing
                continue
        if self.earlier_runs:
            names = ", ".join(str(folder) for folder in self.earlier)
            self.folder.setText(
                f"{self.folder.text()}\nAlso listed: the runs this design had in {names} "
                "before Save As (new runs go to the folder above)."
            )
        self.list.blockSignals(True)
        self.list.clear()
        newest = len(self.runs) - 1 if self.runs else len(self.earlier_runs) - 1
        for i, run in enumerate(self.runs + self.earlier_runs):
            item = self._item(run, earlier=i >= len(self.runs))
            on = str(run.path) in checked or (not checked and i == newest)
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.redraw()

    @staticmethod
    def _item(run: RunInfo, earlier: bool) -> QListWidgetItem:
        text = (
            f"{run.name}  {run.status}, {run.epochs} epoch(s), "
            f"best {_percent(run.best_val_accuracy)}"
        )
        if earlier:
            text += f"  (in {Path(run.path).parent.name}, before Save As)"
        if run.problems:
            more = f" and {len(run.problems) - 1} more" if len(run.problems) > 1 else ""
            text += f"  — damaged: {run.problems[0]}{more}"
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, str(run.path))
        tip = str(run.path)
        if run.problems:
            tip = f"{run.path} is damaged; what could be read is shown:\n" + "\n".join(run.problems)
        item.setToolTip(tip)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        return item

    def _folder_text(self) -> str:
        assert self.root is not None
        if self.runs:
            return f"Runs in {self.root}"
        try:
            os.listdir(self.root)
        except FileNotFoundError:
            pass
        except OSError as error:
            return (
                f"Runs in {self.root} cannot be listed ({error.strerror or error}): "
                "check that the folder can be read"
            )
        return f"No runs yet in {self.root}"

    def _items(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    @staticmethod
    def _on(item: QListWidgetItem) -> bool:
        return item.checkState() == Qt.CheckState.Checked

    # ----- a run that is training ----------------------------------------------------------
    def follow(self, run_dir: str | Path, root: Path | None = None) -> None:
        """An epoch of the run in ``run_dir`` ended: show its row and curves as they are now
        (while the page is hidden, once it is shown). ``root``: the folder it is in, when it
        is not the one listed."""
        self.following = str(run_dir)
        if root is not None and (self.root is None or Path(root) != self.root):
            self.root = Path(root)
            self.runs = []  # listed again below
        self._follow_pending = True
        if self.isVisible():
            self._show_followed()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._follow_pending:
            self._show_followed()

    def _show_followed(self) -> None:
        """Read the followed run's folder again and update its row and curve only."""
        self._follow_pending = False
        path = self.following
        if path is None or self.root is None:
            return
        self.follow_reads += 1
        index = next((i for i, r in enumerate(self.runs) if str(r.path) == path), None)
        if index is None:  # a new run: list the folder once, with the new run checked
            self.set_root(self.root)
            item = self._item_of(path)
            if item is not None:
                item.setCheckState(Qt.CheckState.Checked)  # redraws (itemChanged)
            return
        # its metrics.jsonl only (settings.json, with the whole design, was read when listed)
        records, problems = check_metrics(path)
        accuracies = [
            float(r["val_accuracy"]) for r in records if r.get("val_accuracy") is not None
        ]
        run = replace(
            self.runs[index],
            epochs=len(records),
            best_val_accuracy=max(accuracies) if accuracies else None,
            final_val_accuracy=accuracies[-1] if accuracies else None,
            problems=tuple(problems),
        )
        self.runs[index] = run
        item = self._item_of(path)
        if item is None:
            return
        self.list.blockSignals(True)
        item.setText(self._item(run, earlier=False).text())
        self.list.blockSignals(False)
        if self._on(item):
            self.redraw(only=path, records=records)

    def _item_of(self, path: str) -> QListWidgetItem | None:
        return next((i for i in self._items() if i.data(Qt.ItemDataRole.UserRole) == path), None)

    def redraw(self, only: str | None = None, records: list[dict] | None = None) -> None:
        """Show the checked runs' curves (one persistent pair of curves per run); ``only``:
        read again the curves of that run alone (from ``records`` when given)."""
        wanted = [item for item in self._items() if self._on(item)]
        names = {item.data(Qt.ItemDataRole.UserRole) for item in wanted}
        for path in list(self.curves):
            if path not in names:
                for plot, curve in zip(
                    (self.acc_plot, self.loss_plot), self.curves.pop(path), strict=True
                ):
                    plot.removeItem(curve)
        for index, item in enumerate(wanted):
            path = item.data(Qt.ItemDataRole.UserRole)
            if only is not None and path != only and path in self.curves:
                continue
            try:
                epochs, acc, loss = (
                    _curves_of(records) if records is not None and path == only else _curves(path)
                )
            except Exception:  # read_metrics skips damaged records; this is a backstop
                epochs = acc = loss = np.zeros(0)
            if path not in self.curves:
                pen = pg.mkPen(COLOURS[index % len(COLOURS)], width=2)
                name = Path(path).name
                self.curves[path] = (
                    self.acc_plot.plot(pen=pen, symbol="o", symbolSize=5, name=name),
                    self.loss_plot.plot(pen=pen, symbol="o", symbolSize=5),
                )
            acc_curve, loss_curve = self.curves[path]
            acc_curve.setData(epochs, acc, connect="finite")
            loss_curve.setData(epochs, loss, connect="finite")
