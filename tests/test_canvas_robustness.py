"""The canvas when the design changes under a gesture (Undo or Delete pressed while dragging a
wire's end or moving blocks), and Paste with malformed clipboard data: nothing raises, nothing
half-done is committed, and a refused paste says why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from canvas_helpers import drag, scene_matches, wire
from designer_helpers import close_clean, shown_window
from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication

from designer.canvas import CanvasView
from designer.canvas.edges import PendingWire
from designer.canvas.editing import CLIP_FORMAT, MIME_NODES
from designer.main_window import MainWindow

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    """The designer window on a new, empty design."""
    win = shown_window(qtbot, tmp_path, monkeypatch)
    win.actions_by_name["new"].trigger()
    assert len(win.document.graph) == 0
    yield win
    close_clean(win)


def _mouse(view: CanvasView, kind: QEvent.Type, at: QPointF, button: Any, buttons: Any) -> None:
    viewport = view.viewport()
    point = view.mapFromScene(at)
    event = QMouseEvent(
        kind,
        QPointF(point),
        QPointF(viewport.mapToGlobal(point)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def press(view: CanvasView, at: QPointF) -> None:
    """Press the left button at scene point ``at``."""
    _mouse(view, QEvent.Type.MouseButtonPress, at, LEFT, LEFT)


def move(view: CanvasView, at: QPointF) -> None:
    """Move the mouse to scene point ``at`` with the left button held."""
    _mouse(view, QEvent.Type.MouseMove, at, Qt.MouseButton.NoButton, LEFT)


def release(view: CanvasView, at: QPointF) -> None:
    """Release the left button at scene point ``at``."""
    _mouse(view, QEvent.Type.MouseButtonRelease, at, LEFT, Qt.MouseButton.NoButton)


def key(qtbot: Any, win: MainWindow, name: str) -> None:
    """Press Ctrl+Z ("undo"), Del ("delete") or Ctrl+V ("paste") on the canvas."""
    keys = {
        "undo": (Qt.Key.Key_Z, CTRL),
        "delete": (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier),
        "paste": (Qt.Key.Key_V, CTRL),
    }
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, *keys[name])


def empty_spot(view: CanvasView, near: QPointF) -> QPointF:
    """A scene point below ``near`` with no block, port or wire under it."""
    spot = near + QPointF(0, 300)
    assert view.canvas.item_at(spot) is None
    return spot


def pending_wires(view: CanvasView) -> list[Any]:
    """The dashed wires of drags still shown."""
    return [item for item in view.canvas.items() if isinstance(item, PendingWire)]


def state(win: MainWindow) -> tuple[list[str], list[str], dict[str, Any]]:
    """Blocks, wires and positions of the design."""
    doc = win.document
    return list(doc.graph.names), sorted(map(str, doc.graph.edges)), dict(doc.project.layout)


def wired_pair(win: MainWindow) -> tuple[str, str]:
    """Add a relu and a dropout below it and wire them with the mouse."""
    view = win.canvas
    relu = win.add_block("relu")
    dropout = win.add_block("dropout")
    view.zoom_to_fit()
    wire(view, relu, dropout)
    assert [(e.src, e.dst) for e in win.document.graph.edges] == [(relu, dropout)]
    return relu, dropout


# ----- the design changes while a wire's end is dragged ---------------------------------------
def test_undo_while_dragging_a_wire_end_cancels_the_drag(qtbot: Any, window: MainWindow) -> None:
    doc, view = window.document, window.canvas
    relu, dropout = wired_pair(window)
    port = view.canvas.nodes[dropout].inputs["in"].scenePos()
    press(view, port)
    move(view, port + QPointF(60, 60))
    assert pending_wires(view)
    key(qtbot, window, "undo")  # takes the wire away
    assert doc.graph.edges == []
    assert not pending_wires(view)  # the drag was abandoned
    spot = empty_spot(view, port)
    move(view, spot)
    release(view, spot)  # used to raise GraphError: there is no wire
    assert doc.graph.edges == []
    assert doc.undo_stack.redoText() == "Connect"  # the undone wire can still be redone
    window.actions_by_name["redo"].trigger()
    assert [(e.src, e.dst) for e in doc.graph.edges] == [(relu, dropout)]
    scene_matches(doc, view)


def test_delete_while_dragging_a_wire_end_cancels_the_drag(qtbot: Any, window: MainWindow) -> None:
    doc, view = window.document, window.canvas
    relu, dropout = wired_pair(window)
    before = state(window)
    centre = view.canvas.nodes[dropout].scene_rect().center()
    drag(view, centre, centre)  # click the dropout: selected
    assert doc.selection == [dropout]
    port = view.canvas.nodes[dropout].inputs["in"].scenePos()
    press(view, port)
    move(view, port + QPointF(60, 60))
    key(qtbot, window, "delete")  # the dropout goes, and its wire with it
    assert doc.graph.names == [relu] and doc.graph.edges == []
    steps = doc.undo_stack.count()
    spot = empty_spot(view, port)
    move(view, spot)
    release(view, spot)
    assert doc.undo_stack.count() == steps
    assert not pending_wires(view)
    window.actions_by_name["undo"].trigger()
    assert state(window) == before
    scene_matches(doc, view)


def test_a_wire_end_dropped_on_a_port_after_undo_changes_nothing(
    qtbot: Any, window: MainWindow
) -> None:
    doc, view = window.document, window.canvas
    relu, dropout = wired_pair(window)
    other = window.add_block("relu")
    view.zoom_to_fit()
    port = view.canvas.nodes[dropout].inputs["in"].scenePos()
    target = view.canvas.nodes[other].inputs["in"].scenePos()
    press(view, port)
    move(view, port + QPointF(60, 60))
    key(qtbot, window, "undo")  # takes the third block away
    assert other not in doc.graph
    move(view, target)
    release(view, target)  # would reconnect the wire to a block that is gone
    assert [(e.src, e.dst) for e in doc.graph.edges] == [(relu, dropout)]
    assert doc.undo_stack.redoText() == "Add relu"
    scene_matches(doc, view)


# ----- the design changes while blocks are moved ----------------------------------------------
def test_undo_while_moving_a_block_cancels_the_move(qtbot: Any, window: MainWindow) -> None:
    doc, view = window.document, window.canvas
    relu = window.add_block("relu")
    view.zoom_to_fit()
    grab = view.canvas.nodes[relu].scene_rect().center()
    press(view, grab)
    move(view, grab + QPointF(30, 30))
    key(qtbot, window, "undo")  # undoes the add
    assert relu not in doc.graph
    move(view, grab + QPointF(80, 80))
    release(view, grab + QPointF(80, 80))  # used to commit a Move of a missing block
    assert relu not in doc.graph and relu not in doc.project.layout
    assert doc.undo_stack.redoText() == "Add relu"  # the add can still be redone
    window.actions_by_name["redo"].trigger()
    assert relu in doc.graph
    scene_matches(doc, view)


def test_delete_while_moving_blocks_cancels_the_move(qtbot: Any, window: MainWindow) -> None:
    doc, view = window.document, window.canvas
    first = window.add_block("relu")
    second = window.add_block("relu")
    view.zoom_to_fit()
    before = state(window)
    grab = view.canvas.nodes[second].scene_rect().center()
    press(view, grab)
    assert doc.selection == [second]
    move(view, grab + QPointF(40, 40))
    key(qtbot, window, "delete")
    assert doc.graph.names == [first]
    steps = doc.undo_stack.count()
    move(view, grab + QPointF(90, 90))
    release(view, grab + QPointF(90, 90))
    assert doc.undo_stack.count() == steps and doc.undo_stack.undoText().startswith("Delete")
    assert second not in doc.project.layout
    window.actions_by_name["undo"].trigger()
    assert state(window) == before  # back where it was before the drag
    scene_matches(doc, view)


def test_undo_during_a_move_shows_blocks_where_the_design_has_them(
    qtbot: Any, window: MainWindow
) -> None:
    doc, view = window.document, window.canvas
    relu = window.add_block("relu")
    view.zoom_to_fit()
    start = doc.position(relu)
    grab = view.canvas.nodes[relu].scene_rect().center()
    drag(view, grab, grab + QPointF(50, 0))  # a first move, committed
    moved = doc.position(relu)
    assert moved != start and doc.undo_stack.undoText() == "Move"
    grab = view.canvas.nodes[relu].scene_rect().center()
    press(view, grab)
    move(view, grab + QPointF(0, 70))
    key(qtbot, window, "undo")  # undoes the first move while the second is in progress
    assert doc.position(relu) == start
    scene_matches(doc, view)  # the block is drawn where the design has it
    move(view, grab + QPointF(0, 90))
    release(view, grab + QPointF(0, 90))
    assert doc.position(relu) == start
    assert doc.undo_stack.redoText() == "Move"
    scene_matches(doc, view)


# ----- paste with malformed clipboard data ----------------------------------------------------
def _clip(nodes: Any, edges: Any = ()) -> bytes:
    return json.dumps({"format": CLIP_FORMAT, "nodes": nodes, "edges": list(edges)}).encode()


RELU = {"name": "a", "type": "relu", "params": {}, "group": [], "pos": [0, 0]}

BAD_CLIPS = {
    "no type": (_clip([{"name": "a"}]), "type"),
    "wire to a missing block": (_clip([RELU], [["a", "out", "zz", "in"]]), "zz"),
    "not json": (b"notjson", "JSON"),
    "not utf-8": (b"\xff\xfe\x00", "JSON"),
    "nodes not a list": (json.dumps({"format": CLIP_FORMAT, "nodes": "ab"}).encode(), "nodes"),
    "block not an object": (_clip([5]), "block 1"),
    "no name": (_clip([{"type": "relu"}]), "name"),
    "bad position": (_clip([{**RELU, "pos": "xy"}]), "position"),
    "short position": (_clip([{**RELU, "pos": [1]}]), "position"),
    "infinite position": (
        json.dumps({"format": CLIP_FORMAT, "nodes": [{**RELU, "pos": [1e400, 0]}]}).encode(),
        "position",
    ),
    "params not an object": (_clip([{**RELU, "params": [1, 2]}]), "parameters"),
    "group not a list": (_clip([{**RELU, "group": 5}]), "group"),
    "short wire": (_clip([RELU], [["a", "out", "a"]]), "wire 1"),
    "wires not a list": (
        json.dumps({"format": CLIP_FORMAT, "nodes": [RELU], "edges": 3}).encode(),
        "wires",
    ),
    "two blocks with one name": (_clip([RELU, RELU]), "'a'"),
}


def put_on_clipboard(raw: bytes) -> None:
    """Put ``raw`` on the clipboard in CNN Designer's block format."""
    mime = QMimeData()
    mime.setData(MIME_NODES, raw)
    QGuiApplication.clipboard().setMimeData(mime)


@pytest.mark.parametrize("case", list(BAD_CLIPS))
def test_pasting_malformed_blocks_says_why_and_changes_nothing(
    qtbot: Any, window: MainWindow, case: str
) -> None:
    doc = window.document
    window.add_block("relu")
    before = state(window)
    steps = doc.undo_stack.count()
    raw, mentions = BAD_CLIPS[case]
    put_on_clipboard(raw)
    key(qtbot, window, "paste")
    message = window.statusBar().currentMessage()
    assert message.startswith("Cannot paste: ") and mentions in message, message
    assert state(window) == before
    assert doc.undo_stack.count() == steps


def test_pasting_well_formed_blocks_still_works(qtbot: Any, window: MainWindow) -> None:
    doc = window.document
    clip = [RELU, {**RELU, "name": "b", "type": "dropout", "pos": [0, 120]}]
    put_on_clipboard(_clip(clip, [["a", "out", "b", "in"]]))
    key(qtbot, window, "paste")
    assert sorted(doc.graph.names) == ["a", "b"]
    assert [(e.src, e.dst) for e in doc.graph.edges] == [("a", "b")]
    assert doc.undo_stack.undoText() == "Paste 2 block(s)"
    scene_matches(doc, window.canvas)
