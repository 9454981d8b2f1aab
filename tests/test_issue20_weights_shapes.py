"""Weights whose shapes differ beyond the classifier (issue 20, "Bad input"): one message naming
the file, the first tensor and the fix, in the window and on the command line; the design, the
training settings and the runs folder stay as they were."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs

from designer.document import Document, preset_project
from designer.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
FIX = "Give weights saved from the same architecture with the same options"


@pytest.fixture
def wide(tmp_path: Path) -> Path:
    """LeNet-5 weights with 8 filters in conv1 (the design has 6)."""
    import torch

    from engine.compiler import compile_graph
    from presets import PRESETS

    graph = PRESETS.get("lenet5").create()
    graph.set_params("conv1", {"out_channels": 8})
    path = tmp_path / "wide.pt"
    torch.save(compile_graph(graph).state_dict(), path)
    return path


def test_the_window_refuses_weights_of_other_shapes(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wide: Path
) -> None:
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    win = MainWindow(Document(preset_project("lenet5")), session=False)
    qtbot.addWidget(win)
    win.show()
    try:
        before = (win.document.graph.to_data(), dict(win.document.project.training))
        win.transfer.load_weights(str(wide))
        qtbot.waitUntil(lambda: win.transfer.dialog is not None, timeout=60_000)
        dialog = win.transfer.dialog
        message = dialog.message.text()
        assert f"weights file {wide}" in message and "conv1.weight" in message
        assert FIX in message and "Traceback" not in message
        assert "shape   conv1.weight: file 8×1×5×5, design 6×1×5×5" in dialog.text.toPlainText()
        assert not hasattr(dialog, "apply_button")
        dialog.accept()  # even an Enter on the dialog applies nothing
        assert (win.document.graph.to_data(), dict(win.document.project.training)) == before
    finally:
        win.transfer.shutdown()
        close_clean(win)


def test_train_refuses_weights_of_other_shapes_before_a_run(tmp_path: Path, wide: Path) -> None:
    out = tmp_path / "runs"
    done = subprocess.run(
        [sys.executable, "-m", "designer", "train", "--preset", "lenet5", "--data", "digits",
         "--limit", "64", "--epochs", "1", "--weights", str(wide), "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode != 0
    assert f"weights file {wide}" in done.stderr and FIX in done.stderr
    assert "conv1.weight, file 8×1×5×5, design 6×1×5×5" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() or not any(out.iterdir())
