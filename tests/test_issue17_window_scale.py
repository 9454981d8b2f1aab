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
