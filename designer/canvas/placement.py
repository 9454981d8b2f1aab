"""Where a block added without a drop point goes: in the visible part of the canvas, near the
selection (below the selected block when it is in view, else the view's centre), on a free spot
(never off-screen, never on another block when a free spot is in view)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF

from designer.canvas import style

if TYPE_CHECKING:
    from designer.canvas.view import CanvasView

GAP = 40.0  # scene units kept between blocks
RINGS = 6  # how far (in block steps) from the preferred spot a free one is searched


def visible_rect(view: CanvasView) -> QRectF:
    """The part of the scene the view shows."""
    return view.mapToScene(view.viewport().rect()).boundingRect()


def preferred_centre(view: CanvasView) -> QPointF:
    """Below the last selected block when it is in view, else the middle of the view."""
    seen = visible_rect(view)
    selection = [n for n in view.document.selection if n in view.canvas.nodes]
    if selection:
        box = view.canvas.nodes[selection[-1]].scene_rect()
        if seen.intersects(box):
            return QPointF(box.center().x(), box.bottom() + GAP + style.NODE_HEIGHT / 2)
    return seen.center()


def free_centre(view: CanvasView, centre: QPointF) -> QPointF:
    """The centre of a block-sized spot near ``centre`` that lies in view and overlaps no
    block; ``centre`` itself (pulled into view) when there is none."""
    seen = visible_rect(view)
    width, height = style.NODE_WIDTH, style.NODE_HEIGHT
    inner = seen.adjusted(width / 2 + 8, height / 2 + 8, -width / 2 - 8, -height / 2 - 8)
    if inner.isEmpty():  # a view smaller than a block: its middle
        return seen.center()
    taken = [
        r.adjusted(-GAP / 2, -GAP / 2, GAP / 2, GAP / 2) for r in view.scene_item_rects().values()
    ]
    step_x, step_y = width + GAP, height + GAP
    spots = [
        QPointF(centre.x() + i * step_x, centre.y() + j * step_y)
        for i in range(-RINGS, RINGS + 1)
        for j in range(-RINGS, RINGS + 1)
    ]

    def cost(p: QPointF) -> float:  # near first; then below before above, right before left
        dx, dy = (p.x() - centre.x()) / step_x, (p.y() - centre.y()) / step_y
        return dx * dx + dy * dy + (0.1 if dy < 0 else 0.0) + (0.05 if dx < 0 else 0.0)

    spots.sort(key=cost)
    for spot in spots:
        if not inner.contains(spot):
            continue
        rect = QRectF(0, 0, width, height)
        rect.moveCenter(spot)
        if not any(rect.intersects(other) for other in taken):
            return spot
    return QPointF(
        min(max(centre.x(), inner.left()), inner.right()),
        min(max(centre.y(), inner.top()), inner.bottom()),
    )
