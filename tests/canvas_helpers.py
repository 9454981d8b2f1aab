"""Helpers for the canvas tests: a shown CanvasView and real mouse events on its viewport."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from designer.canvas import CanvasView
from designer.document import Document
from engine import Edge, Project

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton


def make_view(qtbot: Any, project: Project | None = None) -> tuple[Document, CanvasView, list[str]]:
    """A document, its canvas shown at 1000×800, and the list its status messages go to."""
    doc = Document(project)
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)
    messages: list[str] = []
    view.status_message.connect(messages.append)
    return doc, view, messages


def _send(view: CanvasView, kind: QEvent.Type, at: QPoint, button: Any, buttons: Any) -> None:
    viewport = view.viewport()
    local = QPointF(at)
    event = QMouseEvent(
        kind,
        local,
        QPointF(viewport.mapToGlobal(at)),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def drag(view: CanvasView, start: QPointF, end: QPointF, steps: int = 4) -> None:
    """Press the left button at scene point ``start``, move to ``end`` and release there."""
    a, b = view.mapFromScene(start), view.mapFromScene(end)
    _send(view, QEvent.Type.MouseButtonPress, a, LEFT, LEFT)
    for i in range(1, steps + 1):
        point = a + (b - a) * (i / steps)
        _send(view, QEvent.Type.MouseMove, point, NONE, LEFT)
    _send(view, QEvent.Type.MouseButtonRelease, b, LEFT, NONE)


def double_click(view: CanvasView, at: QPointF) -> None:
    """A double-click of the left button at scene point ``at``."""
    point = view.mapFromScene(at)
    _send(view, QEvent.Type.MouseButtonPress, point, LEFT, LEFT)
    _send(view, QEvent.Type.MouseButtonRelease, point, LEFT, NONE)
    _send(view, QEvent.Type.MouseButtonDblClick, point, LEFT, LEFT)
    _send(view, QEvent.Type.MouseButtonRelease, point, LEFT, NONE)


def wire(view: CanvasView, src: str, dst: str, dst_port: str = "in", src_port: str = "out") -> None:
    """Drag a wire from output ``src.src_port`` to input ``dst.dst_port`` with the mouse."""
    scene = view.canvas
    start = scene.nodes[src].outputs[src_port].scenePos()
    end = scene.nodes[dst].inputs[dst_port].scenePos()
    drag(view, start, end)


def scene_matches(doc: Document, view: CanvasView) -> None:
    """Assert the scene shows exactly the document's graph (nothing collapsed)."""
    scene = view.canvas
    assert set(scene.nodes) == set(doc.graph.names)
    assert set(scene.edges) == set(doc.graph.edges)
    for name, item in scene.nodes.items():
        assert (item.pos().x(), item.pos().y()) == doc.position(name)


def edge(doc: Document, src: str, dst: str) -> Edge:
    """The wire from ``src`` to ``dst``."""
    return next(e for e in doc.graph.edges if e.src == src and e.dst == dst)


def overlaps(view: CanvasView) -> list[tuple[str, str]]:
    """Pairs of visible blocks or groups whose rectangles overlap."""
    rects = list(view.scene_item_rects().items())
    return [
        (a, b) for i, (a, ra) in enumerate(rects) for b, rb in rects[i + 1 :] if ra.intersects(rb)
    ]
