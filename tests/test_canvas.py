"""The canvas driven as a user: drops, wires dragged with the mouse, labels, errors, undo."""

from __future__ import annotations

import itertools
from typing import Any

from canvas_helpers import drag, edge, make_view, overlaps, scene_matches, wire
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from designer.canvas import style
from designer.mime import MIME_BLOCK

CHAIN = [
    ("input", "input", {"shape": [1, 28, 28]}),
    ("conv2d", "conv", {"out_channels": 8, "kernel_size": 3}),
    ("relu", "relu", {}),
    ("flatten", "flatten", {}),
    ("linear", "fc", {"out_features": 10}),
    ("output", "output", {}),
]


def _drop(view: Any, type_id: str, at: QPoint) -> None:
    mime = QMimeData()
    mime.setData(MIME_BLOCK, type_id.encode("utf-8"))
    enter = QDragEnterEvent(  # PySide6 < 6.12 takes a QPoint here, QDropEvent a QPointF
        at,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(at),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), drop)


def _add_chain(doc: Any) -> None:
    for i, (type_id, name, params) in enumerate(CHAIN):
        doc.add_node(type_id, (i * 240.0, i * 40.0), params, name)


def test_dropping_a_block_creates_it_at_the_drop_point(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    at = QPoint(420, 260)
    _drop(view, "conv2d", at)
    assert doc.graph.names == ["conv1"]
    centre = view.canvas.nodes["conv1"].scene_rect().center()
    target = view.mapToScene(at)
    assert abs(centre.x() - target.x()) < 1 and abs(centre.y() - target.y()) < 1
    assert doc.selection == ["conv1"]
    doc.undo_stack.undo()
    assert not view.canvas.nodes


def test_dropping_an_unknown_type_is_refused_with_a_message(qtbot: Any) -> None:
    doc, view, messages = make_view(qtbot)
    _drop(view, "conv9d", QPoint(100, 100))
    assert len(doc.graph) == 0
    assert "conv9d" in messages[-1]


def test_wiring_with_the_mouse_labels_every_wire_and_undo_redo_each_step(qtbot: Any) -> None:
    doc, view, messages = make_view(qtbot)
    _add_chain(doc)
    view.zoom_to_fit()
    states = [(sorted(map(str, doc.graph.edges)), dict(doc.project.layout))]
    for (_, src, _), (_, dst, _) in itertools.pairwise(CHAIN):
        wire(view, src, dst)
        assert any(e.src == src and e.dst == dst for e in doc.graph.edges), messages
        states.append((sorted(map(str, doc.graph.edges)), dict(doc.project.layout)))
    assert doc.result.ok, doc.result.diagnostics
    labels = {(e.src, e.dst): item.label for e, item in view.canvas.edges.items()}
    assert labels[("input", "conv")] == "1×28×28"
    assert labels[("conv", "relu")] == "8×26×26"
    assert labels[("flatten", "fc")] == "5408"
    assert labels[("fc", "output")] == "10"
    assert view.canvas.nodes["conv"].content.subtitle == "Conv2d · 3×3, 8"
    assert view.canvas.nodes["conv"].content.detail == "80 params"
    for expected in reversed(states[:-1]):  # undo each wire
        doc.undo_stack.undo()
        assert sorted(map(str, doc.graph.edges)) == expected[0]
        scene_matches(doc, view)
    for expected in states[1:]:
        doc.undo_stack.redo()
        assert sorted(map(str, doc.graph.edges)) == expected[0]
        scene_matches(doc, view)
    assert view.canvas.edges[edge(doc, "conv", "relu")].label == "8×26×26"


def test_a_kernel_change_updates_the_wire_labels_downstream(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    _add_chain(doc)
    for (_, src, _), (_, dst, _) in itertools.pairwise(CHAIN):
        doc.connect(src, "out", dst)
    doc.set_params("conv", {"kernel_size": 5})
    assert view.canvas.edges[edge(doc, "conv", "relu")].label == "8×24×24"
    assert view.canvas.edges[edge(doc, "flatten", "fc")].label == "4608"
    assert view.canvas.nodes["conv"].content.subtitle == "Conv2d · 5×5, 8"


def test_a_bad_parameter_turns_the_node_red_with_its_message(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    _add_chain(doc)
    for (_, src, _), (_, dst, _) in itertools.pairwise(CHAIN):
        doc.connect(src, "out", dst)
    doc.set_params("conv", {"kernel_size": 40})
    item = view.canvas.nodes["conv"]
    assert item.content.severity == "error"
    assert "kernel 40" in item.toolTip()
    assert view.canvas.edges[edge(doc, "conv", "relu")].label == "?"
    assert view.canvas.nodes["fc"].content.detail == "? params"
    doc.undo_stack.undo()
    assert item.content.severity == ""
    assert view.canvas.edges[edge(doc, "conv", "relu")].label == "8×26×26"


def test_refused_wires_give_a_status_message(qtbot: Any) -> None:
    doc, view, messages = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [4, 8, 8]}, "input")
    doc.add_node("add", (0.0, 150.0), {}, "add")
    doc.add_node("relu", (0.0, 300.0), {}, "relu")
    wire(view, "input", "add", "in0")
    wire(view, "add", "relu")
    edges_before = list(doc.graph.edges)
    wire(view, "relu", "add", "in1")  # relu feeds from add: a cycle
    assert doc.graph.edges == edges_before
    assert "cycle" in messages[-1]
    wire(view, "input", "relu")  # relu's only input is taken
    assert "already connected" in messages[-1]
    assert doc.graph.edges == edges_before


def test_dragging_a_wire_end_off_its_port_deletes_or_moves_it(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [4, 8, 8]}, "input")
    doc.add_node("relu", (-150.0, 200.0), {}, "a")
    doc.add_node("relu", (150.0, 200.0), {}, "b")
    wire(view, "input", "a")
    port_a = view.canvas.nodes["a"].inputs["in"].scenePos()
    port_b = view.canvas.nodes["b"].inputs["in"].scenePos()
    drag(view, port_a, port_b)  # reconnect to b
    assert [(e.src, e.dst) for e in doc.graph.edges] == [("input", "b")]
    drag(view, port_b, port_b + QPointF(0, -120))  # drop in empty space: delete
    assert doc.graph.edges == []
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert [(e.src, e.dst) for e in doc.graph.edges] == [("input", "a")]


def test_moving_the_selection_is_one_undo_step(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("relu", (0.0, 0.0), {}, "a")
    doc.add_node("relu", (300.0, 0.0), {}, "b")
    doc.set_selection(["a", "b"])
    assert all(view.canvas.nodes[n].isSelected() for n in "ab")
    grab = view.canvas.nodes["a"].scene_rect().center()
    count = doc.undo_stack.count()
    drag(view, grab, grab + QPointF(40, 60))
    assert doc.position("a") == (40.0, 60.0) and doc.position("b") == (340.0, 60.0)
    assert doc.undo_stack.count() == count + 1
    doc.undo_stack.undo()
    assert view.canvas.nodes["b"].pos() == QPointF(300, 0)


def test_selection_follows_clicks_rubber_band_and_the_document(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    for i, name in enumerate("abc"):
        doc.add_node("relu", (i * 250.0, 0.0), {}, name)
    view.zoom_to_fit()
    centre = view.canvas.nodes["b"].scene_rect().center()
    drag(view, centre, centre, steps=1)  # a click
    assert doc.selection == ["b"]
    start = QPointF(-30.0, -30.0)
    drag(view, start, QPointF(250.0 + style.NODE_WIDTH / 2, style.NODE_HEIGHT + 20))
    assert sorted(doc.selection) == ["a", "b"]
    doc.set_selection(["c"])
    assert [n for n, i in view.canvas.nodes.items() if i.isSelected()] == ["c"]
    view.select_all()
    assert sorted(doc.selection) == ["a", "b", "c"]
    view.delete_selection()
    assert len(doc.graph) == 0 and not view.canvas.nodes
    doc.undo_stack.undo()
    assert sorted(view.canvas.nodes) == ["a", "b", "c"]


def test_copy_paste_and_duplicate_keep_wires_and_offset_positions(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [3, 8, 8]}, "input")
    doc.add_node("conv2d", (0.0, 150.0), {}, "conv1")
    doc.connect("input", "out", "conv1")
    doc.set_selection(["input", "conv1"])
    view.copy_selection()
    view.paste()
    new = sorted(set(doc.graph.names) - {"input", "conv1"})
    assert len(new) == 2 and sorted(doc.selection) == new
    assert len(doc.graph.edges) == 2
    # beside the originals (their width and a gap to the right), not on top of them
    assert doc.position(next(n for n in new if n.startswith("conv"))) == (220.0, 150.0)
    view.duplicate_selection()
    assert len(doc.graph) == 6
    assert overlaps(view) == []
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert sorted(view.canvas.nodes) == ["conv1", "input"]


def test_quick_fix_from_the_context_menu_actions(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [1, 28, 28]}, "input")
    doc.add_node("conv2d", (0.0, 150.0), {}, "conv")
    doc.add_node("linear", (0.0, 300.0), {}, "fc")
    doc.add_node("output", (0.0, 450.0), {}, "output")
    for src, dst in [("input", "conv"), ("conv", "fc"), ("fc", "output")]:
        doc.connect(src, "out", dst)
    assert view.canvas.nodes["fc"].content.severity == "error"
    actions = dict(view.node_actions("fc"))
    assert "Fix: insert Flatten" in actions and "Delete" in actions
    actions["Fix: insert Flatten"]()
    assert doc.result.ok
    flatten = next(n for n in doc.graph.names if n.startswith("flatten"))
    assert flatten in view.canvas.nodes
    assert view.canvas.nodes["fc"].content.severity == ""
    doc.undo_stack.undo()
    assert flatten not in view.canvas.nodes
    assert view.canvas.nodes["fc"].content.severity == "error"


def test_rename_and_center_on_node(qtbot: Any) -> None:
    doc, view, messages = make_view(qtbot)
    doc.add_node("relu", (0.0, 0.0), {}, "a")
    doc.add_node("relu", (3000.0, 2000.0), {}, "b")
    assert view.rename_node("a", "first")
    assert "first" in view.canvas.nodes and "a" not in view.canvas.nodes
    assert not view.rename_node("first", "b")
    assert "already exists" in messages[-1]
    view.center_on_node("b")
    centre = view.mapToScene(view.viewport().rect().center())
    assert view.canvas.nodes["b"].scene_rect().adjusted(-5, -5, 5, 5).contains(centre)
    assert doc.selection == ["b"]
