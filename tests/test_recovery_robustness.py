"""Crash recovery that holds up: a restart with the same process id (containers, Flatpak), a
second crash right after recovering, and a data folder the designer cannot use."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean
from PySide6.QtCore import QLockFile, QSysInfo
from PySide6.QtWidgets import QMessageBox

from designer import recovery
from designer.app import create_window
from designer.document import Document, preset_project
from engine import Project, save_project

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]


def edited_design() -> Project:
    """LeNet-5 with one edit, as a crashed session had it."""
    document = Document(preset_project("lenet5"))
    document.set_params("fc1", {"out_features": 50})
    return document.project


def leave_crashed_session(name: str, lock: bytes | None = None) -> Path:
    """The files a crashed session of an earlier process with this process's pid left: its
    autosave and the lock file QLockFile wrote for it (or ``lock``, what it holds)."""
    autosave = recovery.recovery_dir() / name
    save_project(edited_design(), autosave)
    lock_path = autosave.with_suffix(".lock")
    if lock is None:
        qt_lock = QLockFile(str(lock_path))
        assert qt_lock.tryLock(0)
        lock = lock_path.read_bytes()  # this pid, this host, this program
        qt_lock.unlock()
    lock_path.write_bytes(lock)
    return autosave


@pytest.fixture
def hold_os_lock() -> Iterator[Callable[[Path], None]]:
    """``hold_os_lock(path)``: hold the operating system's lock on a lock file, as a live
    session does (whatever its pid says), until the test ends."""
    fcntl = pytest.importorskip("fcntl")
    handles: list[int] = []

    def hold(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        handles.append(fd)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    yield hold
    for fd in handles:
        os.close(fd)


# ----- the same pid again ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["autosave-{pid}-1.cnnd", "autosave-{pid}-0a1b2c3d-1.cnnd"])
def test_work_of_a_crashed_session_with_our_pid_is_recovered(
    qtbot, dialogs: DialogRecorder, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A container restarts the designer with the pid its crashed session had."""
    orphan = leave_crashed_session(name.format(pid=os.getpid()))
    monkeypatch.setattr(recovery, "_serial", itertools.count(1))  # a fresh process
    dialogs.answer = QMessageBox.StandardButton.Yes
    window = create_window()  # as run_app does, then its queued offer
    qtbot.addWidget(window)
    assert window.autosaver.path != orphan
    assert window.offer_recovery()
    assert dialogs.kinds() == ["question"] and "untitled design" in dialogs.calls[0][2]
    assert orphan.name not in dialogs.calls[0][2]  # the user's design, not an internal file
    assert window.document.graph.node("fc1").params["out_features"] == 50
    assert window.isWindowModified()
    assert not orphan.exists() and not orphan.with_suffix(".lock").exists()
    close_clean(window)
    assert list(recovery.recovery_dir().iterdir()) == []


def test_a_crash_that_left_an_empty_lock_file_is_recovered(qtbot, dialogs) -> None:
    orphan = leave_crashed_session("autosave-12345-1.cnnd", lock=b"")
    dialogs.answer = QMessageBox.StandardButton.Yes
    window = create_window()
    qtbot.addWidget(window)
    assert recovery.orphaned_autosaves() == [orphan]
    assert window.offer_recovery()
    assert window.document.graph.node("fc1").params["out_features"] == 50
    close_clean(window)


def test_the_lock_of_a_session_that_crashed_before_autosaving_is_cleared(qtbot, dialogs) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    leftover = recovery.recovery_dir() / "autosave-1-0a1b2c3d-1.lock"
    leftover.write_text(f"{dead.stdout.strip()}\npython\n{QSysInfo.machineHostName()}\n")
    window = create_window()
    qtbot.addWidget(window)
    assert not window.offer_recovery() and dialogs.calls == []
    assert not leftover.exists()
    assert window.autosaver.lock.isLocked()  # a live session's lock stays
    assert window.autosaver.path.with_suffix(".lock").exists()
    close_clean(window)


def test_a_live_session_with_our_pid_is_never_offered_claimed_or_deleted(
    qtbot, dialogs: DialogRecorder, monkeypatch: pytest.MonkeyPatch, hold_os_lock
) -> None:
    """Another sandbox runs the designer with our pid, on the same data folder."""
    live = leave_crashed_session(f"autosave-{os.getpid()}-1.cnnd")
    hold_os_lock(live.with_suffix(".lock"))  # that session is running
    before = live.read_bytes()
    monkeypatch.setattr(recovery, "_serial", itertools.count(1))
    dialogs.answer = QMessageBox.StandardButton.Yes
    window = create_window()
    qtbot.addWidget(window)
    assert not window.offer_recovery() and dialogs.calls == []
    window.document.set_params("fc2", {"out_features": 7})
    assert window.autosaver.autosave() and window.autosaver.path != live
    close_clean(window)
    assert live.read_bytes() == before and live.with_suffix(".lock").exists()
    assert recovery.claim(live) is None


def test_each_session_gets_its_own_autosave_name(qtbot, dialogs, monkeypatch) -> None:
    names = set()
    for _ in range(3):
        monkeypatch.setattr(recovery, "_serial", itertools.count(1))  # a new process each time
        window = create_window()
        qtbot.addWidget(window)
        names.add(window.autosaver.path.name)
        window.autosaver.lock.unlock()  # it crashes; the next session must not reuse its name
    assert len(names) == 3


# ----- a second crash right after recovering -----------------------------------------------
SESSION = """
import os
import designer.app as launcher
from PySide6.QtWidgets import QMessageBox

QMessageBox.question = staticmethod(lambda *args: QMessageBox.StandardButton.Yes)
app = launcher.create_application()
window = launcher.create_window()
{body}
os._exit(1)  # a crash: no clean exit, and before the first minute's autosave
"""


def run_session(tmp_path: Path, body: str) -> str:
    """Run a designer session in its own process (answering Yes to the recovery offer) that
    does ``body`` and then crashes; its output."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    code = SESSION.format(body=body)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_recovered_work_survives_a_second_crash_within_the_minute(tmp_path: Path) -> None:
    run_session(
        tmp_path,
        "window.document.set_params('fc1', {'out_features': 50})\n"
        "assert window.autosaver.autosave()",
    )
    recovering = "print(window.offer_recovery(), window.document.graph.node('fc1').params)"
    # the second session recovers the work, then crashes at once
    assert run_session(tmp_path, recovering).startswith("True {'out_features': 50")
    assert run_session(tmp_path, recovering).startswith("True {'out_features': 50")
    files = [p.name for p in (tmp_path / "data").rglob("autosave-*.cnnd")]
    assert len(files) == 1  # the third session's, each earlier one removed once it was safe


def test_the_crashed_file_stays_until_the_recovered_work_is_autosaved(
    qtbot, dialogs, monkeypatch
) -> None:
    orphan = leave_crashed_session("autosave-12345-1.cnnd")
    real_save = recovery.save_project

    def disk_full(project, path) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(recovery, "save_project", disk_full)
    dialogs.answer = QMessageBox.StandardButton.Yes
    window = create_window()
    qtbot.addWidget(window)
    assert window.offer_recovery()
    assert orphan.exists() and not window.autosaver.path.exists()
    other = create_window()  # another window meanwhile: the file is taken, not offered
    qtbot.addWidget(other)
    assert not other.offer_recovery()
    monkeypatch.setattr(recovery, "save_project", real_save)
    window.autosaver.timer.timeout.emit()  # the next minute
    assert window.autosaver.path.exists() and not orphan.exists()
    for each in (window, other):
        close_clean(each)


# ----- an unusable data folder ---------------------------------------------------------------
def test_the_designer_starts_when_its_data_folder_is_a_file(tmp_path: Path) -> None:
    """`cnn-designer` with XDG_DATA_HOME pointing at a file: it opens and says autosave is off."""
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    code = (
        "import sys\n"
        "import designer.app as launcher\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "make = launcher.create_window\n"
        "def create_window(*args, **kwargs):\n"
        "    window = make(*args, **kwargs)\n"
        "    def report():\n"
        "        print('VISIBLE', window.isVisible())\n"
        "        print('STATUS', window.statusBar().currentMessage())\n"
        "        window.close()\n"
        "        QApplication.quit()\n"
        "    QTimer.singleShot(0, lambda: QTimer.singleShot(0, report))\n"
        "    return window\n"
        "launcher.create_window = create_window\n"
        "sys.exit(launcher.run_app())\n"
    )
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(blocker),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["VISIBLE"] == "True"
    status = lines["STATUS"]
    assert status.startswith("Autosave is off")
    assert str(blocker / "cnn-designer") in status or str(blocker) in status
    assert f"{blocker} is a file, not a folder" in status
    assert "restart" in status


@pytest.mark.parametrize("where", ["data home", "recovery folder"])
def test_a_read_only_data_folder_turns_autosave_off_once(
    qtbot, dialogs: DialogRecorder, lock_folder, tmp_path: Path, where: str
) -> None:
    data = tmp_path / "user" / "data"
    data.mkdir()
    if where == "recovery folder":
        leave_crashed_session("autosave-12345-1.cnnd")  # it cannot even be claimed there
        lock_folder(recovery.recovery_dir())
    else:
        lock_folder(data)
    window = create_window()
    qtbot.addWidget(window)
    window.show()
    assert window.autosaver is None
    message = window.statusBar().currentMessage()
    assert message.startswith("Autosave is off") and str(data) in message
    assert not window.offer_recovery() and dialogs.calls == []
    window.document.set_params("fc1", {"out_features": 50})  # editing works as ever
    assert window.statusBar().currentMessage() == message
    close_clean(window)
