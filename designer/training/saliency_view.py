"""The Predict page's saliency: for the predicted image and a chosen class, Grad-CAM on a chosen
convolution (the last one by default) and the input gradient, each drawn over the image as a
heat map whose strength the Overlay slider sets (0: the image alone).

The view asks for a computation through ``requested`` (the page runs it on its worker thread,
where the model lives) and draws what comes back in ``show_result``; a change of class or layer
while one is computing is asked for once it is done.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from designer.training.images import image_to_display
from designer.training.widgets import ImagePanel


def heat(values: np.ndarray) -> np.ndarray:
    """H×W in [0, 1] as H×W×3 colours from black through red and yellow to white ("hot")."""
    v = np.clip(np.nan_to_num(values.astype(np.float32)), 0.0, 1.0)[..., None]
    return np.clip(3.0 * v - np.array([0.0, 1.0, 2.0], np.float32), 0.0, 1.0)


def overlay(image: np.ndarray, values: np.ndarray, alpha: float) -> np.ndarray:
    """A uint8 C×H×W image with the H×W map ``values`` in [0, 1] over it: H×W×3 in [0, 1]."""
    shown = image_to_display(image)
    if shown.ndim == 2:
        shown = np.repeat(shown[..., None], 3, axis=2)
    if values.shape != shown.shape[:2]:
        return shown
    return ((1.0 - alpha) * shown + alpha * heat(values)).astype(np.float32)


class SaliencyView(QWidget):
    """Class and layer choices, the overlay strength, and the two maps over the image."""

    requested = Signal(object, int, object)  # inputs, class, layer (None: the last conv)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prediction: Any = None
        self.result: Any = None  # the latest Saliency or error text
        self.waiting = False
        self._pending = False
        self.target = QComboBox(self)
        self.target.setObjectName("saliency_class")
        self.target.setToolTip("The class whose score the maps explain")
        self.layer = QComboBox(self)
        self.layer.setObjectName("saliency_layer")
        self.layer.setToolTip("The convolution Grad-CAM looks at (the last one by default)")
        self.alpha = QSlider(Qt.Orientation.Horizontal, self)
        self.alpha.setObjectName("saliency_alpha")
        self.alpha.setRange(0, 100)
        self.alpha.setValue(50)
        self.alpha.setToolTip("Strength of the heat map over the image (0: the image alone)")
        self.caption = QLabel("Predict an image to see where the network looks.", self)
        self.caption.setObjectName("saliency_caption")
        self.caption.setWordWrap(True)
        self.cam = ImagePanel("Grad-CAM", self)
        self.gradient = ImagePanel("Input gradient", self)
        controls = QHBoxLayout()
        for label, widget in (
            ("Class", self.target),
            ("Grad-CAM on", self.layer),
            ("Overlay", self.alpha),
        ):
            controls.addWidget(QLabel(label, self))
            controls.addWidget(widget, 1 if widget is self.alpha else 0)
        maps = QHBoxLayout()
        maps.addWidget(self.cam, 1)
        maps.addWidget(self.gradient, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addLayout(maps, 1)
        self.target.currentIndexChanged.connect(self._ask)
        self.layer.currentIndexChanged.connect(self._ask)
        self.alpha.valueChanged.connect(self._draw)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for widget in (self.target, self.layer, self.alpha):
            widget.setEnabled(on)

    def set_prediction(self, prediction: Any, layers: list[str]) -> None:
        """A new image: the predicted class and the layer chosen so far (else the last
        convolution), then ask for the maps."""
        self.prediction = prediction
        chosen = self.layer.currentText()
        for box in (self.target, self.layer):
            box.blockSignals(True)
        self.target.clear()
        self.target.addItems(list(prediction.classes))
        self.target.setCurrentIndex(prediction.predicted)
        self.layer.clear()
        self.layer.addItems(layers)
        if layers:
            self.layer.setCurrentIndex(
                layers.index(chosen) if chosen in layers else len(layers) - 1
            )
        for box in (self.target, self.layer):
            box.blockSignals(False)
        self._enable(True)
        self._ask()

    def _ask(self, *_: Any) -> None:
        if self.prediction is None or self.prediction.inputs is None:
            return
        if self.waiting:
            self._pending = True
            return
        self.waiting = True
        self.caption.setText("Computing Grad-CAM and the input gradient…")
        layer = self.layer.currentText() or None
        self.requested.emit(self.prediction.inputs, max(self.target.currentIndex(), 0), layer)

    def show_result(self, result: Any) -> None:
        """A Saliency (or an error text) for the latest request; asks again when the choices
        changed meanwhile."""
        self.waiting = False
        self.result = result
        if self._pending:
            self._pending = False
            self._ask()
            return
        self._draw()

    def _draw(self, *_: Any) -> None:
        result, prediction = self.result, self.prediction
        if isinstance(result, str):
            self.caption.setText(result)
            return
        if result is None or prediction is None:
            return
        alpha = self.alpha.value() / 100.0
        name = prediction.classes[result.target]
        if result.cam is None:
            self.cam.show_image(
                image_to_display(prediction.image), "Grad-CAM: the design has no convolution"
            )
        else:
            self.cam.show_image(
                overlay(prediction.image, result.cam, alpha), f"Grad-CAM on {result.layer}"
            )
        self.gradient.show_image(
            overlay(prediction.image, result.gradient, alpha), "Input gradient |d score / d x|"
        )
        score = f" (score {result.score:.3g})" if np.isfinite(result.score) else ""
        self.caption.setText(
            f"Where the network looks for {name!r}{score}: brighter is more important "
            "(each map scaled to its own maximum)."
        )


class Answer:
    """What a saliency job gives back to the page: a Saliency or the reason there is none."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload


def saliency_job(inputs: Any, target: int, layer: str | None) -> Any:
    """A job for the page's worker: the predictor's saliency, errors as text (never raised)."""

    def job(predictor: Any) -> Answer:
        from engine.errors import DesignerError

        try:
            return Answer(predictor.saliency(inputs, target, layer))
        except DesignerError as error:  # our messages name the value and the fix
            return Answer(f"No saliency: {error}")
        except Exception as error:  # unexpected: shown with its kind; the designer keeps running
            return Answer(f"No saliency: {type(error).__name__}: {error}")

    return job
