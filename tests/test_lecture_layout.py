"""The lecture views stay readable when small (found trying them at 1600×1000 and in the
README's screenshot): a grid's title is elided on one line with the full title as its tooltip,
and the step-through's receptive-field panel keeps a usable width."""

from __future__ import annotations

import pytest
from designer_helpers import LectureHost
from PySide6.QtWidgets import QApplication

from designer.document import Document, preset_project
from designer.lecture.grids import GridPanel
from designer.lecture.views import open_lecture_view

pytestmark = pytest.mark.gui


def test_a_narrow_grid_elides_its_title(qtbot) -> None:
    panel = GridPanel("Network input: field of unit (12, 13) of a long block name")
    qtbot.addWidget(panel)
    panel.resize(120, 120)
    panel.show()
    shown = panel.shown_title()
    assert shown.endswith("…") and panel.toolTip() == panel.title
    assert panel.fontMetrics().horizontalAdvance(shown) <= panel.width() - 4
    panel.resize(600, 120)
    assert panel.shown_title() == panel.title


def test_the_step_through_field_panel_is_not_squeezed(qtbot) -> None:
    host = LectureHost(Document(preset_project("lenet5")))
    qtbot.addWidget(host)
    view = open_lecture_view(host, "step", "conv1")
    qtbot.addWidget(view)
    view.resize(900, 560)
    view.show()
    qtbot.waitExposed(view)
    QApplication.processEvents()
    assert view.field.width() >= 220 and view.field_note.width() >= 220
    assert "Click an output cell" in view.field_note.text()
    view.show_field(0, 0)
    title = view.field.shown_title()
    assert view.field.fontMetrics().horizontalAdvance(title) <= view.field.width() - 4
    assert view.field.toolTip() == view.field.title == "Network input: field of unit (0, 0)"


def test_the_dropout_grids_line_up_a_pass_a_row(qtbot) -> None:
    """The input beside both test outputs, then each pass's mask, torch's output and the
    lecture's output on one row (before, every row was shifted by the input's cell)."""
    host = LectureHost(Document(preset_project("small_vgg")))
    qtbot.addWidget(host)
    view = open_lecture_view(host, "dropout", "dropout")
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    QApplication.processEvents()
    rows: dict[str, int] = {}
    for panel in view.panels:
        if panel.isVisible():
            index = view.grid_layout.indexOf(panel)
            rows[panel.title] = view.grid_layout.getItemPosition(index)[0]
    assert rows["x (input)"] == rows["torch at test: x"] == rows["lecture at test: (1 − p)·x"]
    for i in (1, 2, 3):
        row = {r for title, r in rows.items() if f"pass {i}" in title or f"mask {i}" in title}
        assert len(row) == 1 and row != {rows["x (input)"]}


def test_play_pause_and_speed_move_the_window(qtbot) -> None:
    """Play advances one window per tick at the speed chosen, Pause stops it, and at the end
    it stops by itself (issue 18 point 2: step, play, pause, speed)."""
    host = LectureHost(Document(preset_project("lenet5")))
    qtbot.addWidget(host)
    view = open_lecture_view(host, "step", "pool1")
    qtbot.addWidget(view)
    view.speed.setValue(30)
    assert view.timer.interval() == 1000 // 30
    view.play_button.click()
    assert view.play_button.isChecked() and view.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: view.model.done >= 3, timeout=5_000)
    view.play_button.click()  # pause
    paused = view.model.done
    qtbot.wait(300)
    assert view.model.done == paused and view.play_button.text() == "Play"
    view.speed.setValue(1)
    assert view.timer.interval() == 1000
    view.step_button.click()
    assert view.model.done == paused + 1
    view.model.done = len(view.model.steps) - 2
    view.speed.setValue(30)
    view.play_button.click()
    qtbot.waitUntil(lambda: not view.play_button.isChecked(), timeout=5_000)
    assert view.model.finished and not view.step_button.isEnabled()
    assert view.progress.text().startswith(f"Step {len(view.model.steps)} of")
