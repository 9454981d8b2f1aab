"""Transfer learning in the window (issue 20, point 4): File ▸ Load weights… shows the match
report and Apply records the file for the next run; Freeze/Unfreeze from the context menu (one
undo step, saved, drawn hatched, counted in the summary); Replace classifier in one step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from designer.document import Document, preset_project
from designer.main_window import MainWindow
from designer.transfer.marks import FrozenMark


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    project = preset_project("lenet5")
    win = MainWindow(Document(project), session=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.transfer.shutdown()
    close_clean(win)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """LeNet-5 weights for 6 classes (the classifier differs), and a file of no state dict."""
    import torch

    from engine.compiler import compile_graph
    from presets import PRESETS

    torch.manual_seed(3)
    module = compile_graph(PRESETS.get("lenet5").create(classes=6))
    torch.save(module.state_dict(), tmp_path / "six.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    return {"six": tmp_path / "six.pt", "list": tmp_path / "list.pt"}


def menu_action(win: MainWindow, menu_title: str, name: str) -> Any:
    for action in win.menuBar().actions():
        if action.text() == menu_title:
            for item in action.menu().actions():
                if item.objectName() == name:
                    return item
    raise AssertionError(f"{name} not in {menu_title}")


def choose_file(monkeypatch: pytest.MonkeyPatch, path: Path, asked: list[str]) -> None:
    def get_open_file_name(parent: Any, title: str, *args: Any) -> tuple[str, str]:
        asked.append(title)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", get_open_file_name)


def test_load_weights_shows_the_report_and_apply_records_them(
    window: MainWindow, files: dict[str, Path], qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    choose_file(monkeypatch, files["six"], asked)
    menu_action(window, "&File", "load_weights").trigger()
    assert asked == ["Load weights"]
    qtbot.waitUntil(lambda: window.transfer.dialog is not None, timeout=60_000)
    dialog = window.transfer.dialog
    report = dialog.text.toPlainText()
    assert "8 of the design's 10 tensors matched; 0 missing, 0 unexpected, 2 of another" in report
    assert "fc3.weight: file 6×84, design 10×84 (the classifier: trained anew)" in report
    assert "fc3.bias: file 6, design 10" in report
    assert window.document.project.training.get("weights") is None  # nothing applied yet
    dialog.apply_button.click()
    path = str(files["six"].resolve())
    assert window.document.project.training["weights"] == path
    window.document.undo_stack.undo()  # one undo step
    assert "weights" not in window.document.project.training
    window.document.undo_stack.redo()
    assert window.document.project.training["weights"] == path
    from engine.training.settings import TrainingSettings

    assert TrainingSettings.from_dict(window.document.project.training).weights == path
    clear = menu_action(window, "&File", "clear_weights")
    assert clear.isEnabled()
    clear.trigger()  # back to random weights, one undo step
    assert "weights" not in window.document.project.training and not clear.isEnabled()
    window.document.undo_stack.undo()
    assert window.document.project.training["weights"] == path and clear.isEnabled()


def test_weights_that_cannot_be_used_are_refused_and_nothing_changes(
    window: MainWindow, files: dict[str, Path], qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_file(monkeypatch, files["list"], [])
    before = (window.document.graph.to_data(), dict(window.document.project.training))
    menu_action(window, "&File", "load_weights").trigger()
    qtbot.waitUntil(lambda: window.transfer.dialog is not None, timeout=60_000)
    dialog = window.transfer.dialog
    text = dialog.message.text()
    assert f"weights file {files['list']}: not a state dict" in text
    assert "Traceback" not in text and not hasattr(dialog, "apply_button")
    dialog.reject()
    # weights of another network: the report says what did not match, and it is refused
    window.load_preset("small_vgg")
    choose_file(monkeypatch, files["six"], [])
    before = (window.document.graph.to_data(), dict(window.document.project.training))
    window.transfer.load_weights()
    qtbot.waitUntil(lambda: window.transfer.dialog is not None, timeout=60_000)
    dialog = window.transfer.dialog
    assert "none of its" in dialog.message.text()
    assert "unexpected conv1.weight: in the file, not in the design" in dialog.text.toPlainText()
    dialog.reject()
    assert (window.document.graph.to_data(), dict(window.document.project.training)) == before


def test_freeze_from_the_context_menu_is_undoable_saved_drawn_and_counted(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:
    doc, view = window.document, window.canvas
    scene = view.canvas
    actions = dict(view.node_actions("conv1"))
    actions["Freeze (do not train)"]()
    assert doc.project.training["freeze"] == ["conv1"]

    def marks() -> set[str]:
        return {
            name
            for name, item in scene.nodes.items()
            if any(isinstance(child, FrozenMark) for child in item.childItems())
        }

    qtbot.waitUntil(lambda: marks() == {"conv1"}, timeout=3000)
    totals = window.summary.totals.text()
    assert "Total params: 61,706 (trainable 61,550, frozen 156)" in totals
    assert "Unfreeze (train again)" in dict(view.node_actions("conv1"))
    # saved with the project, and a run of the saved project freezes it
    window.save_as(tmp_path / "net.cnnd")
    from engine import load_project

    assert load_project(tmp_path / "net.cnnd").training["freeze"] == ["conv1"]
    doc.undo_stack.undo()
    assert "freeze" not in doc.project.training
    qtbot.waitUntil(lambda: marks() == set(), timeout=3000)
    assert "frozen" not in window.summary.totals.text()
    doc.undo_stack.redo()
    qtbot.waitUntil(lambda: marks() == {"conv1"}, timeout=3000)
    dict(view.node_actions("conv1"))["Unfreeze (train again)"]()
    assert "freeze" not in doc.project.training


def test_freeze_a_group_and_unfreeze_one_of_its_blocks(window: MainWindow, qtbot) -> None:
    window.load_preset("resnet18")
    doc, view = window.document, window.canvas
    members = set(doc.graph.group_members("layer1"))
    dict(view.group_actions("layer1"))["Freeze group (do not train)"]()
    assert doc.project.training["freeze"] == ["layer1"]
    from designer.transfer.frozen import frozen_names, unfreeze_blocks

    assert frozen_names(doc) == members
    assert "Unfreeze group" in dict(view.group_actions("layer1"))
    block = sorted(members)[0]
    unfreeze_blocks(doc, [block])  # the group's other blocks stay frozen
    assert frozen_names(doc) == members - {block}
    dict(view.group_actions("layer1"))["Freeze group (do not train)"]()
    assert frozen_names(doc) == members
    dict(view.group_actions("layer1"))["Unfreeze group"]()
    assert frozen_names(doc) == set()


def test_replace_classifier_in_one_undoable_step(window: MainWindow, qtbot) -> None:
    doc = window.document

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        box.setIntValue(6)
        box.accept()

    QTimer.singleShot(0, answer)
    assert menu_action(window, "&File", "replace_classifier").trigger() is None
    assert doc.graph.node("fc3").params["out_features"] == 6
    assert doc.result.nodes["fc3"].outputs["out"] == (6,)
    doc.undo_stack.undo()
    assert doc.graph.node("fc3").params["out_features"] == 10
    # a design without a Linear layer: a message, nothing changes
    window.load_preset("small_vgg")
    for name in [n.name for n in doc.graph if n.type_id == "linear"]:
        doc.remove_nodes([name])
    assert window.transfer.replace_classifier(4) is False
    assert "no Linear layer" in window.statusBar().currentMessage()


def test_a_run_started_in_the_window_records_and_uses_weights_and_freeze(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import torch
    from designer_helpers import training_window

    from engine.compiler import compile_graph

    win = training_window(qtbot, tmp_path, monkeypatch)
    try:
        doc = win.document
        doc.project.training = {
            "data": {"dataset": "digits", "limit": 64},
            "batch_size": 16,
            "epochs": 1,
            "device": "cpu",
        }
        torch.manual_seed(11)
        weights = tmp_path / "start.pt"
        torch.save(compile_graph(doc.graph).state_dict(), weights)
        choose_file(monkeypatch, weights, [])
        win.transfer.load_weights()
        qtbot.waitUntil(lambda: win.transfer.dialog is not None, timeout=60_000)
        win.transfer.dialog.apply_button.click()
        dict(win.canvas.node_actions("conv2"))["Freeze (do not train)"]()
        ended: list[str] = []
        win.training.run_ended.connect(ended.append)
        assert win.training.train()
        qtbot.waitUntil(lambda: not win.training.is_running(), timeout=90_000)
        assert ended == ["completed"]
        (run,) = (tmp_path / "runs").iterdir()
        settings = json.loads((run / "settings.json").read_text())["settings"]
        assert (settings["weights"], settings["freeze"]) == (str(weights.resolve()), ["conv2"])
        trained = torch.load(run / "last.pt", weights_only=True)["model"]
        start = torch.load(weights, weights_only=True)
        assert torch.equal(trained["conv2.weight"], start["conv2.weight"])  # loaded, frozen
        assert not torch.equal(trained["conv1.weight"], start["conv1.weight"])  # loaded, trained
    finally:
        win.training.shutdown()
        win.transfer.shutdown()
        close_clean(win)
