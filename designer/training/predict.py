"""The Predict page: drop an image file (or pick a validation sample) and see the class
probabilities of a run's best checkpoint. During a run it follows the run (``follow``, at each
epoch end): the run's newest checkpoint answers, without stopping it, and the result names the
epoch whose weights answered.

Below the probabilities, ``SaliencyView`` draws Grad-CAM on a chosen convolution and the input
gradient over the image, for a chosen class (``designer/training/saliency_view.py``).

Loading the checkpoint (and torch, the first time) and the forward pass run on a worker thread;
the result comes back through a queued signal, so the UI thread never waits on them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.training.images import image_to_display
from designer.training.saliency_view import Answer, SaliencyView, saliency_job
from designer.training.widgets import ImagePanel, PlotArea, name_ticks, readable_plot
from engine.errors import DesignerError

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff);;All files (*)"


def read_image(path: str | Path) -> np.ndarray:
    """An image file as uint8 C×H×W RGB (C=3); ValueError naming the file when unreadable."""
    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"{path}: not an image Qt can read. Use a PNG, JPEG or BMP file")
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride)
    rgb = data.reshape(h, stride)[:, : 3 * w].reshape(h, w, 3)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))


def _has_checkpoint(run_dir: str | Path) -> bool:
    from designer.training.predictor import checkpoint_of

    try:
        checkpoint_of(run_dir)
    except FileNotFoundError:
        return False
    return True


def _latest_with_checkpoint(root: Path | None) -> str | None:
    """The newest run folder under ``root`` with a checkpoint (None without one)."""
    if root is None:
        return None
    from engine.training.runs import list_runs

    for run in reversed(list_runs(root)):
        if _has_checkpoint(run.path):
            return str(run.path)
    return None


class PredictPage(QWidget):
    """Class probabilities for a dropped image or a validation sample."""

    done = Signal(object)  # a Prediction, or an error text (from the worker thread)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.run_dir: str | None = None
        self._predictor: Any = None
        self._predictor_stamp: tuple[str, int, int, int] | None = None
        self._lock = threading.Lock()
        self.busy = False
        self.last: Any = None  # the latest Prediction (or error text)
        self.info = QLabel("Finish a run first; then drop an image here or pick a sample.", self)
        self.info.setWordWrap(True)
        self.sample = QSpinBox(self)
        self.sample.setObjectName("predict_sample")
        self.sample.setRange(0, 100_000)
        self.sample.setPrefix("validation sample ")
        self.sample_button = QPushButton("Predict sample", self)
        self.sample_button.setObjectName("predict_sample_button")
        self.open_button = QPushButton("Open image…", self)
        self.sample_button.clicked.connect(lambda: self.predict_sample(self.sample.value()))
        self.open_button.clicked.connect(self._open)
        self.image = ImagePanel("Image as fed to the network", self)
        self.view = PlotArea(self)
        self.plot = readable_plot(self.view, "Class probabilities")
        self.plot.setYRange(0, 1)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush="#1f77b4")
        self.plot.addItem(self.bars)
        self.result = QLabel("", self)
        self.result.setObjectName("predict_result")
        self.saliency = SaliencyView(self)
        self.saliency.requested.connect(
            lambda x, target, layer: self._submit(saliency_job(x, target, layer), quiet=True)
        )
        controls = QHBoxLayout()
        controls.addWidget(self.sample)
        controls.addWidget(self.sample_button)
        controls.addWidget(self.open_button)
        controls.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.image, 1)
        body.addWidget(self.view, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addLayout(controls)
        layout.addWidget(self.result)
        layout.addLayout(body, 1)
        layout.addWidget(self.saliency, 1)
        self.done.connect(self._show)
        self._enable()

    def set_run(self, run_dir: str) -> None:
        """Use this run's checkpoint from now on."""
        self.run_dir = str(run_dir)
        self.info.setText(
            f"Run {run_dir}: drop an image file here or pick a validation sample "
            "(the best checkpoint is used)."
        )
        self._enable()

    def follow(self, run_dir: str, epoch: int) -> None:
        """The run in ``run_dir``, still training, ended ``epoch`` and wrote its checkpoints:
        predict with them from now on (the run goes on)."""
        if not _has_checkpoint(run_dir):
            return
        self.run_dir = str(run_dir)
        text = (
            f"Run {Path(run_dir).name} is training: drop an image file here or pick a "
            "validation sample; its best checkpoint so far answers (the newest when you ask), "
            "and the result names its epoch."
        )
        if self.info.text() != text:  # once a run: a new text lays the page out again
            self.info.setText(text)
        self._enable()

    def choose_run(self, run_dir: str | None, root: Path | None) -> None:
        """Use ``run_dir`` when it has a checkpoint; else (a run stopped before its first epoch
        ended, or failed in it) the newest run under ``root`` that has one, else the run used
        so far; the info line names the run used and why. Never raises."""
        if run_dir is not None and _has_checkpoint(run_dir):
            self.set_run(run_dir)
            return
        fallback = _latest_with_checkpoint(root)
        if fallback is None and self.run_dir is not None and _has_checkpoint(self.run_dir):
            fallback = self.run_dir
        why = (
            f"Run {Path(run_dir).name} has no checkpoint (it ended before its first epoch did). "
            if run_dir is not None
            else ""
        )
        if fallback is None:
            self.run_dir = None
            self.info.setText(
                f"{why}No run of this project has a checkpoint yet: train for at least one "
                "epoch, then drop an image here or pick a sample."
            )
        else:
            self.run_dir = str(fallback)
            self.info.setText(
                f"{why}Using run {fallback}, the latest with a checkpoint: drop an image file "
                "here or pick a validation sample (the best checkpoint is used)."
            )
        self._enable()

    def _enable(self) -> None:
        ready = self.run_dir is not None and not self.busy
        self.sample_button.setEnabled(ready)
        self.open_button.setEnabled(ready)

    # ----- requests ----------------------------------------------------------------------------
    def predict_sample(self, index: int) -> None:
        self._submit(lambda p: p.predict_sample(index))

    def predict_file(self, path: str | Path) -> None:
        try:
            image = read_image(path)
        except ValueError as error:
            self._show(str(error))
            return
        self._submit(lambda p: p.predict_image(image, Path(path).name))

    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image to classify", "", IMAGE_FILTER)
        if path:
            self.predict_file(path)

    def _submit(self, job: Any, quiet: bool = False) -> None:
        if self.run_dir is None or self.busy:
            if quiet:  # a saliency request: answered now, so that the view asks again later
                self.saliency.show_result("Busy predicting: choose again in a moment.")
            return
        self.busy = True
        self._enable()
        if not quiet:
            self.result.setText("Loading the checkpoint and predicting…")
        run_dir = self.run_dir
        threading.Thread(target=self._work, args=(run_dir, job), daemon=True).start()

    def _work(self, run_dir: str, job: Any) -> None:
        try:
            with self._lock:
                from designer.training.predictor import Predictor, checkpoint_stamp

                # a run still training may have written a newer checkpoint since the last time
                if self._predictor_stamp != checkpoint_stamp(run_dir):
                    self._predictor = Predictor(run_dir)
                    self._predictor_stamp = self._predictor.stamp
                result: Any = job(self._predictor)
        except (DesignerError, OSError) as error:  # our messages name the file and the fix
            result = f"Cannot predict: {error}"
        except Exception as error:  # unexpected: shown with its kind; the designer keeps running
            result = f"Cannot predict: {type(error).__name__}: {error}"
        self.done.emit(result)

    # ----- results -----------------------------------------------------------------------------
    def _show(self, result: Any) -> None:
        self.busy = False
        self._enable()
        if isinstance(result, Answer):  # Grad-CAM and the input gradient
            self.saliency.show_result(result.payload)
            return
        self.last = result
        if isinstance(result, str):
            self.result.setText(result)
            if self.saliency.waiting:  # the checkpoint could not be read for the maps either
                self.saliency.show_result(result)
            return
        probs = result.probabilities
        self.bars.setOpts(x=np.arange(len(probs), dtype=float), height=probs)
        self.plot.getAxis("bottom").setTicks(name_ticks(result.classes))
        name = result.classes[result.predicted]
        truth = f", true class {result.classes[result.label]!r}" if result.label is not None else ""
        weights = f" (weights of epoch {result.epoch}, {result.checkpoint})" if result.epoch else ""
        self.result.setText(
            f"{result.source}: predicted {name!r} with {probs[result.predicted]:.1%}{truth}"
            f"{weights}"
        )
        self.image.show_image(image_to_display(result.image), f"{result.source} as fed")
        self.saliency.set_prediction(result, list(getattr(self._predictor, "conv_layers", [])))

    # ----- drag and drop -------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self.run_dir is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.predict_file(urls[0].toLocalFile())
            event.acceptProposedAction()
