"""Canvas navigation and the context menu driven with real events: wheel zoom about the cursor
(clamped), panning with the middle button or Space + left drag, zoom to fit, right-click menus."""

from __future__ import annotations

from typing import Any

import pytest
from canvas_helpers import make_view
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QMenu

from designer.canvas.view import MAX_SCALE, MIN_SCALE, CanvasView
from designer.document import Document

LEFT = Qt.MouseButton.LeftButton
MIDDLE = Qt.MouseButton.MiddleButton


def _spread(doc: Document) -> None:
    """Three blocks far apart, so that the scene is much bigger than the viewport."""
    doc.add_node("relu", (0.0, 0.0), {}, "a")
    doc.add_node("relu", (2400.0, 0.0), {}, "b")
    doc.add_node("relu", (1200.0, 1800.0), {}, "c")


def _scale(view: CanvasView) -> float:
    return view.transform().m11()


def _centre(view: CanvasView) -> QPointF:
    return view.mapToScene(view.viewport().rect().center())


def _wheel(view: CanvasView, at: QPoint, steps: int) -> None:
    """Turn the wheel ``steps`` notches (positive: away from the user) over viewport point ``at``."""
    viewport = view.viewport()
    for _ in range(abs(steps)):
        event = QWheelEvent(
            QPointF(at),
            QPointF(viewport.mapToGlobal(at)),
            QPoint(0, 0),
            QPoint(0, 120 if steps > 0 else -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)
        assert event.isAccepted()


def _close(a: QPointF, b: QPointF, tolerance: float) -> bool:
    return abs(a.x() - b.x()) <= tolerance and abs(a.y() - b.y()) <= tolerance


def _zoomed_view(qtbot: Any) -> tuple[Document, CanvasView]:
    doc, view, _ = make_view(qtbot)
    _spread(doc)
    view.resetTransform()
    view.centerOn(QPointF(1200.0, 900.0))
    return doc, view


def test_wheel_zooms_about_the_cursor(qtbot: Any) -> None:
    _, view = _zoomed_view(qtbot)
    for at, steps in [(QPoint(150, 120), 2), (QPoint(820, 640), -3), (QPoint(700, 200), 1)]:
        before_scale = _scale(view)
        under = view.mapToScene(at)
        _wheel(view, at, steps)
        assert _scale(view) == pytest.approx(before_scale * 1.0015 ** (120 * steps))
        # The scene point under the cursor stays under it (to within a pixel).
        assert _close(view.mapToScene(at), under, 1.5 / _scale(view)), (at, steps)


def test_wheel_after_a_pan_zooms_about_the_cursor_not_the_last_hover_point(qtbot: Any) -> None:
    """Regression: Qt's AnchorUnderMouse anchors on the last mouse move the view handled, and
    pan moves never reached it, so the first zoom after a pan jumped back by the pan."""
    _, view = _zoomed_view(qtbot)
    start, delta = QPoint(300, 300), QPoint(200, 150)
    qtbot.mouseMove(view.viewport(), start)
    _drag_pan(qtbot, view, MIDDLE, start, delta)
    at = start + delta
    under = view.mapToScene(at)
    _wheel(view, at, 2)
    assert _close(view.mapToScene(at), under, 1.5 / _scale(view)), (under, view.mapToScene(at))


def test_wheel_zoom_is_clamped_between_min_and_max_scale(qtbot: Any) -> None:
    _, view = _zoomed_view(qtbot)
    at = view.viewport().rect().center()
    _wheel(view, at, 40)
    assert _scale(view) == pytest.approx(MAX_SCALE)
    _wheel(view, at, 1)
    assert _scale(view) == pytest.approx(MAX_SCALE)
    _wheel(view, at, -2)
    assert _scale(view) < MAX_SCALE
    _wheel(view, at, -80)
    assert _scale(view) == pytest.approx(MIN_SCALE)
    _wheel(view, at, -1)
    assert _scale(view) == pytest.approx(MIN_SCALE)
    assert view.transform().m22() == pytest.approx(MIN_SCALE)  # zoom keeps the aspect ratio


def _drag_pan(qtbot: Any, view: CanvasView, button: Any, start: QPoint, delta: QPoint) -> None:
    viewport = view.viewport()
    qtbot.mousePress(viewport, button, pos=start)
    for i in range(1, 5):
        qtbot.mouseMove(viewport, start + delta * (i / 4))
    qtbot.mouseRelease(viewport, button, pos=start + delta)


def test_middle_button_drag_pans_the_view(qtbot: Any) -> None:
    doc, view = _zoomed_view(qtbot)
    view.scale(0.5, 0.5)
    before = _centre(view)
    positions = dict(doc.project.layout)
    start = view.mapFromScene(view.canvas.nodes["a"].scene_rect().center())
    _drag_pan(qtbot, view, MIDDLE, start, QPoint(120, -80))
    # The content follows the mouse: the centre moves the other way, in scene units.
    after = _centre(view)
    assert _close(after, before - QPointF(120, -80) / 0.5, 2 / 0.5), (before, after)
    assert dict(doc.project.layout) == positions  # pressing on a block did not move it
    assert _scale(view) == pytest.approx(0.5)
    assert view.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor


def test_space_and_left_drag_pans_and_releasing_space_stops_it(qtbot: Any) -> None:
    doc, view = _zoomed_view(qtbot)
    positions = dict(doc.project.layout)
    on_block = view.mapFromScene(view.canvas.nodes["b"].scene_rect().center())
    qtbot.keyPress(view, Qt.Key.Key_Space)
    assert view.viewport().cursor().shape() == Qt.CursorShape.OpenHandCursor
    before = _centre(view)
    _drag_pan(qtbot, view, LEFT, on_block, QPoint(-150, 90))
    after = _centre(view)
    assert _close(after, before + QPointF(150, -90), 2), (before, after)
    assert dict(doc.project.layout) == positions  # the block under the press did not move
    assert doc.selection == []  # nor was it selected
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert view.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor
    # Without Space a left drag on the block moves the block, not the view.
    on_block = view.mapFromScene(view.canvas.nodes["b"].scene_rect().center())
    _drag_pan(qtbot, view, LEFT, on_block, QPoint(60, 40))
    assert _close(_centre(view), after, 0.5)
    assert doc.position("b") == pytest.approx((positions["b"][0] + 60, positions["b"][1] + 40))


def test_zoom_to_fit_after_zooming_and_panning_shows_every_block(qtbot: Any) -> None:
    _, view = _zoomed_view(qtbot)
    view.zoom_to_fit()
    fitted_scale, fitted_centre = _scale(view), _centre(view)
    assert fitted_scale < 1.0
    _wheel(view, QPoint(100, 100), 8)
    _drag_pan(qtbot, view, MIDDLE, QPoint(500, 400), QPoint(200, 150))
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert not visible.contains(view.items_rect())
    view.zoom_to_fit()
    assert _scale(view) == pytest.approx(fitted_scale)
    assert _close(_centre(view), fitted_centre, 2 / fitted_scale)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.items_rect())


def test_zoom_to_fit_never_magnifies_a_small_design(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    doc.add_node("relu", (0.0, 0.0), {}, "a")
    _wheel(view, QPoint(300, 300), -10)
    view.zoom_to_fit()
    assert _scale(view) == pytest.approx(1.0)
    centre = view.canvas.nodes["a"].scene_rect().center()
    assert _close(_centre(view), centre, 1.0)


def _right_click(qtbot: Any, view: CanvasView, at: QPointF, choose: str | None) -> list[str]:
    """Right-click scene point ``at`` through the window and, in the menu that pops up, click
    ``choose`` (None: close the menu). Returns the menu's texts ([] when no menu opened)."""
    shown: list[str] = []

    def answer() -> None:  # runs inside QMenu.exec
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            return
        try:
            shown.extend(a.text() for a in menu.actions() if not a.isSeparator())
            if choose is not None:
                action = next(a for a in menu.actions() if a.text() == choose)
                qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())
        finally:
            if menu.isVisible():
                menu.close()

    timer = QTimer(view)
    timer.setSingleShot(True)
    timer.timeout.connect(answer)
    timer.start(0)
    pos = view.viewport().mapTo(view, view.mapFromScene(at))
    qtbot.mouseClick(view.windowHandle(), Qt.MouseButton.RightButton, pos=pos)
    timer.stop()
    return shown


def _broken_design(doc: Document) -> None:
    """A Linear fed a 3D tensor: an error whose quick fix inserts a Flatten."""
    doc.add_node("input", (0.0, 0.0), {"shape": [1, 28, 28]}, "input")
    doc.add_node("conv2d", (0.0, 150.0), {}, "conv")
    doc.add_node("linear", (0.0, 300.0), {}, "fc")
    doc.add_node("output", (0.0, 450.0), {}, "output")
    for src, dst in [("input", "conv"), ("conv", "fc"), ("fc", "output")]:
        doc.connect(src, "out", dst)


def test_right_click_on_a_block_opens_its_menu_and_the_quick_fix_applies(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    _broken_design(doc)
    view.zoom_to_fit()
    assert not doc.result.ok
    steps = doc.undo_stack.count()
    fc = view.canvas.nodes["fc"].scene_rect().center()
    shown = _right_click(qtbot, view, fc, None)
    assert shown == ["Fix: insert Flatten", "Rename…", "Delete", "Bypass", "Group selection…"]
    assert doc.selection == ["fc"]  # right-clicking selects the block
    assert not doc.result.ok and doc.undo_stack.count() == steps  # closing the menu changes nothing
    assert _right_click(qtbot, view, fc, "Fix: insert Flatten")[0] == "Fix: insert Flatten"
    assert doc.result.ok
    flatten = next(n for n in doc.graph.names if n.startswith("flatten"))
    assert flatten in view.canvas.nodes
    assert view.canvas.nodes["fc"].content.severity == ""
    doc.undo_stack.undo()
    assert flatten not in doc.graph.names and not doc.result.ok
    assert view.canvas.nodes["fc"].content.severity == "error"


def test_right_click_delete_removes_the_block_and_undo_restores_it(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    _broken_design(doc)
    view.zoom_to_fit()
    wires = set(doc.graph.edges)
    conv = view.canvas.nodes["conv"].scene_rect().center()
    shown = _right_click(qtbot, view, conv, "Delete")
    assert "Delete" in shown and not any(text.startswith("Fix") for text in shown)
    assert "conv" not in doc.graph.names and "conv" not in view.canvas.nodes
    assert all("conv" not in (e.src, e.dst) for e in doc.graph.edges)
    doc.undo_stack.undo()
    assert "conv" in view.canvas.nodes and set(doc.graph.edges) == wires


def test_right_click_on_empty_canvas_offers_only_a_note_and_deletes_nothing(qtbot: Any) -> None:
    doc, view, _ = make_view(qtbot)
    _broken_design(doc)
    view.zoom_to_fit()
    empty = view.canvas.nodes["conv"].scene_rect().center() + QPointF(300.0, 0.0)
    assert view.canvas.item_at(empty) is None
    assert _right_click(qtbot, view, empty, None) == ["Add note here"]
    assert len(doc.graph) == 4


def test_an_opened_design_stays_fitted_as_the_window_settles_until_the_user_zooms(
    qtbot: Any,
) -> None:
    """A window manager may resize a new window after it shows: the design refits each time,
    until the user takes the view over with the wheel (or a pan); then resizes leave it be."""
    doc, view, _ = make_view(qtbot)
    view.resize(1600, 1280)
    _spread(doc)
    view.zoom_to_fit()
    assert not view.horizontalScrollBar().isVisible() and not view.verticalScrollBar().isVisible()
    fitted = _scale(view)
    view.resize(1000, 800)  # (still above the zoom where names stop being readable)
    qtbot.waitUntil(lambda: _scale(view) < fitted * 0.7)  # refitted to the smaller view
    small = _scale(view)
    _wheel(view, view.viewport().rect().center(), 2)
    zoomed = _scale(view)
    assert zoomed > small
    view.resize(1600, 1280)
    QApplication.processEvents()
    assert _scale(view) == pytest.approx(zoomed)  # the user's zoom is kept


def test_every_block_of_a_cycle_is_drawn_red_though_the_cycle_is_reported_once(
    qtbot: Any,
) -> None:
    """A file may close a loop (the editor refuses to); the Problems list names the cycle once,
    and every block in it is marked on the canvas."""
    from engine import Edge, Project
    from presets import PRESETS

    graph = PRESETS.get("lenet5").create()
    graph.add_edge_unchecked(Edge("act2", "out", "conv2", "in"))  # conv2 ⇄ act2, as a file may
    graph.disconnect(Edge("pool1", "out", "conv2", "in"))
    doc, view, _ = make_view(qtbot, Project(graph=graph))
    assert len([d for d in doc.result.errors if d.code == "cycle"]) == 1
    for name in ("conv2", "act2"):
        assert view.canvas.nodes[name].content.severity == "error", name
    assert all("cycle" in view.canvas.nodes[n].content.tooltip for n in ("conv2", "act2"))
    assert view.canvas.nodes["conv1"].content.severity == ""
