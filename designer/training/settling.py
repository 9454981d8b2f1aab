"""Charts brought to the front are laid out before they are painted, a few milliseconds at a time.

A page shown for the first time at its size laid itself out over several turns of the event
loop (its widgets, then each chart's plots, then its axes once their labels were measured at
the first paint), and each turn painted its charts again: three or four paints, 30-60 ms of
the UI thread for Gradient flow or Evaluation. Settling carries out the pending layout
requests, lets the views take their automatic ranges (pyqtgraph does it at the paint) and the
axes lay their labels out, until nothing moves; then the page paints once.

``settle_charts`` does it at once. ``ChartSettler`` does it in slices of at most
``SLICE_SECONDS``, one turn of the event loop each, the charts' painting held until the last:
for a page just brought to the front (in one turn, the first show of Evaluation or of the Runs
view held the UI thread 25-30 ms, two to three times that while a run trains on both cores, so
a click or a key waited that long), and for charts in view whose axes must be laid out again
(a run's start, new data outside the drawn range: a paint of 25-35 ms at the run's start).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from designer.training.widgets import PlotArea, ReadableAxis

SETTLE_ROUNDS = 8  # layout passes before a paint: a window's widgets nest about as deep
SLICE_SECONDS = 0.004  # the longest a slice of settling holds the event loop (at least a step)
SLICE_PAUSE_MS = 1  # a timer, not a zero one: due timers and input run between two slices


def chart_areas(root: QWidget) -> list[PlotArea]:
    """The visible chart areas in ``root`` (itself included)."""
    areas = [root] if isinstance(root, PlotArea) else []
    return [area for area in areas + root.findChildren(PlotArea) if area.isVisible()]


def settle_steps(areas: list[PlotArea]) -> Iterator[None]:
    """The settling of the charts in ``areas``, one small step per ``next``."""
    axes: list[ReadableAxis] = []
    for area in areas:
        axes += [item for item in area.scene().items() if isinstance(item, ReadableAxis)]
        yield
    for _ in range(SETTLE_ROUNDS):  # each pass may post requests to the parents of what it set
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        yield
        for area in areas:  # the views' automatic ranges, which pyqtgraph sets at the paint
            area.scene().prepareForPaint()
            yield
        for axis in axes:
            if axis.prepare():
                yield


def settle_charts(root: QWidget | None) -> None:
    """Finish the layout of the charts in ``root`` before their next paint, at once."""
    if root is None or not root.isVisible():
        return  # hidden charts are laid out when shown
    for _ in settle_steps(chart_areas(root)):
        pass


class ChartSettler(QObject):
    """Settles one page at a time in slices; the page paints once, when it is settled.

    ``start(page)`` holds the painting of the page's charts (``PlotArea.hold_paint``: their
    views show their background meanwhile, or what they showed) and settles them over the next
    turns of the event loop; a page sent to the back meanwhile, or another page started, ends
    the settling of the first (painting given back: pyqtgraph lays out what is left at its
    paint, as it always did). ``finish`` does the rest at once.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.page: QWidget | None = None
        self.areas: list[PlotArea] = []
        self._steps: Iterator[None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SLICE_PAUSE_MS)
        self._timer.timeout.connect(self._slice)

    @property
    def settling(self) -> bool:
        return self._steps is not None

    def start(self, page: QWidget | None, keep_shown: bool = False) -> None:
        """Settle ``page`` (visible) before its next paint: just brought to the front, its
        charts show their background meanwhile; with ``keep_shown`` (charts in view whose
        axes changed) what they showed."""
        self._release()
        if page is None or not page.isVisible():
            return
        self.areas = chart_areas(page)
        if not self.areas:
            return
        self.page, self._steps = page, settle_steps(self.areas)
        for area in self.areas:
            area.hold_paint(True, keep_shown)
        self._timer.start()

    def settle_if_stale(self, page: QWidget | None) -> None:
        """Settle ``page`` when one of its axes must lay its labels out again (its range or
        ticks changed): the paint that follows new data then only draws."""
        if page is None or (self.settling and self.page is page) or not page.isVisible():
            return
        areas = chart_areas(page)
        axes = (i for a in areas for i in a.scene().items() if isinstance(i, ReadableAxis))
        if any(axis.picture is None and axis.isVisible() for axis in axes):
            self.start(page, keep_shown=True)

    def finish(self) -> None:
        """Settle what is left now and let the page paint."""
        if self._steps is not None and self.page is not None and self.page.isVisible():
            for _ in self._steps:
                pass
        self._release()

    def _slice(self) -> None:
        steps, page = self._steps, self.page
        if steps is None or page is None or not page.isVisible():
            self._release()
            return
        deadline = time.perf_counter() + SLICE_SECONDS
        for _ in steps:
            if time.perf_counter() >= deadline:
                self._timer.start()
                return
        self._release()

    def _release(self) -> None:
        self._timer.stop()
        areas, self.areas, self.page, self._steps = self.areas, [], None, None
        for area in areas:
            if isValid(area):  # (a chart area deleted meanwhile has nothing to give back)
                area.hold_paint(False)  # each paints once, now


def finish_settling(root: QObject) -> None:
    """Finish at once every settling under ``root`` (before a picture of it is taken)."""
    for settler in root.findChildren(ChartSettler):
        settler.finish()
