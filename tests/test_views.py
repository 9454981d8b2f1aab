"""Issue 16: the Design, Train and Runs views, their layouts, a window that never resizes
itself, and the screenshot's --view and --window-size, driven as a person (clicks, keys,
files on disk) or as a script (the command line as a subprocess) would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QDockWidget, QToolButton

from designer.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
CTRL = Qt.KeyboardModifier.ControlModifier
SIZES = [(1280, 720), (1920, 1080)]
KEYS = {"design": Qt.Key.Key_1, "train": Qt.Key.Key_2, "runs": Qt.Key.Key_3}
EPOCH_LINES = "".join(
    json.dumps(
        {
            "epoch": e,
            "step": 10 * e,
            "train_loss": 1 / e,
            "train_accuracy": 0.5 + e / 20,
            "val_loss": 1.2 / e,
            "val_accuracy": 0.45 + e / 20,
            "lr": 0.001,
            "seconds": 1.0,
        }
    )
    + "\n"
    for e in range(1, 6)
)

pytestmark = pytest.mark.timeout(180)


def make_window(qtbot, tmp_path: Path, monkeypatch, size=(1280, 720)) -> MainWindow:
    """The designer as a user starts it (a session: saved layouts are read), at ``size``."""
    from designer.app import create_window

    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    window = create_window()
    window.training.run_root = tmp_path / "runs"
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(20)  # the layout check runs once the window has settled
    return window


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = make_window(qtbot, tmp_path, monkeypatch)
    yield win
    win.training.shutdown()
    close_clean(win)


def click_view(qtbot, window: MainWindow, name: str) -> None:
    button = window.workspace.toolbar.widgetForAction(window.actions_by_name[f"view_{name}"])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def press_view(qtbot, window: MainWindow, name: str) -> None:
    window.activateWindow()
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, KEYS[name], CTRL)


def central_share(window: MainWindow) -> float:
    QApplication.processEvents()
    return window.workspace.central_rect().height() / window.height()


def assert_geometry(window: MainWindow, name: str) -> None:
    assert window.view == name
    assert window.workspace.stack.currentWidget() is window.workspace.pages[name]
    assert window.workspace.pages[name].isVisible()
    assert central_share(window) >= 0.6, name
    assert window.workspace.central_rect().width() >= 0.4 * window.width(), name
    if name == "train":
        curves = window.training.host.dashboard.curves
        for plot in (curves.loss_plot, curves.acc_plot, curves.lr_plot, curves.speed_plot):
            assert plot.geometry().height() >= 150, plot.titleLabel.text


# ----- switching ---------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_views_switch_by_click_and_by_shortcut_and_keep_their_share(
    qtbot, tmp_path, monkeypatch, size
) -> None:
    window = make_window(qtbot, tmp_path, monkeypatch, size)
    try:
        assert_geometry(window, "design")
        for name in ("train", "runs", "design"):
            click_view(qtbot, window, name)
            assert_geometry(window, name)
        for name in ("runs", "train", "design", "train"):
            press_view(qtbot, window, name)
            assert_geometry(window, name)
        assert window.size().toTuple() == size  # no view resized the window
    finally:
        window.training.shutdown()
        close_clean(window)


def test_the_view_menu_switches_and_shows_which_view_is_in_front(qtbot, window) -> None:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    names = [a.objectName() for a in menu.actions()]
    assert names[:3] == ["view_design", "view_train", "view_runs"]
    assert "reset_layout" in names
    window.actions_by_name["view_runs"].trigger()
    assert window.view == "runs"
    views = [a for a in menu.actions() if a.objectName().startswith("view_")]
    assert [a.objectName() for a in views if a.isChecked()] == ["view_runs"]


def test_switching_views_never_changes_the_design(qtbot, window, tmp_path) -> None:
    document = window.document
    document.set_params("fc1", {"out_features": 50})
    window.save_as(tmp_path / "net.cnnd")
    document.set_params("fc1", {"out_features": 60})  # an unsaved edit, then switching
    index, modified = document.undo_stack.index(), document.modified
    data = document.graph.to_data()
    for name in ("train", "runs", "design", "runs", "train", "design"):
        click_view(qtbot, window, name)
        press_view(qtbot, window, name)
    assert document.undo_stack.index() == index and document.modified == modified
    assert document.graph.to_data() == data


def test_canvas_keys_do_nothing_where_the_canvas_is_not_seen(qtbot, window) -> None:
    document = window.document
    document.set_selection(["conv1"])
    click_view(qtbot, window, "runs")
    window.activateWindow()
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Delete)
    assert "conv1" in document.graph and not window.actions_by_name["delete"].isEnabled()
    click_view(qtbot, window, "design")
    assert window.actions_by_name["delete"].isEnabled()


def test_a_run_shows_the_train_view_and_the_design_stays_editable(qtbot, window) -> None:
    window.document.project.training = {
        "data": {"dataset": "digits", "limit": 200},
        "epochs": 1,
        "batch_size": 32,
    }
    assert window.training.train()
    assert window.view == "train"
    click_view(qtbot, window, "design")  # back to editing while it runs
    window.document.set_params("fc1", {"out_features": 50})
    assert window.document.graph.node("fc1").params["out_features"] == 50
    qtbot.waitUntil(lambda: not window.training.is_running(), timeout=120_000)


def test_the_train_view_keeps_the_design_and_the_run_controls_at_hand(qtbot, window) -> None:
    click_view(qtbot, window, "train")
    view = window.workspace.train_view
    assert view.overview.scene() is window.canvas.scene()  # the design itself, not a copy
    assert not view.overview.isInteractive() and view.overview.isVisible()
    buttons = {b.objectName(): b for b in view.controls.findChildren(QToolButton)}
    assert buttons["train_button"].isEnabled() and not buttons["stop_button"].isEnabled()
    assert buttons["pause_button"].text() == "Pause"
    assert "digits" in view.summary.text()
    settings = window.training.settings()
    window.training.store_settings(replace(settings, epochs=3))  # as the dialog's OK does
    assert "3 epoch(s)" in view.summary.text()
    window.document.undo_stack.undo()
    assert "3 epoch(s)" not in view.summary.text()
    window.document.project.training = {"data": {"dataset": "shapes"}, "epochs": 2}  # a script
    click_view(qtbot, window, "design")
    click_view(qtbot, window, "train")
    assert "shapes, 2 epoch(s)" in view.summary.text()
    qtbot.mouseDClick(view.overview.viewport(), Qt.MouseButton.LeftButton)
    assert window.view == "design"


def test_the_runs_view_lists_the_runs_full_size(qtbot, window, tmp_path) -> None:
    write_run(tmp_path / "runs", "20250101-000000")
    click_view(qtbot, window, "runs")
    page = window.training.host.runs
    qtbot.waitUntil(lambda: page is not None and page.isVisible())
    assert page.parentWidget() is window.workspace.runs_view
    assert page.row_count() == 1
    assert page.height() >= 0.6 * window.height()


# ----- layouts -----------------------------------------------------------------------------
def test_each_view_keeps_its_own_layout(qtbot, window) -> None:
    palette = window.docks["palette_dock"]
    click_view(qtbot, window, "train")
    assert not palette.isVisible()  # the dashboard has the window to itself
    palette.show()  # View ▸ Blocks, in the Train view
    click_view(qtbot, window, "design")
    window.docks["inspector_dock"].hide()
    click_view(qtbot, window, "train")
    assert palette.isVisible() and not window.docks["inspector_dock"].isVisible()
    click_view(qtbot, window, "design")
    assert palette.isVisible() and not window.docks["inspector_dock"].isVisible()


def test_a_view_left_with_a_huge_dock_comes_back_usable(qtbot, window) -> None:
    click_view(qtbot, window, "train")
    bottom = window.docks["bottom_dock"]
    bottom.show()
    window.resizeDocks([bottom], [600], Qt.Orientation.Vertical)
    QApplication.processEvents()
    assert central_share(window) < 0.6  # what the user made of it
    click_view(qtbot, window, "design")
    click_view(qtbot, window, "train")
    assert central_share(window) >= 0.6 and not bottom.isVisible()
    assert "default layout" in window.statusBar().currentMessage()


def test_a_layout_saved_with_a_tiny_central_area_is_restored_as_defaults(
    qtbot, tmp_path, monkeypatch
) -> None:
    from designer.app import create_window

    first = make_window(qtbot, tmp_path, monkeypatch)
    bottom = first.docks["bottom_dock"]
    first.resizeDocks([bottom], [560], Qt.Orientation.Vertical)
    QApplication.processEvents()
    assert central_share(first) < 0.6
    close_clean(first)  # saves the layout, as quitting does
    second = create_window()
    qtbot.addWidget(second)
    second.resize(1280, 720)
    second.show()
    qtbot.waitExposed(second)
    qtbot.waitUntil(lambda: central_share(second) >= 0.6)
    assert second.docks["bottom_dock"].isVisible()  # the Design view's defaults
    assert "default layout" in second.statusBar().currentMessage()
    close_clean(second)


def test_a_usable_saved_layout_is_kept(qtbot, tmp_path, monkeypatch) -> None:
    from designer.app import create_window

    first = make_window(qtbot, tmp_path, monkeypatch)
    first.docks["palette_dock"].hide()
    close_clean(first)
    second = create_window()
    qtbot.addWidget(second)
    second.resize(1280, 720)
    second.show()
    qtbot.waitExposed(second)
    qtbot.wait(50)
    assert not second.docks["palette_dock"].isVisible()
    assert "default layout" not in second.statusBar().currentMessage()
    close_clean(second)


def test_reset_layout_brings_the_defaults_back(qtbot, window) -> None:
    inspector, palette = window.docks["inspector_dock"], window.docks["palette_dock"]
    palette.hide()
    window.workspace.detach(inspector)
    assert inspector.isFloating()
    window.resizeDocks([window.docks["bottom_dock"]], [500], Qt.Orientation.Vertical)
    window.actions_by_name["reset_layout"].trigger()
    QApplication.processEvents()
    assert palette.isVisible() and inspector.isVisible() and not inspector.isFloating()
    assert central_share(window) >= 0.6


def test_docks_float_only_when_detached(qtbot, window) -> None:
    floatable = QDockWidget.DockWidgetFeature.DockWidgetFloatable
    for dock in window.docks.values():
        assert not dock.features() & floatable, dock.objectName()  # a drag cannot float it
        assert dock.features() & QDockWidget.DockWidgetFeature.DockWidgetMovable
    inspector = window.docks["inspector_dock"]
    menu = window.createPopupMenu()  # a dock title's context menu
    detach = next(a for a in menu.actions() if a.objectName() == "detach_inspector_dock")
    detach.trigger()
    assert inspector.isFloating() and inspector.features() & floatable
    inspector.setFloating(False)  # double-clicking its title docks it again
    assert not inspector.features() & floatable


# ----- the window never resizes itself -----------------------------------------------------
LONG_PATH = "/home/someone/" + "/".join(f"a-rather-long-folder-name-{i}" for i in range(40))


@pytest.mark.parametrize("view", ["design", "train", "runs"])
def test_a_long_status_message_keeps_the_window_size(qtbot, window, view) -> None:
    click_view(qtbot, window, view)
    size = window.size()
    message = f"Saved {LONG_PATH}/net.cnnd"
    window.statusBar().showMessage(message, 5000)
    qtbot.wait(50)
    assert window.size() == size
    assert window.statusBar().toolTip() == message  # the whole text, for the elided one


def test_a_run_ending_in_a_long_folder_keeps_the_window_size(qtbot, window) -> None:
    from engine.training.events import Finished

    click_view(qtbot, window, "train")
    dashboard = window.training.host.ensure_dashboard()
    size = window.size()
    run_dir = f"{LONG_PATH}/20250101-000000"
    dashboard.begin("a run")
    dashboard.apply([Finished("completed", 3, 30, 0.9, 0.9, 12.0, run_dir)])
    window.statusBar().showMessage(f"Training completed in {run_dir}", 20_000)
    qtbot.wait(50)
    assert window.size() == size
    assert run_dir in dashboard.title.text() and run_dir in dashboard.title.toolTip()
    assert dashboard.title.minimumSizeHint().width() < 200


def test_undo_and_redo_buttons_keep_a_short_label(qtbot, window) -> None:
    toolbar = window.toolbar
    undo_button = toolbar.widgetForAction(window.actions_by_name["undo_button"])
    width = toolbar.sizeHint().width()
    assert not undo_button.isEnabled()
    window.document.set_params("fc1", {"out_features": 50})
    QApplication.processEvents()
    assert undo_button.text() == "Undo" and undo_button.isEnabled()
    assert window.actions_by_name["undo"].text().startswith("&Undo ")  # the Edit menu's
    what = window.document.undo_stack.undoText()
    assert what and what in undo_button.toolTip()
    assert toolbar.sizeHint().width() == width
    qtbot.mouseClick(undo_button, Qt.MouseButton.LeftButton)
    assert window.document.graph.node("fc1").params["out_features"] == 120


# ----- recorded runs and the command line --------------------------------------------------
def write_run(root: Path, name: str, epochs: str = EPOCH_LINES) -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / "settings.json").write_text('{"settings": {"data": {"dataset": "digits"}}}')
    (run / "metrics.jsonl").write_text(epochs)
    (run / "result.json").write_text('{"status": "completed", "best_val_accuracy": 0.7}')
    return run


def test_the_newest_recorded_run_is_drawn_in_the_dashboard(qtbot, window, tmp_path) -> None:
    from designer.workspace.recorded import show_newest_run

    write_run(tmp_path / "runs", "20250101-000000", EPOCH_LINES.splitlines()[0] + "\n")
    newest = write_run(tmp_path / "runs", "20250102-000000")
    click_view(qtbot, window, "train")
    assert show_newest_run(window).path == newest
    dashboard = window.training.host.dashboard
    assert dashboard.val_accs.size == 5 and dashboard.state == "completed"
    assert str(newest) in dashboard.title.text()


def test_without_runs_the_train_view_shows_its_empty_state(qtbot, window) -> None:
    from designer.workspace.recorded import show_newest_run

    click_view(qtbot, window, "train")
    assert show_newest_run(window) is None
    assert window.training.host.dashboard.val_accs.size == 0


def run_designer(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("view", "size"), [("design", "1280x720"), ("train", "1920x1080"), ("runs", "1280x720")]
)
def test_screenshots_of_each_view_at_a_chosen_size(tmp_path, view, size) -> None:
    from designer.document import preset_project
    from engine.project import save_project

    project = tmp_path / "net.cnnd"
    save_project(preset_project("lenet5"), project)
    write_run(tmp_path / "net.runs", "20250102-000000")
    target = tmp_path / f"{view}.png"
    result = run_designer(
        tmp_path,
        "open",
        str(project),
        "--view",
        view,
        "--window-size",
        size,
        "--screenshot",
        str(target),
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(target))
    assert f"{image.width()}x{image.height()}" == size


def test_a_screenshot_is_1600x1100_by_default(tmp_path) -> None:
    target = tmp_path / "shot.png"
    result = run_designer(tmp_path, "--view", "train", "--screenshot", str(target))
    assert result.returncode == 0, result.stderr
    assert QImage(str(target)).size().toTuple() == (1600, 1100)


@pytest.mark.parametrize(
    ("size", "words"),
    [
        ("big", "WIDTHxHEIGHT"),
        ("1600x", "WIDTHxHEIGHT"),
        ("-5x100", "WIDTHxHEIGHT"),
        ("10x10", "between 640x480"),
        ("99999x99999", "between 640x480"),
    ],
)
def test_a_malformed_or_absurd_window_size_is_refused(tmp_path, size, words) -> None:
    target = tmp_path / "shot.png"
    result = run_designer(tmp_path, f"--window-size={size}", "--screenshot", str(target))
    assert result.returncode == 2
    assert words in result.stderr and repr(size) in result.stderr
    assert "Traceback" not in result.stderr and not target.exists()


def test_an_unknown_view_is_refused(tmp_path) -> None:
    result = run_designer(tmp_path, "--view", "plots", "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "design" in result.stderr and "Traceback" not in result.stderr


def test_the_window_opens_within_its_screen(qtbot, tmp_path, monkeypatch) -> None:
    """The default size (1400×900), or one remembered from a bigger screen, is brought within
    the screen (the offscreen platform's is 800×600)."""
    from designer.app import create_window

    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    window = create_window()
    qtbot.addWidget(window)
    room = window.screen().availableGeometry()
    assert window.width() <= room.width() and window.height() <= room.height()
    close_clean(window)


def test_a_design_screenshot_shows_the_memory_plan(qtbot, window, tmp_path) -> None:
    """The memory plan is made on a worker thread in the window; a screenshot waits for it, so
    the picture has the Memory column and the totals' training memory filled in."""
    from designer.app import save_screenshot
    from designer.memory.plans import plans_of

    plans = plans_of(window.document)
    plans.timer.stop()  # as right after start-up: no plan made yet
    plans.current = None
    plans._key = None
    save_screenshot(window, tmp_path / "shot.png", "design", (1280, 720))
    assert plans.current is not None
    assert "Training memory:" in window.summary.totals.text()
    from designer.panels.summary_table import MEMORY_COLUMN

    model = window.summary.model
    row = model._row_of["conv1"]
    shown = model.data(model.index(row, MEMORY_COLUMN), Qt.ItemDataRole.DisplayRole)
    assert shown and shown[0].isdigit(), shown  # e.g. "128.3 KiB", not empty


def test_a_runs_screenshot_paints_the_charts_it_shows(qtbot, window, tmp_path) -> None:
    """Charts brought to the front are laid out a slice a turn with their painting held; a
    screenshot finishes that first, so it never shows an empty chart."""
    from designer.app import save_screenshot
    from designer.training.settling import ChartSettler
    from designer.training.widgets import PlotArea

    held: list[bool] = []
    grab = MainWindow.grab

    def grab_noting(self: MainWindow, *args: object) -> object:
        areas = [w for w in self.findChildren(PlotArea) if w.isVisible()]
        held.extend(area.paint_held for area in areas)
        return grab(self, *args)

    window.training.host.ensure_dashboard()
    for settler in window.findChildren(ChartSettler):  # as on a slow machine: the slices'
        settler._timer.timeout.disconnect()  # timers have not come round before the picture
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MainWindow, "grab", grab_noting)
        save_screenshot(window, tmp_path / "runs.png", "runs", (1280, 720))
    assert held and not any(held)  # the comparison's charts were shown, none held
