"""Issue 17's canvas gestures driven as a person does: search-to-add with the keyboard, a
wire released into empty space, a block dropped onto a wire, easy port targets, refusals
shown where they happen, placement of new and pasted blocks; undo of each."""

from __future__ import annotations

from typing import Any

import pytest
from canvas_helpers import make_view, overlaps
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from designer.canvas import style
from designer.canvas.hints import RefusalNote, WireHighlight
from designer.document import preset_project
from designer.mime import MIME_BLOCK
from designer.panels.palette import Palette
from engine.block_search import accepting_types, search
from engine.inference import infer

LEFT = Qt.MouseButton.LeftButton

# LeNet-5 typed the way people call its layers: (what is typed, the type it must add)
LENET_KEYS = [
    ("input", "input"),
    ("conv", "conv2d"),
    ("tanh", "tanh"),
    ("avgpool", "avgpool2d"),
    ("conv", "conv2d"),
    ("tanh", "tanh"),
    ("avg", "avgpool2d"),
    ("flat", "flatten"),
    ("fc", "linear"),
    ("tanh", "tanh"),
    ("dense", "linear"),
    ("tanh", "tanh"),
    ("linear", "linear"),
    ("output", "output"),
]


def _popup_edit(qtbot: Any, view: Any) -> Any:
    popup = view.quick_add.popup
    qtbot.waitUntil(popup.isVisible)
    focus = QApplication.focusWidget()
    assert focus is popup.edit  # the keyboard goes to the search box
    return focus


def _search_add(qtbot: Any, view: Any, text: str) -> None:
    """Tab, type ``text``, Enter: the keyboard only."""
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    edit = _popup_edit(qtbot, view)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert not view.quick_add.popup.isVisible()


def _at(view: Any, point: QPointF) -> QPoint:
    return view.mapFromScene(point)


def _mouse_drag(qtbot: Any, view: Any, start: QPoint, end: QPoint, steps: int = 5) -> None:
    """Press at viewport point ``start``, move in steps to ``end`` and release: a real drag."""
    viewport = view.viewport()
    qtbot.mousePress(viewport, LEFT, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(viewport, start + (end - start) * (i / steps))
    qtbot.mouseRelease(viewport, LEFT, pos=end)


def _chain_types(doc: Any) -> list[str]:
    """The block types from the input along the wires (the design must be a chain)."""
    graph = doc.graph
    name = next(n for n in graph.names if not graph.in_edges(n))
    types = [graph.node(name).type_id]
    while graph.out_edges(name):
        (edge,) = graph.out_edges(name)
        name = edge.dst
        types.append(graph.node(name).type_id)
    return types


def test_lenet5_from_an_empty_design_with_the_keyboard_search_only(qtbot: Any) -> None:
    doc, view, messages = make_view(qtbot)
    view.setFocus()
    for count, (text, type_id) in enumerate(LENET_KEYS, 1):
        _search_add(qtbot, view, text)
        assert len(doc.graph) == count, messages
        (new,) = doc.selection  # the new block is selected: the next Tab follows it
        assert doc.graph.node(new).type_id == type_id
        assert doc.undo_stack.count() == count  # one undo step per block, wired in
        item = view.canvas.nodes[new]
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        assert seen.contains(item.scene_rect())  # scrolled into view
    assert _chain_types(doc) == [t for _, t in LENET_KEYS]
    assert overlaps(view) == []
    ys = [doc.position(n)[1] for n in doc.graph.names]
    assert ys == sorted(ys)  # each block below the one before
    # the parameters, as the inspector would set them, then compare with the LeNet-5 preset
    reference = preset_project("lenet5").graph
    for mine, theirs in zip(doc.graph.names, reference.names, strict=True):
        params = reference.node(theirs).params
        if params != doc.graph.node(mine).params:
            doc.set_params(mine, params)
    assert doc.result.ok
    assert doc.result.total_params == infer(reference).total_params == 61_706
    # undo takes the design back to empty, one block at a time
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert len(doc.graph) == 0 and not view.canvas.nodes


def test_tab_after_a_selected_block_wires_the_new_one_in_and_makes_room(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [3, 16, 16]}, "input")
    doc.add_node("conv2d", (0.0, 110.0), {}, "conv")
    doc.add_node("relu", (-200.0, 110.0), {}, "relu")
    doc.connect("input", "out", "conv")
    doc.connect("input", "out", "relu")
    before = (sorted(map(str, doc.graph.edges)), dict(doc.project.layout))
    doc.set_selection(["input"])
    steps = doc.undo_stack.count()
    _search_add(qtbot, view, "bn")
    (bn,) = doc.selection
    assert doc.graph.node(bn).type_id == "batchnorm"
    wires = {(e.src, e.dst) for e in doc.graph.edges}
    assert wires == {("input", bn), (bn, "conv"), (bn, "relu")}  # its wires now leave bn
    assert doc.position(bn)[1] > 0 and overlaps(view) == []  # below it; the others moved
    assert doc.undo_stack.count() == steps + 1
    doc.undo_stack.undo()
    assert (sorted(map(str, doc.graph.edges)), dict(doc.project.layout)) == before


def test_the_search_finds_common_words_and_escape_adds_nothing(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    for text, first in [
        ("fc", "linear"),
        ("dense", "linear"),
        ("bn", "batchnorm"),
        ("deconv", "conv_transpose2d"),
        ("lin", "linear"),
    ]:
        assert search(text)[0].type_id == first
    pools = {s.type_id for s in search("pool")[:6]}
    assert {"maxpool2d", "avgpool2d", "adaptive_avgpool2d", "global_avgpool"} <= pools
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    edit = _popup_edit(qtbot, view)
    qtbot.keyClicks(edit, "pool")
    popup = view.quick_add.popup
    first = popup.current_type()
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert popup.current_type() != first  # Down chooses the next row
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    assert len(doc.graph) == 0 and doc.undo_stack.count() == 0


def test_double_click_on_empty_canvas_adds_the_block_there(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("relu", (0.0, 0.0), {}, "relu")
    target = QPoint(600, 500)
    assert view.canvas.item_at(view.mapToScene(target)) is None
    qtbot.mouseDClick(view.viewport(), LEFT, pos=target)
    edit = _popup_edit(qtbot, view)
    qtbot.keyClicks(edit, "dropout")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    (new,) = doc.selection
    centre = view.canvas.nodes[new].scene_rect().center()
    assert (view.mapFromScene(centre) - target).manhattanLength() <= 2
    assert not doc.graph.in_edges(new)  # the double-click cleared the selection: not wired


def _drag_wire_into_space(qtbot: Any, view: Any, port: Any, end: QPoint) -> None:
    start = _at(view, port.anchor())
    viewport = view.viewport()
    qtbot.mousePress(viewport, LEFT, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(viewport, start + (end - start) * (i / 5))
    qtbot.mouseRelease(viewport, LEFT, pos=end)


def test_a_wire_released_in_empty_space_creates_and_connects_a_block(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [1, 28, 28]}, "input")
    view.zoom_to_fit()
    port = view.canvas.nodes["input"].outputs["out"]
    end = _at(view, port.anchor()) + QPoint(30, 160)
    assert view.canvas.item_at(view.mapToScene(end)) is None
    _drag_wire_into_space(qtbot, view, port, end)
    popup = view.quick_add.popup
    edit = _popup_edit(qtbot, view)
    assert "1×28×28" in popup.hint.text()
    # the blocks that take a 1×28×28 image come first; Linear (wants a vector) after them
    rows = [popup.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(popup.list.count())]
    accepted = set(accepting_types((1, 28, 28)))
    assert "conv2d" in accepted and "linear" not in accepted
    assert rows[: len(accepted)] == [t for t in rows if t in accepted]
    assert rows.index("linear") >= len(accepted)
    qtbot.keyClicks(edit, "conv")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    (conv,) = doc.selection
    assert doc.graph.node(conv).type_id == "conv2d"
    assert [(e.src, e.dst) for e in doc.graph.edges] == [("input", conv)]
    top = view.canvas.nodes[conv].inputs["in"].anchor()  # its input where the wire ended
    assert (view.mapFromScene(top) - end).manhattanLength() <= 3
    assert not [i for i in view.canvas.items() if type(i).__name__ == "PendingWire"]
    assert doc.undo_stack.count() == 2  # the input, then block + wire as one step
    doc.undo_stack.undo()
    assert doc.graph.names == ["input"] and not doc.graph.edges


def test_escape_after_a_wire_released_in_space_leaves_nothing(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [8]}, "input")
    port = view.canvas.nodes["input"].outputs["out"]
    end = _at(view, port.anchor()) + QPoint(-40, 150)
    _drag_wire_into_space(qtbot, view, port, end)
    edit = _popup_edit(qtbot, view)
    pending = [i for i in view.canvas.items() if type(i).__name__ == "PendingWire"]
    assert len(pending) == 1  # the wire stays drawn while the search is open
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert doc.graph.names == ["input"] and not doc.graph.edges
    assert doc.undo_stack.count() == 1
    assert not [i for i in view.canvas.items() if type(i).__name__ == "PendingWire"]


def _conv_relu(doc: Any) -> None:
    doc.add_node("input", (0.0, 0.0), {"shape": [3, 16, 16]}, "input")
    doc.add_node("conv2d", (0.0, 110.0), {"out_channels": 8}, "conv")
    doc.add_node("relu", (0.0, 420.0), {}, "relu")
    doc.connect("input", "out", "conv")
    doc.connect("conv", "out", "relu")


def _drag_event(kind: Any, at: QPoint, mime: QMimeData) -> Any:
    args = (Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    if kind is QDropEvent:
        return QDropEvent(QPointF(at), *args)
    return kind(at, *args)  # PySide6 < 6.12 takes a QPoint for enter and move events


def test_dropping_batchnorm_from_the_palette_onto_a_wire_inserts_it(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    _conv_relu(doc)
    view.zoom_to_fit()
    before = (sorted(map(str, doc.graph.edges)), dict(doc.project.layout))
    steps = doc.undo_stack.count()
    wire = next(i for e, i in view.canvas.edges.items() if e.src == "conv")
    middle = _at(view, wire.path.pointAtPercent(0.5))
    mime = QMimeData()
    mime.setData(MIME_BLOCK, b"batchnorm")
    viewport = view.viewport()
    enter = _drag_event(QDragEnterEvent, middle + QPoint(200, 0), mime)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(viewport, _drag_event(QDragMoveEvent, middle + QPoint(200, 0), mime))
    assert not [i for i in view.canvas.items() if isinstance(i, WireHighlight)]
    QApplication.sendEvent(viewport, _drag_event(QDragMoveEvent, middle, mime))
    marks = [i for i in view.canvas.items() if isinstance(i, WireHighlight)]
    assert len(marks) == 1 and marks[0].path() == wire.path  # the wire lights up first
    QApplication.sendEvent(viewport, _drag_event(QDropEvent, middle, mime))
    (bn,) = doc.selection
    assert doc.graph.node(bn).type_id == "batchnorm"
    assert {(e.src, e.dst) for e in doc.graph.edges} == {
        ("input", "conv"),
        ("conv", bn),
        (bn, "relu"),
    }
    assert not doc.result.for_node(bn) and overlaps(view) == []
    assert not [i for i in view.canvas.items() if isinstance(i, WireHighlight)]
    assert doc.undo_stack.count() == steps + 1
    doc.undo_stack.undo()
    assert (sorted(map(str, doc.graph.edges)), dict(doc.project.layout)) == before


def test_an_unwired_block_dragged_onto_a_wire_is_inserted(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    _conv_relu(doc)
    doc.add_node("batchnorm", (400.0, 250.0), {}, "bn")
    view.zoom_to_fit()
    before = (sorted(map(str, doc.graph.edges)), dict(doc.project.layout))
    steps = doc.undo_stack.count()
    wire = next(i for e, i in view.canvas.edges.items() if e.src == "conv")
    start = _at(view, view.canvas.nodes["bn"].scene_rect().center())
    end = _at(view, wire.path.pointAtPercent(0.5))
    viewport = view.viewport()
    qtbot.mousePress(viewport, LEFT, pos=start)
    for i in range(1, 6):
        qtbot.mouseMove(viewport, start + (end - start) * (i / 5))
    assert [i for i in view.canvas.items() if isinstance(i, WireHighlight)]
    qtbot.mouseRelease(viewport, LEFT, pos=end)
    assert {(e.src, e.dst) for e in doc.graph.edges} == {
        ("input", "conv"),
        ("conv", "bn"),
        ("bn", "relu"),
    }
    assert doc.undo_stack.count() == steps + 1
    doc.undo_stack.undo()
    assert (sorted(map(str, doc.graph.edges)), dict(doc.project.layout)) == before
    assert view.canvas.nodes["bn"].pos() == QPointF(400.0, 250.0)


@pytest.mark.parametrize("scale", [0.35, 0.6, 1.0, 2.5])
def test_ports_reach_12_screen_pixels_at_every_zoom_and_a_drag_near_one_wires(
    qtbot: Any, scale: float
) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [4]}, "a")
    doc.add_node("relu", (0.0, 250.0), {}, "b")
    view.resetTransform()
    view.scale(scale, scale)
    view.centerOn(QPointF(90.0, 150.0))
    out = _at(view, view.canvas.nodes["a"].outputs["out"].anchor())
    into = _at(view, view.canvas.nodes["b"].inputs["in"].anchor())
    # 11 pixels off each port's centre, away from its block, and 6 pixels into the block
    # (a third of a block's height at the lowest zoom that draws ports)
    for start, end in [(out + QPoint(8, 7), into + QPoint(-7, -8)), (out - QPoint(0, 6), into)]:
        _mouse_drag(qtbot, view, start, end)
        assert [(e.src, e.dst) for e in doc.graph.edges] == [("a", "b")]
        assert doc.position("a") == (0.0, 0.0)  # a wire, never a move
        doc.undo_stack.undo()
    # the middle of the block still moves it
    middle = _at(view, view.canvas.nodes["a"].scene_rect().center())
    _mouse_drag(qtbot, view, middle, middle + QPoint(40, 0))
    assert doc.position("a")[0] > 0 and not doc.graph.edges


def test_a_refused_wire_is_explained_where_it_was_dropped(qtbot: Any) -> None:
    doc, view, messages = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [4]}, "a")
    doc.add_node("input", (240.0, 0.0), {"shape": [4]}, "b")
    doc.add_node("relu", (120.0, 250.0), {}, "relu")
    doc.connect("a", "out", "relu")
    view.zoom_to_fit()
    start = _at(view, view.canvas.nodes["b"].outputs["out"].anchor())
    end = _at(view, view.canvas.nodes["relu"].scene_rect().center())
    _mouse_drag(qtbot, view, start, end)
    assert len(doc.graph.edges) == 1
    assert "no free input port" in messages[-1]
    (note,) = [i for i in view.canvas.items() if isinstance(i, RefusalNote)]
    assert "no free input port" in note.text
    assert (view.mapFromScene(note.pos()) - end).manhattanLength() <= 2  # at the drop point


def test_palette_double_click_places_the_block_in_view_below_the_selection(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot, preset_project("lenet5"))
    palette = Palette()
    qtbot.addWidget(palette)
    palette.show()
    palette.block_activated.connect(view.add_block_at_center)
    view.zoom_to_fit()

    def double_click(type_id: str) -> str:
        tree = palette.tree
        item = palette.items[type_id]
        tree.scrollToItem(item)
        at = tree.visualItemRect(item).center()
        qtbot.mouseClick(tree.viewport(), LEFT, pos=at)
        qtbot.mouseDClick(tree.viewport(), LEFT, pos=at)
        (name,) = doc.selection
        return name

    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    doc.set_selection(["conv1"])
    name = double_click("dropout")
    rect = view.canvas.nodes[name].scene_rect()
    assert seen.contains(rect) and overlaps(view) == []
    conv = view.canvas.nodes["conv1"].scene_rect()
    assert rect.top() >= conv.bottom() - 1  # below the selected block
    assert abs(rect.center().y() - conv.center().y()) < 4 * style.NODE_HEIGHT
    # the selection out of view: the middle of the view
    view.centerOn(QPointF(5000.0, 5000.0))
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    other = double_click("relu")
    assert seen.contains(view.canvas.nodes[other].scene_rect())


def test_duplicate_and_paste_put_selected_copies_beside_the_originals(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [4]}, "a")
    doc.add_node("relu", (0.0, 110.0), {}, "b")
    doc.connect("a", "out", "b")
    doc.set_selection(["a", "b"])
    view.duplicate_selection()
    copies = doc.selection
    assert len(copies) == 2 and not {"a", "b"} & set(copies)
    assert overlaps(view) == []
    view.copy_selection()
    view.paste()
    assert len(doc.graph) == 6 and overlaps(view) == []
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    for name in doc.selection:
        assert seen.contains(view.canvas.nodes[name].scene_rect())


def test_a_block_dropped_on_a_short_wire_goes_between_its_ends(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("input", (0.0, 0.0), {"shape": [3, 16, 16]}, "input")
    doc.add_node("relu", (0.0, 100.0), {}, "relu")  # 38 units apart: no room for a block
    doc.add_node("output", (0.0, 200.0), {}, "output")
    doc.connect("input", "out", "relu")
    doc.connect("relu", "out", "output")
    view.zoom_to_fit()
    wire = next(i for e, i in view.canvas.edges.items() if e.src == "input")
    middle = _at(view, wire.path.pointAtPercent(0.5))
    mime = QMimeData()
    mime.setData(MIME_BLOCK, b"dropout")
    viewport = view.viewport()
    QApplication.sendEvent(viewport, _drag_event(QDragEnterEvent, middle, mime))
    QApplication.sendEvent(viewport, _drag_event(QDragMoveEvent, middle, mime))
    QApplication.sendEvent(viewport, _drag_event(QDropEvent, middle, mime))
    (new,) = doc.selection
    assert {(e.src, e.dst) for e in doc.graph.edges} == {
        ("input", new),
        (new, "relu"),
        ("relu", "output"),
    }
    ys = [doc.position(n)[1] for n in ("input", new, "relu", "output")]
    assert ys == sorted(ys) and overlaps(view) == []  # in order, the rest pushed down
