"""Small pyqtgraph/Qt building blocks shared by the dashboard pages (imports pyqtgraph)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPicture,
    QPixmap,
)
from PySide6.QtWidgets import QGraphicsItem, QLabel, QProgressBar, QVBoxLayout, QWidget

from designer.training.images import image_to_display

pg.setConfigOptions(antialias=False, background="w", foreground="k")

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
# the widest tick labels pyqtgraph writes for a plot's values: fixed decimals down to 0.001
# ("0.00120"), "%g" beyond it and from 10,000 on (e.g. "2.5e-05", "1.05e+06")
WIDEST_TICK_LABELS = ("0.00000", "8.88e-08", "8.88e+08")


def steady_left_axis(plot: pg.PlotItem) -> None:
    """Give the left axis of ``plot`` a fixed width that holds the widest tick label it can
    write.

    By default the axis fits its width to its labels, and every change re-lays out the
    whole plot area: while a run trains, the loss and throughput axes changed their labels'
    width several times in the first epochs, each time repainting every plot at 4–7 times
    the cost of an ordinary update.
    """
    axis = plot.getAxis("left")
    metrics = QFontMetrics(axis.style["tickFont"] or axis.font())
    text = max(metrics.horizontalAdvance(label) for label in WIDEST_TICK_LABELS)
    width = text + axis.style["tickTextOffset"][0] + max(0, axis.style["tickLength"])
    if axis.label.isVisible():
        width += round(axis.label.boundingRect().height())
    axis.setWidth(width)


Span = tuple[float, float]


def steady_span(
    shown: Span | None, low: float, high: float, *, margin: float = 0.1, from_zero: bool = False
) -> Span | None:
    """The axis range for values in [``low``, ``high``], or None to keep ``shown``.

    The range moves only when the values leave it or fill less than a third of it, and then
    takes them with ``margin`` of their width to spare on each side (from 0 with
    ``from_zero``). A plot that autoscales instead re-ranges on every update: it regenerates
    its axes and paints twice, which made a snapshot's plots 3–5 times dearer to draw.
    """
    if from_zero:
        low = 0.0
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        return None
    width = high - low
    if shown is not None:
        shown_low, shown_high = shown
        if shown_low <= low and high <= shown_high and 3 * width >= shown_high - shown_low:
            return None
    pad = margin * width if width > 0 else margin * max(abs(high), 1.0)
    return (low if from_zero else low - pad, high + pad)


class SteadyRanges:
    """The ranges shown on some plots' axes, each moved only when ``steady_span`` says so."""

    def __init__(self) -> None:
        self._shown: dict[tuple[int, str], Span] = {}

    def clear(self) -> None:
        """Forget the ranges shown (a new run): the next values set them afresh."""
        self._shown.clear()

    def follow(
        self,
        plot: pg.PlotItem,
        axis: str,
        low: float,
        high: float,
        *,
        margin: float,
        from_zero: bool = False,
    ) -> None:
        """Show values in [``low``, ``high``] on the ``axis`` ("x" or "y") of ``plot``."""
        key = (id(plot), axis)
        span = steady_span(self._shown.get(key), low, high, margin=margin, from_zero=from_zero)
        if span is not None:
            self._shown[key] = span
            if axis == "x":
                plot.setXRange(*span, padding=0)
            else:
                plot.setYRange(*span, padding=0)


def blend(a: QColor, b: QColor, share: float) -> QColor:
    """``share`` of colour ``a`` mixed with the rest of ``b``."""
    return QColor.fromRgbF(
        share * a.redF() + (1 - share) * b.redF(),
        share * a.greenF() + (1 - share) * b.greenF(),
        share * a.blueF() + (1 - share) * b.blueF(),
    )


def readable_progress_text(bar: QProgressBar) -> None:
    """Make the text of ``bar`` readable over both its fill and its empty groove.

    Fusion (the default style on Linux) draws the part of the text over the fill in the
    highlighted-text colour (white) and the rest in the text colour, splitting at a slightly
    different place than where the fill ends: letters straddling the end of the fill came
    out white on the white groove. Here the fill is the highlight blended half-way with the
    groove's colour, and the text is the ordinary text colour everywhere, which reads on both
    (dark on light blue in a light theme, light on dark blue in a dark one).
    """
    palette = bar.palette()
    role = QPalette.ColorRole
    for group in (
        QPalette.ColorGroup.Active,
        QPalette.ColorGroup.Inactive,
        QPalette.ColorGroup.Disabled,
    ):
        text = palette.color(group, role.Text)
        fill = blend(palette.color(group, role.Highlight), palette.color(group, role.Base), 0.5)
        palette.setColor(group, role.Highlight, fill)
        palette.setColor(group, role.HighlightedText, text)
    bar.setPalette(palette)


def nice_log_bounds(low: float, high: float) -> Span:
    """log10 of the nearest 1, 2 or 5 × 10^k at or below ``low`` and at or above ``high``
    (both positive): a log axis that ends on values it labels."""
    steps = (1.0, 2.0, 5.0, 10.0)
    decade = math.floor(math.log10(low))
    below = max(m for m in steps if m * 10.0**decade <= low * (1 + 1e-9))
    decade_high = math.floor(math.log10(high))
    above = min(m for m in steps if m * 10.0**decade_high >= high * (1 - 1e-9))
    return math.log10(below) + decade, math.log10(above) + decade_high


TICK_DENSITY = 0.6  # of pyqtgraph's default: fewer ticks, so small charts keep labels apart
LABEL_GAP = 6.0  # pixels at least between two tick labels of an axis


def spaced_labels(
    texts: list[tuple[QRectF, object, str]], gap: float = LABEL_GAP
) -> list[tuple[QRectF, object, str]]:
    """The tick labels (rect, flags, text) to draw, in the order given (pyqtgraph gives the
    major ticks' first): a label closer than ``gap`` to one already kept is left out."""
    kept: list[tuple[QRectF, object, str]] = []
    half = gap / 2
    for spec in texts:
        grown = spec[0].adjusted(-half, -half, half, half)
        if not any(grown.intersects(k[0].adjusted(-half, -half, half, half)) for k in kept):
            kept.append(spec)
    return kept


class ReadableAxis(pg.AxisItem):
    """An axis whose tick labels never touch: fewer automatic ticks (``TICK_DENSITY``), and a
    label that would come closer than ``LABEL_GAP`` to another is left out. pyqtgraph draws
    its major labels however crowded they are (and fixed ticks, such as layer or class names,
    all of them): on a small chart they ran into each other.

    It is cached as a pixmap: pyqtgraph keeps an axis as a QPicture and replays it at every
    paint, which lays its labels out again (about 1.2 ms an axis with layer names); a page of
    six axes brought to the front spent more than half of its paint there. pyqtgraph calls
    ``update()`` whenever the range, ticks, labels or pen change, which renders it again.
    """

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.setTickDensity(TICK_DENSITY)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def generateDrawSpecs(self, p: QPainter) -> tuple | None:
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis, ticks, texts = specs
        return axis, ticks, spaced_labels(texts)

    def prepare(self) -> bool:
        """Lay the labels out now, as pyqtgraph's ``paint`` does when it has no picture;
        whether it had to. pyqtgraph learns the labels' width only there, and a width that
        changes lays the plot out again after the paint, which then paints it again."""
        if self.picture is not None or not self.isVisible():
            return False
        picture = QPicture()
        painter = QPainter(picture)
        try:
            if self.style["tickFont"]:
                painter.setFont(self.style["tickFont"])
            specs = self.generateDrawSpecs(painter)
            if specs is not None:
                self.drawPicture(painter, *specs)
        finally:
            painter.end()
        self.picture = picture
        return True


def readable_plot(area: pg.GraphicsLayoutWidget, title: str, **kwargs: object) -> pg.PlotItem:
    """A plot added to ``area`` with ``ReadableAxis`` axes on its left and bottom."""
    axes = {"left": ReadableAxis("left"), "bottom": ReadableAxis("bottom")}
    return area.addPlot(title=title, axisItems=axes, **kwargs)


def legend_above(plot: pg.PlotItem, columns: int) -> pg.LegendItem:
    """A one-row legend in the plot's title row, at its right end: outside the data, where it
    covers no curve however small the chart is (the title moves to the left end)."""
    legend = plot.addLegend(offset=None, colCount=columns, labelTextSize="8pt", horSpacing=8)
    legend.setParentItem(plot)
    legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-4, 4))
    legend.layout.setContentsMargins(0, 0, 0, 0)
    legend.setBrush(None)
    legend.setPen(None)
    plot.setTitle(plot.titleLabel.text, justify="left")
    return legend


def set_title(plot: pg.PlotItem, title: str) -> None:
    """Set the plot's title when it changes: pyqtgraph re-lays out the plot for every call,
    repainting all of it and its axes."""
    if plot.titleLabel.text != title:
        plot.setTitle(title)


class SteadyActivation(QObject):
    """Keeps a chart's scene active once it has been activated.

    Qt tells a scene its window was deactivated when the view is hidden and activated when it
    is shown, and the scene passes that on to every item, each repainting (for a palette that
    may differ between active and inactive windows; the charts' does not): a dashboard page
    brought to the front painted its charts three times instead of once, and the page sent to
    the back had every item marked for a repaint. The scene stays active, so focus and keys
    work as before.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.WindowDeactivate:
            return True
        if kind == QEvent.Type.WindowActivate:
            return bool(watched.isActive())  # type: ignore[attr-defined]
        return False


class PlotArea(pg.GraphicsLayoutWidget):
    """A pyqtgraph layout whose size hint does not follow its own size, and whose scene is not
    repainted for being hidden and shown (``SteadyActivation``).

    A QGraphicsView hints the size of its scene, and pyqtgraph sizes the scene to the view, so
    every layout pass asked for a few pixels more: the bottom dock grew step by step until the
    canvas was squeezed to its minimum, repainting the whole window each time.
    """

    HINT = QSize(400, 240)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # the chart shown alone, and where every chart stood before: (item, row, col, spans)
        self.enlarged: pg.GraphicsWidget | None = None
        self._placements: list[tuple[pg.GraphicsWidget, int, int, int, int]] = []
        self._activation = SteadyActivation(self)
        self.scene().installEventFilter(self._activation)
        self.setToolTip("Double-click a chart to enlarge it; double-click again or Esc to go back")
        self._holds = 0  # painting held while its layout settles (``settling.ChartSettler``)
        self._fills = True  # the viewport's background filling, given back after a hold
        self._kept = False  # held keeping what it showed (opaque)

    def sizeHint(self) -> QSize:
        return self.HINT

    @property
    def paint_held(self) -> bool:
        return self._holds > 0

    def hold_paint(self, held: bool, keep_shown: bool = False) -> None:
        """Hold painting or release one hold; the last release paints at once. Held, the
        view's paints draw nothing: its background, or with ``keep_shown`` what it showed
        (opaque meanwhile, so Qt does not clear it first; for charts already in view whose
        axes are being laid out again: they do not blink). A page brought to the front shows
        its background, then its charts once they are laid out, not the page it replaced."""
        viewport = self.viewport()
        if held and not self._holds and keep_shown:
            self._fills = viewport.autoFillBackground()
            self._kept = True
            viewport.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
            viewport.setAutoFillBackground(False)
        self._holds = self._holds + 1 if held else max(self._holds - 1, 0)
        if not held and not self._holds:
            if self._kept:
                self._kept = False
                viewport.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
                viewport.setAutoFillBackground(self._fills)
            viewport.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._holds:
            super().paintEvent(event)

    def charts(self) -> list[pg.GraphicsWidget]:
        """The charts (plots) laid out in this area, in the order they were added."""
        return list(self.ci.items)

    def enlarge(self, chart: pg.GraphicsWidget) -> None:
        """Show ``chart`` alone, over the whole area (the other charts wait aside)."""
        if self.enlarged is not None or chart not in self.ci.items or len(self.ci.items) < 2:
            return
        self._placements = []
        for item, cells in list(self.ci.items.items()):
            rows = [r for r, _ in cells]
            cols = [c for _, c in cells]
            span = (max(rows) - min(rows) + 1, max(cols) - min(cols) + 1)
            self._placements.append((item, min(rows), min(cols), *span))
        for item, *_ in self._placements:
            if item is not chart:
                self.ci.removeItem(item)
        self.enlarged = chart

    def restore(self) -> None:
        """Put every chart back where it was."""
        if self.enlarged is None:
            return
        chart, self.enlarged = self.enlarged, None
        self.ci.removeItem(chart)
        for item, row, col, rowspan, colspan in self._placements:
            self.ci.addItem(item, row, col, rowspan, colspan)
        self._placements = []

    def chart_at(self, pos: QPointF) -> pg.GraphicsWidget | None:
        """The chart under ``pos`` (view coordinates), if any."""
        for item in self.items(pos.toPoint()):
            while item is not None:
                if item in self.ci.items:
                    return item  # type: ignore[return-value]
                item = item.parentItem()
        return None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.enlarged is not None:
            self.restore()
            event.accept()
            return
        chart = self.chart_at(event.position())
        if chart is not None and len(self.ci.items) > 1:
            self.enlarge(chart)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.enlarged is not None:
            self.restore()
            event.accept()
            return
        super().keyPressEvent(event)


class EpochCurve:
    """A series with a point per epoch: a line and a marker on each point.

    A PlotCurveItem and a ScatterPlotItem take a quarter of the time to update that one
    PlotDataItem with symbols does (it restyles every marker on each ``setData``), and on the
    built-in Digits set an epoch lasts a fraction of a second. The legend gets a PlotDataItem of
    the same style that is never drawn, so its sample shows line and marker; clicking the sample
    hides or shows both.
    """

    def __init__(self, plot: pg.PlotItem, colour: str, symbol: str, name: str) -> None:
        pen = pg.mkPen(colour, width=2)
        style = {"symbol": symbol, "symbolSize": 6, "symbolPen": colour, "symbolBrush": colour}
        self.line = pg.PlotCurveItem(pen=pen)
        self.markers = pg.ScatterPlotItem(symbol=symbol, size=6, pen=colour, brush=colour)
        plot.addItem(self.line)
        plot.addItem(self.markers)
        self.sample = pg.PlotDataItem([0.0], [0.0], pen=pen, **style)
        if plot.legend is not None:
            plot.legend.addItem(self.sample, name)
        self.sample.visibleChanged.connect(self._follow_sample)

    def setData(self, x: np.ndarray, y: np.ndarray) -> None:
        """Draw the points (x, y) joined by the line."""
        self.line.setData(x, y)
        self.markers.setData(x=x, y=y)

    def getData(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The points drawn, as (x, y); (None, None) when there are none (as PlotDataItem)."""
        x, y = self.line.getData()
        return (None, None) if x is None or not len(x) else (x, y)

    def isVisible(self) -> bool:
        """Whether the series is shown (the legend's sample hides it)."""
        return self.line.isVisible()

    def _follow_sample(self) -> None:
        shown = self.sample.isVisible()
        self.line.setVisible(shown)
        self.markers.setVisible(shown)


class CellLabels(pg.GraphicsObject):
    """The numbers of an n×n matrix, each centred on its unit cell at ((col, row) + 0.5), drawn
    by one item at the screen's font size whatever the zoom.

    One item instead of a TextItem per cell: a hundred TextItems take about 40 ms to make, most
    of the event loop's budget. Numbers are left out while the cells are too small to hold them.
    """

    MIN_CELL_PIXELS = 18.0

    def __init__(self) -> None:
        super().__init__()
        self._values: np.ndarray | None = None
        self._shares: np.ndarray | None = None

    def set_values(self, values: np.ndarray | None, shares: np.ndarray | None = None) -> None:
        """Show ``values`` (integers); ``shares`` in [0, 1] pick dark text on bright cells."""
        self.prepareGeometryChange()
        self._values = None if values is None else np.asarray(values).astype(np.int64)
        self._shares = None if shares is None else np.asarray(shares, dtype=np.float64)
        self.update()

    def text(self, row: int, col: int) -> str:
        """The number shown in a cell ("" when there is none)."""
        if self._values is None or not (0 <= row < self._values.shape[0]):
            return ""
        return str(self._values[row, col]) if 0 <= col < self._values.shape[1] else ""

    def boundingRect(self) -> QRectF:
        rows, cols = (0, 0) if self._values is None else self._values.shape
        return QRectF(0, 0, cols, rows)

    def paint(self, painter: QPainter, *_args: object) -> None:
        if self._values is None or not self._values.size:
            return
        to_device = painter.transform()
        cell = to_device.map(QPointF(1, 1)) - to_device.map(QPointF(0, 0))
        width, height = abs(cell.x()), abs(cell.y())
        if min(width, height) < self.MIN_CELL_PIXELS:
            return
        painter.save()
        painter.resetTransform()
        light, dark = QColor("white"), QColor("black")
        for (row, col), value in np.ndenumerate(self._values):
            centre = to_device.map(QPointF(col + 0.5, row + 0.5))
            bright = self._shares is not None and self._shares[row, col] > 0.6  # viridis' yellow
            painter.setPen(dark if bright else light)
            box = QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, str(value))
        painter.restore()


class ImagePanel(QWidget):
    """A caption above one persistent ImageItem (row-major, top row first, square pixels)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel(title, self)
        self.caption.setWordWrap(True)
        self.view = PlotArea(self)
        self.box = self.view.addViewBox(lockAspect=True, invertY=True, enableMouse=True)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.item)
        self._shape: tuple[int, ...] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.view, 1)

    def show_image(self, image: np.ndarray, caption: str | None = None) -> None:
        """Show a float H×W or H×W×3 image in [0, 1]; re-fit the view when its size changes."""
        self.item.setImage(image, levels=(0.0, 1.0), autoLevels=False)
        if image.shape != self._shape:
            self._shape = image.shape
            self.box.autoRange(padding=0.02)
        if caption is not None:
            self.caption.setText(caption)

    @property
    def image(self) -> np.ndarray | None:
        return self.item.image


def pixmap_from(image: np.ndarray, size: int = 72) -> QPixmap:
    """A uint8 C×H×W image as a pixmap scaled to ``size`` pixels (nearest neighbour)."""
    x = np.ascontiguousarray(np.clip(image_to_display(image) * 255.0, 0, 255).astype(np.uint8))
    h, w = x.shape[:2]
    if x.ndim == 2:
        qimage = QImage(x.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        qimage = QImage(x.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(qimage.copy()).scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


def name_ticks(names: list[str] | tuple[str, ...], offset: float = 0.0) -> list[list[tuple]]:
    """AxisItem ticks putting ``names`` at 0, 1, 2, ... (+ ``offset``)."""
    return [[(i + offset, name) for i, name in enumerate(names)]]
