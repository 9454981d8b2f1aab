"""BackgroundCommand, the background process the Repeat and Sweep dialogs and the lessons'
experiments share: real ``python -m MODULE`` processes written to disk."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject

from designer.background_command import ROOT, BackgroundCommand

pytestmark = pytest.mark.gui

SPLIT = """
import sys, time
sys.stdout.write("seed 7 done: acc 0.5; run folder /runs/")
sys.stdout.flush()
time.sleep(0.5)
sys.stdout.write("a\\n\\nlast line without newline")
sys.stdout.flush()
print("to stderr", file=sys.stderr, flush=True)
sys.exit(3)
"""

STUBBORN = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
for _ in range(600):
    time.sleep(0.1)
"""

POLITE = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
print("ready", flush=True)
for _ in range(600):
    time.sleep(0.1)
"""


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on the child's PYTHONPATH (after the project's root) to write modules in."""
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return tmp_path


@pytest.fixture
def owner(qtbot) -> Iterator[QObject]:
    """The commands' parent; a process still running when the test ends is killed."""
    parent = QObject()
    yield parent
    for command in parent.findChildren(BackgroundCommand):
        command.kill()


def command_for(owner: QObject, folder: Path, name: str, source: str, merged: bool = True):
    """A command running module ``name`` (``source`` written into ``folder``), and the lists
    its lines and exit statuses are recorded in."""
    (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    command = BackgroundCommand(owner, module=name, merged=merged)
    lines: list[str] = []
    ends: list[int] = []
    command.line.connect(lines.append)
    command.ended.connect(ends.append)
    return command, lines, ends


def test_a_line_written_in_two_reads_comes_once_whole_and_the_status_follows(
    qtbot, owner: QObject, module_dir: Path
) -> None:
    command, lines, ends = command_for(owner, module_dir, "split_job", SPLIT, False)
    command.start([])
    assert command.running
    qtbot.waitUntil(lambda: bool(ends), timeout=15_000)
    assert lines == ["seed 7 done: acc 0.5; run folder /runs/a", "last line without newline"]
    assert ends == [3] and not command.running and not command.stopping
    assert command.error_text().strip() == "to stderr"  # kept apart, not in the lines


def test_merged_channels_bring_stderr_into_the_lines(
    qtbot, owner: QObject, module_dir: Path
) -> None:
    command, lines, ends = command_for(owner, module_dir, "split_merged", SPLIT)
    command.start([])
    qtbot.waitUntil(lambda: bool(ends), timeout=15_000)
    assert any(line.endswith("to stderr") for line in lines) and command.error_text() == ""


def test_stop_sends_sigterm_and_a_process_that_ends_on_it_is_not_killed(
    qtbot, owner: QObject, module_dir: Path
) -> None:
    command, lines, ends = command_for(owner, module_dir, "polite_job", POLITE)
    command.start([])
    qtbot.waitUntil(lambda: lines == ["ready"], timeout=15_000)
    assert command.stop(60_000)
    qtbot.waitUntil(lambda: bool(ends), timeout=15_000)
    assert ends == [143] and command.stopping
    assert not command.stop(60_000)  # nothing left to stop


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(
    qtbot, owner: QObject, module_dir: Path
) -> None:
    command, lines, ends = command_for(owner, module_dir, "stubborn_job", STUBBORN)
    command.start([])
    qtbot.waitUntil(lambda: lines == ["ready"], timeout=15_000)
    command.stop(500)
    qtbot.wait(200)
    assert command.running  # SIGTERM ignored, the grace not over
    qtbot.waitUntil(lambda: not command.running, timeout=10_000)
    process = command.process
    assert process is not None and process.exitStatus() == process.ExitStatus.CrashExit
    assert len(ends) == 1 and command.stopping  # ended once, as stopped


def test_shut_down_is_bounded_for_a_process_that_ignores_sigterm(
    qtbot, owner: QObject, module_dir: Path
) -> None:
    import time

    command, lines, ends = command_for(owner, module_dir, "stubborn_shut", STUBBORN)
    command.start([])
    qtbot.waitUntil(lambda: lines == ["ready"], timeout=15_000)
    began = time.monotonic()
    command.shut_down(500)
    assert not command.running and time.monotonic() - began < 8
    assert ends  # ended reported while waiting


def test_a_module_that_cannot_be_found_ends_with_its_status(
    qtbot, owner: QObject, module_dir: Path
) -> None:
    command = BackgroundCommand(owner, module="no_such_module_here")
    ends: list[int] = []
    lines: list[str] = []
    command.line.connect(lines.append)
    command.ended.connect(ends.append)
    command.start([])
    qtbot.waitUntil(lambda: bool(ends), timeout=15_000)
    assert ends == [1] and any("no_such_module_here" in line for line in lines)


def test_a_dialog_whose_interpreter_cannot_start_says_so_and_can_start_again(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from designer_helpers import (
        close_experiments_window,
        experiments_window,
        open_experiment_dialog,
    )
    from PySide6.QtCore import Qt

    settings = {"epochs": 1, "device": "cpu", "data": {"dataset": "digits", "limit": 64}}
    window = experiments_window(qtbot, tmp_path, monkeypatch, settings)
    try:
        dialog = open_experiment_dialog(window, "repeat")
        missing = str(tmp_path / "no-python")
        monkeypatch.setattr(sys, "executable", missing)
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=10_000)
        text = dialog.message.text()
        assert text.startswith(f"The repeats could not start ({missing}): FailedToStart"), text
        assert not dialog.running and not dialog.stop_button.isEnabled()
        assert dialog.temp is None  # the design saved for the command is gone
    finally:
        close_experiments_window(window)


def test_an_experiment_into_a_relative_runs_folder_trains_there_not_in_the_project_root(
    qtbot, owner: QObject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job runs from the project's root: a runs folder named relative to the window's
    working folder is passed to it whole."""
    from designer.lessons.experiment_run import ExperimentRun
    from presets import PRESETS

    monkeypatch.chdir(tmp_path)
    base = PRESETS.get("lenet5_digits").create()
    args = ["--epochs", "1", "--limit", "64", "--seed", "0"]
    run = ExperimentRun("dropout", base, Path("relative-runs"), args, owner)
    done: list[bool] = []
    run.finished.connect(lambda: done.append(True))
    run.start()
    qtbot.waitUntil(lambda: bool(done), timeout=90_000)
    assert run.error is None, run.error
    made = [Path(r["run"]) for r in run.results]
    assert len(made) == 2 and all(p.is_relative_to(tmp_path / "relative-runs") for p in made)
    assert all(p.is_dir() for p in made)
    assert not (ROOT / "relative-runs").exists()
