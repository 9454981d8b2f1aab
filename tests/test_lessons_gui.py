"""The Lessons menu driven like a user (issue 18 point 8): every lesson from its menu action to
its design, its text (numbers equal to the engine's) and its view; the unsaved-work prompt; a
design edited until it no longer validates; the architectures chart."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from designer_helpers import DialogRecorder, close_clean
from PySide6.QtWidgets import QMessageBox

from designer.app import create_window
from designer.lessons.chart import ARCHITECTURES, ArchitectureChart
from designer.lessons.menu import lesson_project
from designer.main_window import MainWindow
from engine import infer
from engine.analysis.equivalents import node_equivalents
from engine.lessons.lessons import LESSONS, LESSONS_BY_KEY, focus_node
from presets import PRESETS

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, dialogs: DialogRecorder) -> Iterator[MainWindow]:
    win = create_window()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    for view in (win.lessons.view, win.lessons.compare):
        if view is not None:
            view.close()
    close_clean(win)


def _open(window: MainWindow, key: str) -> None:
    action = window.lessons.actions[f"lesson_{key}"]
    assert action in window.lessons.menu.actions()
    action.trigger()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_every_lesson_opens_its_design_text_and_view(qtbot, window: MainWindow, lesson) -> None:
    _open(window, lesson.key)
    graph, result = window.document.graph, window.document.result
    assert graph.to_data() == lesson_project(lesson).graph.to_data()
    assert window.document.project.metadata["lesson"] == lesson.key
    focus = focus_node(graph, lesson)
    assert window.document.selection == [focus]
    panel = window.lessons.panel
    assert window.lessons.dock.isVisible() and lesson.title in panel.title.text()
    shown = panel.text.text()
    assert panel.shown.problem is None and shown
    found = result.nodes[focus]
    if lesson.key == "architectures":
        for name in ARCHITECTURES:
            total = infer(PRESETS.get(name).create())
            assert f"{total.total_params:,} parameters, {total.total_macs:,} MACs" in shown
    else:
        assert focus in shown
        if lesson.key == "backprop":  # the upstream gradient and the input gradient's sizes
            assert f"({math.prod(found.output):,} values)" in shown
            assert f"({math.prod(found.inputs[0]):,} values)" in shown
        elif lesson.key == "dropout":
            assert f"its {math.prod(found.inputs[0]):,} inputs" in shown
        elif found.params:
            assert f"{found.params:,}" in shown
    view = window.lessons.view
    if lesson.view is None:
        assert view is None or not view.isVisible()
    else:
        assert view is not None and view.isVisible()
    if lesson.view == "step":
        from designer.lecture.step_view import StepDialog

        assert isinstance(view, StepDialog)
    if lesson.view == "architectures":
        assert isinstance(view, ArchitectureChart)
    assert panel.view_button.isVisible() == (lesson.view is not None)
    assert panel.experiment_button.isVisible() == (lesson.experiment is not None)


def test_cnn_vs_mlp_text_shows_the_equivalents(window: MainWindow) -> None:
    _open(window, "cnn_vs_mlp")
    doc = window.document
    rows = node_equivalents(doc.graph, doc.result, doc.selection[0])
    shown = window.lessons.panel.text.text()
    for counts in (rows.dense, rows.locally_connected, rows.convolution):
        assert f"{counts.params:,} parameters" in shown and f"{counts.macs:,} MACs" in shown


def test_the_text_follows_edits_and_an_invalid_design_gives_a_message(
    window: MainWindow,
) -> None:
    _open(window, "convolution")
    doc = window.document
    doc.set_params("conv1", {"kernel_size": 3})
    assert f"{infer(doc.graph).nodes['conv1'].params:,}" in window.lessons.panel.text.text()
    assert "32 − 3 + 1 = 30" in window.lessons.panel.text.text()
    doc.set_params("conv1", {"kernel_size": 40})  # larger than the 32×32 input
    panel = window.lessons.panel
    assert panel.shown.problem is not None
    assert "no longer validates" in panel.text.text() and "conv1" in panel.text.text()
    doc.undo_stack.undo()
    assert panel.shown.problem is None and "30" in panel.text.text()


def test_opening_a_lesson_asks_before_discarding_unsaved_work(
    window: MainWindow, dialogs: DialogRecorder
) -> None:
    window.document.set_params("fc1", {"out_features": 100})
    before = window.document.project.to_data()
    dialogs.answer = QMessageBox.StandardButton.Cancel
    _open(window, "pooling")
    assert dialogs.kinds() == ["question"]
    assert window.document.project.to_data() == before and window.lessons.lesson is None
    dialogs.answer = QMessageBox.StandardButton.Discard
    _open(window, "pooling")
    assert window.lessons.lesson is LESSONS_BY_KEY["pooling"]
    assert window.document.graph.names_of_type("maxunpool2d")


def test_architectures_chart_numbers_come_from_the_presets(window: MainWindow) -> None:
    _open(window, "architectures")
    chart = window.lessons.view
    assert isinstance(chart, ArchitectureChart)
    numbers = chart.numbers
    assert [r.params for r in numbers.rows] == [
        infer(PRESETS.get(n).create()).total_params for n in ARCHITECTURES
    ]
    mobilenet = PRESETS.get("mobilenet_v1")
    widths = mobilenet.option("width").choices
    table = chart.table
    assert table.rowCount() == len(numbers.table) >= len(widths)
    for row, entry in enumerate(numbers.table):
        made = infer(mobilenet.create(width=entry.width, resolution=entry.resolution))
        assert table.item(row, 2).text() == f"{made.total_params:,}"
        assert table.item(row, 3).text() == f"{made.total_macs:,}"
    separable = numbers.separable
    assert separable.ratio == pytest.approx(separable.formula)
    assert f"{separable.formula:.4f}" in chart.savings.text()
    assert f"{numbers.bottleneck.macs:,}" in chart.savings.text()
