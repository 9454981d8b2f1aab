"""Issue 19, points 2 and 3 from the run browser: "Trade-off…" plots the selected runs (all
when none is selected) and a click on a point selects that run in the browser; "Compare with
canvas" opens the design comparison on the selected run's graph.json against the canvas. The
runs are made-up run folders written as the trainer writes them; every step is a click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from designer_helpers import close_clean, training_window
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication
from test_run_browser import click_row, open_runs
from test_tradeoff import write_run

from presets import PRESETS

pytestmark = pytest.mark.gui

NAMES = ("20261202-050000", "20261202-050100", "20261202-050200")


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = training_window(qtbot, tmp_path, monkeypatch)
    root = win.training.run_root
    lenet = PRESETS.get("lenet5_digits")
    write_run(root, NAMES[0], lenet.create(), [0.5, 0.9])  # most accurate, most parameters
    write_run(root, NAMES[1], lenet.create(resolution=28), [0.7, 0.8])  # fewer, front
    write_run(root, NAMES[2], lenet.create(resolution=28), [0.6, 0.75])  # dominated
    yield win
    win.training.shutdown()
    close_clean(win)


def click(qtbot, button: Any) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def plotted(plot: Any) -> set[str]:
    return {Path(p.data()).name for p in plot.view.points.points()}


def test_trade_off_of_the_selected_runs_and_a_click_selects_the_run(window, qtbot) -> None:
    page = open_runs(qtbot, window)
    root = window.training.run_root
    click_row(qtbot, page, root / NAMES[0])
    click_row(qtbot, page, root / NAMES[2], ctrl=True)
    assert len(page.selected_paths()) == 2
    click(qtbot, page.tradeoff_button)
    plot = window.experiments.tradeoff
    assert plot is not None and plot.isVisible()
    assert plotted(plot) == {NAMES[0], NAMES[2]}  # the selected runs only
    assert {plot.view.front_list.item(i).text().split(":")[0] for i in range(2)} == {
        NAMES[0],
        NAMES[2],
    }
    # a click on the point of the dominated run selects it alone in the browser
    qtbot.waitExposed(plot)
    view = plot.view
    target = next(p for p in view.plot.points if p.name == NAMES[0])
    box = view.chart.getPlotItem().getViewBox()

    def at() -> Any:
        return view.chart.mapFromScene(box.mapViewToScene(QPointF(target.x, target.y)))

    def shown() -> bool:
        (x0, x1), (y0, y1) = box.viewRange()
        inside = view.chart.viewport().rect().contains(at())
        return x0 <= target.x <= x1 and y0 <= target.y <= y1 and inside

    qtbot.waitUntil(shown, timeout=5000)
    QApplication.processEvents()
    qtbot.mouseClick(view.chart.viewport(), Qt.MouseButton.LeftButton, pos=at())
    assert window.view == "runs"
    assert page.selected_paths() == [str(root / NAMES[0])]
    # nothing selected: every run listed is plotted
    page.table.clearSelection()
    click(qtbot, page.tradeoff_button)
    assert plotted(window.experiments.tradeoff) == set(NAMES)


def test_compare_with_canvas_opens_the_runs_design_against_the_open_one(window, qtbot) -> None:
    page = open_runs(qtbot, window)
    root = window.training.run_root
    before = window.document.graph.to_data()
    click_row(qtbot, page, root / NAMES[0])
    click_row(qtbot, page, root / NAMES[1], ctrl=True)
    assert not page.canvas_button.isEnabled()  # one run at a time
    click_row(qtbot, page, root / NAMES[1])
    click(qtbot, page.canvas_button)
    dialog = window.experiments.compare
    assert dialog is not None and dialog.isVisible()
    assert dialog.source.text() == str(root / NAMES[1])
    assert dialog.diff is not None and not dialog.diff.empty
    lenet28 = PRESETS.get("lenet5_digits").create(resolution=28)
    from engine import infer

    # the run (LeNet-5 for Digits at 28 px) is A, the canvas (LeNet-5) is B
    assert dialog.diff.params == (
        infer(lenet28).total_params,
        infer(window.document.graph).total_params,
    )
    assert dialog.message.text() == ""
    assert window.document.graph.to_data() == before  # the design is never edited
    # a run whose graph.json is gone: the dialog names it, nothing else changes
    (root / NAMES[2] / "graph.json").unlink()
    click_row(qtbot, page, root / NAMES[2])
    click(qtbot, page.canvas_button)
    assert "graph.json" in dialog.message.text() and "Traceback" not in dialog.message.text()
    assert window.document.graph.to_data() == before


def test_the_browser_reads_well_at_1280_by_720(window, qtbot) -> None:
    """Buttons at their full width, the settings diff's run names and message unclipped,
    whole epochs on the curves' x axis, the trade-off window naming what it plots."""
    window.resize(1280, 720)
    page = open_runs(qtbot, window)
    root = window.training.run_root
    click_row(qtbot, page, root / NAMES[0])
    click_row(qtbot, page, root / NAMES[1], ctrl=True)
    QApplication.processEvents()
    buttons = (page.refresh_button, page.open_button, page.canvas_button, page.tradeoff_button)
    for button in (*buttons, page.delete_button, page.undo_button):
        assert button.width() >= button.sizeHint().width(), button.text()
    # the two runs' settings are the same (made-up runs): the message spans both columns
    page.compare.setCurrentWidget(page.compare.settings_tab)
    table = page.compare.settings_tab
    QApplication.processEvents()
    item = table.item(0, 0)
    assert item.text() == "The settings are the same"
    text_width = table.fontMetrics().horizontalAdvance(item.text())
    assert table.visualItemRect(item).width() >= text_width
    header = table.horizontalHeader()
    for column, name in enumerate((NAMES[0], NAMES[1])):
        assert header.sectionSize(column) >= header.fontMetrics().horizontalAdvance(name)
    # whole epochs only (the made-up runs have 2): no tick at 1.5
    page.compare.setCurrentWidget(page.compare.curves_tab)
    axis = page.acc_plot.getAxis("bottom")
    levels = axis.tickValues(1.0, 2.0, 500)
    values = [v for _spacing, ticks in levels for v in ticks]
    assert values and all(float(v).is_integer() for v in values)
    click(qtbot, page.tradeoff_button)
    source = window.experiments.tradeoff.source.text()
    assert source == "The 2 runs chosen in the Runs view"
