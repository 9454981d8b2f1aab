"""Experiments ▸ Compare design with…: the open design against a project file, a preset or a
run, typed in the dialog; outlines on both canvases, the per-parameter list and the totals;
the design is never changed and the outlines go when the dialog closes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from designer_helpers import close_clean, training_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsPathItem, QPushButton
from test_tradeoff import write_run

from designer.experiments.highlights import COLOURS
from engine import infer, save_project
from engine.project import Project
from presets import PRESETS


def other_design() -> Any:
    """LeNet-5 with conv2 wider, no act2 (conv2 wired to pool2) and a ReLU before fc3."""
    graph = PRESETS.get("lenet5").create()
    graph.set_params("conv2", {"out_channels": 32})
    graph.remove_node("act2")
    graph.connect("conv2", "pool2")
    graph.disconnect(next(e for e in graph.edges if e.src == "act4"))
    graph.add_node("relu", "extra")
    graph.connect("act4", "extra")
    graph.connect("extra", "fc3")
    return graph


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = training_window(qtbot, tmp_path, monkeypatch)
    yield win
    win.training.shutdown()
    close_clean(win)


def outlines(scene: Any) -> dict[str, str]:
    """Block (or group) name -> the colour of the outline drawn on it."""
    found: dict[str, str] = {}
    for name, box in [*scene.nodes.items(), *scene.groups.items()]:
        for child in box.childItems():
            if isinstance(child, QGraphicsPathItem):
                found[name] = child.pen().color().name()
    return found


def compare_by_typing(qtbot, window: Any, text: str) -> Any:
    window.actions_by_name["experiments_compare"].trigger()
    dialog = window.experiments.compare
    assert dialog.isVisible()
    dialog.source.clear()
    qtbot.keyClicks(dialog.source, text)
    qtbot.keyClick(dialog.source, Qt.Key.Key_Return)
    return dialog


def test_a_project_file_compared_side_by_side_and_the_outlines_cleared(
    window, qtbot, tmp_path: Path
) -> None:
    other = tmp_path / "other.cnnd"
    save_project(Project(graph=other_design()), other)
    before = window.document.graph.to_data()
    undo_steps = window.document.undo_stack.count()
    dialog = compare_by_typing(qtbot, window, str(other))
    assert dialog.message.text() == ""
    green, red, orange, blue = (COLOURS[k] for k in ("added", "removed", "changed", "rewired"))
    assert outlines(window.canvas.canvas) == {
        "act2": green,
        "conv2": orange,
        "pool2": blue,
        "act4": blue,
        "fc3": blue,
    }
    assert outlines(dialog.other_scene) == {
        "extra": red,
        "conv2": orange,
        "pool2": blue,
        "act4": blue,
        "fc3": blue,
    }
    assert dialog.view.scene() is dialog.other_scene and not dialog.view.isInteractive()
    sections = {
        dialog.tree.topLevelItem(i).text(0): dialog.tree.topLevelItem(i)
        for i in range(dialog.tree.topLevelItemCount())
    }
    assert set(sections) == {"Added (1)", "Removed (1)", "Changed (1)", "Rewired (6)"}
    conv2 = sections["Changed (1)"].child(0)
    assert conv2.text(0) == "conv2"
    assert (conv2.child(0).text(0), conv2.child(0).text(1)) == ("out_channels", "32 → 16")
    old, new = infer(other_design()).total_params, infer(PRESETS.get("lenet5").create())
    assert f"parameters {old:,} → {new.total_params:,}" in dialog.totals.text()
    close = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Close")
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert outlines(window.canvas.canvas) == {}
    assert window.document.graph.to_data() == before
    assert window.document.undo_stack.count() == undo_steps and not window.document.modified


def test_a_preset_a_run_folder_and_an_edit_while_comparing(window, qtbot, tmp_path: Path) -> None:
    dialog = compare_by_typing(qtbot, window, "preset:lenet5?activation=relu")
    orange = COLOURS["changed"]
    assert outlines(window.canvas.canvas) == {f"act{i}": orange for i in (1, 2, 3, 4)}
    assert dialog.tree.topLevelItem(0).text(0) == "Retyped (4)"
    run = write_run(tmp_path / "runs", "20261202-050000", other_design(), [0.5])
    dialog = compare_by_typing(qtbot, window, str(run))
    assert outlines(window.canvas.canvas)["act2"] == COLOURS["added"]
    # the open design edited while compared: compared again, the outlines follow
    window.document.set_params("fc1", {"out_features": 100})
    qtbot.waitUntil(lambda: outlines(window.canvas.canvas).get("fc1") == orange, timeout=3000)
    dialog.close()
    assert outlines(window.canvas.canvas) == {}


def test_the_same_design_and_designs_that_cannot_be_read(window, qtbot, tmp_path: Path) -> None:
    dialog = compare_by_typing(qtbot, window, "preset:lenet5")
    assert "same" in dialog.message.text() and outlines(window.canvas.canvas) == {}
    compare_by_typing(qtbot, window, "preset:lenet5?activation=relu")
    shown = outlines(window.canvas.canvas)
    for text, expected in (
        ("preset:lenet6", "lenet5"),  # the closest name
        (str(tmp_path / "missing.cnnd"), "missing.cnnd"),
        (str(tmp_path), "graph.json"),  # a folder that is not a run
        ("", "none given"),
    ):
        compare_by_typing(qtbot, window, text)
        assert expected in dialog.message.text()
        assert outlines(window.canvas.canvas) == shown  # the last comparison stays
    assert "Traceback" not in dialog.message.text()


def test_a_retyped_block_lists_only_the_settings_that_differ(window, qtbot) -> None:
    dialog = compare_by_typing(qtbot, window, "preset:lenet5?pooling=max")
    retyped = dialog.tree.topLevelItem(0)
    assert retyped.text(0) == "Retyped (2)"
    pool1 = retyped.child(0)
    assert (pool1.text(0), pool1.text(1)) == ("pool1", "maxpool2d → avgpool2d")
    rows = [(pool1.child(i).text(0), pool1.child(i).text(1)) for i in range(pool1.childCount())]
    assert rows == [("count_include_pad", "None → True")]  # kernel 2 → 2 and the like left out


def test_the_other_design_is_drawn_large_enough_to_read_its_names(
    window, qtbot, tmp_path: Path
) -> None:
    """A design too tall to fit with its names drawn is shown at the smallest scale that
    draws them, scrolled to its first change (the whole of it would be patches of colour)."""
    from designer.canvas.style import DETAIL_SCALE

    run = write_run(tmp_path / "runs", "20261202-050000", other_design(), [0.5])
    dialog = compare_by_typing(qtbot, window, str(run))
    dialog.resize(1000, 600)
    qtbot.waitExposed(dialog)
    qtbot.wait(50)  # the dialog lays itself out and fits the other design again
    assert dialog.view.transform().m11() >= DETAIL_SCALE
    first = dialog.other_scene.nodes["conv2"]  # changed: the first block the diff marks
    shown = dialog.view.mapToScene(dialog.view.viewport().rect()).boundingRect()
    assert shown.contains(first.sceneBoundingRect().center())
