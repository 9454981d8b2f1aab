"""Issue 17, item 7: the minimap. An overview of the whole design in the canvas's corner with
the shown part as a rectangle; a click or a drag on it pans the canvas; toggled from the View
menu and Ctrl+Shift+M; hidden while the design fits; panning never redraws the overview."""

from __future__ import annotations

from typing import Any

import pytest
from designer_helpers import open_window
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from designer.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("clean_windows")


def expanded_resnet50(qtbot: Any) -> MainWindow:
    window = open_window(qtbot, "resnet50")
    button = window.design_toolbar.widgetForAction(window.actions_by_name["expand_all"])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.canvas.minimap.isVisible())
    return window


def centre(window: MainWindow) -> QPointF:
    return window.canvas.visible_scene_rect().center()


def test_hidden_while_the_design_fits_and_toggled_by_menu_and_shortcut(qtbot: Any) -> None:
    window = open_window(qtbot, "lenet5")
    minimap, action = window.canvas.minimap, window.actions_by_name["minimap"]
    assert not minimap.isVisible() and not action.isChecked()
    view_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View"
    )
    assert action in view_menu.actions()
    qtbot.keyClick(
        window,
        Qt.Key.Key_M,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert minimap.isVisible() and action.isChecked()
    # in the canvas's bottom-right corner, inside it
    canvas = window.canvas.viewport().geometry()
    assert canvas.contains(minimap.geometry())
    assert canvas.right() - minimap.geometry().right() < 30
    assert canvas.bottom() - minimap.geometry().bottom() < 30
    action.trigger()  # the View menu's entry
    assert not minimap.isVisible() and not action.isChecked()


def test_shown_for_a_design_that_does_not_fit_and_a_click_pans_there(qtbot: Any) -> None:
    window = expanded_resnet50(qtbot)
    view, minimap = window.canvas, window.canvas.minimap
    assert window.actions_by_name["minimap"].isChecked()
    scale = view.transform().m11()
    target = view.scene_item_rects()["output"]
    assert not view.visible_scene_rect().intersects(target)  # the end of the design is off-screen
    on_map = minimap.scene_to_map(target).center()
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=on_map.toPoint())
    assert view.visible_scene_rect().contains(target.center())
    assert abs(centre(window).x() - target.center().x()) < 2 / minimap.target.width() * 1e4
    assert view.transform().m11() == pytest.approx(scale)  # panned, not zoomed
    # the rectangle on the minimap is where the canvas now looks
    assert minimap.scene_to_map(view.visible_scene_rect()).contains(on_map)


def test_a_drag_on_the_minimap_moves_the_canvas_along(qtbot: Any) -> None:
    window = expanded_resnet50(qtbot)
    view, minimap = window.canvas, window.canvas.minimap
    start = minimap.scene_to_map(view.scene_item_rects()["input"]).center().toPoint()
    end = minimap.scene_to_map(view.scene_item_rects()["fc"]).center().toPoint()
    qtbot.mousePress(minimap, Qt.MouseButton.LeftButton, pos=start)
    seen = []
    for i in range(1, 6):
        point = start + (end - start) * (i / 5)
        qtbot.mouseMove(minimap, point)
        # (offscreen, qtbot.mouseMove sends no button state: a real move with the button down)
        from PySide6.QtGui import QMouseEvent

        event = QMouseEvent(
            QMouseEvent.Type.MouseMove,
            QPointF(point),
            QPointF(minimap.mapToGlobal(point)),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(minimap, event)
        seen.append(centre(window))
    qtbot.mouseRelease(minimap, Qt.MouseButton.LeftButton, pos=end)
    assert view.visible_scene_rect().contains(view.scene_item_rects()["fc"].center())
    ys = [p.y() for p in seen]
    assert ys == sorted(ys) and ys[-1] > ys[0]  # followed the drag down the design
    # a wheel zoom afterwards keeps working from the panned place (the user has the view)
    view.resize(view.width() - 1, view.height())
    QApplication.processEvents()
    assert view.visible_scene_rect().contains(view.scene_item_rects()["fc"].center())


def test_panning_moves_only_the_rectangle_the_overview_redraws_after_an_edit(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = expanded_resnet50(qtbot)
    view, minimap = window.canvas, window.canvas.minimap
    qtbot.wait(600)  # the design settles (texts, wires), the overview is redrawn once
    qtbot.waitUntil(lambda: minimap._pixmap is not None and not minimap._stale)
    before = minimap.redraws
    for step in range(5):
        view.pan_to(QPointF(0.0, 500.0 * step))
        minimap.repaint()
    QApplication.processEvents()
    assert minimap.redraws == before  # five pans, no redraw of the overview
    window.document.move_nodes({"fc": (5000.0, 0.0)})  # an edit changes the design
    qtbot.waitUntil(lambda: minimap.redraws == before + 1, timeout=3000)  # redrawn once, lazily
    assert minimap.source.right() > 5000.0  # the overview now holds the moved block


def test_the_overview_draws_blocks_in_their_colours_without_asking_items_to_paint(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from designer.canvas import items, style

    painted = []
    for cls in (items.NodeItem, items.PortItem):  # (before the items are first painted)
        original = cls.paint

        def counted(item: Any, *args: Any, original: Any = original) -> Any:
            painted.append(item)
            return original(item, *args)

        monkeypatch.setattr(cls, "paint", counted)
    window = open_window(qtbot, "lenet5")
    view, minimap = window.canvas, window.canvas.minimap
    view.viewport().repaint()
    assert painted  # the canvas paints its items
    painted.clear()
    window.actions_by_name["minimap"].trigger()
    assert minimap.isVisible()
    qtbot.waitUntil(lambda: minimap._pixmap is not None)
    assert painted == []  # a few batched calls, not a paint() per block and port

    def colour_at(name: str) -> Any:
        rect = view.scene_item_rects()[name]
        point = (minimap.scene_to_map(rect).center() - minimap.target.topLeft()) * (
            minimap._pixmap.devicePixelRatio()
        )
        return minimap._pixmap.toImage().pixelColor(point.toPoint()).name()

    assert colour_at("conv1") == style.block_colour("conv2d").name()
    assert colour_at("pool1") == style.block_colour("avgpool2d").name()
    redraws = minimap.redraws
    window.document.set_selection(["conv1"])
    qtbot.waitUntil(lambda: minimap.redraws > redraws, timeout=3000)
    assert colour_at("conv1") == style.SELECTED_COLOUR


def test_a_big_design_opened_draws_the_overview_once(qtbot: Any) -> None:
    window = open_window(qtbot, "lenet5")
    minimap = window.canvas.minimap
    assert not minimap.isVisible() and minimap.redraws == 0
    from benchmarks.canvas_5000 import chain_graph
    from engine import Project

    window.document.replace_project(Project(chain_graph(400)))  # 1,202 blocks
    qtbot.waitUntil(minimap.isVisible)  # it does not fit any more
    qtbot.wait(800)  # the new items announced, the redraw delay passed
    assert minimap.redraws == 1 and not minimap._stale
