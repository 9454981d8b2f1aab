"""Tooltips on the canvas, made when shown.

Qt shows the tooltip an item was given (``setToolTip``); a 5,000-block design has 10,000 ports
and 5,000 wires, and setting each one's text cost a tenth of a second on opening and again on
every label change. Ports and wires instead have a ``tooltip_text()`` method that the scene asks
when the mouse rests on them; other items keep their ``toolTip()``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneHelpEvent, QGraphicsView, QToolTip


def tooltip_at(scene: QGraphicsScene, event: QGraphicsSceneHelpEvent) -> str:
    """The tooltip of the topmost item under the event's position that has one ("" if none)."""
    widget = event.widget()
    view = widget.parentWidget() if widget is not None else None
    transform = view.transform() if isinstance(view, QGraphicsView) else QTransform()
    for item in scene.items(
        event.scenePos(),
        Qt.ItemSelectionMode.IntersectsItemShape,
        Qt.SortOrder.DescendingOrder,
        transform,
    ):
        make = getattr(item, "tooltip_text", None)
        text = make() if make is not None else item.toolTip()
        if text:
            return text
    return ""


def show_tooltip(scene: QGraphicsScene, event: QGraphicsSceneHelpEvent) -> None:
    """Show (or hide) the tooltip for ``event``, as ``QGraphicsScene.helpEvent`` does."""
    text = tooltip_at(scene, event)
    if text:
        QToolTip.showText(event.screenPos(), text, event.widget())
    else:
        QToolTip.hideText()
    event.setAccepted(bool(text))
