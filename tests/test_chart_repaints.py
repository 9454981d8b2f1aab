"""A dashboard page brought to the front paints its charts once, and its axes are not laid out
again unless they changed (issue 16: a page's first paint was the UI thread's longest gap during
a run, 40-65 ms with both cores training)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import training_events as te
from chart_paints import ChartPaints, settle
from designer_helpers import close_clean, training_window
from PySide6.QtCore import Qt
from PySide6.QtGui import QPicture
from PySide6.QtWidgets import QApplication

from designer.training.widgets import PlotArea, ReadableAxis
from engine.training.events import Paused


def click_tab(qtbot: Any, dashboard: Any, title: str) -> None:
    bar = dashboard.pages.tabBar()
    index = [dashboard.pages.tabText(i) for i in range(dashboard.pages.count())].index(title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert dashboard.pages.currentIndex() == index


@pytest.fixture
def fresh(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The Train view's dashboard after ten epochs and a snapshot, only Curves shown yet."""
    window = training_window(qtbot, tmp_path, monkeypatch)
    window.switch_view("train")
    board = window.training.host.ensure_dashboard()
    board.begin("run")
    board.apply([te.run_started(epochs=60, steps_per_epoch=100)])
    events: list[Any] = []
    for n in range(10, 1001, 10):
        events.append(te.step(n, count=10, total=6000))
        if n % 100 == 0:
            events.append(te.epoch_end(n // 100, n))
    events.append(te.snapshot(7))
    board.apply(events)
    settle(qtbot, board)
    yield board
    window.training.shutdown()
    close_clean(window)


@pytest.fixture
def dashboard(qtbot, fresh):  # type: ignore[no-untyped-def]
    """The same, each page shown once."""
    for title in ("Gradient flow", "Evaluation", "Predict", "Curves"):
        click_tab(qtbot, fresh, title)
        settle(qtbot, fresh)
    return fresh


def chart_paints(qtbot: Any, dashboard: Any, title: str) -> int:
    """How often the page's charts paint when a click on its tab brings it to the front."""
    page = dashboard.pages.widget(
        [dashboard.pages.tabText(i) for i in range(dashboard.pages.count())].index(title)
    )
    counter = ChartPaints(page.findChild(PlotArea))
    click_tab(qtbot, dashboard, title)
    settle(qtbot, dashboard)
    return counter.count


@pytest.mark.parametrize("title", ["Gradient flow", "Evaluation", "Predict"])
def test_a_page_shown_the_first_time_paints_its_charts_once(qtbot, fresh, title) -> None:
    # before: three or four (its plots, then its axes, laid out over as many event-loop turns)
    assert chart_paints(qtbot, fresh, title) == 1


@pytest.mark.parametrize("title", ["Gradient flow", "Evaluation", "Predict"])
def test_a_page_brought_to_the_front_paints_its_charts_once(qtbot, dashboard, title) -> None:
    # before: three (the scene told its window was activated repainted every item, then the
    # page's layout repainted it again)
    assert chart_paints(qtbot, dashboard, title) == 1
    page = dashboard.pages.currentWidget()
    assert page.findChild(PlotArea).scene().isActive()  # kept active: focus and keys work


def test_an_axis_is_laid_out_again_only_when_it_changed(qtbot, dashboard, monkeypatch) -> None:
    painted: list[ReadableAxis] = []  # an axis each time it lays its labels out or replays them
    specs, play = ReadableAxis.generateDrawSpecs, QPicture.play

    def counting_specs(self: ReadableAxis, painter: Any) -> Any:
        painted.append(self)
        return specs(self, painter)

    def counting_play(self: QPicture, painter: Any) -> Any:
        painted.append(self)
        return play(self, painter)

    monkeypatch.setattr(ReadableAxis, "generateDrawSpecs", counting_specs)
    monkeypatch.setattr(QPicture, "play", counting_play)
    click_tab(qtbot, dashboard, "Gradient flow")
    settle(qtbot, dashboard)
    assert painted == []  # unchanged since it was last shown: its cached pixmap
    click_tab(qtbot, dashboard, "Curves")
    settle(qtbot, dashboard)
    # the loss jumps far above anything drawn, the run pausing (drawn at once, whatever the
    # pace): the loss chart's left axis must show the new range, not its cached picture
    left = dashboard.curves.loss_plot.getAxis("left")
    before = list(left.range)
    jump = replace(te.step(1010, count=10, total=6000), losses=(40.0,) * 10)
    dashboard.apply([jump, Paused(1010)])
    settle(qtbot, dashboard)
    assert left.range[1] > before[1] + 10
    assert left in painted, "the loss axis kept its cached picture after its range changed"


def test_a_page_settles_over_several_turns_and_paints_once_settled(qtbot, fresh) -> None:
    """The first show of Evaluation held the UI thread 25-30 ms in the click's turn: its charts
    are now laid out a few milliseconds a turn, their painting held until the last slice."""
    area = fresh.evaluation.view
    paints = ChartPaints(area)
    click_tab(qtbot, fresh, "Evaluation")
    assert fresh.settler.settling and area.paint_held  # nothing of it done in the click's turn
    # meanwhile its background, not the page it replaced (which an opaque view would keep)
    assert not area.viewport().testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    QApplication.processEvents()  # one turn: a slice, not the whole
    assert paints.count == 0
    settle(qtbot, fresh)
    assert not fresh.settler.settling and paints.count == 1
    assert all(
        axis.picture is not None
        for axis in area.scene().items()
        if isinstance(axis, ReadableAxis) and axis.isVisible()
    )


def test_a_page_sent_back_while_it_settles_is_not_left_held(qtbot, fresh) -> None:
    click_tab(qtbot, fresh, "Evaluation")
    click_tab(qtbot, fresh, "Gradient flow")  # before the first slice
    assert not fresh.evaluation.view.paint_held
    click_tab(qtbot, fresh, "Curves")
    settle(qtbot, fresh)
    held = [area for area in fresh.findChildren(PlotArea) if area.paint_held]
    assert held == [] and not fresh.settler.settling
    paints = ChartPaints(fresh.curves)  # a chart area itself
    fresh.curves.viewport().update()
    settle(qtbot, fresh)
    assert paints.count == 1  # the Curves page paints as usual


def test_new_data_that_moves_an_axis_settle_before_the_paint(qtbot, dashboard) -> None:
    """A loss far above the drawn range moves the loss chart's left axis: its labels are laid
    out a slice a turn, the chart keeping what it showed, then it paints once."""
    click_tab(qtbot, dashboard, "Curves")
    settle(qtbot, dashboard)
    paints = ChartPaints(dashboard.curves)
    jump = replace(te.step(1010, count=10, total=6000), losses=(40.0,) * 10)
    dashboard.apply([jump, Paused(1010)])  # drawn at once, whatever the pace
    assert dashboard.settler.settling and dashboard.curves.paint_held
    viewport = dashboard.curves.viewport()
    assert viewport.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # not cleared: no blink
    settle(qtbot, dashboard)
    assert paints.count == 1 and not viewport.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    assert viewport.autoFillBackground()
    axes = [i for i in dashboard.curves.scene().items() if isinstance(i, ReadableAxis)]
    assert all(axis.picture is not None for axis in axes if axis.isVisible())
