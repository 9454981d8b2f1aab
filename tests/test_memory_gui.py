"""Memory in the window (issue 20, point 1): the layer summary's Memory column and totals line
and the inspector's memory section equal ``plan_memory`` under the training settings (batch,
optimiser, precision), follow settings changes, are computed once per change, and never load
torch on the way to the window."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from designer_helpers import MEMORY_SETTINGS, close_clean, memory_column, memory_window

from designer.main_window import MainWindow
from engine.analysis.memory import plan_memory
from engine.analysis.memory_sizes import format_bytes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = memory_window(qtbot, tmp_path, monkeypatch)
    yield win
    close_clean(win)


def test_the_memory_column_and_totals_equal_the_planner(window: MainWindow, qtbot) -> None:
    doc = window.document
    plan = plan_memory(doc.graph, 32, "sgd", "fp32", device="cpu", momentum=0.9)
    expected = {layer.name: format_bytes(layer.activations) for layer in plan.layers}
    assert memory_column(window) == expected
    assert memory_column(window)["act1"] == format_bytes(32 * 6 * 28 * 28 * 4)  # tanh: its output
    totals = window.summary.totals.text()
    assert f"Training memory: {format_bytes(plan.total_training)} at batch 32, fits " in totals
    assert " in 24GB (sgd, fp32" in totals
    # the training settings change (one undo step): the column follows, and back on undo
    from designer.training.controller import SetTrainingSettings

    doc.undo_stack.push(SetTrainingSettings(doc, {**MEMORY_SETTINGS, "batch_size": 64}))
    plan64 = plan_memory(doc.graph, 64, "sgd", "fp32", device="cpu")
    qtbot.waitUntil(lambda: "at batch 64" in window.summary.totals.text(), timeout=3000)
    assert memory_column(window) == {x.name: format_bytes(x.activations) for x in plan64.layers}
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: "at batch 32" in window.summary.totals.text(), timeout=3000)
    assert memory_column(window) == expected


def test_the_inspector_shows_the_selected_blocks_memory(window: MainWindow, qtbot) -> None:
    doc = window.document
    doc.project.training = {
        **MEMORY_SETTINGS,
        "optimizer": "adam",
        "device": "cuda",
    }  # amp on a GPU
    doc.refresh()
    qtbot.waitUntil(lambda: window.summary.plans.current.settings.optimizer == "adam", timeout=3000)
    doc.set_selection(["fc1"])
    plan = plan_memory(doc.graph, 32, "adam", "amp")
    layer = {x.name: x for x in plan.layers}["fc1"]
    rows = window.inspector.memory
    assert rows.isVisible()
    assert rows.values == {
        "weights": (400 * 120 + 120) * 4,
        "gradients": layer.weights,
        "optimizer": 2 * layer.weights,  # Adam: two moving averages
        "activations": layer.activations,
    }
    assert "batch 32, adam, fp16 mixed" in rows.text()
    assert format_bytes(layer.activations) in rows.text()
    # a frozen block keeps no gradients and no optimiser state
    from designer.transfer import frozen

    frozen.freeze(doc, ["fc1"])
    qtbot.waitUntil(lambda: rows.values.get("gradients") == 0, timeout=3000)
    assert rows.values["optimizer"] == 0 and "frozen" in rows.text()
    doc.set_selection([])
    assert not rows.isVisible()


def test_a_burst_of_edits_is_planned_once(window: MainWindow, qtbot) -> None:
    plans = window.summary.plans
    before = plans.computed
    for channels in (7, 8, 9, 10, 11):
        window.document.set_params("conv1", {"out_channels": channels})
    assert plans.computed == before  # the edits did not wait for the planner
    qtbot.waitUntil(lambda: plans.computed == before + 1, timeout=3000)
    qtbot.wait(300)
    assert plans.computed == before + 1
    plan = plan_memory(window.document.graph, 32, "sgd", "fp32", device="cpu")
    assert memory_column(window)["conv1"] == format_bytes(plan.layers[1].activations)
    # a design with an error: no plan, empty column, no training-memory total
    window.document.set_params("conv1", {"kernel_size": 99})
    qtbot.waitUntil(lambda: plans.current is None, timeout=3000)
    assert set(memory_column(window).values()) == {""}
    assert "Training memory" not in window.summary.totals.text()


def test_the_window_plans_memory_without_loading_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from designer.main_window import MainWindow\n"
        "w = MainWindow(session=False)\n"
        "w.summary.plans.update_now()\n"
        "print(w.summary.plans.current is not None, 'torch' in sys.modules)\n"
        "w.document.undo_stack.setClean()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={
            "PYTHONPATH": str(ROOT),
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "QT_QPA_PLATFORM": "offscreen",
        },
    )
    assert done.stdout.split() == ["True", "False"], done.stderr
