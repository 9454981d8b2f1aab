"""The main window's actions for the canvas's view: find next/previous, the minimap and the
layout direction (View menu). Kept here so the window only lists them in its menus."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QActionGroup

from designer.canvas.view import CanvasView
from engine.layout import DIRECTIONS, layout_direction


def install_canvas_actions(window: Any, canvas: CanvasView) -> None:
    """Create the actions on ``window`` (through its ``_action``, so that they are listed by
    name with their shortcuts from the shortcuts table)."""
    a = window._action
    a("find_next", "Find &next", lambda: window.finder.step(1))
    a("find_previous", "Find pre&vious", lambda: window.finder.step(-1))

    minimap = a("minimap", "&Minimap", canvas.minimap.toggle)
    minimap.setCheckable(True)
    minimap.setToolTip("An overview of the whole design; click or drag it to move the canvas")
    canvas.minimap.shown_changed.connect(minimap.setChecked)

    group = QActionGroup(window)
    group.setExclusive(True)
    for direction, text in DIRECTIONS.items():
        action = a(
            f"layout_{direction}",
            f"Lay out {text.lower()}",
            lambda d=direction: canvas.set_layout_direction(d),
        )
        action.setCheckable(True)
        group.addAction(action)

    def show_direction(*_args: object) -> None:
        current = layout_direction(canvas.document.project.view)
        for direction in DIRECTIONS:
            window.actions_by_name[f"layout_{direction}"].setChecked(direction == current)

    canvas.document.inferred.connect(show_direction)  # after an edit, undo and redo
    canvas.document.project_replaced.connect(show_direction)
    show_direction()
