"""Issue 19, point 1: the run browser in the Runs view, driven as a user drives it. Real tiny
runs on Digits are trained once for the module (two repeats of one design and settings, one run
with another learning rate and seed, one with a wider convolution); each test copies them."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import close_clean, training_window
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox
from tiny_graphs import digits_cnn

from designer.runs.model import COLUMN

pytestmark = pytest.mark.gui

RUN = {"data": {"dataset": "digits", "limit": 64}, "epochs": 2, "batch_size": 16, "device": "cpu"}
# name -> (filters of the convolution, seed, learning rate)
RUNS = {"a": (8, 0, 1e-3), "b": (8, 1, 1e-2), "wide": (16, 0, 1e-3), "a_again": (8, 1, 1e-3)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The four runs, trained once by the engine's trainer: run name -> run folder."""
    from engine.training.trainer import train

    root = tmp_path_factory.mktemp("trained")
    made: dict[str, Path] = {}
    for name, (filters, seed, lr) in RUNS.items():
        settings = {**RUN, "seed": seed, "lr": lr}
        events = list(train(digits_cnn(filters), settings, run_root=root / name, snapshots=False))
        assert events[-1].kind == "finished", events[-1]
        made[name] = Path(events[-1].run_dir)
    return made


@pytest.fixture
def runs(trained: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """This test's copy of the runs, in one runs folder (in the order listed: a, b, wide,
    a_again) plus a damaged run folder last."""
    root = tmp_path / "runs"
    root.mkdir()
    copies = {}
    for index, (name, folder) in enumerate(trained.items()):
        copies[name] = root / f"20250101-00000{index}"
        shutil.copytree(folder, copies[name])
    damaged = root / "20250101-000009"
    damaged.mkdir()
    (damaged / "settings.json").write_text('{"settings": {"data": {"dataset": "digits"}}}')
    (damaged / "metrics.jsonl").write_text("[1, 2]\n")
    copies["damaged"] = damaged
    return copies


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    win = training_window(qtbot, tmp_path, monkeypatch)
    yield win
    win.training.shutdown()
    close_clean(win)


def open_runs(qtbot, window) -> Any:
    """Click the Runs view's button; the browser lists the runs."""
    button = window.workspace.toolbar.widgetForAction(window.actions_by_name["view_runs"])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training.host.runs is not None)
    page = window.training.host.runs
    qtbot.waitUntil(page.isVisible)
    return page


def click_row(qtbot, page, path: Path, ctrl: bool = False) -> None:
    row = page.paths().index(str(path))
    rect = page.table.visualRect(page.proxy.index(row, COLUMN["status"]))
    modifier = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def click_header(qtbot, page, column: str) -> None:
    header = page.table.horizontalHeader()
    x = header.sectionViewportPosition(COLUMN[column]) + header.sectionSize(COLUMN[column]) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def metrics(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def facts_of(folder: Path) -> Any:
    from engine.experiments.tradeoff import run_facts
    from engine.training.runs import read_run

    return run_facts(read_run(folder))


# ----- the table ---------------------------------------------------------------------------
def test_every_run_is_a_row_and_numbers_sort_as_numbers(qtbot, window, runs) -> None:
    page = open_runs(qtbot, window)
    listed = [runs[n] for n in ("a", "b", "wide", "a_again", "damaged")]
    assert page.paths() == [str(p) for p in listed]
    assert page.selected_paths() == [str(runs["damaged"])]  # the newest, as before
    wide = page.paths().index(str(runs["wide"]))
    facts = facts_of(runs["wide"])
    assert page.cell(wide, "status") == "completed" and page.cell(wide, "data") == "digits"
    assert page.cell(wide, "epochs") == "2"
    assert page.cell(wide, "params") == f"{facts.params:,}" == "10,410"
    assert page.cell(wide, "macs") == f"{facts.macs:,}"
    assert page.cell(wide, "best_acc") == f"{facts.best_val_accuracy:.1%}"
    assert page.cell(wide, "best_loss") == f"{facts.best_val_loss:.4f}"
    assert page.cell(wide, "fingerprint") == facts.fingerprint
    assert page.cell(wide, "started") == "2025-01-01 00:00:02"
    # as text "10,410" sorts before "5,210"; as numbers it is the largest, after the damaged
    # run, whose design is unknown
    click_header(qtbot, page, "params")
    order = page.paths()
    assert order[0] == str(runs["damaged"]) and order[-1] == str(runs["wide"])
    click_header(qtbot, page, "params")  # descending
    assert page.paths()[0] == str(runs["wide"])
    click_header(qtbot, page, "best_loss")
    losses = [facts_of(Path(p)).best_val_loss for p in page.paths()[1:]]
    assert losses == sorted(losses)


def test_a_damaged_run_is_a_marked_row_with_the_reason_in_its_tooltip(qtbot, window, runs) -> None:
    page = open_runs(qtbot, window)
    row = page.paths().index(str(runs["damaged"]))
    assert "damaged" in page.cell(row, "status")
    assert "metrics.jsonl line 1: a JSON list" in page.tooltip(row)
    assert "damaged" not in page.cell(page.paths().index(str(runs["a"])), "status")


@pytest.mark.timeout(120)
@pytest.mark.skipif(sys.platform == "win32", reason="named pipes in folders are POSIX")
@pytest.mark.parametrize("name", ["graph.json", "metrics.jsonl", "result.json", "run_meta.json"])
def test_a_named_pipe_in_a_run_folder_is_named_never_waited_on(
    qtbot, window, runs, name: str
) -> None:
    import os

    (runs["a"] / name).unlink(missing_ok=True)
    os.mkfifo(runs["a"] / name)  # reading it would wait for a writer forever
    page = open_runs(qtbot, window)
    row = page.paths().index(str(runs["a"]))
    assert "damaged" in page.cell(row, "status")
    assert f"{name}: not a regular file: it is a named pipe (FIFO)" in page.tooltip(row)
    click_row(qtbot, page, runs["a"])
    click_row(qtbot, page, runs["b"], ctrl=True)
    assert len(page.curves) == 2
    design = page.compare.design_tab.toPlainText()
    assert ("named pipe" in design) == (name == "graph.json")
    click_row(qtbot, page, runs["a"])
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    if name == "graph.json":
        assert "named pipe" in page.message.text() and window.view == "runs"


# ----- comparing ---------------------------------------------------------------------------
def test_two_selected_runs_overlay_their_curves_settings_and_design(qtbot, window, runs) -> None:
    page = open_runs(qtbot, window)
    click_row(qtbot, page, runs["a"])
    click_row(qtbot, page, runs["b"], ctrl=True)
    assert page.selected_paths() == [str(runs["a"]), str(runs["b"])]
    assert set(page.curves) == {str(runs["a"]), str(runs["b"])}
    for name in ("a", "b"):
        records = metrics(runs[name])
        acc, loss = page.curves[str(runs[name])]
        assert list(acc.getData()[0]) == [r["epoch"] for r in records]
        assert list(acc.getData()[1]) == [r["val_accuracy"] for r in records]
        assert list(loss.getData()[1]) == [r["val_loss"] for r in records]
    page.compare.curves_tab.x_axis.setCurrentIndex(1)  # step
    records = metrics(runs["b"])
    acc, _loss = page.curves[str(runs["b"])]
    assert list(acc.getData()[0]) == [r["step"] for r in records]
    page.compare.curves_tab.x_axis.setCurrentIndex(2)  # wall time
    assert list(acc.getData()[0]) == pytest.approx(list(accumulate(r["seconds"] for r in records)))
    # the settings diff: exactly the keys that differ (a seed and a learning rate)
    settings = page.compare.settings_tab
    assert [key for key, _ in settings.differences] == ["lr", "seed"]
    assert settings.rowCount() == 2 and settings.item(0, 0).text() == "0.001"
    assert settings.item(0, 1).text() == "0.01"
    assert "same design" in page.compare.design_tab.toPlainText()
    # the design diff of the wider run: its convolution changed
    click_row(qtbot, page, runs["b"], ctrl=True)  # unselect b
    click_row(qtbot, page, runs["wide"], ctrl=True)
    diff = page.compare.design_tab.diff
    assert [change.node for change in diff.changed] == ["conv1"]
    assert diff.changed[0].params["out_channels"] == (8, 16)
    assert not diff.added and not diff.removed
    text = page.compare.design_tab.toPlainText()
    assert "conv1" in text and "out_channels" in text
    assert [key for key, _ in settings.differences] == []


def test_repeats_are_drawn_as_a_mean_and_std_band(qtbot, window, runs) -> None:
    import statistics

    page = open_runs(qtbot, window)
    click_row(qtbot, page, runs["a"])
    click_row(qtbot, page, runs["a_again"], ctrl=True)
    click_row(qtbot, page, runs["b"], ctrl=True)  # another learning rate: not a repeat
    assert len(page.curves) == 3 and not page.bands
    page.compare.curves_tab.group.click()
    assert set(page.curves) == {str(runs["b"])} and len(page.bands) == 1
    [items] = page.bands.values()
    mean, upper, lower = items[0], items[1], items[2]
    first, second = metrics(runs["a"]), metrics(runs["a_again"])
    pairs = [(x["val_accuracy"], y["val_accuracy"]) for x, y in zip(first, second, strict=True)]
    assert list(mean.getData()[1]) == pytest.approx([statistics.fmean(p) for p in pairs])
    spread = [statistics.stdev(p) for p in pairs]
    assert list(upper.getData()[1] - mean.getData()[1]) == pytest.approx(spread)
    assert list(mean.getData()[1] - lower.getData()[1]) == pytest.approx(spread)
    page.compare.curves_tab.group.click()
    assert len(page.curves) == 3 and not page.bands


def test_a_run_opened_from_the_trade_off_plot_is_selected_here(qtbot, window, runs) -> None:
    from designer.experiments.open_run import open_run

    page = open_runs(qtbot, window)
    window.switch_view("design")
    before = window.document.graph.to_data()
    assert open_run(window, runs["wide"]) == "selected"
    assert window.view == "runs" and page.selected_paths() == [str(runs["wide"])]
    assert window.document.graph.to_data() == before
    assert not page.select_run(runs["a"].parent / "20990101-000000")
    assert "is not in the runs listed here" in page.message.text()


# ----- open, rename, note, star, delete -----------------------------------------------------
def test_open_this_runs_design_restores_it_after_asking(qtbot, window, runs, monkeypatch) -> None:
    window.document.set_params("conv1", {"out_channels": 7})  # unsaved work
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.Cancel]

    def question(parent: Any, title: str, text: str, *args: Any) -> Any:
        asked.append(title)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    page = open_runs(qtbot, window)
    click_row(qtbot, page, runs["wide"])
    before = window.document.graph.to_data()
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert asked == ["Unsaved changes"] and window.document.graph.to_data() == before
    answer[0] = QMessageBox.StandardButton.Discard
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    graph = json.loads((runs["wide"] / "graph.json").read_text())
    assert window.document.graph.to_data() == graph
    assert window.document.path is None and not window.document.modified
    assert window.document.undo_stack.count() == 0
    settings = json.loads((runs["wide"] / "settings.json").read_text())["settings"]
    assert window.document.project.training == settings
    assert window.view == "design"


def test_a_run_without_a_design_says_so(qtbot, window, runs) -> None:
    page = open_runs(qtbot, window)
    before = window.document.graph.to_data()
    click_row(qtbot, page, runs["damaged"])
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert "graph.json: missing" in page.message.text()
    assert window.document.graph.to_data() == before


def edit_cell(qtbot, page, path: Path, column: str, text: str) -> None:
    """Double-click the cell, type ``text``, press Enter."""
    row = page.paths().index(str(path))
    rect = page.table.visualRect(page.proxy.index(row, COLUMN[column]))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    QApplication.processEvents()  # the closed editor is deleted, as the event loop would


def test_rename_note_and_star_persist_across_listings(qtbot, window, runs) -> None:
    from engine.experiments.run_meta import read_meta

    page = open_runs(qtbot, window)
    edit_cell(qtbot, page, runs["b"], "name", "high lr")
    edit_cell(qtbot, page, runs["b"], "note", "diverges after epoch 1")
    row = page.paths().index(str(runs["b"]))
    star = page.table.visualRect(page.proxy.index(row, COLUMN["star"]))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=star.center())
    assert page.cell(row, "star") == "★"
    meta, problems = read_meta(runs["b"])
    assert (meta.title, meta.note, meta.starred, problems) == (
        "high lr",
        "diverges after epoch 1",
        True,
        [],
    )
    qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
    row = page.paths().index(str(runs["b"]))
    assert (
        page.cell(row, "name") == "high lr" and page.cell(row, "note") == "diverges after epoch 1"
    )
    assert page.cell(row, "star") == "★" and page.cell(0, "star") == "☆"
    assert runs["b"].name in page.tooltip(row)  # the folder keeps its name
    click_header(qtbot, page, "star")
    click_header(qtbot, page, "star")  # starred first
    assert page.paths()[0] == str(runs["b"])


def test_a_note_that_cannot_be_stored_is_said_and_nothing_changes(
    qtbot, window, runs, lock_folder
) -> None:
    page = open_runs(qtbot, window)
    lock_folder(runs["b"])
    edit_cell(qtbot, page, runs["b"], "note", "kept?")
    assert "run_meta.json cannot be written" in page.message.text()
    assert "Make the run folder writable" in page.message.text()
    assert page.cell(page.paths().index(str(runs["b"])), "note") == ""
    assert not (runs["b"] / "run_meta.json").exists()


def test_delete_moves_to_the_trash_and_undo_restores(qtbot, window, runs) -> None:
    page = open_runs(qtbot, window)
    click_row(qtbot, page, runs["a"])
    click_row(qtbot, page, runs["wide"], ctrl=True)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    trash = runs["a"].parent / ".trash"
    assert sorted(p.name for p in trash.iterdir()) == [runs["a"].name, runs["wide"].name]
    assert not runs["a"].exists() and str(runs["a"]) not in page.paths()
    assert len(page.paths()) == 3 and page.undo_button.isEnabled()
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    assert runs["wide"].is_dir() and str(runs["wide"]) in page.paths()
    qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)
    assert runs["a"].is_dir() and metrics(runs["a"]) and not list(trash.iterdir())
    assert page.paths() == [str(runs[n]) for n in ("a", "b", "wide", "a_again", "damaged")]
    assert not page.undo_button.isEnabled()


def test_the_run_that_is_training_is_not_deleted(qtbot, window, runs) -> None:
    controller = window.training
    window.document.project.training = {**RUN, "epochs": 200, "data": {"dataset": "digits"}}
    assert controller.train()
    qtbot.waitUntil(lambda: controller.last_run_dir is not None, timeout=60_000)
    training = Path(controller.last_run_dir)
    page = open_runs(qtbot, window)
    qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
    click_row(qtbot, page, training)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert controller.is_running()
    assert "it is training, so it cannot be deleted" in page.message.text()
    assert training.is_dir() and str(training) in page.paths()
    controller.stop()
    qtbot.waitUntil(lambda: not controller.is_running(), timeout=60_000)


# ----- the engine's side: run_meta.json and the trash --------------------------------------
def test_a_damaged_run_meta_file_is_named_and_a_bad_name_refused(runs) -> None:
    from engine.experiments.run_meta import RunMeta, RunMetaError, read_meta, write_meta

    (runs["a"] / "run_meta.json").write_text('{"title": 5, "starred": "yes"}')
    meta, problems = read_meta(runs["a"])
    assert meta == RunMeta() and problems == [
        "run_meta.json: title is 5, not text",
        "run_meta.json: starred is 'yes', not true or false",
    ]
    with pytest.raises(RunMetaError, match="run name: one line of text"):
        write_meta(runs["a"], RunMeta(title="two\nlines"))
    with pytest.raises(RunMetaError, match="longer than 200 characters"):
        write_meta(runs["a"], RunMeta(title="x" * 201))
    assert "title" in (runs["a"] / "run_meta.json").read_text()  # unchanged


def test_a_run_that_came_back_meanwhile_is_not_overwritten_by_undo(runs) -> None:
    from engine.experiments.run_meta import RunMetaError, restore_run, trash_run

    trashed = trash_run(runs["a"])
    runs["a"].mkdir()
    with pytest.raises(RunMetaError, match="a folder of that name exists again"):
        restore_run(trashed, runs["a"])
    assert trashed.is_dir()


def test_the_settings_diff_names_nested_keys_and_missing_ones() -> None:
    from engine.experiments.run_compare import curve, settings_diff

    a = {"data": {"dataset": "digits", "limit": 64}, "lr": 0.001, "seed": 0}
    b = {"data": {"dataset": "digits", "limit": 128}, "lr": 0.001, "seed": 0, "flip": True}
    assert settings_diff([a, b]) == [("data.limit", [64, 128]), ("flip", [None, True])]
    assert settings_diff([a, dict(a)]) == []
    records = [{"epoch": 1, "seconds": 2.0, "val_loss": 1.0}, {"epoch": 2, "seconds": 3.0}]
    xs, ys = curve(records, "val_loss", "time")
    assert xs == [2.0, 5.0] and ys[0] == 1.0 and ys[1] != ys[1]  # a missing value is a gap


def test_the_browser_module_imports_no_torch() -> None:
    import subprocess

    code = "import sys, designer.runs.model, designer.runs.compare; print('torch' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "False", done.stderr


def test_a_selected_runs_curves_are_painted_once(qtbot, window, runs) -> None:
    """Selecting a run sets the charts' ranges: their views and axes settle before the paint
    (pyqtgraph took the ranges at the paint, and the axes' new widths laid the plots out and
    painted them again, three or four times)."""
    from chart_paints import ChartPaints, settle

    page = open_runs(qtbot, window)
    settle(qtbot, window)
    paints = ChartPaints(page.compare.curves_tab.view)
    click_row(qtbot, page, runs["wide"])
    qtbot.waitUntil(lambda: str(runs["wide"]) in page.curves)
    settle(qtbot, window)
    assert paints.count == 1


def test_the_runs_view_shown_the_first_time_paints_its_curves_once(qtbot, window, runs) -> None:
    """The newest run's curves are drawn while the view is hidden; showing the view lays them
    out before its first paint (before: four paints, 50-80 ms of the UI thread)."""
    from chart_paints import ChartPaints, settle

    page = window.training.host.ensure_dashboard() and window.training.host.runs
    qtbot.waitUntil(lambda: bool(page.curves))  # the newest run, selected and drawn, hidden
    assert not page.isVisible()
    paints = ChartPaints(page.compare.curves_tab.view)
    open_runs(qtbot, window)
    settle(qtbot, window)
    viewport = page.compare.curves_tab.view.viewport()
    # one paint of the whole chart (an update queued at the size it had before it was shown
    # may repaint that corner once more)
    assert [region for region in paints.regions if region == viewport.rect()] == [viewport.rect()]
