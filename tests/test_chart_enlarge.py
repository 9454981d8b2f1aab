"""A chart of the dashboard can be enlarged to the whole page and back (issue 16, point 5)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from designer.training.dashboard import CurvesPage


def _centre_of(page: CurvesPage, chart) -> QPoint:
    rect = chart.mapRectToScene(chart.boundingRect())
    return page.mapFromScene(rect.center())


@pytest.fixture
def page(qtbot) -> CurvesPage:
    widget = CurvesPage()
    qtbot.addWidget(widget)
    widget.resize(900, 560)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_double_click_enlarges_a_chart_and_double_click_restores_it(qtbot, page) -> None:
    charts = page.charts()
    assert len(charts) == 4
    loss = page.loss_plot
    small = loss.geometry().height(), loss.geometry().width()
    qtbot.mouseDClick(page.viewport(), Qt.MouseButton.LeftButton, pos=_centre_of(page, loss))
    qtbot.waitUntil(lambda: page.enlarged is loss)
    assert page.charts() == [loss]
    assert all(other.scene() is None for other in charts if other is not loss)
    page.ci.layout.activate()
    big = loss.geometry()
    assert big.height() > 1.6 * small[0] and big.width() > 1.6 * small[1]
    assert big.height() > 0.85 * page.viewport().height()

    qtbot.mouseDClick(page.viewport(), Qt.MouseButton.LeftButton, pos=_centre_of(page, loss))
    qtbot.waitUntil(lambda: page.enlarged is None)
    assert page.charts() == charts  # the same charts, in the same cells
    page.ci.layout.activate()
    assert abs(loss.geometry().height() - small[0]) < 2
    assert page.ci.rows[1][1] is page.speed_plot


def test_escape_restores_and_the_enlarged_chart_keeps_drawing(qtbot, page) -> None:
    import numpy as np

    acc = page.acc_plot
    qtbot.mouseDClick(page.viewport(), Qt.MouseButton.LeftButton, pos=_centre_of(page, acc))
    qtbot.waitUntil(lambda: page.enlarged is acc)
    page.train_acc.setData(np.arange(1.0, 4.0), np.array([0.2, 0.5, 0.7]))
    assert list(page.train_acc.line.getData()[1]) == [0.2, 0.5, 0.7]
    qtbot.keyClick(page, Qt.Key.Key_Escape)
    assert page.enlarged is None and len(page.charts()) == 4
    assert page.loss_plot.scene() is page.scene()
