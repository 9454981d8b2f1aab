"""Experiments ▸ Repeat with N seeds…: the open design trained with 2 seeds by
``cnn-designer repeat`` in a background process, then shown in the Runs view as one
mean ± std band; Stop ends it and the window stays usable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import (
    close_experiments_window,
    experiments_window,
    open_experiment_dialog,
)
from PySide6.QtCore import Qt

from engine.training.runs import list_runs
from engine.training.settings import TrainingSettings

pytestmark = pytest.mark.gui

TINY = {"epochs": 2, "device": "cpu", "seed": 7, "data": {"dataset": "digits", "limit": 64}}


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = experiments_window(qtbot, tmp_path, monkeypatch, TINY)
    yield win
    close_experiments_window(win)  # stops what the dialogs still run


def open_dialog(window: Any) -> Any:
    return open_experiment_dialog(window, "repeat")


def test_two_seeds_train_in_the_background_and_show_as_a_band(window, qtbot) -> None:
    dialog = open_dialog(window)
    root = window.training.default_run_root()
    about = dialog.about.text()
    assert str(root) in about and "from seed 7" in about and "2 epochs on digits" in about
    dialog.seeds.lineEdit().selectAll()
    qtbot.keyClicks(dialog.seeds.lineEdit(), "2")
    assert dialog.seeds.value() == 2
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.running, dialog.message.text()
    assert not dialog.start_button.isEnabled() and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=90_000)
    assert dialog.message.text().startswith("Finished: 2 runs"), dialog.log.toPlainText()
    runs = list_runs(root)
    assert len(runs) == 2 and sorted(r.settings["seed"] for r in runs) == [7, 8]
    assert json.loads((root / "repeat.json").read_text())["epochs"]
    assert dialog.temp is None  # the design saved for the command is gone
    page = window.training.host.runs
    assert window.view == "runs" and page.isVisible()
    assert sorted(page.selected_paths()) == sorted(str(r.path) for r in runs)
    assert page.compare.currentWidget() is page.compare.curves_tab
    assert page.compare.curves_tab.group.isChecked()
    assert len(page.bands) == 1 and not page.curves  # the two runs as one band


def test_stop_ends_the_repeats(window, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    from designer.experiments import repeat_dialog

    monkeypatch.setattr(repeat_dialog, "STOP_GRACE_MS", 1000)
    window.training.store_settings(TrainingSettings.from_dict({**TINY, "epochs": 50}))
    dialog = open_dialog(window)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.running
    qtbot.waitUntil(lambda: "runs, seeds" in dialog.log.toPlainText(), timeout=30_000)
    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.message.text().startswith("Stopped."), dialog.log.toPlainText()
    assert dialog.start_button.isEnabled() and window.view == "design"
    # the dialog gone before Stop's grace ends: its kill-if-still-running check never fires on
    # the deleted process (an exception in the event loop fails this test)
    dialog.close()
    dialog.deleteLater()
    window.experiments.repeat = None
    qtbot.wait(1500)
