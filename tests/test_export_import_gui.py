"""File ▸ Export and File ▸ Import PyTorch model, driven through their dialogs like a user.

The work runs on the thread pool; the tests wait for the job with ``qtbot.waitUntil``. Message
boxes are replaced with recorder functions (never Mock objects: mocking PySide6 segfaults).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import close_clean, isolate_user_dirs
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QProgressBar

from designer.app import create_window
from designer.dialogs.export_dialog import LATEST_RUN, NO_WEIGHTS, WEIGHTS_FILE, ExportDialog
from designer.dialogs.import_dialog import ImportDialog
from designer.main_window import MainWindow
from engine import infer

pytestmark = pytest.mark.gui

JOB_TIMEOUT_MS = 60_000
UNMAPPED_NET = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = torch.cumsum(x, 1)
        return self.fc(torch.flatten(x, 1))
"""


@dataclass
class Boxes:
    """Records QMessageBox.question/critical/warning/information calls; answers ``answer``."""

    answer: Any = QMessageBox.StandardButton.Discard
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Boxes:
        def recorder(kind: str) -> Any:
            def show(parent: Any, title: str, text: str, *args: Any) -> Any:
                self.calls.append((kind, title, text))
                return self.answer if kind == "question" else QMessageBox.StandardButton.Ok

            return show

        for kind in ("question", "critical", "warning", "information"):
            monkeypatch.setattr(QMessageBox, kind, recorder(kind))
        return self

    def kinds(self) -> list[str]:
        return [call[0] for call in self.calls]


@pytest.fixture
def boxes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Boxes:
    isolate_user_dirs(tmp_path, monkeypatch)
    return Boxes().install(monkeypatch)


@pytest.fixture
def window(qtbot, boxes: Boxes, tmp_path: Path) -> Iterator[MainWindow]:
    win = create_window()  # LeNet-5
    win.training.run_root = tmp_path / "runs"
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    close_clean(win)


def press(qtbot, dialog: Any, button: QDialogButtonBox.StandardButton) -> None:
    qtbot.mouseClick(dialog.buttons.button(button), Qt.MouseButton.LeftButton)


def run_export(qtbot, dialog: ExportDialog) -> None:
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert not dialog.isVisible()
    assert dialog.job is not None
    qtbot.waitUntil(lambda: dialog.job.finished, timeout=JOB_TIMEOUT_MS)


def assert_not_busy(qtbot, window: MainWindow) -> None:
    """The status bar's busy indicator is gone once the job has reported."""
    qtbot.waitUntil(lambda: not window.statusBar().findChildren(QProgressBar, "busy_indicator"))


def load_python(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_run(root: Path, state: dict[str, Any]) -> Path:
    """A finished run folder as the trainer leaves it (settings.json and best.pt)."""
    import torch

    run = root / "20250101-120000"
    run.mkdir(parents=True)
    (run / "settings.json").write_text('{"settings": {"data": {"dataset": "digits"}}}')
    (run / "result.json").write_text('{"status": "completed"}')
    torch.save({"format": "cnn-designer-checkpoint", "model": state}, run / "best.pt")
    return run


# ----- export ------------------------------------------------------------------------------
def test_menu_lists_export_formats_and_import(window: MainWindow) -> None:
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    assert "&Export" in texts and "&Import PyTorch model…" in texts
    export_menu = next(a.menu() for a in file_menu.actions() if a.text() == "&Export")
    assert [a.objectName() for a in export_menu.actions()] == [
        "export_python",
        "export_torchscript",
        "export_onnx",
    ]


def test_export_python_writes_a_module_that_loads(
    qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path
) -> None:
    window.actions_by_name["export_python"].trigger()
    dialog = window.findChild(ExportDialog, "export_dialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.chosen_format() == "python"
    assert dialog.class_name.text() == "LeNet5"
    assert dialog.weights.currentData() == NO_WEIGHTS  # no run of this design yet
    target = tmp_path / "out" / "lenet.py"
    target.parent.mkdir()
    dialog.path.setText(str(target))
    run_export(qtbot, dialog)

    assert boxes.calls == []
    assert target.is_file() and not target.with_suffix(".pt").exists()
    assert str(target) in window.statusBar().currentMessage()
    assert_not_busy(qtbot, window)
    module = load_python(target)
    model = module.LeNet5()
    params = sum(p.numel() for p in model.parameters())
    assert params == infer(window.document.graph).total_params


def test_export_uses_the_latest_run_weights(
    qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path
) -> None:
    from engine.compiler import compile_graph

    trained = compile_graph(window.document.graph).state_dict()
    write_run(tmp_path / "runs", trained)
    dialog = window.export_design("torchscript")
    assert isinstance(dialog, ExportDialog)
    assert dialog.weights.currentData() == LATEST_RUN
    assert dialog.run_checkpoint == tmp_path / "runs" / "20250101-120000" / "best.pt"
    dialog.format.setCurrentIndex(dialog.format.findData("python"))  # switch back to python
    target = tmp_path / "trained.py"
    dialog.path.setText(str(target))
    run_export(qtbot, dialog)

    import torch

    assert boxes.calls == []
    saved = torch.load(target.with_suffix(".pt"), weights_only=True)
    assert saved.keys() == trained.keys()
    assert all(torch.equal(saved[k], trained[k]) for k in trained)
    assert "weights:" in window.statusBar().currentMessage()


def test_export_error_is_a_message_and_the_window_stays(
    qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path
) -> None:
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"this is not a checkpoint")
    names = window.document.graph.names
    dialog = window.export_design("python")
    dialog.weights.setCurrentIndex(dialog.weights.findData(WEIGHTS_FILE))
    dialog.weights_path.setText(str(bad))
    dialog.path.setText(str(tmp_path / "model.py"))
    run_export(qtbot, dialog)

    assert boxes.kinds() == ["critical"]
    _kind, title, text = boxes.calls[0]
    assert title == "Cannot export"
    assert "garbage.pt" in text and "cannot be read as PyTorch weights" in text
    assert "Traceback" not in text
    assert window.isVisible() and window.document.graph.names == names
    assert not (tmp_path / "model.py").exists()
    assert_not_busy(qtbot, window)


def test_export_dialog_refuses_bad_fields(qtbot, window: MainWindow, tmp_path: Path) -> None:
    dialog = window.export_design("python")
    dialog.path.setText(str(tmp_path / "lenet.onnx"))
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible() and dialog.job is None
    assert ".py file" in dialog.error.text()
    dialog.path.setText(str(tmp_path / "model.py"))
    dialog.weights.setCurrentIndex(dialog.weights.findData(WEIGHTS_FILE))
    dialog.weights_path.setText(str(tmp_path / "missing.pt"))
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible() and "missing.pt" in dialog.error.text()
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Cancel)
    assert not dialog.isVisible() and dialog.job is None


def test_export_refuses_a_design_with_errors(window: MainWindow) -> None:
    window.document.remove_nodes(["conv2"])
    assert not window.document.result.ok
    window.bottom_tabs.setCurrentIndex(0)
    assert window.export_design("onnx") is None
    assert window.bottom_tabs.currentWidget() is window.problems
    assert "Cannot export" in window.statusBar().currentMessage()
    assert window.findChild(ExportDialog) is None


# ----- import ------------------------------------------------------------------------------
def test_import_torchvision_resnet18_opens_as_a_new_project(
    qtbot, window: MainWindow, boxes: Boxes
) -> None:
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    window.document.remove_nodes(["act1"])  # unsaved changes: Discard is answered
    window.actions_by_name["import_model"].trigger()
    dialog = window.findChild(ImportDialog, "import_dialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.from_torchvision.isChecked()
    dialog.torchvision_name.setEditText("resnet18")
    dialog.shape.setText("3×64×64")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.job is not None
    qtbot.waitUntil(lambda: dialog.job.finished, timeout=JOB_TIMEOUT_MS)

    assert boxes.kinds() == ["question"]  # the unsaved-changes prompt, nothing else
    doc = window.document
    assert doc.result.total_params == 11_689_512 and doc.result.ok
    assert doc.graph.node("input").params["shape"] == [3, 64, 64]
    assert doc.project.metadata["imported_from"] == "torchvision resnet18"
    assert doc.path is None and not doc.modified
    assert set(doc.project.layout) == set(doc.graph.names)
    assert "layer1.0" in doc.collapsed  # residual blocks start collapsed, as in the preset
    assert "11,689,512 parameters" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: dialog.names_job.finished, timeout=JOB_TIMEOUT_MS)
    names = [dialog.torchvision_name.itemText(i) for i in range(dialog.torchvision_name.count())]
    assert "resnet18" in names and "vgg11" in names


def test_import_file_lists_unmapped_operations(
    qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path
) -> None:
    source = tmp_path / "net.py"
    source.write_text(UNMAPPED_NET)
    dialog = window.import_model()
    dialog.from_file.setChecked(True)
    dialog.file_path.setText(str(source))
    dialog.class_name.setText("Net")
    dialog.shape.setText("1x8x8")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: dialog.job.finished, timeout=JOB_TIMEOUT_MS)

    assert boxes.kinds() == ["warning"]
    assert "not mapped: cumsum" in boxes.calls[0][2]
    assert window.document.project.metadata["imported_from"] == "net.py:Net"
    assert {"conv", "fc"} <= set(window.document.graph.names)


def test_import_errors_are_messages_and_the_design_stays(
    qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path
) -> None:
    source = tmp_path / "net.py"
    source.write_text(UNMAPPED_NET)
    names = window.document.graph.names
    dialog = window.import_model()
    dialog.from_file.setChecked(True)
    dialog.file_path.setText(str(source))
    dialog.class_name.setText("Missing")
    dialog.shape.setText("1x0")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.isVisible() and "input=[1, 0]" in dialog.error.text()  # checked in the dialog
    dialog.shape.setText("1x8x8")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: dialog.job.finished, timeout=JOB_TIMEOUT_MS)

    assert boxes.kinds() == ["critical"]
    assert "'Missing'" in boxes.calls[0][2] and "Net" in boxes.calls[0][2]
    assert window.isVisible() and window.document.graph.names == names


def test_a_model_whose_forward_calls_exit_is_a_message_not_a_stuck_busy_bar(
    qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path
) -> None:
    source = tmp_path / "net.py"
    source.write_text(
        "import sys\nfrom torch import nn\n\n"
        "class Net(nn.Module):\n    def forward(self, x):\n        sys.exit('bye')\n"
    )
    dialog = window.import_model()
    dialog.from_file.setChecked(True)
    dialog.file_path.setText(str(source))
    dialog.class_name.setText("Net")
    dialog.shape.setText("4")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    qtbot.waitUntil(lambda: dialog.job.finished, timeout=JOB_TIMEOUT_MS)
    assert boxes.kinds() == ["critical"]
    assert "cannot trace its forward (SystemExit: bye)" in boxes.calls[0][2]


def test_a_background_job_that_exits_reports_a_failure(qtbot) -> None:
    from designer.dialogs.background import run_in_background

    errors: list[Exception] = []
    job = run_in_background(lambda: sys.exit(5), lambda value: None, errors.append)
    qtbot.waitUntil(lambda: job.finished, timeout=JOB_TIMEOUT_MS)
    assert [str(e) for e in errors] == ["the code called exit(5)"]


def test_import_cancelled_at_the_unsaved_prompt_changes_nothing(
    qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path
) -> None:
    boxes.answer = QMessageBox.StandardButton.Cancel
    window.document.remove_nodes(["act1"])
    names = window.document.graph.names
    source = tmp_path / "net.py"
    source.write_text(UNMAPPED_NET)
    dialog = window.import_model()
    dialog.from_file.setChecked(True)
    dialog.file_path.setText(str(source))
    dialog.class_name.setText("Net")
    dialog.shape.setText("1x8x8")
    press(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert boxes.kinds() == ["question"] and dialog.job is None
    assert window.document.graph.names == names and window.document.modified


def test_torchscript_export_writes_the_preprocessing_beside_it(
    qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path
) -> None:
    """The project's training settings (LeNet-5 on Digits) travel with the model."""
    import json

    dialog = window.export_design("torchscript")
    assert isinstance(dialog, ExportDialog)
    target = tmp_path / "lenet.ts"
    dialog.path.setText(str(target))
    run_export(qtbot, dialog)
    assert boxes.calls == []
    data = json.loads((tmp_path / "lenet.preprocess.json").read_text())
    assert data["dataset"] == "digits" and data["resize"] == [32, 32]
    assert data["classes"] == [str(d) for d in range(10)] and len(data["mean"]) == 1
