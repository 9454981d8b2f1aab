"""The architectures lesson's window: parameters and MACs of the classic architectures side by
side as bar charts (log scale), the 1×1 bottleneck's and the depthwise separable saving, and
MobileNet's width and resolution multipliers as a table, all computed from the presets."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.lessons.architectures import (
    ArchitectureRow,
    MultiplierRow,
    Saving,
    architecture_rows,
    architectures_text,
    bottleneck_saving,
    multiplier_table,
    separable_saving,
)
from engine.lessons.lessons import LessonText

# LeNet-5 → AlexNet → VGG → GoogLeNet/Inception → ResNet → SqueezeNet → MobileNet
ARCHITECTURES = (
    "lenet5",
    "alexnet",
    "vgg16",
    "googlenet",
    "resnet50",
    "squeezenet1_0",
    "mobilenet_v1",
)
# the MobileNet paper's Table 7 resolutions, as sevenths of the preset's default resolution
RESOLUTION_SEVENTHS = (7, 6, 5, 4)


class ArchitectureNumbers:
    """Everything the lesson shows, computed once from the presets."""

    def __init__(self) -> None:
        from presets import PRESETS

        self.rows: list[ArchitectureRow] = architecture_rows(
            (PRESETS.get(n).display_name, PRESETS.get(n).create()) for n in ARCHITECTURES
        )
        self.bottleneck: Saving | None = bottleneck_saving(PRESETS.get("googlenet").create())
        self.separable: Saving | None = separable_saving(PRESETS.get("mobilenet_v1").create())
        mobilenet = PRESETS.get("mobilenet_v1")
        default = mobilenet.option("resolution").default
        self.table: list[MultiplierRow] = multiplier_table(
            mobilenet.create,
            mobilenet.option("width").choices,
            [default * s // 7 for s in RESOLUTION_SEVENTHS],
        )

    def text(self) -> LessonText:
        return architectures_text(self.rows, self.bottleneck, self.separable, self.table)


def tick_text(label: str) -> str:
    """A bar's label with one word a line."""
    return "\n".join(label.split())


def _bars(title: str, labels: list[str], values: list[int], colour: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=f"{title} (log scale)")
    heights = np.log10(np.maximum(np.asarray(values, dtype=float), 1.0))
    plot.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=heights, width=0.6, brush=colour))
    # one word a line, a little smaller: seven names side by side would run into each other
    axis = plot.getAxis("bottom")
    texts = [tick_text(label) for label in labels]
    axis.setTicks([list(enumerate(texts))])
    font = QFont(plot.font())
    font.setPointSizeF(font.pointSizeF() * 0.85)
    axis.setStyle(tickFont=font)
    lines = max((text.count("\n") + 1 for text in texts), default=1)
    axis.setHeight(lines * QFontMetrics(font).height() + 16)
    top = math.ceil(float(heights.max())) if len(values) else 1
    plot.getAxis("left").setTicks([[(k, f"1e{k}") for k in range(0, top + 1)]])
    plot.setYRange(0, top)
    plot.setMouseEnabled(x=False, y=False)
    return plot


class ArchitectureChart(QDialog):
    """The charts, the savings and the multiplier table."""

    def __init__(self, numbers: ArchitectureNumbers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("architecture_chart")
        self.setWindowTitle("The architectures: parameters and MACs")
        self.numbers = numbers
        layout = QVBoxLayout(self)
        labels = [r.label for r in numbers.rows]
        charts = QHBoxLayout()
        self.params_plot = _bars("Parameters", labels, [r.params for r in numbers.rows], "#1f77b4")
        self.macs_plot = _bars("MACs per image", labels, [r.macs for r in numbers.rows], "#ff7f0e")
        charts.addWidget(self.params_plot)
        charts.addWidget(self.macs_plot)
        layout.addLayout(charts, 1)
        text = numbers.text()
        savings = [line for line in text.lines if "bottleneck" in line or "separable" in line]
        self.savings = QLabel("\n".join(savings), self)
        self.savings.setObjectName("architecture_savings")
        self.savings.setWordWrap(True)
        self.savings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.savings)
        self.table = QTableWidget(len(numbers.table), 4, self)
        self.table.setObjectName("multiplier_table")
        self.table.setHorizontalHeaderLabels(["Width α", "Resolution ρ", "Parameters", "MACs"])
        for row, entry in enumerate(numbers.table):
            cells = (
                f"{entry.width:g}",
                f"{entry.resolution}×{entry.resolution}",
                f"{entry.params:,}",
                f"{entry.macs:,}",
            )
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(cell))
        layout.addWidget(self.table)
        self.resize(1200, 760)
