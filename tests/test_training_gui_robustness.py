"""The Training tab, its Runs and Predict pages and File ▸ Export against damaged run folders,
runs that are killed, runs without a validation split and runs that end without a checkpoint,
driven as a person would (pytest-qt fails a test on any exception raised inside a Qt slot or
event handler)."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest
from designer_helpers import close_clean, training_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton
from tiny_graphs import digits_cnn, digits_mlp

from engine import Project

pytestmark = pytest.mark.timeout(180)

FAST = {"data": {"dataset": "digits", "limit": 400}, "batch_size": 32, "snapshot_budget": 0.2}
GOOD = '{"settings": {"data": {"dataset": "digits"}}}'
EPOCHS = '{"epoch": 1, "val_accuracy": 0.4, "val_loss": 1.5}\n'


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = training_window(qtbot, tmp_path, monkeypatch)
    yield win
    win.training.shutdown()
    close_clean(win)


def make_run(root: Path, name: str, **files: str | bytes) -> Path:
    """A run folder with ``settings.json`` (GOOD unless given) and the files given, named with
    ``_`` for ``.`` (``metrics_jsonl=...``)."""
    run = root / name
    run.mkdir(parents=True)
    for file, content in {"settings_json": GOOD, **files}.items():
        data = content if isinstance(content, bytes) else content.encode()
        (run / file.replace("_", ".")).write_bytes(data)
    return run


def open_training_tab(qtbot, window) -> None:
    """Click the Train view's button, as a user opens the dashboard."""
    button = window.workspace.toolbar.widgetForAction(window.actions_by_name["view_train"])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    host = window.training.host
    qtbot.waitUntil(lambda: host.dashboard is not None and host.dashboard.isVisible())


def run_texts(window) -> list[str]:
    """Each row of the Runs page as "NAME  STATUS, N epoch(s), best ACC", and for a damaged
    run "  — damaged: " and its tooltip's first problem."""
    runs = window.training.host.runs
    texts = []
    for i in range(runs.row_count()):
        text = (
            f"{runs.cell(i, 'name')}  {runs.cell(i, 'status')}, {runs.cell(i, 'epochs')} "
            f"epoch(s), best {runs.cell(i, 'best_acc')}"
        )
        if "damaged" in runs.cell(i, "status"):
            text += f"  — damaged: {runs.tooltip(i).splitlines()[1]}"
        texts.append(text)
    return texts


def wait_end(qtbot, controller, timeout: int = 90_000) -> None:
    qtbot.waitUntil(lambda: not controller.is_running(), timeout=timeout)


# ----- damaged run folders ---------------------------------------------------------------------
def test_the_training_tab_opens_with_a_damaged_run_folder(qtbot, window, tmp_path) -> None:
    root = tmp_path / "runs"
    make_run(root, "20250101-000000", metrics_jsonl="[1, 2]\n")
    make_run(root, "20250102-000000", metrics_jsonl=EPOCHS, result_json='{"status": "completed"}')
    open_training_tab(qtbot, window)
    host = window.training.host
    assert host._layout.indexOf(host.dashboard) >= 0 and not host.hint.isVisible()
    damaged, good = run_texts(window)
    assert "damaged: metrics.jsonl line 1: a JSON list" in damaged
    assert "completed, 1 epoch(s), best 40.0%" in good and "damaged" not in good
    tip = host.runs.tooltip(0)
    assert "20250101-000000" in tip and "metrics.jsonl line 1" in tip


REFRESH_CASES = {
    "metrics line a list": {"metrics_jsonl": "[1, 2]\n"},
    "metrics not utf-8": {"metrics_jsonl": EPOCHS.encode() + b"\xff\xfe\n"},
    "settings not utf-8": {"settings_json": b"\xff\xfe{"},
    "settings a list inside": {"settings_json": '{"settings": []}'},
    "settings data a word": {"settings_json": '{"settings": {"data": "x"}}'},
    "val accuracy a word": {"metrics_jsonl": '{"epoch": 1, "val_accuracy": "high"}\n'},
    "epoch a word": {"metrics_jsonl": '{"epoch": "one", "val_accuracy": 0.5}\n'},
    "result status a dict": {"result_json": '{"status": {"a": 1}}'},
}


@pytest.mark.parametrize("case", list(REFRESH_CASES))
def test_refresh_marks_a_damaged_run_and_draws_the_rest(qtbot, window, tmp_path, case) -> None:
    open_training_tab(qtbot, window)
    runs = window.training.host.runs
    root = tmp_path / "runs"
    make_run(root, "20250101-000000", metrics_jsonl=EPOCHS, result_json='{"status": "stopped"}')
    make_run(root, "20250102-000000", **REFRESH_CASES[case])
    refresh = next(b for b in runs.findChildren(QPushButton) if b.text() == "Refresh")
    qtbot.mouseClick(refresh, Qt.MouseButton.LeftButton)
    good, damaged = run_texts(window)
    assert "stopped, 1 epoch(s), best 40.0%" in good
    assert "damaged:" in damaged, damaged
    runs.table.selectAll()  # overlay both: nothing raises
    assert len(runs.curves) == 2


def test_export_offers_the_latest_checkpoint_past_a_damaged_run(qtbot, window, tmp_path) -> None:
    root = tmp_path / "runs"
    good = make_run(root, "20250101-000000", metrics_jsonl=EPOCHS, best_pt=b"weights")
    make_run(root, "20250102-000000", settings_json='{"settings": {"data": "x"}}')
    window.actions_by_name["export_python"].trigger()
    dialog = window.findChild(QDialog, "export_dialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.run_checkpoint == good / "best.pt"
    assert "20250101-000000" in dialog.weights.currentText()
    dialog.reject()


def test_a_validation_accuracy_of_zero_is_drawn_not_left_out(qtbot, window, tmp_path) -> None:
    make_run(
        tmp_path / "runs",
        "20250101-000000",
        metrics_jsonl='{"epoch": 1, "val_accuracy": 0.0, "val_loss": 0.0}\n'
        '{"epoch": 2, "val_accuracy": 0.5, "val_loss": 1.0}\n',
        result_json='{"status": "completed"}',
    )
    open_training_tab(qtbot, window)
    acc, loss = next(iter(window.training.host.runs.curves.values()))
    assert list(acc.getData()[1]) == [0.0, 0.5]
    assert list(loss.getData()[1]) == [0.0, 1.0]


def test_a_damaged_folder_appearing_during_a_run_leaves_train_usable(
    qtbot, window, tmp_path
) -> None:
    controller = window.training
    window.document.project.training = {**FAST, "epochs": 1}
    window.actions_by_name["train"].trigger()
    assert controller.is_running()
    make_run(tmp_path / "runs", "00000000-000000", settings_json='{"settings": []}')
    wait_end(qtbot, controller)
    assert controller.host.dashboard.state == "completed"
    assert controller.actions["train"].isEnabled() and not controller.actions["stop"].isEnabled()
    damaged, finished = run_texts(window)
    assert "damaged" in damaged and "completed, 1 epoch(s)" in finished
    assert "Training completed, best validation accuracy" in window.statusBar().currentMessage()


# ----- killed runs -----------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP is POSIX")
def test_a_stop_that_times_out_says_the_designer_ended_the_run(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    import designer.training.controller as controller_module

    monkeypatch.setattr(controller_module, "STOP_GRACE_MS", 1500)
    controller = window.training
    window.document.project.training = {**FAST, "epochs": 200}
    window.actions_by_name["train"].trigger()
    dashboard = controller.host.dashboard
    qtbot.waitUntil(lambda: dashboard.loss.size > 0, timeout=90_000)
    run_dir = Path(controller.last_run_dir)
    os.kill(controller.handle.process.pid, signal.SIGSTOP)  # hung: it cannot answer Stop
    window.actions_by_name["stop"].trigger()
    wait_end(qtbot, controller, 30_000)
    message = dashboard.message.text()
    assert "did not answer Stop within 1.5 s" in message and "designer ended it" in message
    assert "memory" not in message and "unexpectedly" not in message
    assert "did not answer Stop" in window.statusBar().currentMessage()
    assert json.loads((run_dir / "result.json").read_text())["status"] == "killed"
    (text,) = run_texts(window)
    assert text.startswith(f"{run_dir.name}  killed")
    assert controller.actions["train"].isEnabled()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_run_killed_from_outside_is_listed_as_crashed_not_running(qtbot, window) -> None:
    controller = window.training
    window.document.project.training = {**FAST, "epochs": 200}
    window.actions_by_name["train"].trigger()
    dashboard = controller.host.dashboard
    qtbot.waitUntil(lambda: dashboard.loss.size > 0, timeout=90_000)
    run_dir = Path(controller.last_run_dir)
    os.kill(controller.handle.process.pid, signal.SIGKILL)  # as the out-of-memory killer would
    wait_end(qtbot, controller)
    assert "ended unexpectedly (killed by SIGKILL, exit code -9)" in dashboard.message.text()
    (text,) = run_texts(window)
    assert text.startswith(f"{run_dir.name}  crashed") and "running" not in text
    assert json.loads((run_dir / "result.json").read_text())["status"] == "crashed"


# ----- no validation split -----------------------------------------------------------------------
def test_without_a_validation_split_the_accuracy_is_called_a_training_one(qtbot, window) -> None:
    window.document.replace_project(Project(graph=digits_mlp()))
    controller = window.training
    window.document.project.training = {
        "data": {"dataset": "digits", "limit": 400, "val_split": 0.0},
        "batch_size": 32,
        "epochs": 2,
    }
    window.actions_by_name["train"].trigger()
    wait_end(qtbot, controller)
    dashboard = controller.host.dashboard
    assert dashboard.state == "completed", dashboard.message.text()
    best = f"best training accuracy {max(dashboard.train_accs.y):.1%} (no validation split)"
    title, status = dashboard.title.text(), window.statusBar().currentMessage()
    assert best in title and best in status
    assert "validation accuracy" not in title and "validation accuracy" not in status
    result = json.loads((Path(controller.last_run_dir) / "result.json").read_text())
    assert result["best_val_accuracy"] is None and result["best_train_accuracy"] > 0


# ----- Predict after a run without a checkpoint ---------------------------------------------------
@pytest.mark.parametrize("ending", ["stopped at once", "NaN in the first epoch"])
def test_predict_keeps_the_latest_run_with_a_checkpoint(qtbot, window, tmp_path, ending) -> None:
    earlier = make_run(
        tmp_path / "runs",
        "20000101-000000",
        metrics_jsonl=EPOCHS,
        result_json='{"status": "completed"}',
        best_pt=b"weights",
    )
    controller = window.training
    if ending == "stopped at once":
        window.document.project.training = {**FAST, "epochs": 5}
        window.actions_by_name["train"].trigger()
        window.actions_by_name["stop"].trigger()  # before the first epoch can end
    else:
        window.document.replace_project(Project(graph=digits_cnn()))
        window.document.project.training = {
            "data": {"dataset": "digits", "limit": 400},
            "epochs": 5,
            "batch_size": 32,
            "optimizer": "sgd",
            "lr": 1e6,
        }
        window.actions_by_name["train"].trigger()
    wait_end(qtbot, controller)
    latest = Path(controller.last_run_dir)
    assert latest != earlier and not list(latest.glob("*.pt")), "the run was meant to end early"
    predict = controller.host.predict
    assert predict.run_dir == str(earlier)
    assert f"Run {latest.name} has no checkpoint" in predict.info.text()
    assert f"Using run {earlier}" in predict.info.text()
    assert predict.sample_button.isEnabled()
