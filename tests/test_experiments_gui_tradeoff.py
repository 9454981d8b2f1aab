"""Experiments ▸ Trade-off plot…: the Pareto front of made-up run folders (written as the
trainer writes them), the axis choice, and a click on a point or a listed run opening it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from designer_helpers import close_clean, training_window
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication
from test_tradeoff import write_run

from engine import infer
from presets import PRESETS

FRONT = ["20261202-050300", "20261202-050100", "20261202-050000"]  # by parameters, x order


def lenet(**options: Any) -> Any:
    return PRESETS.get("lenet5_digits").create(**options)


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = training_window(qtbot, tmp_path, monkeypatch)
    root = win.training.run_root
    big, small, smaller = lenet(), lenet(resolution=28), lenet(classes=5, resolution=28)
    write_run(root, "20261202-050000", big, [0.5, 0.9])  # most accurate, most parameters
    write_run(root, "20261202-050100", small, [0.7, 0.8], seconds=0.5)  # front
    write_run(root, "20261202-050200", small, [0.6, 0.75])  # same design, worse: dominated
    write_run(root, "20261202-050300", smaller, [0.3], status=None)  # still running: front
    write_run(root, "20261202-050400", big, [0.2])  # dominated by the first
    write_run(root, "20261202-050500", None, [0.95])  # no graph.json: no parameters
    yield win
    win.training.shutdown()
    close_clean(win)


def open_plot(window: Any) -> Any:
    window.actions_by_name["experiments_tradeoff"].trigger()
    plot = window.experiments.tradeoff
    assert plot is not None and plot.isVisible()
    return plot


def front_names(plot: Any) -> list[str]:
    items = [plot.view.front_list.item(i) for i in range(plot.view.front_list.count())]
    return [item.text().split(":")[0] for item in items]


def point_position(view: Any, x: float, y: float) -> QPoint:
    """Where the data point (x, y) is drawn, in the chart's viewport."""
    box = view.chart.getPlotItem().getViewBox()
    return view.chart.mapFromScene(box.mapViewToScene(QPointF(x, y)))


def test_the_front_of_the_projects_runs_is_listed_and_drawn(window, qtbot) -> None:
    plot = open_plot(window)
    view = plot.view
    assert front_names(plot) == FRONT
    assert [p.name for p in view.plot.points if p.on_front] == FRONT
    line_x, line_y = view.front_line.getData()
    expected = infer(lenet(classes=5, resolution=28)).total_params
    assert line_x[0] == expected and list(line_y) == [0.3, 0.8, 0.9]
    assert len(view.points.points()) == 5  # the run without graph.json is not plotted
    assert "20261202-050500: no parameters" in view.excluded.text()
    qtbot.waitExposed(plot)
    QApplication.processEvents()  # the axes range themselves (and would pick a factor)
    axes = [view.chart.getPlotItem().getAxis(side) for side in ("left", "bottom")]
    assert [axis.autoSIPrefixScale for axis in axes] == [1.0, 1.0]  # 0.9, not "900 (x0.001)"
    assert not any("(x" in axis.labelString() for axis in axes)
    # accuracy against training time: a key press in the axis box, the front follows
    view.axis.setFocus()
    qtbot.keyClick(view.axis, Qt.Key.Key_End)
    assert view.axis_name == "seconds"
    assert front_names(plot) == ["20261202-050100", "20261202-050500"]
    assert view.excluded.text() == ""


def test_a_click_on_a_point_or_a_listed_run_opens_it(window, qtbot) -> None:
    plot = open_plot(window)
    view = plot.view
    plot.resize(900, 560)
    qtbot.waitExposed(plot)
    target = next(p for p in view.plot.points if p.name == "20261202-050400")  # off the front
    box = view.chart.getPlotItem().getViewBox()

    def shown() -> bool:  # the chart has laid itself out and ranged its axes over the runs
        (x0, x1), (y0, y1) = box.viewRange()
        inside = view.chart.viewport().rect().contains(point_position(view, target.x, target.y))
        return x0 < target.x < x1 and y0 < target.y < y1 and inside

    qtbot.waitUntil(shown, timeout=5000)
    at = point_position(view, target.x, target.y)
    opened: list[str] = []
    view.run_opened.connect(opened.append)
    qtbot.mouseClick(view.chart.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert opened == [str(window.training.run_root / "20261202-050400")]
    item = view.front_list.item(1)
    rect = view.front_list.visualItemRect(item)
    qtbot.mouseClick(view.front_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened[-1] == str(window.training.run_root / "20261202-050100")


def test_an_opened_run_is_selected_in_the_runs_view_where_the_page_can(
    window, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from designer.experiments.open_run import runs_page

    page = runs_page(window)
    selected: list[Path] = []
    monkeypatch.setattr(page, "select_run", selected.append, raising=False)
    before = window.document.graph.to_data()
    plot = open_plot(window)
    plot.view.run_opened.emit(str(window.training.run_root / "20261202-050100"))
    assert selected == [window.training.run_root / "20261202-050100"]
    assert window.view == "runs"
    assert window.document.graph.to_data() == before


def test_otherwise_the_runs_design_is_opened(window, qtbot, monkeypatch) -> None:
    from designer.experiments.open_run import runs_page

    page = runs_page(window)
    if hasattr(type(page), "select_run"):
        monkeypatch.delattr(type(page), "select_run")
    plot = open_plot(window)
    plot.view.run_opened.emit(str(window.training.run_root / "20261202-050100"))
    assert window.document.graph.to_data() == lenet(resolution=28).to_data()
    assert window.document.path is None and window.view == "design"
    # a run without its design: said in the status bar, the design stays
    plot.view.run_opened.emit(str(window.training.run_root / "20261202-050500"))
    assert "graph.json" in window.statusBar().currentMessage()
    assert window.document.graph.to_data() == lenet(resolution=28).to_data()


def test_a_list_of_run_folders_and_an_empty_project(window, qtbot, tmp_path: Path) -> None:
    root = window.training.run_root
    plot = window.experiments.show_tradeoff([root / "20261202-050100", root / "20261202-050200"])
    assert front_names(plot) == ["20261202-050100"]
    assert len(plot.view.points.points()) == 2
    window.training.run_root = tmp_path / "nothing here"
    plot = open_plot(window)
    assert plot.view.front_list.item(0).text() == "(no run to plot yet)"


def test_a_clicked_run_is_selected_in_the_run_browser(window, qtbot) -> None:
    from designer.experiments.open_run import runs_page

    page = runs_page(window)
    before = window.document.graph.to_data()
    plot = open_plot(window)
    item = plot.view.front_list.item(1)
    rect = plot.view.front_list.visualItemRect(item)
    qtbot.mouseClick(plot.view.front_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.view == "runs"
    assert page.selected_paths() == [str(window.training.run_root / "20261202-050100")]
    assert window.document.graph.to_data() == before
