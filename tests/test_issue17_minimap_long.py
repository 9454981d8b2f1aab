"""Issue 17, item 7 at scale: a design so long that its overview would be a sliver (a 5,000-block
chain wrapped into eight columns was 5 pixels wide in the minimap) is drawn at least
``MIN_ACROSS`` pixels wide and scrolled with the canvas, the shown part always inside the
minimap; a click on the minimap pans the canvas there without moving the overview under the
pointer, and a drag down it moves the canvas along."""

from __future__ import annotations

from typing import Any

import pytest
from designer_helpers import chain_window
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from designer.canvas.minimap import MIN_ACROSS

pytestmark = pytest.mark.usefixtures("clean_windows")


def shown(minimap: Any) -> QRectF:
    """The rectangle of the part the canvas shows, on the minimap."""
    return minimap.scene_to_map(minimap.view.visible_scene_rect())


def drag(qtbot: Any, widget: Any, start: QPointF, end: QPointF) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start.toPoint())
    for i in range(1, 6):
        point = start + (end - start) * (i / 5)
        # (offscreen, qtbot.mouseMove sends no button state: a real move with the button down)
        event = QMouseEvent(
            QMouseEvent.Type.MouseMove,
            point,
            QPointF(widget.mapToGlobal(point.toPoint())),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(widget, event)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end.toPoint())


def test_a_long_design_is_drawn_wide_enough_and_scrolled_with_the_canvas(qtbot: Any) -> None:
    window = chain_window(qtbot, 600)  # 1,802 blocks
    view, minimap = window.canvas, window.canvas.minimap
    inside = QRectF(minimap.rect()).adjusted(2, 2, -2, -2)
    assert minimap.target.width() >= MIN_ACROSS - 0.5  # not a sliver
    assert minimap.target.height() > inside.height()  # longer than the minimap: scrolled
    assert inside.contains(shown(minimap))
    # a click below the shown part pans the canvas there; the overview stays under the pointer
    top = QRectF(minimap.target)
    point = QPointF(minimap.target.center().x(), shown(minimap).bottom() + 40)
    assert inside.contains(point)
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=point.toPoint())
    assert shown(minimap).contains(point) and minimap.target == top
    # a drag down to the minimap's bottom: the canvas follows, the overview holds still while
    # dragged on and, once let go, scrolls up to bring the shown part inside
    before = view.visible_scene_rect().center().y()
    drag(qtbot, minimap, point, QPointF(point.x(), inside.bottom() - 2))
    assert view.visible_scene_rect().center().y() > before
    assert minimap.target.top() < top.top() and inside.contains(shown(minimap))
    inner = QRectF(minimap.rect()).adjusted(4, 4, -4, -4)
    # the canvas panned back to the top with the middle button: the overview follows it
    viewport = view.viewport()
    start = viewport.rect().center()
    for _ in range(100):
        if view.visible_scene_rect().top() <= view.items_rect().top():
            break
        qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=start)
        qtbot.mouseMove(viewport, start + QPoint(0, 200))
        qtbot.mouseMove(viewport, start + QPoint(0, 400))
        qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=start + QPoint(0, 400))
    assert view.visible_scene_rect().top() <= view.items_rect().top()
    assert minimap.target.top() == pytest.approx(inner.top(), abs=0.5)
    assert inside.contains(shown(minimap).center())
