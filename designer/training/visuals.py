"""Dashboard pages for snapshots and epoch ends: filters, feature maps, gradient flow and weight
histograms, confusion matrix, per-class accuracy and misclassified images.

Every page builds its pyqtgraph items once and later only calls ``setData``/``setImage``/
``setOpts`` on them; a run's layer names arrive with ``configure`` (from ``RunStarted``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.training.images import filter_mosaic, image_to_display, map_mosaic
from designer.training.widgets import (
    CellLabels,
    ImagePanel,
    PlotArea,
    SteadyRanges,
    name_ticks,
    nice_log_bounds,
    pixmap_from,
    readable_plot,
    set_title,
    steady_left_axis,
)
from engine.training.events import EpochEnd, FeatureMaps, RunStarted, Snapshot


def _combo(parent: QWidget, items: tuple[str, ...] | list[str]) -> QComboBox:
    combo = QComboBox(parent)
    combo.addItems(list(items))
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo


class FiltersPage(QWidget):
    """Kernels of the first convolution and of a convolution the user picks, updated live."""

    view_changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first = ImagePanel("Filters of the first convolution", self)
        self.chosen = ImagePanel("Filters of the chosen convolution", self)
        self.picker = _combo(self, [])
        self.picker.setObjectName("filter_layer_picker")
        self.picker.currentTextChanged.connect(self._on_pick)
        self.conv_layers: tuple[str, ...] = ()
        right = QVBoxLayout()
        right.addWidget(self.picker)
        right.addWidget(self.chosen, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.first, 1)
        layout.addLayout(right, 1)

    def configure(self, started: RunStarted) -> None:
        self.conv_layers = started.conv_layers
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItems(list(self.conv_layers))
        self.picker.setCurrentIndex(min(1, len(self.conv_layers) - 1))
        self.picker.blockSignals(False)
        if self.conv_layers:
            self.first.caption.setText(f"Filters of the first convolution, {self.conv_layers[0]}")
            self._on_pick(self.picker.currentText())
        else:
            self.first.caption.setText("This network has no convolution: no filters to show")

    def _on_pick(self, name: str) -> None:
        if name and self.conv_layers:
            self.view_changed.emit({"filter_layers": (self.conv_layers[0], name)})

    def update_from(self, filters: dict[str, np.ndarray]) -> None:
        if not self.conv_layers:
            return
        first = self.conv_layers[0]
        if first in filters:
            image, caption = filter_mosaic(filters[first])
            self.first.show_image(image, f"{first}: {caption}")
        name = self.picker.currentText()
        if name in filters:
            image, caption = filter_mosaic(filters[name])
            self.chosen.show_image(image, f"{name}: {caption}")


class FeatureMapsPage(QWidget):
    """Activations of a chosen layer for a chosen validation image."""

    view_changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.classes: tuple[str, ...] = ()
        self.layer = _combo(self, [])
        self.layer.setObjectName("feature_layer_picker")
        self.sample = QSpinBox(self)
        self.sample.setObjectName("feature_image_picker")
        self.sample.setPrefix("validation image ")
        self.input = ImagePanel("Input image", self)
        self.maps = ImagePanel("Feature maps", self)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Layer:", self))
        controls.addWidget(self.layer)
        controls.addWidget(self.sample)
        controls.addStretch(1)
        images = QHBoxLayout()
        images.addWidget(self.input, 1)
        images.addWidget(self.maps, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(images, 1)
        self.layer.currentTextChanged.connect(
            lambda name: name and self.view_changed.emit({"feature_layer": name})
        )
        self.sample.valueChanged.connect(
            lambda index: self.view_changed.emit({"feature_image": int(index)})
        )
        self.shown: FeatureMaps | None = None  # the maps drawn last
        from designer.lecture.feature_field import FeatureField

        self.field = FeatureField(self)  # a click on a unit outlines its receptive field

    def configure(self, started: RunStarted) -> None:
        self.classes = started.classes
        for widget in (self.layer, self.sample):
            widget.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(list(started.layers))
        chosen = started.settings.get("feature_layer") or (
            started.conv_layers[0] if started.conv_layers else ""
        )
        self.layer.setCurrentText(chosen)
        self.sample.setRange(0, max(started.val_size - 1, 0))
        self.sample.setValue(int(started.settings.get("feature_image", 0)))
        for widget in (self.layer, self.sample):
            widget.blockSignals(False)

    def update_from(self, fm: FeatureMaps) -> None:
        self.shown = fm
        label = self.classes[fm.label] if fm.label < len(self.classes) else str(fm.label)
        self.input.show_image(
            image_to_display(fm.image), f"validation image {fm.image_index}: {label!r}"
        )
        shape = "×".join(str(s) for s in fm.maps.shape)
        what = f"{fm.maps.shape[0]} maps" if fm.maps.ndim == 3 else f"{fm.maps.size} values"
        self.maps.show_image(map_mosaic(fm.maps), f"{fm.layer}: {what} ({shape})")


DEAD_TITLE = "Dead ReLUs (zero for the whole batch)"
NO_RELU_TITLE = "Dead ReLUs: this network has no ReLU layers"


class GradientsPage(QWidget):
    """Gradient norm per layer (log scale), dead ReLU share, and a chosen layer's weights.

    The plots do not autoscale: their ranges follow the data with ``steady_span`` and the
    left axes have fixed widths, so a snapshot usually repaints the page once without
    redrawing an axis.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = PlotArea(self)
        self.norm_plot = readable_plot(self.view, "Gradient norm (log scale)")
        self.norm_plot.setLogMode(y=True)
        self.norm_plot.showGrid(y=True, alpha=0.3)
        self.norms = self.norm_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), symbol="o")
        self.dead_plot = readable_plot(self.view, DEAD_TITLE)
        self.dead_plot.setYRange(0, 1)
        self.dead_plot.getAxis("left").setLabel("share")
        self.dead = pg.BarGraphItem(x=[], height=[], width=0.6, brush="#d62728")
        self.dead_plot.addItem(self.dead)
        self.view.nextRow()
        self.hist_plot = readable_plot(self.view, "Weight histogram", colspan=2)
        self.hist = self.hist_plot.plot(
            [0, 1], [0], stepMode="center", fillLevel=0, brush=(31, 119, 180, 120)
        )
        for plot in (self.norm_plot, self.dead_plot, self.hist_plot):
            plot.disableAutoRange()
            steady_left_axis(plot)
        self._ranges = SteadyRanges()
        self.layer = _combo(self, [])
        self.layer.setObjectName("histogram_layer_picker")
        self._histograms: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._norm_names: list[str] = []
        self._relu_names: list[str] = []
        self.layer.currentTextChanged.connect(lambda _n: self._draw_histogram())
        top = QHBoxLayout()
        top.addWidget(QLabel("Weights of:", self))
        top.addWidget(self.layer)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

    def configure(self, started: RunStarted) -> None:
        self._histograms.clear()
        self._ranges.clear()
        set_title(self.dead_plot, DEAD_TITLE if started.relu_layers else NO_RELU_TITLE)
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.blockSignals(False)

    def update_from(self, snap: Snapshot) -> None:
        names = list(snap.grad_norms)
        if names:
            values = np.array([max(snap.grad_norms[n], 1e-12) for n in names])
            self.norms.setData(np.arange(len(names), dtype=float), values)
            if names != self._norm_names:
                self._norm_names = names
                self.norm_plot.getAxis("bottom").setTicks(name_ticks(names))
                self.norm_plot.setXRange(-0.5, len(names) - 0.5, padding=0.02)
            finite = values[np.isfinite(values)]
            if finite.size:  # the axis is in log10 units, its ends on labelled ticks
                low, high = nice_log_bounds(float(finite.min()), float(finite.max()))
                self._ranges.follow(self.norm_plot, "y", low, high, margin=0.1)
        relus = list(snap.dead_relu)
        if relus:
            self.dead.setOpts(
                x=np.arange(len(relus), dtype=float),
                height=np.array([snap.dead_relu[n] for n in relus]),
            )
            if relus != self._relu_names:
                self._relu_names = relus
                self.dead_plot.getAxis("bottom").setTicks(name_ticks(relus))
                self.dead_plot.setXRange(-0.5, len(relus) - 0.5, padding=0.02)
        if snap.histograms:
            self._histograms = dict(snap.histograms)
            if self.layer.count() != len(self._histograms):
                self.layer.blockSignals(True)
                self.layer.clear()
                self.layer.addItems(list(self._histograms))
                self.layer.blockSignals(False)
            self._draw_histogram()

    def _draw_histogram(self) -> None:
        entry = self._histograms.get(self.layer.currentText())
        if entry is not None:
            counts, edges = entry
            self.hist.setData(edges, counts)
            self._ranges.follow(self.hist_plot, "x", float(edges[0]), float(edges[-1]), margin=0.05)
            top = float(np.max(counts)) if len(counts) else 0.0
            self._ranges.follow(self.hist_plot, "y", 0.0, top, margin=0.15, from_zero=True)
            set_title(self.hist_plot, f"Weights of {self.layer.currentText()}")


class EvaluationPage(QWidget):
    """At each epoch's end: confusion matrix, per-class accuracy, misclassified images."""

    GALLERY = 16

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.classes: tuple[str, ...] = ()
        self.view = PlotArea(self)
        self.confusion_plot = readable_plot(self.view, "Confusion matrix")
        self.confusion_plot.setLabel("bottom", "predicted")
        self.confusion_plot.setLabel("left", "true")
        self.confusion_plot.invertY(True)
        self.confusion_plot.setAspectLocked(True)
        self.confusion = pg.ImageItem(axisOrder="row-major")
        self.confusion.setColorMap(pg.colormap.get("viridis"))
        self.confusion_plot.addItem(self.confusion)
        self.counts = CellLabels()
        self.confusion_plot.addItem(self.counts)
        self.class_plot = readable_plot(self.view, "Accuracy per class")
        self.class_plot.setLabel("bottom", "true class")
        self.class_plot.setYRange(0, 1, padding=0.02)
        self.per_class = pg.BarGraphItem(x=[], height=[], width=0.6, brush="#2ca02c")
        self.class_plot.addItem(self.per_class)
        self.gallery_title = QLabel("Misclassified validation images", self)
        self.tiles: list[QLabel] = []
        self.captions: list[QLabel] = []
        grid_host = QWidget(self)
        grid = QGridLayout(grid_host)
        for i in range(self.GALLERY):
            tile, caption = QLabel(grid_host), QLabel(grid_host)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setMinimumSize(76, 76)
            self.tiles.append(tile)
            self.captions.append(caption)
            grid.addWidget(tile, 2 * (i // 4), i % 4)
            grid.addWidget(caption, 2 * (i // 4) + 1, i % 4)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_host)
        side = QVBoxLayout()
        side.addWidget(self.gallery_title)
        side.addWidget(scroll, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.view, 3)
        layout.addLayout(side, 2)

    def configure(self, started: RunStarted) -> None:
        self.classes = started.classes
        self.counts.set_values(None)
        ticks = name_ticks(self.classes, 0.5)
        self.confusion_plot.getAxis("left").setTicks(ticks)
        self.confusion_plot.getAxis("bottom").setTicks(ticks)
        self.class_plot.getAxis("bottom").setTicks(name_ticks(self.classes))
        self.confusion.clear()
        self.per_class.setOpts(x=[], height=[])
        for label in (*self.tiles, *self.captions):
            label.clear()

    def update_from(self, end: EpochEnd) -> None:
        if end.confusion is not None:
            counts = np.asarray(end.confusion, dtype=np.float64)
            rows = counts.sum(axis=1, keepdims=True)
            shares = counts / np.where(rows > 0, rows, 1)
            self.confusion.setImage(shares, levels=(0, 1))
            self.counts.set_values(counts, shares)
            set_title(self.confusion_plot, f"Confusion, epoch {end.epoch}")
        if end.per_class_accuracy is not None:
            acc = np.nan_to_num(np.asarray(end.per_class_accuracy, dtype=np.float64))
            self.per_class.setOpts(x=np.arange(len(acc), dtype=float), height=acc)
        wrong = end.misclassified[: self.GALLERY]
        self.gallery_title.setText(
            f"Misclassified validation images after epoch {end.epoch} ({len(wrong)} shown; "
            "caption: predicted (confidence) / true)"
        )
        for i, (tile, caption) in enumerate(zip(self.tiles, self.captions, strict=True)):
            if i >= len(wrong):
                tile.clear()
                caption.clear()
                continue
            m = wrong[i]
            tile.setPixmap(pixmap_from(m.image))
            caption.setText(
                f"{self._name(m.predicted)} ({m.confidence:.0%}) / {self._name(m.true)}"
            )
            tile.setToolTip(
                f"validation image {m.index}: predicted {self._name(m.predicted)} "
                f"({m.confidence:.0%}), true {self._name(m.true)}"
            )

    def _name(self, index: int) -> str:
        return self.classes[index] if 0 <= index < len(self.classes) else str(index)
