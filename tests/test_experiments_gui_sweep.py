"""Experiments ▸ Sweep…: specs refused in the dialog with the command's own message before
anything starts; a real sweep of tiny Digits trials in a background process with its live
table; Stop ends it and the study stays resumable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import (
    close_clean,
    close_experiments_window,
    experiments_window,
    open_experiment_dialog,
)
from PySide6.QtCore import Qt

from designer.experiments.open_run import runs_page
from engine.training.runs import list_runs
from engine.training.settings import TrainingSettings

TINY = {"epochs": 1, "device": "cpu", "data": {"dataset": "digits", "limit": 64}}


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = experiments_window(qtbot, tmp_path, monkeypatch, TINY)
    yield win
    close_experiments_window(win)  # stops what the dialogs still run


def open_dialog(window: Any) -> Any:
    return open_experiment_dialog(window, "sweep")


def fill_row(qtbot, row: Any, key: str, kind: str, values: str) -> None:
    """Type the key, pick the kind with the arrow keys, type the values."""
    row.key.lineEdit().clear()
    qtbot.keyClicks(row.key.lineEdit(), key)
    qtbot.keyClick(row.kind, Qt.Key.Key_Home)
    for _ in range(row.kind.findText(kind)):
        qtbot.keyClick(row.kind, Qt.Key.Key_Down)
    assert row.kind.currentText() == kind
    row.values.clear()
    qtbot.keyClicks(row.values, values)


def set_trials(qtbot, dialog: Any, count: int) -> None:
    dialog.trial_count.lineEdit().selectAll()
    qtbot.keyClicks(dialog.trial_count.lineEdit(), str(count))
    assert dialog.trial_count.value() == count


def click(qtbot, button: Any) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def states(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT state FROM trials ORDER BY number")]


def table(dialog: Any) -> list[list[str]]:
    return [
        [dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
        for r in range(dialog.table.rowCount())
    ]


def test_bad_specs_are_refused_with_the_commands_message(window, qtbot) -> None:
    dialog = open_dialog(window)
    root = window.training.default_run_root()
    row = dialog.rows[0]
    for key, kind, values, expected in (
        ("lrr", "log", "1e-4..1e-1", "unknown sweep key 'lrr'. Did you mean 'lr'?"),
        ("lr", "log", "0.1..0.01", "the range is empty (LOW must be less than HIGH)"),
        ("lr", "log", "0..0.1", "a log: range must be above 0"),
        ("conv1.out_channels", "float", "4..8", "is a whole number"),
        ("option.width", "choice", "1,2", "preset options can only be varied for a --preset"),
    ):
        fill_row(qtbot, row, key, kind, values)
        click(qtbot, dialog.start_button)
        assert expected in dialog.message.text(), dialog.message.text()
        assert dialog.message.text().startswith("Not started: --param ")
        assert dialog.process is None and dialog.start_button.isEnabled()
    fill_row(qtbot, row, "lr", "float", "0.001..0.1")
    qtbot.keyClick(dialog.sampler, Qt.Key.Key_End)  # grid
    assert dialog.sampler.currentText() == "grid"
    click(qtbot, dialog.start_button)
    assert "a grid needs a finite set of values" in dialog.message.text()
    assert dialog.process is None and not root.exists()  # nothing written
    assert dialog.temp is None  # the design saved for the command is gone again


def test_a_sweep_of_a_preset_runs_in_the_background_and_its_trials_are_listed(
    window, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = open_dialog(window)
    qtbot.keyClick(dialog.source, Qt.Key.Key_End)  # the preset, so that its options can vary
    assert dialog.source.currentData() == "preset"
    fill_row(qtbot, dialog.rows[0], "option.pooling", "choice", "avg,max")
    qtbot.keyClick(dialog.sampler, Qt.Key.Key_End)  # grid
    assert dialog.sampler.currentText() == "grid"
    set_trials(qtbot, dialog, 2)
    click(qtbot, dialog.start_button)
    assert dialog.running, dialog.message.text()
    assert not dialog.start_button.isEnabled() and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=90_000)
    assert dialog.message.text().startswith("Finished."), dialog.log.toPlainText()
    root = window.training.default_run_root()
    runs = list_runs(root)
    assert len(runs) == 2 and {r.settings["epochs"] for r in runs} == {1}
    assert (root / "sweep.db").is_file() and states(root / "sweep.db") == ["COMPLETE"] * 2
    rows = table(dialog)
    assert [r[0] for r in rows] == ["0", "1"] and {r[2] for r in rows} == {"complete"}
    values, folders = {}, {}
    for run in runs:
        trial = json.loads((run.path / "trial.json").read_text())
        values[str(trial["trial"])] = trial["value"]
        folders[str(trial["trial"])] = run.path
        assert rows[trial["trial"]][1] == f"option.pooling={trial['params']['option.pooling']}"
        assert rows[trial["trial"]][3] == f"{trial['value']:.2%}"
    best = max(values, key=lambda n: (values[n], -int(n)))
    assert [r[0] for r in rows if r[4] == "★"] == [best]
    assert f"Best: trial {best}" in dialog.message.text()
    # a double-click on a trial opens its run (selected in the Runs view)
    page = runs_page(window)
    selected: list[Path] = []
    monkeypatch.setattr(page, "select_run", selected.append, raising=False)
    rect = dialog.table.visualItemRect(dialog.table.item(1, 1))
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert selected == [folders["1"]]


def test_stop_ends_the_sweep_and_keeps_the_study(window, qtbot) -> None:
    window.training.store_settings(
        TrainingSettings.from_dict({**TINY, "epochs": 200, "data": {"dataset": "digits"}})
    )
    dialog = open_dialog(window)
    fill_row(qtbot, dialog.rows[0], "lr", "log", "1e-3..1e-1")
    set_trials(qtbot, dialog, 3)
    click(qtbot, dialog.start_button)
    assert dialog.running, dialog.message.text()
    qtbot.waitUntil(lambda: [r[2] for r in table(dialog)] == ["running"], timeout=60_000)
    click(qtbot, dialog.stop_button)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    root = window.training.default_run_root()
    assert dialog.message.text().startswith("Stopped. The study is kept in")
    assert states(root / "sweep.db") == ["FAIL"]  # marked, not left RUNNING: resumable
    assert [r[2] for r in table(dialog)] == ["fail"]
    assert dialog.start_button.isEnabled() and dialog.temp is None


def test_closing_the_window_stops_a_running_sweep_cleanly(window, qtbot) -> None:
    window.training.store_settings(
        TrainingSettings.from_dict({**TINY, "epochs": 200, "data": {"dataset": "digits"}})
    )
    dialog = open_dialog(window)
    fill_row(qtbot, dialog.rows[0], "lr", "log", "1e-3..1e-1")
    click(qtbot, dialog.start_button)
    qtbot.waitUntil(lambda: [r[2] for r in table(dialog)] == ["running"], timeout=60_000)
    process = dialog.process
    close_clean(window)  # the window closes with the sweep running
    assert process.state() == process.ProcessState.NotRunning
    assert process.exitCode() == 128 + 15  # ended by SIGTERM as Stop does, not killed
    assert states(window.training.default_run_root() / "sweep.db") == ["FAIL"]


def test_training_settings_the_command_refuses_are_named_before_anything_starts(
    window, qtbot
) -> None:
    window.document.project.training = {**TINY, "epochs": 0}  # as a hand-edited file has them
    dialog = open_dialog(window)
    fill_row(qtbot, dialog.rows[0], "lr", "log", "1e-3..1e-1")
    for source in (Qt.Key.Key_Home, Qt.Key.Key_End):  # the design, then its preset
        qtbot.keyClick(dialog.source, source)
        click(qtbot, dialog.start_button)
        assert dialog.message.text().startswith("Not started: "), dialog.message.text()
        assert "epochs" in dialog.message.text() and "Received" in dialog.message.text()
        assert dialog.process is None and dialog.temp is None
    assert not window.training.default_run_root().exists()


def test_the_keys_offered_cover_settings_options_and_blocks_and_stay_bounded() -> None:
    from designer.experiments.sweep_plan import MAX_KEYS, known_keys
    from engine.graph import Graph
    from presets import PRESETS

    preset = PRESETS.get("lenet5_digits")
    keys = known_keys(preset.create(), TINY, preset)
    assert {"lr", "batch_size", "data.crop_padding", "option.pooling", "conv1.out_channels"} <= set(
        keys
    )
    big = Graph()
    for i in range(3000):
        big.add_node("linear", f"fc{i}")  # two parameters each
    assert len(known_keys(big, {}, None)) <= MAX_KEYS + 10


def test_a_trial_that_fails_before_its_run_folder_is_listed_from_the_study(window, qtbot) -> None:
    """A kernel larger than the image fails the trial before it trains: no run folder, but
    the live table shows it (read from the study's sweep.db, read-only) with the reason."""
    dialog = open_dialog(window)
    fill_row(qtbot, dialog.rows[0], "conv1.kernel_size", "choice", "40,3")
    qtbot.keyClick(dialog.sampler, Qt.Key.Key_End)  # grid
    set_trials(qtbot, dialog, 2)
    click(qtbot, dialog.start_button)
    assert dialog.running, dialog.message.text()
    failed: list[list[str]] = []

    def failed_listed() -> bool:
        failed[:] = [r for r in table(dialog) if r[2] == "fail"]
        return bool(failed)

    qtbot.waitUntil(failed_listed, timeout=60_000)  # while the sweep runs (polled live)
    qtbot.waitUntil(lambda: not dialog.running, timeout=90_000)
    assert dialog.message.text().startswith("Finished."), dialog.log.toPlainText()
    root = window.training.default_run_root()
    assert len(list_runs(root)) == 1  # only the trial with kernel 3 trained
    db = root / "sweep.db"
    stored = db.read_bytes()
    dialog.poll()
    assert db.read_bytes() == stored  # reading the study writes nothing
    rows = table(dialog)
    assert sorted(r[2] for r in rows) == ["complete", "fail"]
    row = next(i for i, r in enumerate(rows) if r[2] == "fail")
    assert rows[row][1] == "conv1.kernel_size=40" and rows[row][3] == "–"
    tip = dialog.table.item(row, 0).toolTip()
    assert "kernel 40 is larger than its" in tip and "Use a smaller kernel" in tip
    rect = dialog.table.visualItemRect(dialog.table.item(row, 1))
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dialog.message.text().startswith(f"Trial {rows[row][0]} made no run folder: ")
    assert "kernel 40" in dialog.message.text() and window.view == "design"


def test_an_edited_design_starts_a_study_of_its_own(window, qtbot) -> None:
    """The study of the open design is named after it and its fingerprint: Start after an
    edit starts a new study (the command would refuse to continue one on another design)."""
    from engine.experiments.tradeoff import design_fingerprint

    dialog = open_dialog(window)
    studies = []
    for channels in (6, 8):
        window.document.set_params("conv1", {"out_channels": channels})
        fill_row(qtbot, dialog.rows[0], "conv1.kernel_size", "choice", "40")
        set_trials(qtbot, dialog, 1)
        click(qtbot, dialog.start_button)
        assert dialog.running, dialog.message.text()
        studies.append(dialog.request.study)
        qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
        assert "another design" not in dialog.log.toPlainText()
        assert [r[2] for r in table(dialog)] == ["fail"]  # the kernel fails the one trial
    fingerprint = design_fingerprint(window.document.graph.to_data())
    assert studies[1].endswith(f"-{fingerprint}") and studies[0] != studies[1]
    root = window.training.default_run_root()
    with sqlite3.connect(root / "sweep.db") as connection:
        names = {row[0] for row in connection.execute("SELECT study_name FROM studies")}
    assert names == set(studies)
