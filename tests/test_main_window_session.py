"""Session state of the designer window: autosave and crash recovery, window layout and recent
files persisting in QSettings (a temporary store per test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean
from PySide6.QtWidgets import QMessageBox

from designer import recovery
from designer import settings as user_settings
from designer.app import create_window

pytestmark = pytest.mark.gui


def test_autosave_only_when_modified_and_removed_on_save(qtbot, dialogs, tmp_path: Path) -> None:
    window = create_window()
    qtbot.addWidget(window)
    saver = window.autosaver
    assert saver is not None and saver.timer.interval() == 60_000 and saver.timer.isActive()
    assert not saver.autosave() and not saver.path.exists()
    window.document.set_params("fc1", {"out_features": 50})
    assert saver.autosave() and saver.path.exists()
    assert saver.path.parent == recovery.recovery_dir()
    assert str(tmp_path) in str(saver.path)  # the test's user data dir, not the real one
    window.save_as(tmp_path / "saved.cnnd")
    assert not saver.path.exists()
    window.close()
    assert list(recovery.recovery_dir().glob("autosave-*")) == []


def test_recovery_offered_after_a_crash(qtbot, dialogs: DialogRecorder) -> None:
    crashed = create_window()
    qtbot.addWidget(crashed)
    crashed.document.set_params("fc1", {"out_features": 50})
    crashed.document.add_node("dropout", (0.0, 0.0), name="drop")
    assert crashed.autosaver.autosave()
    expected = crashed.document.project.to_data()
    crashed.autosaver.timer.stop()
    crashed.autosaver.lock.unlock()  # what the OS does when the process dies
    assert crashed.autosaver.path.exists()
    # a running session's autosave is never offered
    live = create_window()
    qtbot.addWidget(live)
    live.document.set_params("fc2", {"out_features": 42})
    live.autosaver.autosave()
    assert recovery.orphaned_autosaves() == [crashed.autosaver.path]

    dialogs.answer = QMessageBox.StandardButton.Yes
    restarted = create_window()
    qtbot.addWidget(restarted)
    assert restarted.offer_recovery()
    assert dialogs.kinds() == ["question"] and "Recover" in dialogs.calls[0][1]
    assert restarted.document.project.to_data() == expected
    assert restarted.isWindowModified()  # recovered work is not saved yet
    assert not crashed.autosaver.path.exists()
    assert not restarted.offer_recovery()  # offered once
    for window in (crashed, live, restarted):
        close_clean(window)


def test_declined_recovery_is_discarded(qtbot, dialogs: DialogRecorder) -> None:
    crashed = create_window()
    qtbot.addWidget(crashed)
    crashed.document.set_params("fc1", {"out_features": 50})
    crashed.autosaver.autosave()
    crashed.autosaver.lock.unlock()
    dialogs.answer = QMessageBox.StandardButton.No
    fresh = create_window()
    qtbot.addWidget(fresh)
    assert not fresh.offer_recovery()
    assert dialogs.kinds() == ["question"] and recovery.orphaned_autosaves() == []
    assert fresh.document.graph.node("fc1").params["out_features"] == 120
    close_clean(crashed)
    close_clean(fresh)


def test_window_layout_and_recent_files_persist(qtbot, dialogs, tmp_path: Path) -> None:
    first = create_window()
    qtbot.addWidget(first)
    first.show()
    first.resize(720, 500)  # within the offscreen screen (800×600)
    dock = first.findChild(type(first.palette.parentWidget()), "inspector_dock")
    dock.hide()
    first.save_as(tmp_path / "a.cnnd")
    first.save_as(tmp_path / "b.cnnd")
    first.close()
    assert user_settings.recent_files() == [
        str((tmp_path / "b.cnnd").resolve()),
        str((tmp_path / "a.cnnd").resolve()),
    ]

    second = create_window()
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (720, 500)
    assert second.findChild(type(dock), "inspector_dock").isHidden()
    second.recent_menu.aboutToShow.emit()
    assert [a.text() for a in second.recent_menu.actions()] == ["b.cnnd", "a.cnnd"]
    second.recent_menu.actions()[1].trigger()
    assert second.document.path == (tmp_path / "a.cnnd").resolve()
    close_clean(second)
