"""Issue 17, Scale: what the canvas no longer does for every item of a big design while it is
built, shown as a user meets it (tooltips when the mouse rests, wires' hit outlines when
clicked)."""

from __future__ import annotations

from typing import Any

import pytest
from canvas_helpers import make_view
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from designer.document import preset_project


def rest_mouse(qtbot: Any, view: Any, point: QPoint) -> str:
    """The tooltip shown when the mouse rests at ``point`` (viewport coordinates)."""
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    event = QHelpEvent(QEvent.Type.ToolTip, point, view.viewport().mapToGlobal(point))
    QApplication.sendEvent(view.viewport(), event)
    return QToolTip.text() if QToolTip.isVisible() else ""


def test_ports_and_wires_make_their_tooltips_when_the_mouse_rests(qtbot: Any) -> None:
    _doc, view, _ = make_view(qtbot, preset_project("lenet5"))
    scene = view.canvas
    port = scene.nodes["conv1"].inputs["in"]
    wire = next(item for edge, item in scene.edges.items() if edge.dst == "conv1")
    assert port.toolTip() == "" and wire.toolTip() == ""  # none set while building
    view.resetTransform()  # 1:1, the port's reach well inside the view
    view.centerOn(port.scenePos())
    QApplication.processEvents()
    assert rest_mouse(qtbot, view, view.mapFromScene(port.scenePos())) == "input 'in' of conv1"
    label = wire.label_rect()
    text = rest_mouse(qtbot, view, view.mapFromScene(label.center()))
    assert text == f"{wire.edge}: {wire.label}" and wire.label in text
    box = scene.nodes["conv1"]
    text = rest_mouse(qtbot, view, view.mapFromScene(box.scene_rect().center()))
    assert text == box.toolTip() != ""  # blocks keep the tooltip they were given
    empty = view.mapFromScene(box.scene_rect().topLeft()) + QPoint(-300, 0)
    assert rest_mouse(qtbot, view, empty) == ""


def test_a_frame_paints_ports_with_their_block_not_one_by_one(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from designer.canvas import items, style

    calls: list[str] = []
    for cls in (items.PortItem, items.NodeItem):  # patched before any item is painted
        original = cls.paint

        def counted(item: Any, *args: Any, original: Any = original, cls: Any = cls) -> Any:
            calls.append(cls.__name__)
            return original(item, *args)

        monkeypatch.setattr(cls, "paint", counted)
    _doc, view, _ = make_view(qtbot, preset_project("lenet5"))
    view.resetTransform()
    node = view.canvas.nodes["conv2"]
    view.centerOn(node.scene_rect().center())
    QApplication.processEvents()
    calls.clear()
    for item in view.canvas.nodes.values():
        item.update()  # drawn afresh, not from the blocks' cached pixmaps
    image = view.viewport().grab().toImage()
    assert "NodeItem" in calls and "PortItem" not in calls
    port = node.inputs["in"]
    assert port.connected
    centre = view.mapFromScene(port.scenePos())
    assert image.pixelColor(centre).name() == style.look().port_fill.color().name()
    port.set_hot(True)  # a wire dragged over it: its block repaints it
    image = view.viewport().grab().toImage()
    assert image.pixelColor(centre).name() == style.look().port_hot.color().name()


def test_zoomed_out_blocks_measure_their_texts_once_not_every_frame(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.canvas_5000 import chain_graph
    from designer.canvas import style
    from engine import Project

    measured: list[str] = []
    original = style.elided
    monkeypatch.setattr(
        style, "elided", lambda text, *a: measured.append(text) or original(text, *a)
    )
    _doc, view, _ = make_view(qtbot, Project(chain_graph(30)))
    view.resetTransform()
    view.scale(0.5, 0.5)  # the short names and types, larger (the zoomed-out form)

    def frame(factor: float) -> Any:
        view.scale(factor, factor)  # a zoom frame: every block in view is painted again
        return view.viewport().grab().toImage()

    first = frame(1.05)
    frame(1 / 1.05)
    assert measured  # the texts of the blocks in view, measured for the first frames
    measured.clear()
    again = frame(1.05)
    frame(1 / 1.05)
    assert measured == []  # the next frames reuse them
    assert again == first  # and draw the same picture
    box = next(iter(view.canvas.nodes.values()))
    box.set_content(style_changed(box.content))  # a new text: measured again
    frame(1 / 1.05)
    assert measured


def style_changed(content: Any) -> Any:
    from dataclasses import replace

    return replace(content, title=content.title + "_renamed", kind=content.kind + " (new)")
