"""The largest batch in the window (issue 20, point 1): Training ▸ Device memory… takes a card's
name or a size, kept in the user's settings, and the summary's totals line says the largest batch
that fits it, the number ``cnn-designer memory --device-memory`` gives; a size that cannot be
read is one message and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs
from PySide6.QtWidgets import QInputDialog

from designer.document import Document, preset_project
from designer.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    project = preset_project("resnet18")
    project.training = {"batch_size": 32, "optimizer": "sgd", "mixed_precision": False}
    win = MainWindow(Document(project), session=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    close_clean(win)


def cli_max_batch(memory: str) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "designer", "memory", "--preset", "resnet18", "--batch", "32",
         "--optimizer", "sgd", "--precision", "fp32", "--device-memory", memory, "--json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["max_batch"])


def answer_with(monkeypatch: pytest.MonkeyPatch, text: str, asked: list[Any]) -> None:
    def get_item(parent: Any, title: str, label: str, items: list[str], *args: Any) -> Any:
        asked.append((title, list(items)))
        return text, True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)


def test_the_totals_line_says_the_largest_batch_for_the_chosen_card(
    window: MainWindow, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    totals = window.summary.totals
    default = cli_max_batch("24GB")
    qtbot.waitUntil(lambda: f"fits batch ≤ {default:,} in 24GB" in totals.text(), timeout=10_000)
    asked: list[Any] = []
    answer_with(monkeypatch, "t4", asked)
    window.actions_by_name["device_memory"].trigger()
    assert asked[0][0] == "Device memory" and "t4" in asked[0][1] and asked[0][1][0] == "24GB"
    t4 = cli_max_batch("t4")
    assert t4 < default
    qtbot.waitUntil(lambda: f"fits batch ≤ {t4:,} in t4" in totals.text(), timeout=10_000)
    # kept for the next window, as the user's setting
    from designer.memory.device import device_memory

    assert device_memory()[0] == "t4"
    # a size that cannot be read: one message naming it and the fix, nothing changes
    answer_with(monkeypatch, "12XB", asked)
    window.actions_by_name["device_memory"].trigger()
    message = window.statusBar().currentMessage()
    assert "Device memory not changed" in message and "'12XB'" in message and "24GB" in message
    assert "Traceback" not in message and device_memory()[0] == "t4"
    assert f"fits batch ≤ {t4:,} in t4" in totals.text()
    # frozen blocks keep no gradients or optimiser state: a larger batch fits
    from designer.transfer import frozen

    frozen.freeze(window.document, ["layer4"])
    qtbot.waitUntil(lambda: "frozen" in totals.text() and f"≤ {t4:,} in" not in totals.text())
    assert "fits batch ≤" in totals.text()


def test_the_largest_batch_is_not_elided_in_a_1280_pixel_window(window: MainWindow, qtbot) -> None:
    from PySide6.QtCore import Qt

    window.resize(1280, 720)
    totals = window.summary.totals
    qtbot.waitUntil(lambda: "fits batch ≤" in totals.text(), timeout=10_000)
    qtbot.waitUntil(lambda: totals.width() <= 1280)
    drawn = totals.fontMetrics().elidedText(
        totals.text(), Qt.TextElideMode.ElideRight, totals.width() - 8
    )
    assert "fits batch ≤" in drawn and " in 24GB" in drawn, drawn
