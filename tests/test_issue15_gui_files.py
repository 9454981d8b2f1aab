"""Issue 15, the designer's files as a user meets them: two exports of one design must not
replace each other's files (and replacing any file asks), New from preset opens a new untitled
design after asking, the Runs page follows Save As, and crash recovery gives the design its
file's name back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import DialogRecorder, close_clean
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QMessageBox

from designer import recovery
from designer.app import create_window
from designer.dialogs.export_dialog import LATEST_RUN, ExportDialog
from designer.dialogs.preset_dialog import PresetDialog
from designer.main_window import MainWindow

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]
JOB_TIMEOUT_MS = 60_000
YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


@pytest.fixture
def window(qtbot, dialogs: DialogRecorder) -> Iterator[MainWindow]:
    win = create_window()  # LeNet-5
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.training.shutdown()
    close_clean(win)


def write_run(root: Path, name: str, state: dict[str, Any] | None = None) -> Path:
    """A finished run folder as the trainer leaves it; ``state`` goes to its best.pt."""
    run = root / name
    run.mkdir(parents=True)
    (run / "settings.json").write_text('{"settings": {"data": {"dataset": "digits"}}}')
    (run / "result.json").write_text('{"status": "completed"}')
    if state is not None:
        import torch

        torch.save({"format": "cnn-designer-checkpoint", "model": state}, run / "best.pt")
    return run


def export_with(qtbot, window: MainWindow, format: str, path: Path | None = None) -> ExportDialog:
    """Open the export dialog for ``format``, type ``path`` if given, press Export."""
    dialog = window.export_design(format)
    assert isinstance(dialog, ExportDialog)
    if path is not None:
        dialog.path.setText(str(path))
    qtbot.mouseClick(
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    return dialog


def wait_for_export(qtbot, dialog: ExportDialog) -> None:
    assert not dialog.isVisible() and dialog.job is not None
    qtbot.waitUntil(lambda: dialog.job.finished, timeout=JOB_TIMEOUT_MS)


# ----- item 10: exports that replace each other ---------------------------------------------
def test_python_then_torchscript_export_keep_both_files_and_the_script_runs(
    qtbot, window: MainWindow, dialogs: DialogRecorder, tmp_path: Path
) -> None:
    """The trial: Python code with weights (mynet.py, mynet.pt), then TorchScript with the
    offered name; then ``python mynet.py`` must still load its weights."""
    from engine.compiler import compile_graph

    project = tmp_path / "work" / "mynet.cnnd"
    project.parent.mkdir()
    assert window.save_as(project)
    write_run(
        project.with_name("mynet.runs"),
        "20250101-120000",
        compile_graph(window.document.graph).state_dict(),
    )
    dialog = export_with(qtbot, window, "python")
    assert dialog.weights.currentData() == LATEST_RUN
    assert Path(dialog.path.text()) == project.with_suffix(".py")
    wait_for_export(qtbot, dialog)
    weights = project.with_suffix(".pt")
    assert project.with_suffix(".py").is_file() and weights.is_file()
    weights_before = weights.read_bytes()

    dialog = export_with(qtbot, window, "torchscript")
    offered = Path(dialog.path.text())
    assert offered.suffix == ".ts" and offered != weights
    wait_for_export(qtbot, dialog)
    assert offered.is_file() and weights.read_bytes() == weights_before
    assert dialogs.calls == []  # no file existed: nothing to ask

    result = subprocess.run(
        [sys.executable, str(project.with_suffix(".py"))],
        cwd=project.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "TorchScript" not in result.stderr


def test_replacing_an_existing_file_asks_and_no_keeps_it(
    qtbot, window: MainWindow, dialogs: DialogRecorder, tmp_path: Path
) -> None:
    """A TorchScript export typed over the weights a Python export wrote beside its code asks
    first; No keeps the file and the dialog open, Yes replaces it."""
    weights = tmp_path / "mynet.pt"
    weights.write_bytes(b"the weights of mynet.py")
    dialogs.answer = NO
    dialog = export_with(qtbot, window, "torchscript", weights)
    assert dialog.isVisible() and dialog.job is None
    assert [kind for kind, _title, _text in dialogs.calls] == ["question"]
    assert str(weights) in dialogs.calls[0][2]
    assert weights.read_bytes() == b"the weights of mynet.py"

    dialogs.answer = YES
    qtbot.mouseClick(
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    wait_for_export(qtbot, dialog)
    assert weights.read_bytes() != b"the weights of mynet.py"


def test_the_weights_file_beside_python_code_is_asked_about_too(
    qtbot, window: MainWindow, dialogs: DialogRecorder, tmp_path: Path
) -> None:
    """Python code with weights writes two files; an existing weights file is named."""
    from engine.compiler import compile_graph

    window.training.run_root = tmp_path / "runs"
    write_run(
        tmp_path / "runs", "20250101-120000", compile_graph(window.document.graph).state_dict()
    )
    code, weights = tmp_path / "mynet.py", tmp_path / "mynet.pt"
    weights.write_bytes(b"a TorchScript archive exported earlier")
    dialogs.answer = NO
    dialog = export_with(qtbot, window, "python", code)
    assert dialog.weights.currentData() == LATEST_RUN
    assert dialog.isVisible() and dialog.job is None
    assert len(dialogs.calls) == 1 and str(weights) in dialogs.calls[0][2]
    assert str(code) not in dialogs.calls[0][2]  # it does not exist yet
    assert not code.exists() and weights.read_bytes() == b"a TorchScript archive exported earlier"


# ----- item 11: New from preset ---------------------------------------------------------------
def choose_preset(name: str, failures: list[BaseException]) -> None:
    """Pick preset ``name`` in the modal preset dialog once it is shown and press Open."""

    def step() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, step)
            return
        try:
            assert isinstance(dialog, PresetDialog)
            dialog.select(name)
            box = dialog.findChild(QDialogButtonBox)
            box.button(QDialogButtonBox.StandardButton.Open).click()
        except BaseException as error:  # closed here, raised by the test
            failures.append(error)
            dialog.reject()

    QTimer.singleShot(0, step)


def test_new_from_preset_opens_an_untitled_design_after_asking(
    qtbot, window: MainWindow, dialogs: DialogRecorder, tmp_path: Path, monkeypatch
) -> None:
    project = tmp_path / "mynet.cnnd"
    assert window.save_as(project)
    saved = project.read_text()
    window.document.set_params("fc1", {"out_features": 50})  # unsaved work
    failures: list[BaseException] = []

    dialogs.answer = QMessageBox.StandardButton.Cancel  # keep working on mynet
    choose_preset("alexnet", failures)
    window.activateWindow()
    qtbot.keyClick(
        window,
        Qt.Key.Key_N,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert not failures
    assert [kind for kind, _t, _x in dialogs.calls] == ["question"]
    assert "mynet.cnnd" in dialogs.calls[0][2]
    assert window.document.path == project and window.isWindowModified()
    assert window.document.graph.node("fc1").params["out_features"] == 50

    dialogs.answer = QMessageBox.StandardButton.Discard
    choose_preset("alexnet", failures)
    assert window.new_from_preset()
    assert not failures
    doc = window.document
    assert doc.project.metadata["preset"] == "alexnet"
    assert doc.path is None and not window.isWindowModified()
    assert window.windowTitle().startswith("Untitled")
    assert window.training.default_run_root().name != "mynet.runs"
    # Save asks for a name: mynet.cnnd is never overwritten with AlexNet
    asked: list[str] = []

    def no_name(*args: Any, **kwargs: Any) -> tuple[str, str]:
        asked.append("save")
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", no_name)
    assert not window.save()
    assert asked == ["save"] and project.read_text() == saved


# ----- item 12: runs and Save As; recovery keeps the name ---------------------------------
def runs_page(window: MainWindow) -> Any:
    window.switch_view("runs")  # the Runs view, shown
    window.training.host.ensure_dashboard()
    return window.training.host.runs


def listed(page: Any) -> list[str]:
    return page.paths()


def test_the_runs_page_follows_save_as_and_keeps_the_earlier_runs(
    window: MainWindow, tmp_path: Path
) -> None:
    first = tmp_path / "a" / "mynet.cnnd"
    first.parent.mkdir()
    assert window.save_as(first)
    old_run = write_run(first.with_name("mynet.runs"), "20250101-120000", None)
    (old_run / "best.pt").write_bytes(b"weights")  # found, not read, by the export dialog
    page = runs_page(window)
    assert listed(page) == [str(old_run)]

    second = tmp_path / "b" / "copy.cnnd"
    second.parent.mkdir()
    assert window.save_as(second)
    assert window.training.default_run_root() == second.with_name("copy.runs")
    assert page.root == second.with_name("copy.runs")  # new runs go there, and it is listed
    assert listed(page) == [str(old_run)]  # the runs of the design before Save As stay
    assert "before Save As" in page.cell(0, "name")
    assert "copy.runs" in page.folder.text() and str(first.with_name("mynet.runs")) in (
        page.folder.text()
    )
    new_run = write_run(second.with_name("copy.runs"), "20250102-090000", None)
    page.set_root(page.root)  # the Refresh button
    assert listed(page) == [str(new_run), str(old_run)]
    dialog = window.export_design("python")
    assert dialog.run_checkpoint == old_run / "best.pt"  # the newest run with a checkpoint
    dialog.reject()

    other = tmp_path / "other.cnnd"  # another design: its own runs only
    from engine import save_project

    save_project(window.document.project, other)
    assert window.open_file(other)
    assert page.root == tmp_path / "other.runs" and listed(page) == []


CRASHING_SESSION = """
import os, sys
import designer.app as launcher
app = launcher.create_application()
window = launcher.create_window()
assert window.open_file(sys.argv[1])
window.document.set_params("fc1", {"out_features": 50})
assert window.autosaver.autosave()
os._exit(1)  # a crash: no clean exit
"""


@pytest.fixture
def as_the_designer(qapp) -> Iterator[None]:
    """This process's application names as the designer's, so that its recovery folder is
    the one the crashed designer process wrote to."""
    from designer.settings import APPLICATION, ORGANIZATION

    names = qapp.organizationName(), qapp.applicationName()
    qapp.setOrganizationName(ORGANIZATION)
    qapp.setApplicationName(APPLICATION)
    yield
    qapp.setOrganizationName(names[0])
    qapp.setApplicationName(names[1])


def crash_while_editing(tmp_path: Path, project: Path) -> None:
    """A designer process that opens ``project``, edits it, autosaves and crashes."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "user" / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "user" / "config"),
    )
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_SESSION, str(project)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr


def test_recovered_work_gets_its_file_name_back(
    qtbot, dialogs: DialogRecorder, tmp_path: Path, as_the_designer: None
) -> None:
    from designer.document import preset_project
    from engine import save_project

    project = tmp_path / "mynet.cnnd"
    save_project(preset_project("lenet5"), project)
    crash_while_editing(tmp_path, project)
    orphans = recovery.orphaned_autosaves()
    assert len(orphans) == 1

    dialogs.answer = YES
    window = create_window()
    qtbot.addWidget(window)
    assert window.offer_recovery()
    ((_kind, _title, text),) = dialogs.calls
    assert "mynet.cnnd" in text and orphans[0].name not in text
    doc = window.document
    assert doc.path == project and window.isWindowModified()
    assert window.windowTitle().startswith("mynet.cnnd")
    assert window.training.default_run_root() == tmp_path / "mynet.runs"
    assert doc.graph.node("fc1").params["out_features"] == 50
    assert recovery.ORIGINAL_KEY not in doc.project.metadata
    assert window.save()  # Ctrl+S writes the user's file
    data = json.loads(project.read_text())
    assert recovery.ORIGINAL_KEY not in data["metadata"]
    fc1 = next(n for n in data["graph"]["nodes"] if n["name"] == "fc1")
    assert fc1["params"]["out_features"] == 50
    window.training.shutdown()
    close_clean(window)


def test_recovery_warns_when_the_file_was_saved_after_the_autosave(
    qtbot, dialogs: DialogRecorder, tmp_path: Path, as_the_designer: None
) -> None:
    from designer.document import preset_project
    from engine import save_project

    project = tmp_path / "mynet.cnnd"
    save_project(preset_project("lenet5"), project)
    crash_while_editing(tmp_path, project)
    (orphan,) = recovery.orphaned_autosaves()
    later = orphan.stat().st_mtime + 60
    os.utime(project, (later, later))  # saved again elsewhere after the crash
    dialogs.answer = NO
    window = create_window()
    qtbot.addWidget(window)
    assert not window.offer_recovery()
    ((_kind, _title, text),) = dialogs.calls
    assert "saved after this autosave" in text and "Save As" in text
    assert window.document.path is None  # declined: nothing changed
    window.training.shutdown()
    close_clean(window)
