"""Small pyqtgraph/Qt building blocks shared by the dashboard pages (imports pyqtgraph)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
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
