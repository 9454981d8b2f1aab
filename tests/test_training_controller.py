"""The Train action's checks and the settings dialog, without starting a training process."""

from __future__ import annotations

from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs

from designer.document import Document, preset_project
from designer.main_window import MainWindow
from designer.training.controller import SAMPLE_SHAPES, input_agreement, settings_from_project
from designer.training.settings_dialog import TrainingSettingsDialog
from engine.training.settings import SettingsError, TrainingSettings


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    win = MainWindow(Document(preset_project("lenet5")), session=False)
    win.training.run_root = tmp_path / "runs"
    qtbot.addWidget(win)
    win.show()
    yield win
    win.training.shutdown()
    close_clean(win)


def test_train_refuses_an_invalid_graph_and_shows_problems(window) -> None:
    document = window.document
    edge = document.graph.edge_into("fc1", "in")
    document.disconnect(edge)  # fc1 now has no input: an inference error
    assert not document.result.ok
    assert window.training.train() is False
    assert window.training.handle is None
    assert window.bottom_tabs.currentWidget() is window.problems
    assert "Cannot train" in window.statusBar().currentMessage()


def test_project_settings_are_read_and_bad_ones_named() -> None:
    settings = settings_from_project({"data": {"dataset": "shapes"}, "epochs": 3})
    assert settings.data.dataset == "shapes" and settings.epochs == 3
    with pytest.raises(SettingsError, match="dataset"):
        settings_from_project({"dataset": "shapes"})


def test_agreement_offers_the_data_fix_when_fit_is_off(window, monkeypatch) -> None:
    controller = window.training
    window.document.project.training = {"data": {"dataset": "digits", "fit_input": False}}
    agreement = input_agreement(window.document.graph, controller.settings())
    assert not agreement.ok and agreement.resize == (32, 32)
    asked: list[str] = []

    def cancel(a):
        asked.append(a.message)
        return ""

    monkeypatch.setattr(controller, "ask_agreement", cancel)
    assert controller.train() is False and controller.handle is None
    assert "8×8" in asked[0]
    settings = controller.settings()
    monkeypatch.setattr(controller, "ask_agreement", lambda a: "data")
    fitted = controller._agree(settings)
    assert fitted.data.resize == (32, 32)
    assert controller.settings().data.resize == (32, 32)  # stored in the project
    window.document.undo_stack.undo()
    assert controller.settings().data.resize is None


def test_agreement_passes_when_the_data_is_converted_automatically(window) -> None:
    settings = TrainingSettings.from_dict({"data": {"dataset": "digits"}})
    assert window.training._agree(settings) is settings
    assert set(SAMPLE_SHAPES) <= {"digits", "shapes", "mnist", "fashion_mnist", "cifar10"}


def test_settings_dialog_round_trip_and_refusal(qtbot, window) -> None:
    stored = TrainingSettings.from_dict({"epochs": 7, "lr": 0.01, "optimizer": "sgd"})
    dialog = TrainingSettingsDialog(stored)
    qtbot.addWidget(dialog)
    assert TrainingSettings.from_dict(dialog.values()) == stored
    dialog.epochs.setValue(3)
    dialog.dataset.setCurrentText("shapes")
    dialog.accept()
    assert dialog.result_settings.epochs == 3 and dialog.result_settings.data.dataset == "shapes"
    bad = TrainingSettingsDialog(stored)
    qtbot.addWidget(bad)
    bad.nesterov.setChecked(True)
    bad.optimizer.setCurrentText("adam")
    bad.accept()
    assert "nesterov" in bad.error.text()
    assert bad.result() == 0  # still open: not accepted
    controller = window.training
    controller.store_settings(dialog.result_settings)
    assert controller.settings().epochs == 3 and window.document.modified
    window.document.undo_stack.undo()
    assert window.document.project.training.get("epochs") != 3


def test_pyqtgraph_is_not_loaded_until_the_tab_is_shown(window) -> None:
    host = window.training.host
    assert host.dashboard is None or window.view == "train"
    window.switch_view("train")
    assert host.dashboard is not None
