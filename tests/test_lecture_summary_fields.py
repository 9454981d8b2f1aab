"""The layer summary's receptive field and jump columns (issue 18 point 3: "in the inspector and
as columns of the layer summary"), as the window shows them, and after an edit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from designer_helpers import close_clean, shown_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from designer.lecture.summary_fields import LazyFields
from designer.main_window import MainWindow
from engine import infer
from engine.analysis.receptive_field import jump_text, receptive_fields, size_text
from presets import PRESETS

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    win = shown_window(qtbot, tmp_path, monkeypatch)  # LeNet-5
    yield win
    close_clean(win)


def _shown(win: MainWindow) -> dict[str, tuple[str, str]]:
    model = win.summary.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal, 0) for c in range(5, 7)]
    assert headers == ["RF", "Jump"]
    return {
        row.name: (model.index(i, 5).data(), model.index(i, 6).data())
        for i, row in enumerate(model.rows)
    }


def _expected(win: MainWindow) -> dict[str, tuple[str, str]]:
    fields = receptive_fields(win.document.graph, win.document.result)
    return {name: (size_text(f), jump_text(f)) for name, f in fields.items()}


def test_the_summary_shows_each_blocks_field_and_follows_an_edit(qtbot, window) -> None:
    shown = _shown(window)
    assert shown == _expected(window)
    assert shown["conv2"] == ("14×14", "2") and shown["input"] == ("1×1", "1")
    model = window.summary.model
    last = model.columnCount() - 1
    assert model.headerData(last, Qt.Orientation.Horizontal, 0) == "Memory"
    redrawn: list[int] = []
    model.dataChanged.connect(
        lambda first, end, *_: redrawn.extend(
            range(first.row(), end.row() + 1) if first.column() <= 5 <= end.column() else []
        )
    )
    window.document.set_params("conv1", {"kernel_size": 3})
    QApplication.processEvents()
    after = _shown(window)
    assert after == _expected(window)
    assert after["conv2"] == ("12×12", "2")  # conv1 3×3, pool 2, conv2 5×5
    assert model.rows[model.row_of("conv2")].name == "conv2"
    assert model.row_of("conv2") in redrawn and model.row_of("fc1") in redrawn


def test_fields_are_worked_out_only_for_the_rows_asked_for() -> None:
    graph = PRESETS.get("resnet18").create()
    result = infer(graph)
    lazy = LazyFields()
    assert lazy.update(graph, result) is None
    want = receptive_fields(graph, result)
    assert lazy.field("layer1.0.conv1") == want["layer1.0.conv1"]
    assert "fc" not in lazy.fields and len(lazy.fields) < len(want) // 4
    assert all(lazy.field(name) == want[name] for name in reversed(graph.names))
