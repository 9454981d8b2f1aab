"""Issue 17 (Scale): the memory plan the layer summary and the inspector show is made on a worker
thread, not on the UI thread (90-150 ms at 5,000 blocks froze the window after every edit); a
plan made while the design changed again is dropped and made anew, so what is shown always
equals ``plan_memory`` of the design shown."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from designer_helpers import close_clean, memory_column, memory_window

import engine.analysis.memory as memory
from designer.main_window import MainWindow
from engine.analysis.memory_sizes import format_bytes


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = memory_window(qtbot, tmp_path, monkeypatch)
    yield win
    close_clean(win)


def test_the_plan_is_made_off_the_ui_thread_and_a_stale_one_is_dropped(
    window: MainWindow, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = memory.plan_memory
    threads: list[str] = []
    go = threading.Event()

    def held_plan(*args, **kwargs):  # the real planner, held until the test lets it go
        threads.append(threading.current_thread().name)
        go.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(memory, "plan_memory", held_plan)
    plans = window.summary.plans
    doc = window.document
    before = plans.computed
    doc.set_params("conv1", {"out_channels": 7})
    qtbot.waitUntil(lambda: plans.busy, timeout=3000)  # the worker is planning the 7
    # the window answers meanwhile: another edit, inferred and shown at once
    doc.set_params("conv1", {"out_channels": 9})
    qtbot.waitUntil(lambda: "9" in window.canvas.canvas.nodes["conv1"].content.subtitle)
    qtbot.wait(2 * 120)  # the planner's delay passes: it waits for the running plan
    assert plans.computed == before and threads == ["memory-plan"]
    go.set()
    qtbot.waitUntil(lambda: plans.computed == before + 1, timeout=5000)
    assert threading.main_thread().name not in threads
    assert len(threads) == 2  # the plan of the 7 was dropped, the 9 planned again
    expected = real(doc.graph, 32, "sgd", "fp32", device="cpu", momentum=0.9)
    assert plans.current is not None and plans.current.plan.layers == expected.layers
    assert memory_column(window) == {x.name: format_bytes(x.activations) for x in expected.layers}
    qtbot.wait(300)
    assert plans.computed == before + 1 and not plans.busy
    # undo: planned again for the design shown
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: plans.computed == before + 2, timeout=5000)
    again = real(doc.graph, 32, "sgd", "fp32", device="cpu", momentum=0.9)
    assert memory_column(window) == {x.name: format_bytes(x.activations) for x in again.layers}
