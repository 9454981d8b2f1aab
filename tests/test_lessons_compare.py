"""The comparison window of an experiment (issue 18 point 7) read from run folders on disk:
readable at its size (the table as tall as its rows, every header whole, the legends off the
curves) and its numbers from the files (the median seconds per epoch, so the first variant's
torch start-up does not make it look slow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from designer.lessons.compare import CompareWindow
from engine.lessons.experiments import EXPERIMENTS

pytestmark = pytest.mark.gui


def _run(folder: Path, accuracies: list[float], seconds: list[float]) -> str:
    folder.mkdir()
    with (folder / "metrics.jsonl").open("w", encoding="utf-8") as out:
        for epoch, (acc, sec) in enumerate(zip(accuracies, seconds, strict=True), 1):
            record = {"epoch": epoch, "step": epoch * 10, "train_loss": 1.0 / epoch,
                      "train_accuracy": acc, "val_loss": 2.0 / epoch, "val_accuracy": acc,
                      "lr": 0.001, "seconds": sec}  # fmt: skip
            out.write(json.dumps(record) + "\n")
    result = {"status": "completed", "best_val_accuracy": max(accuracies), "seconds": sum(seconds)}
    (folder / "result.json").write_text(json.dumps(result))
    filters = np.arange(6 * 25, dtype=float).reshape(6, 5, 5).tolist()
    measure = {"grad_norms": {"conv1": 0.5, "fc": 0.1}, "filters": filters, "filters_of": "conv1"}
    (folder / "lesson_measure.json").write_text(json.dumps(measure))
    return str(folder)


def _legends_clear(*plots) -> None:
    """No plotted point lies under its plot's legend."""
    for plot in plots:
        item = plot.getPlotItem()
        legend = item.legend.sceneBoundingRect()
        for curve in item.listDataItems():
            xs, ys = curve.getData()
            for x, y in zip(xs, ys, strict=True):
                point = item.vb.mapViewToScene(QPointF(float(x), float(y)))
                assert not legend.contains(point), (plot, x, y)


def test_the_comparison_window_is_readable(qtbot, tmp_path: Path) -> None:
    epochs = 8
    rising = [0.6 + 0.04 * e for e in range(epochs)]
    results = [
        {"label": "p = 0", "run": _run(tmp_path / "a", rising, [8.0] + [0.3] * 7),
         "status": "done", "params": 61706},
        {"label": "p = 0.5", "run": _run(tmp_path / "b", rising, [0.35] * 8),
         "status": "done", "params": 61706},
    ]  # fmt: skip
    compare = CompareWindow(EXPERIMENTS["dropout"], results, None, "Trained on the open design.")
    qtbot.addWidget(compare)
    compare.show()
    qtbot.waitExposed(compare)
    QApplication.processEvents()
    assert compare.seconds == {"p = 0": 0.3, "p = 0.5": 0.35}
    assert compare.table.item(0, 3).text() == "0.30"
    table = compare.table
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    assert table.height() <= table.horizontalHeader().height() + rows + 12  # no empty band
    metrics = table.horizontalHeader().fontMetrics()
    for column in range(table.columnCount()):
        header = table.horizontalHeaderItem(column).text()
        assert table.columnWidth(column) >= metrics.horizontalAdvance(header), header
    _legends_clear(compare.accuracy_plot, compare.loss_plot)
    pictures = [compare.findChild(type(compare.note), f"filters_{row}") for row in range(2)]
    assert all(p.height() >= 5 * 10 for p in pictures)  # 5×5 filters, each weight a square


def test_the_gradient_norms_stay_clear_of_their_legend(qtbot, tmp_path: Path) -> None:
    """Gradient norms grow towards the output layers, under the legend's corner."""
    results = []
    for i, label in enumerate(("sigmoid", "tanh", "relu")):
        folder = Path(_run(tmp_path / label, [0.1, 0.5, 0.8], [1.0, 0.5, 0.5]))
        norms = {name: 0.01 * 10 ** (i * 0.7 + j * 0.3) for j, name in enumerate("abcde")}
        measure = {"grad_norms": norms, "filters": None, "filters_of": None}
        (folder / "lesson_measure.json").write_text(json.dumps(measure))
        results.append({"label": label, "run": str(folder), "status": "done", "params": 1})
    compare = CompareWindow(EXPERIMENTS["activations"], results)
    qtbot.addWidget(compare)
    compare.show()
    qtbot.waitExposed(compare)
    QApplication.processEvents()
    assert compare.norm_plot is not None and sorted(compare.norms) == ["relu", "sigmoid", "tanh"]
    _legends_clear(compare.norm_plot)
    assert compare.table.item(0, 0).foreground().color().name() == "#1f77b4"
