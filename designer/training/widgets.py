"""Small pyqtgraph/Qt building blocks shared by the dashboard pages (imports pyqtgraph)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from designer.training.images import image_to_display

pg.setConfigOptions(antialias=False, background="w", foreground="k")

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


class PlotArea(pg.GraphicsLayoutWidget):
    """A pyqtgraph layout whose size hint does not follow its own size.

    A QGraphicsView hints the size of its scene, and pyqtgraph sizes the scene to the view, so
    every layout pass asked for a few pixels more: the bottom dock grew step by step until the
    canvas was squeezed to its minimum, repainting the whole window each time.
    """

    HINT = QSize(400, 240)

    def sizeHint(self) -> QSize:
        return self.HINT


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
