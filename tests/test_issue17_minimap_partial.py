"""Issue 17 (Scale): after an edit the minimap draws again only the regions the scene reports as
changed (the whole overview took 15-45 ms at 5,000 blocks), and the picture it keeps equals
the whole overview drawn afresh: a selected block, an edited block's new label and wires, a
block moved within the design."""

from __future__ import annotations

from typing import Any

import pytest
from designer_helpers import chain_window
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from designer.canvas import style
from designer.canvas.overview import draw_overview

pytestmark = pytest.mark.usefixtures("clean_windows")


def whole(minimap: Any) -> QImage:
    """The whole overview drawn afresh, as the minimap draws it when the design changes."""
    size = minimap.target.size()
    ratio = minimap._pixmap.devicePixelRatio()
    pixmap = QPixmap((size * ratio).toSize().expandedTo(QSize(1, 1)))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(QColor(style.BACKGROUND))
    painter = QPainter(pixmap)
    draw_overview(painter, minimap.view.canvas, minimap.source, QRectF(QPointF(0, 0), size))
    painter.end()
    return pixmap.toImage()


def differing(a: QImage, b: QImage) -> int:
    assert a.size() == b.size()
    return sum(a.pixel(x, y) != b.pixel(x, y) for y in range(a.height()) for x in range(a.width()))


def coloured(image: QImage, colour: str) -> int:
    rgb = QColor(colour).rgb()
    return sum(
        image.pixel(x, y) == rgb for y in range(image.height()) for x in range(image.width())
    )


def settle(qtbot: Any, minimap: Any, redraws: int) -> None:
    qtbot.waitUntil(lambda: minimap.redraws > redraws and not minimap._stale, timeout=3000)


def test_an_edit_redraws_only_its_regions_and_equals_the_whole(qtbot: Any) -> None:
    window = chain_window(qtbot, 400)  # 1,202 blocks
    view, minimap, doc = window.canvas, window.canvas.minimap, window.document
    qtbot.wait(400)  # texts and wires settle
    QApplication.processEvents()
    if minimap._stale:
        settle(qtbot, minimap, minimap.redraws)
    assert differing(minimap._pixmap.toImage(), whole(minimap)) == 0
    # a click selects a block (a mouse press on its centre, as a user picks it)
    name = "conv200"
    centre = view.scene_item_rects()[name].center()
    view.center_on_node(name)
    QApplication.processEvents()
    redraws, partial = minimap.redraws, minimap.partial_redraws
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(centre))
    assert doc.selection == [name]
    settle(qtbot, minimap, redraws)
    assert minimap.partial_redraws == partial + 1
    image = minimap._pixmap.toImage()
    assert differing(image, whole(minimap)) == 0
    # the selected block shows, though the blocks are thinner than a pixel at this size
    assert coloured(image, style.SELECTED_COLOUR) > 0
    # a parameter edit: its label and the next blocks' labels change
    redraws, partial = minimap.redraws, minimap.partial_redraws
    doc.set_params(name, {"out_channels": 24})
    settle(qtbot, minimap, redraws)
    assert minimap.partial_redraws == partial + 1
    assert differing(minimap._pixmap.toImage(), whole(minimap)) == 0
    # a block moved a little, within the design's bounds; then undone
    for step in (
        lambda: doc.move_nodes({"bn200": (centre.x() + 150, centre.y() + 40)}),
        doc.undo_stack.undo,
    ):
        redraws, partial = minimap.redraws, minimap.partial_redraws
        before = QRectF(minimap.source)
        step()
        settle(qtbot, minimap, redraws)
        if minimap.source == before:
            assert minimap.partial_redraws == partial + 1
        assert differing(minimap._pixmap.toImage(), whole(minimap)) == 0
