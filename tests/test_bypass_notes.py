"""Bypassed blocks and notes (issue 17, items 9 and 10).

Bypass: inference, the compiled model, the summary and every export treat a bypassed block as
identity, or report it with the shapes and the fix; the flag is saved, undoable, toggled from
the block's menu and by Ctrl+B in the window. Notes: saved in the project, added from the canvas
menu, moved by dragging, edited by double-click and deleted with Delete, each one undo step.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from canvas_helpers import double_click, drag, make_view
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu

from engine import GraphError, Project, ProjectFileError, compile_graph, infer
from engine.compiler import example_inputs
from engine.export import export_model
from engine.graph import Graph
from engine.project import load_project, project_from_data, save_project
from engine.summary import layer_rows


def _net(out_channels: int = 4) -> Graph:
    g = Graph()
    g.add_node("input", "input1", {"shape": [4, 8, 8]})
    g.add_node("conv2d", "conv1", {"out_channels": out_channels, "kernel_size": 3, "padding": 1})
    g.add_node("relu", "relu1")
    g.add_node("flatten", "flat")
    g.add_node("linear", "fc", {"out_features": 3})
    g.add_node("output", "output1")
    for a, b in [
        ("input1", "conv1"),
        ("conv1", "relu1"),
        ("relu1", "flat"),
        ("flat", "fc"),
        ("fc", "output1"),
    ]:
        g.connect(a, b)
    return g


# ----- the engine ---------------------------------------------------------------------------
def test_a_bypassed_block_is_identity_in_inference_compile_and_summary() -> None:
    g = _net()
    g.set_bypassed("conv1", True)
    result = infer(g)
    assert result.ok, result.diagnostics
    conv = result.nodes["conv1"]
    assert (conv.outputs["out"], conv.params, conv.macs) == ((4, 8, 8), 0, 0)
    row = next(r for r in layer_rows(g, result) if r.name == "conv1")
    assert row.params == 0 and "bypassed" in row.type
    module = compile_graph(g).eval()
    assert not any("conv1" in key for key in module.state_dict())
    x = example_inputs(g)[0]
    relu_then_fc = module.fc(torch.flatten(torch.relu(x), 1))
    assert torch.allclose(module(x), relu_then_fc)
    assert result.total_params == sum(p.numel() for p in module.parameters())


def test_a_bypass_that_changes_the_shape_is_reported_with_the_fix() -> None:
    g = _net(out_channels=16)  # 4 channels in, 16 out: identity cannot stand in
    g.set_bypassed("conv1", True)
    result = infer(g)
    [error] = result.errors
    assert error.node == "conv1" and error.code == "bypass_shape"
    assert "Received: input=4×8×8, output=16×8×8" in error.message
    assert "Un-bypass it" in error.message
    assert error.fix is not None and error.fix.label == "un-bypass it"
    from engine import apply_fix

    apply_fix(g, error.fix)
    assert not g.node("conv1").bypassed and infer(g).ok


def test_input_and_output_blocks_cannot_be_bypassed() -> None:
    g = _net()
    with pytest.raises(GraphError, match=r"cannot be bypassed\. Received: bypassed=True"):
        g.set_bypassed("input1", True)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("fmt", ["python", "torchscript", "onnx"])
def test_every_export_treats_a_bypassed_block_as_identity(tmp_path: Path, fmt: str) -> None:
    if fmt == "onnx":
        pytest.importorskip("onnx")
        onnxruntime = pytest.importorskip("onnxruntime")
    g = _net()
    g.set_bypassed("conv1", True)
    reference = compile_graph(g).eval()
    x = example_inputs(g)[0]
    out = tmp_path / {"python": "model.py", "torchscript": "model.ts", "onnx": "m.onnx"}[fmt]
    path = export_model(g, fmt, out)
    state = reference.state_dict()
    if fmt == "python":
        code = path.read_text()
        assert "conv1" not in code.split("def forward")[1]
        namespace: dict = {}
        exec(compile(code, str(path), "exec"), namespace)  # our own export, just written
        model = namespace["DesignedNet"]().eval()
        model.load_state_dict(state)
        got = model(x)
    elif fmt == "torchscript":
        model = torch.jit.load(str(path)).eval()
        model.load_state_dict(state)
        got = model(x)
    else:
        session = onnxruntime.InferenceSession(str(path))
        got = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
        assert got.shape == reference(x).shape
        return
    with torch.no_grad():
        assert torch.allclose(got, reference(x), atol=1e-6)


def test_bypass_and_notes_are_saved_and_old_files_still_load(tmp_path: Path) -> None:
    project = Project(_net())
    project.graph.set_bypassed("relu1", True)
    project.notes.create("Try without the ReLU", 10.0, -40.0)
    path = tmp_path / "net.cnnd"
    save_project(project, path)
    data = json.loads(path.read_text())
    assert data["version"] == 3
    assert data["notes"][0]["text"] == "Try without the ReLU"
    loaded = load_project(path)
    assert loaded.graph.node("relu1").bypassed and not loaded.graph.node("conv1").bypassed
    assert [n.text for n in loaded.notes] == ["Try without the ReLU"]
    # a version-2 file (before bypass and notes) loads as it is
    data["version"] = 2
    del data["notes"]
    del data["graph"]["nodes"][2]["bypassed"]
    old = project_from_data(data)
    assert len(old.notes) == 0 and not any(n.bypassed for n in old.graph)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["notes"][0].update(x="left"),
            'notes[0].x must be a number. Received: notes[0].x="left". Write e.g. 120.5',
        ),
        (
            lambda d: d["notes"][0].update(width=1),
            "notes[0].width must be between 40 and 4000. Received: notes[0].width=1.",
        ),
        (
            lambda d: d["notes"][0].update(text="x" * 10_001),
            "notes[0].text must be at most 10,000 characters",
        ),
        (
            lambda d: d["notes"].append(dict(d["notes"][0])),
            'notes[1].id repeats a note id. Received: notes[1].id="note1". Give every note',
        ),
        (
            lambda d: d["graph"]["nodes"][0].update(bypassed=True),
            "graph.nodes[0].bypassed is true for input1, an input block",
        ),
        (
            lambda d: d["graph"]["nodes"][1].update(bypassed="yes"),
            'graph.nodes[1].bypassed must be true or false. Received: graph.nodes[1].bypassed="yes"',
        ),
    ],
)
def test_bad_notes_and_bypass_flags_are_named_from_the_command_line(
    tmp_path: Path, change, expected: str
) -> None:
    project = Project(_net())
    project.notes.create("a note", 0.0, 0.0)
    data = project.to_data()
    change(data)
    path = tmp_path / "bad.cnnd"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    assert expected in str(info.value)
    run = subprocess.run(
        [sys.executable, "-m", "designer", "summary", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode != 0 and expected in run.stderr and "Traceback" not in run.stderr


# ----- the designer -------------------------------------------------------------------------
def _menu_action(qtbot, view, at: QPointF, text: str) -> None:
    """Open the canvas menu at scene point ``at`` and choose ``text``."""

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu), menu
        action = next(a for a in menu.actions() if a.text() == text)
        menu.hide()
        action.trigger()

    QTimer.singleShot(50, choose)
    point = view.mapFromScene(at)
    from PySide6.QtGui import QContextMenuEvent

    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, point, view.viewport().mapToGlobal(point)
    )
    view.contextMenuEvent(event)


def test_bypass_from_the_block_menu_fades_it_and_undo_restores(qtbot) -> None:
    doc, view, _ = make_view(qtbot, Project(_net()))
    item = view.canvas.nodes["relu1"]
    _menu_action(qtbot, view, item.scene_rect().center(), "Bypass")
    assert doc.graph.node("relu1").bypassed
    assert item.opacity() < 0.5 and "bypassed" in item.content.detail
    assert doc.result.nodes["relu1"].params == 0
    doc.undo_stack.undo()
    assert not doc.graph.node("relu1").bypassed and item.opacity() == 1.0
    doc.undo_stack.redo()
    assert doc.graph.node("relu1").bypassed and item.opacity() < 0.5


def test_ctrl_b_in_the_window_bypasses_the_selection(qtbot, tmp_path, monkeypatch) -> None:
    from designer_helpers import close_clean, shown_window

    window = shown_window(qtbot, tmp_path, monkeypatch)
    try:
        doc = window.document
        name = next(  # an activation: its output has its input's shape
            n
            for n, r in doc.result.nodes.items()
            if doc.graph.node(n).type_id not in ("input", "output") and r.inputs == [r.output]
        )
        doc.set_selection([name])
        window.activateWindow()  # shortcuts act in the active window
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
        window.canvas.setFocus()
        qtbot.keyClick(window.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
        assert doc.graph.node(name).bypassed
        assert doc.undo_stack.undoText().startswith("Bypass")
        assert window.canvas.canvas.nodes[name].opacity() < 0.5
        qtbot.keyClick(window.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
        assert not doc.graph.node(name).bypassed
    finally:
        close_clean(window)


def test_a_parameter_edit_repaints_only_the_changed_labels(qtbot) -> None:
    doc, view, _ = make_view(qtbot, Project(_net()))
    scene = view.canvas
    shown = {name: item.content for name, item in scene.nodes.items()}
    doc.set_params("fc", {"out_features": 5})
    assert doc.result.changed is not None and "fc" in doc.result.changed
    assert "conv1" not in doc.result.changed
    assert scene.nodes["fc"].content != shown["fc"]
    assert scene.nodes["conv1"].content == shown["conv1"]
    doc.set_params("conv1", {"out_channels": 6})  # the shapes of the wires after it change
    assert scene.edges[doc.graph.out_edges("conv1")[0]].label == "6×8×8"
    assert scene.nodes["fc"].content.detail == f"{6 * 64 * 5 + 5:,} params"


def test_notes_are_added_from_the_menu_moved_edited_and_deleted(qtbot, tmp_path: Path) -> None:
    doc, view, _ = make_view(qtbot, Project(_net()))
    scene = view.canvas
    at = QPointF(scene.items_bounds.right() + 300, scene.items_bounds.top())
    view.centerOn(at)
    _menu_action(qtbot, view, at, "Add note here")
    [note] = list(doc.project.notes)
    item = scene.notes.items[note.id]
    assert item.isSelected() and item.sceneBoundingRect().contains(at)
    # drag it 80 units right: one undo step
    start = item.sceneBoundingRect().center()
    drag(view, start, start + QPointF(80, 0))
    moved = doc.project.notes.get(note.id)
    assert moved.x == pytest.approx(note.x + 80, abs=1.5)
    assert item.pos().x() == pytest.approx(moved.x)
    doc.undo_stack.undo()
    assert doc.project.notes.get(note.id).x == note.x and item.pos().x() == note.x

    # double-click: the dialog edits the text
    def type_text() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QInputDialog), dialog
        dialog.setTextValue("Conv then ReLU:\nthe classic pair")
        dialog.accept()

    QTimer.singleShot(50, type_text)
    double_click(view, item.sceneBoundingRect().center())
    assert doc.project.notes.get(note.id).text == "Conv then ReLU:\nthe classic pair"
    assert item.text == "Conv then ReLU:\nthe classic pair"
    # saved and loaded again
    path = tmp_path / "n.cnnd"
    doc.save(path)
    assert [n.text for n in load_project(path).notes] == ["Conv then ReLU:\nthe classic pair"]
    # Delete removes the selected note (with a selected block, in one step)
    scene.select_items([item, scene.nodes["relu1"]])
    view.setFocus()
    view.delete_selection()
    assert len(doc.project.notes) == 0 and "relu1" not in doc.graph
    assert note.id not in scene.notes.items
    doc.undo_stack.undo()
    assert note.id in doc.project.notes and "relu1" in doc.graph
    assert scene.notes.items[note.id].text == "Conv then ReLU:\nthe classic pair"


def test_opening_a_project_shows_its_notes(qtbot, tmp_path: Path) -> None:
    project = Project(_net())
    project.notes.create("first", 0.0, -200.0)
    project.notes.create("second", 300.0, -200.0)
    path = tmp_path / "notes.cnnd"
    save_project(project, path)
    doc, view, _ = make_view(qtbot)
    doc.open(path)
    assert sorted(i.text for i in view.canvas.notes.items.values()) == ["first", "second"]
    doc.replace_project(Project())
    assert view.canvas.notes.items == {}
    assert not [i for i in view.canvas.items() if type(i).__name__ == "NoteItem"]
