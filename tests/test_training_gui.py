"""The Train action and the dashboard against real training processes (pytest-qt, real window).

Each test starts at most one small run of LeNet-5 on a subset of the built-in Digits set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from designer_helpers import close_clean, training_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine import Graph, Project

pytestmark = pytest.mark.timeout(120)

FAST = {"data": {"dataset": "digits", "limit": 400}, "batch_size": 32, "snapshot_budget": 0.2}


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = training_window(qtbot, tmp_path, monkeypatch)
    yield win
    win.training.shutdown()
    close_clean(win)


def _wait_end(qtbot, controller, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: not controller.is_running(), timeout=timeout)


def _responsive(qtbot) -> None:
    fired: list[bool] = []
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=1000)


def test_run_fills_the_plots_pauses_resumes_and_stops(qtbot, window) -> None:
    controller = window.training
    window.document.project.training = {**FAST, "epochs": 200}
    before = window.document.graph.to_data()
    assert controller.train()
    dashboard = controller.host.dashboard
    assert dashboard.banner.isVisible() and "next run" in dashboard.banner.text()
    assert not controller.actions["train"].isEnabled()
    # drawn five times a second at most: the curve follows the data within a tick or two
    drawn = dashboard.curves.raw
    qtbot.waitUntil(
        lambda: drawn.getData()[1] is not None and drawn.getData()[1].size >= 5, timeout=60_000
    )
    _x, y = dashboard.curves.raw.getData()
    assert len(y) >= 5 and np.all(np.isfinite(y))
    assert dashboard.progress.value() > 0
    dashboard.show_page(dashboard.filters)
    qtbot.waitUntil(lambda: dashboard.filters.first.image is not None, timeout=30_000)
    dashboard.show_page(dashboard.feature_maps)
    assert dashboard.feature_maps.maps.image is not None
    dashboard.show_page(dashboard.gradients)
    assert len(dashboard.gradients.norms.getData()[1]) >= 3  # conv1, conv2, fc1, ...
    dashboard.show_page(dashboard.curves)
    controller.pause()
    qtbot.waitUntil(lambda: dashboard.state == "paused", timeout=20_000)
    assert controller.actions["resume"].isEnabled()
    steps = dashboard.loss.size
    controller.resume()
    qtbot.waitUntil(lambda: dashboard.loss.size > steps, timeout=20_000)
    controller.stop()
    _wait_end(qtbot, controller)
    assert dashboard.state == "stopped"
    assert not dashboard.banner.isVisible()
    assert controller.actions["train"].isEnabled()
    _responsive(qtbot)
    assert window.document.graph.to_data() == before


def test_completed_run_shows_evaluation_runs_and_predicts(qtbot, window) -> None:
    controller = window.training
    window.document.project.training = {**FAST, "epochs": 2}
    assert controller.train()
    _wait_end(qtbot, controller)
    dashboard = controller.host.dashboard
    assert dashboard.state == "completed", dashboard.message.text()
    assert len(dashboard.val_accs.y) == 2 and dashboard.val_accs.y[-1] > 0.2  # chance is 0.1
    dashboard.show_page(dashboard.evaluation)
    assert dashboard.evaluation.confusion.image.shape == (10, 10)
    assert dashboard.evaluation.counts.text(0, 0) != ""
    runs = controller.host.runs
    assert runs.row_count() == 1 and runs.curves  # the run is listed and overlaid
    predict = controller.host.predict
    assert predict.run_dir is not None
    predict.predict_sample(3)
    qtbot.waitUntil(lambda: predict.last is not None, timeout=60_000)
    assert not isinstance(predict.last, str), predict.last
    assert predict.last.probabilities.shape == (10,)
    assert abs(float(predict.last.probabilities.sum()) - 1.0) < 1e-4
    assert "predicted" in predict.result.text()


def tiny_graph() -> Graph:
    """conv 8@3×3 → ReLU → max pool → FC on Digits' native 1×8×8."""
    g = Graph()
    g.add_node("input", "input", {"shape": [1, 8, 8]})
    g.add_node("conv2d", "conv1", {"out_channels": 8, "kernel_size": 3, "padding": 1})
    g.add_node("relu", "relu1")
    g.add_node("maxpool2d", "pool1", {"kernel_size": 2})
    g.add_node("flatten", "flatten")
    g.add_node("linear", "fc", {"out_features": 10})
    g.add_node("output", "output")
    for a, b in [
        ("input", "conv1"),
        ("conv1", "relu1"),
        ("relu1", "pool1"),
        ("pool1", "flatten"),
        ("flatten", "fc"),
        ("fc", "output"),
    ]:
        g.connect(a, b)
    return g


def test_nan_loss_fails_with_message_and_designer_survives(qtbot, window) -> None:
    window.document.replace_project(Project(graph=tiny_graph()))
    controller = window.training
    window.document.project.training = {
        "data": {"dataset": "digits"},
        "epochs": 20,
        "batch_size": 32,
        "optimizer": "sgd",
        "lr": 1e6,
    }
    before = window.document.graph.to_data()
    ended: list[str] = []
    controller.run_ended.connect(ended.append)
    assert controller.train()
    _wait_end(qtbot, controller)
    dashboard = controller.host.dashboard
    assert ended == ["failed"]
    assert dashboard.message.isVisible()
    assert "NaN" in dashboard.message.text() or "infinite" in dashboard.message.text()
    assert "learning rate" in window.statusBar().currentMessage()
    _responsive(qtbot)
    assert window.document.graph.to_data() == before
    assert controller.actions["train"].isEnabled()


def test_a_run_that_cannot_train_is_shown_with_its_reason(qtbot, window) -> None:
    """BatchNorm on batches of one sample would raise inside the child's forward pass: the run
    refuses it first and says what to change."""
    document = window.document

    def add_batchnorm(graph) -> None:
        edge = graph.edge_into("act3", "in")
        graph.disconnect(edge)
        graph.add_node("batchnorm", "bn3")
        graph.connect("fc1", "bn3")
        graph.connect("bn3", "act3")

    document.run_edit("Insert BatchNorm", add_batchnorm)
    assert document.result.ok, document.result.errors
    document.project.training = {**FAST, "epochs": 1, "batch_size": 1}
    controller = window.training
    assert controller.train()
    _wait_end(qtbot, controller)
    dashboard = controller.host.dashboard
    assert dashboard.state == "failed"
    assert "BatchNorm (bn3) normalises over the batch" in dashboard.message.text()
    assert "set batch_size to 2 or more" in dashboard.message.text()
    _responsive(qtbot)
    assert "bn3" in document.graph


def test_killed_training_process_is_reported(qtbot, window) -> None:
    controller = window.training
    window.document.project.training = {**FAST, "epochs": 200}
    assert controller.train()
    dashboard = controller.host.dashboard
    qtbot.waitUntil(lambda: dashboard.loss.size > 0, timeout=60_000)
    controller.handle.kill()  # what an out-of-memory kill or a crash looks like
    _wait_end(qtbot, controller)
    assert dashboard.state == "failed"
    assert "ended unexpectedly" in dashboard.message.text()
    QApplication.processEvents()
    _responsive(qtbot)


def test_opening_the_train_view_leaves_the_layout_at_rest(window, qtbot) -> None:
    """The plots' size hints once followed their own size: the dashboard's dock then grew a few
    pixels per layout pass until the canvas was squeezed, repainting the window all along."""
    size = window.size()
    button = window.workspace.toolbar.widgetForAction(window.actions_by_name["view_train"])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    host = window.training.host
    qtbot.waitUntil(lambda: host.dashboard is not None and host.dashboard.isVisible())
    qtbot.wait(300)
    height = host.dashboard.height()
    qtbot.wait(700)
    assert host.dashboard.height() == height and window.size() == size


def test_a_run_that_cannot_start_says_why_and_leaves_train_enabled(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.training.runner as runner

    def no_process(*_args: object, **_kwargs: object) -> None:
        raise OSError("cannot start a process: resource temporarily unavailable")

    monkeypatch.setattr(runner, "start_training", no_process)
    controller = window.training
    window.document.project.training = {**FAST, "epochs": 1}
    window.actions_by_name["train"].trigger()
    dashboard = controller.host.dashboard
    assert dashboard is not None and dashboard.state == "failed"
    assert "resource temporarily unavailable" in dashboard.message.text()
    assert "could not start" in window.statusBar().currentMessage()
    assert not controller.is_running() and controller.actions["train"].isEnabled()
    _responsive(qtbot)
