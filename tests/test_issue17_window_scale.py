"""Issue 17, Scale, through the whole window: a 5,000-block design opened from disk with File ▸
Open, then edited as a user edits (the block selected, its parameter changed by the undo command
the inspector pushes): the canvas, the layer summary, the Problems list and the inspector all
show the new values, and each does only the work the edit calls for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPaintEvent, QRegion
from PySide6.QtWidgets import QApplication

from benchmarks.canvas_5000 import chain_graph
from designer.document import Document
from designer.main_window import MainWindow
from engine import Project
from engine.analysis.receptive_field import receptive_fields
from engine.project import save_project


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    path = tmp_path / "chain5000.cnnd"
    save_project(Project(chain_graph()), path)
    shown = MainWindow(Document(Project()), session=False)
    qtbot.addWidget(shown)
    shown.resize(1600, 1100)
    shown.show()
    qtbot.waitExposed(shown)
    assert shown.open_file(path)
    QApplication.processEvents()
    yield shown
    close_clean(shown)


def edit(window: MainWindow, name: str, changes: dict[str, Any]) -> None:
    window.document.set_selection([name])
    QApplication.processEvents()
    window.document.set_params(name, changes)
    QApplication.processEvents()


def test_the_inspector_field_follows_edits_visiting_only_what_they_change(
    window: MainWindow,
) -> None:
    lecture = window.inspector.lecture
    doc = window.document
    edit(window, "conv1000", {"kernel_size": 5, "padding": 2})  # every field downstream grows
    doc.set_selection(["relu1500"])
    QApplication.processEvents()
    full = receptive_fields(doc.graph, doc.result)
    assert lecture.field == full["relu1500"]
    assert lecture.field.size == (3005, 3005)  # 1501 kernels of 3, one of them now 5
    edit(window, "conv1200", {"out_channels": 8})  # channels only: no field changes
    assert lecture.node_name == "conv1200"
    assert lecture._kept is not None and lecture._kept.visited <= 6
    assert lecture.field == receptive_fields(doc.graph, doc.result)["conv1200"]


def test_the_summary_replaces_only_the_rows_an_edit_changes(window: MainWindow) -> None:
    model = window.summary.model
    resets, changed_rows = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(
        lambda first, last, *_: changed_rows.extend(range(first.row(), last.row() + 1))
    )
    edit(window, "conv700", {"out_channels": 8})  # conv700..conv701 change shape or count
    assert resets == []
    assert sorted(model.rows[i].name for i in set(changed_rows)) == sorted(
        ["conv700", "bn700", "relu700", "conv701"]
    )
    row = model.rows[model.row_of("conv700")]
    assert row.output_shape == (8, 32, 32)
    assert model.index(model.row_of("conv700"), 2).data() == "8×32×32"
    # the totals moved by the changed blocks: equal to adding up every block again
    result = window.document.result
    assert f"Total params: {result.total_params:,}" in window.summary.totals.text()
    assert f"Total MACs: {result.total_macs:,}" in window.summary.totals.text()
    # what the table shows equals a full rebuild of it
    shown = list(model.rows)
    window.summary._shown = (None, None, -1)
    window.summary.update_from(result)
    assert model.rows == shown
    # an edit of the structure (a block removed) resets it
    resets.clear()
    window.document.remove_nodes(["output1"])
    QApplication.processEvents()
    assert resets == [1] and model.row_of("output1") == -1
    # a block moved into a group: the group column of its row (groups are not structure)
    window.document.undo_stack.undo()
    QApplication.processEvents()
    window.document.run_edit("Group", lambda g: g.set_groups({"conv5": ("stage1",)}))
    QApplication.processEvents()
    assert model.rows[model.row_of("conv5")].group == "stage1"


def test_problems_are_built_again_only_when_an_edit_changes_them(window: MainWindow) -> None:
    problems = window.problems
    edit(window, "conv1600", {"kernel_size": 41})  # larger than its 32×32 input (padding 1)
    assert [d.node for d in problems.diagnostics] == ["conv1600"]
    first = problems.tree.topLevelItem(0)
    assert first.text(1) == "conv1600"
    edit(window, "conv10", {"out_channels": 8})  # upstream, no problem comes or goes
    assert problems.tree.topLevelItem(0) is first  # the list was left as it was
    assert problems.tree.topLevelItemCount() == 1
    edit(window, "conv1600", {"kernel_size": 3})  # fixed: the list follows
    assert problems.diagnostics == [] and problems.tree.topLevelItemCount() == 0
    assert window.bottom_tabs.tabText(window.bottom_tabs.indexOf(problems)) == "Problems"


class EventLog(QObject):
    """Paint regions and layout requests, by widget, while switched on."""

    def __init__(self) -> None:
        super().__init__()
        self.on = False
        self.painted: dict[QObject, QRegion] = {}
        self.laid_out: list[QObject] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.on and isinstance(event, QPaintEvent):
            self.painted[watched] = self.painted.get(watched, QRegion()) | event.region()
        elif self.on and event.type() == QEvent.Type.LayoutRequest:
            self.laid_out.append(watched)
        return False


def test_an_edit_repaints_only_the_summary_rows_it_changes(window: MainWindow) -> None:
    summary = window.summary
    edit(window, "conv20", {"out_channels": 8})  # selected, scrolled to, shown once
    log = EventLog()
    app = QApplication.instance()
    app.installEventFilter(log)
    try:
        log.on = True
        window.document.set_params("conv20", {"out_channels": 24})
        QApplication.processEvents()
        log.on = False
    finally:
        app.removeEventFilter(log)
    assert "24×32×32" in summary.model.index(summary.model.row_of("conv20"), 2).data()
    assert "Total params" in summary.totals.text()
    table = summary.view.viewport()
    row_height = summary.view.verticalHeader().defaultSectionSize()
    painted = log.painted.get(table, QRegion()).boundingRect()
    assert painted.height() <= 4 * row_height + 2  # the rows that changed, not the table
    # the new totals repaint their line only: the window is not laid out again for it
    assert window.docks["bottom_dock"] not in log.laid_out
    assert summary not in log.laid_out
    assert summary.view.verticalScrollBar() not in log.painted
