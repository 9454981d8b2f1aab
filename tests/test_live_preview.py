"""Live preview (issue 20, point 3): View ▸ Live preview (off by default) runs one sample of
the data set through the design on a worker thread as it is edited; each block shows its
output's mean and std (equal to torch's forward of the compiled model), dead and saturated
blocks are marked, a stale result is dropped and the latest edit wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs

from designer.canvas.preview_overlay import PreviewBadge
from designer.document import Document, preset_project
from designer.main_window import MainWindow

WAIT = 90_000  # the first run loads torch on the worker


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    project = preset_project("lenet5")
    project.training = {"data": {"dataset": "digits"}, "seed": 5}
    win = MainWindow(Document(project), session=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.preview.shutdown()
    close_clean(win)


def view_action(win: MainWindow) -> Any:
    for action in win.menuBar().actions():
        if action.text() == "&View":
            return next(a for a in action.menu().actions() if a.objectName() == "live_preview")
    raise AssertionError("no View menu")


def badges(win: MainWindow) -> dict[str, PreviewBadge]:
    return {
        name: child
        for name, item in win.canvas.canvas.nodes.items()
        for child in item.childItems()
        if isinstance(child, PreviewBadge)
    }


def wait_shown(win: MainWindow, qtbot) -> Any:
    qtbot.waitUntil(
        lambda: (
            win.preview.job is None
            and not win.preview.timer.isActive()
            and win.preview.result is not None
        ),
        timeout=WAIT,
    )
    return win.preview.result


def torch_outputs(graph: Any, training: dict[str, Any]) -> dict[str, Any]:
    """The compiled model's forward on the same sample, each block's module output taken by a
    forward hook (independent of the preview's interpreter)."""
    import torch

    from engine.compiler import compile_graph
    from engine.preflight_deep import small_batch
    from engine.training.settings import TrainingSettings

    settings = TrainingSettings.from_dict(training)
    x = small_batch(graph, settings, 2)[0][:1]
    torch.manual_seed(settings.seed)
    model = compile_graph(graph)
    if settings.weights:
        model.load_state_dict(torch.load(settings.weights, weights_only=True), strict=False)
    model.eval()
    paths = {
        n.meta["designer_node"]: str(n.target) for n in model.graph.nodes if n.op == "call_module"
    }
    seen: dict[str, Any] = {}
    for name, path in paths.items():
        model.get_submodule(path).register_forward_hook(
            lambda _m, _i, out, name=name: seen.__setitem__(name, out.detach())
        )
    with torch.no_grad():
        seen["(model)"] = model(x)
    return seen


def test_off_by_default_then_every_block_shows_torchs_numbers(window: MainWindow, qtbot) -> None:
    action = view_action(window)
    assert action.isCheckable() and not action.isChecked()
    assert window.preview.runs == 0 and badges(window) == {}
    action.trigger()
    result = wait_shown(window, qtbot)
    assert result.error == ""
    doc = window.document
    expected = torch_outputs(doc.graph, doc.project.training)
    for name, out in expected.items():
        if name == "(model)":
            continue
        shown = result.blocks[name]
        assert shown.mean == pytest.approx(float(out.mean()), rel=1e-6, abs=1e-9), name
        assert shown.std == pytest.approx(float(out.std(unbiased=False)), rel=1e-6), name
        assert shown.shape == tuple(out.shape[1:])
    assert result.blocks["fc3"].mean == pytest.approx(float(expected["(model)"].mean()), rel=1e-6)
    shown = badges(window)
    assert set(shown) == {n.name for n in doc.graph} - {"output"}  # Output: the model's result
    assert shown["conv1"].text.startswith("μ ") and "σ" in shown["conv1"].text
    assert shown["conv1"].image.width() > 28  # the first channels side by side
    assert (shown["fc1"].image.width(), shown["fc1"].image.height()) == (120, 15)  # a band
    action.trigger()  # off: the badges go
    assert badges(window) == {}


def test_the_latest_edit_wins_and_stale_results_are_dropped(window: MainWindow, qtbot) -> None:
    preview = window.preview
    preview.set_enabled(True)
    assert preview.job is not None  # the first run is in flight (loading torch)
    window.document.set_params("conv1", {"out_channels": 4})
    window.document.set_params("conv1", {"out_channels": 8})
    result = wait_shown(window, qtbot)
    assert preview.dropped >= 1  # the run started before the edits was not shown
    assert result.blocks["conv1"].shape == (8, 28, 28)
    assert result.blocks["conv2"].shape == (16, 10, 10)
    expected = torch_outputs(window.document.graph, window.document.project.training)
    assert result.blocks["conv2"].std == pytest.approx(
        float(expected["conv2"].std(unbiased=False)), rel=1e-6
    )
    # a design with an error: one line, no badges, no traceback
    window.document.set_params("conv1", {"kernel_size": 99})
    qtbot.waitUntil(lambda: badges(window) == {}, timeout=WAIT)
    message = window.statusBar().currentMessage()
    assert message.startswith("Live preview: the design has errors") and "Traceback" not in message


def test_dead_and_saturated_blocks_are_marked(window: MainWindow, qtbot, tmp_path: Path) -> None:
    import torch

    from engine.compiler import compile_graph

    module = compile_graph(window.document.graph)
    state = module.state_dict()
    state["conv1.weight"] = torch.zeros_like(state["conv1.weight"])  # conv1 gives only 0
    state["conv1.bias"] = torch.zeros_like(state["conv1.bias"])
    state["fc1.weight"] = state["fc1.weight"] * 1000  # tanh after fc1 sits at ±1
    state["fc1.bias"] = torch.zeros_like(state["fc1.bias"])
    torch.save(state, tmp_path / "broken.pt")
    # the mark follows the weights the next run starts from (Load weights… records them)
    window.transfer.apply_weights(str(tmp_path / "broken.pt"))
    window.preview.set_enabled(True)
    result = wait_shown(window, qtbot)
    assert result.blocks["conv1"].dead and result.blocks["conv1"].mark == "dead"
    assert result.blocks["act3"].mark == "saturated"
    assert not result.blocks["fc3"].mark
    shown = badges(window)
    assert shown["conv1"].text == "dead" and shown["act3"].text == "saturated"
    assert "dead or saturated (act1, act3, conv1" in window.statusBar().currentMessage()


def test_a_data_set_the_preview_cannot_read_is_one_message(window: MainWindow, qtbot) -> None:
    doc = window.document
    doc.project.training = {"data": {"dataset": "imagefolder", "root": "/nonexistent/images"}}
    window.preview.set_enabled(True)
    qtbot.waitUntil(
        lambda: window.preview.job is None and window.preview.result is not None, timeout=WAIT
    )
    message = window.statusBar().currentMessage()
    assert message.startswith("Live preview: no preview:") and "/nonexistent/images" in message
    assert "Traceback" not in message and badges(window) == {}


def test_closing_the_window_while_a_run_is_in_flight(qtbot, tmp_path, monkeypatch) -> None:
    from designer.app import wait_for_background_work

    isolate_user_dirs(tmp_path, monkeypatch)
    project = preset_project("lenet5")
    project.training = {"data": {"dataset": "digits"}}
    win = MainWindow(Document(project), session=False)
    win.show()
    preview = win.preview
    preview.set_enabled(True)
    job = preview.job
    assert job is not None
    close_clean(win)
    win.deleteLater()
    qtbot.wait(50)
    wait_for_background_work()
    qtbot.waitUntil(lambda: job.finished, timeout=WAIT)  # its result was delivered, unseen
    assert job.cancelled
