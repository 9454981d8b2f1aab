"""The Lessons' windows at a real size (found trying them at 1600×1000): the Lesson dock gets
about half of the right column (not three lines under the inspector), and the architectures
chart's seven names under the bars do not run into each other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from designer_helpers import close_clean, shown_window
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QScrollArea

from designer.lessons.chart import ArchitectureChart
from designer.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    win = shown_window(qtbot, tmp_path, monkeypatch, (1600, 1000))
    yield win
    if win.lessons.view is not None:
        win.lessons.view.close()
    close_clean(win)


def test_the_lesson_dock_has_room_for_its_text(qtbot, window: MainWindow) -> None:
    window.lessons.actions["lesson_batchnorm"].trigger()
    QApplication.processEvents()
    dock = window.lessons.dock
    assert dock is not None and dock.isVisible()
    assert dock.height() >= 360
    scroll = window.lessons.panel.findChild(QScrollArea)
    assert scroll.height() >= 160


def test_the_architecture_names_do_not_overlap(qtbot, window: MainWindow) -> None:
    window.lessons.actions["lesson_architectures"].trigger()
    chart = window.lessons.view
    assert isinstance(chart, ArchitectureChart)
    qtbot.waitExposed(chart)
    QApplication.processEvents()
    for plot in (chart.params_plot, chart.macs_plot):
        axis = plot.getAxis("bottom")
        metrics = QFontMetrics(axis.style["tickFont"])
        (ticks,) = axis._tickLevels  # [(x, text)]
        box = plot.getPlotItem().vb
        slot = box.mapViewToScene(QPointF(1, 0)).x() - box.mapViewToScene(QPointF(0, 0)).x()
        widest = max(metrics.horizontalAdvance(line) for _, t in ticks for line in t.split("\n"))
        assert widest < slot - 4, (widest, slot)
        lines = max(t.count("\n") + 1 for _, t in ticks)
        assert axis.height() >= lines * metrics.height()


def test_the_cnn_vs_mlp_lesson_shows_the_inspectors_rows(qtbot, window: MainWindow) -> None:
    """Its numbers are the inspector's three rows: the inspector scrolls to them (they were
    below the parameters, out of sight once the Lesson dock took its half)."""
    window.lessons.actions["lesson_cnn_vs_mlp"].trigger()
    QApplication.processEvents()
    rows = window.inspector.lecture
    assert rows.isVisible() and rows.equivalents is not None
    viewport = window.inspector.viewport()
    top = rows.mapTo(viewport, rows.rect().topLeft()).y()
    assert 0 <= top < viewport.height() - 40  # the rows' start is on screen
