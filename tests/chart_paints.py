"""Counting the paints that draw a chart area's charts (held paints, while its layout settles a
slice a turn, draw nothing and are counted apart), and waiting for the settling to end."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtWidgets import QApplication, QWidget

from designer.training.widgets import PlotArea


class ChartPaints(QObject):
    """The regions of the paints of ``area`` that drew its charts; ``held``: those held."""

    def __init__(self, area: PlotArea) -> None:
        super().__init__()
        self.area = area
        self.regions: list[QRect] = []
        self.held = 0
        area.viewport().installEventFilter(self)

    @property
    def count(self) -> int:
        return len(self.regions)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            if self.area.paint_held:
                self.held += 1
            else:
                self.regions.append(event.region().boundingRect())  # type: ignore[attr-defined]
        return False


def settle(qtbot: Any, root: QWidget) -> None:
    """Let the settling of the charts under ``root``, the posted events, the layouts and the
    paints run out. (Not ``QApplication.allWidgets()``: wrapping every widget of the process,
    those of earlier tests included, crashed PySide6 once in CI.)"""
    areas = [root] if isinstance(root, PlotArea) else []
    areas += root.findChildren(PlotArea)
    qtbot.waitUntil(lambda: not any(area.paint_held for area in areas), timeout=5000)
    for _ in range(8):
        QApplication.processEvents()
    qtbot.wait(20)
