"""The augmentation part of the training settings: its fields, and a preview grid of augmented
samples for a seed (``engine.data.augment.preview``: the same seed draws the same grid).

``AugmentationBox`` holds the fields (the values live in the settings; the widgets only edit a
copy, as everywhere in the dialog). ``AugmentPreviewDialog`` reads the data set and augments
on a worker thread; the result comes back through a queued signal, so the dialog never waits
on a download or a large data set, and a data set it cannot read is shown in its own words.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.dialogs.number_fields import IntField, RealField
from engine.data.settings import DataSettings
from engine.errors import DesignerError

PAD = 1  # pixels of white between tiles


class AugmentationBox(QGroupBox):
    """The augmentation fields of the data settings and a Preview button."""

    def __init__(self, d: DataSettings, parent: QWidget | None = None) -> None:
        super().__init__("Augmentation (training images only; each its own random draw)", parent)
        self.setObjectName("augmentation_box")
        self.crop = IntField("Random crop padding", d.crop_padding, 0, None, example="4")
        self.crop.setToolTip("Pad by this many pixels, then crop at random (0: off)")
        self.flip = QCheckBox("random horizontal flip")
        self.flip.setChecked(d.flip)
        self.vflip = QCheckBox("random vertical flip")
        self.vflip.setChecked(d.vflip)
        self.crop_scale = RealField("Resized crop", d.crop_scale, 0.0, 1.0, 0.05, example="0.5")
        self.crop_scale.setToolTip(
            "Random resized crop keeping at least this share of the area, in (0, 1] (1: off)"
        )
        self.rotation = RealField("Rotation", d.rotation, 0.0, 180.0, 5.0, example="15")
        self.rotation.setToolTip("Turn each image by up to ± this many degrees, [0, 180]")
        self.jitter = {
            name: RealField(name.capitalize(), getattr(d, name), 0.0, top, 0.05, example=ex)
            for name, top, ex in (
                ("brightness", 1.0, "0.2"),
                ("contrast", 1.0, "0.2"),
                ("saturation", 1.0, "0.2"),
                ("hue", 0.5, "0.05"),
            )
        }
        for name, field in self.jitter.items():
            rgb = " (RGB images only)" if name in ("saturation", "hue") else ""
            top = "0.5" if name == "hue" else "1"
            field.setToolTip(f"Colour jitter of the {name}, in [0, {top}] (0: off){rgb}")
        self.preview_button = QPushButton("Preview…", self)
        self.preview_button.setObjectName("augment_preview_button")
        self.preview_button.setToolTip("A grid of augmented training samples for a seed")
        flips = QHBoxLayout()
        flips.addWidget(self.flip)
        flips.addWidget(self.vflip)
        flips.addStretch(1)
        form = QFormLayout(self)
        form.addRow("Random crop padding", self.crop)
        form.addRow("Flips", flips)
        form.addRow("Resized crop (area)", self.crop_scale)
        form.addRow("Rotation (degrees)", self.rotation)
        for name, field in self.jitter.items():
            form.addRow(name.capitalize(), field)
        form.addRow("", self.preview_button)

    def values(self) -> dict[str, Any]:
        """The fields as data settings (unchecked); FieldError for text that is not a number."""
        return {
            "crop_padding": self.crop.value(),
            "flip": self.flip.isChecked(),
            "vflip": self.vflip.isChecked(),
            "crop_scale": self.crop_scale.value(),
            "rotation": self.rotation.value(),
            **{name: field.value() for name, field in self.jitter.items()},
        }


def mosaic(grid: np.ndarray) -> np.ndarray:
    """N×K×C×H×W in [0, 1] as one picture, a row per sample: H×W (grey) or H×W×3."""
    n, k, c, h, w = grid.shape
    tiles = grid.transpose(0, 1, 3, 4, 2) if c == 3 else grid[:, :, 0]
    out = np.ones((n * (h + PAD) + PAD, k * (w + PAD) + PAD, *tiles.shape[4:]), np.float32)
    for i in range(n):
        for j in range(k):
            y, x = PAD + i * (h + PAD), PAD + j * (w + PAD)
            out[y : y + h, x : x + w] = tiles[i, j]
    return out


class AugmentPreviewDialog(QDialog):
    """A grid of augmented samples: the first column as the network takes the images, the
    others augmented; the seed box draws another grid (the same seed, the same grid)."""

    done = Signal(object, int)  # a Preview or an error text, and the seed it was drawn for

    def __init__(
        self,
        data: DataSettings,
        input_shape: tuple[int, int, int] | None,
        data_seed: int = 0,
        seed: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Augmentation preview")
        self.setObjectName("augment_preview_dialog")
        self.data, self.input_shape, self.data_seed = data, input_shape, data_seed
        self.busy = False
        self.pending: int | None = None
        self.last: Any = None  # the latest Preview or error text
        self.last_seed: int | None = None
        self.seed = QSpinBox(self)
        self.seed.setObjectName("augment_preview_seed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(seed)
        self.seed.setPrefix("seed ")
        self.seed.valueChanged.connect(self.draw)
        self.again = QPushButton("Another seed", self)
        self.again.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        self.status = QLabel("Reading the data set…", self)
        self.status.setObjectName("augment_preview_status")
        self.status.setWordWrap(True)
        from designer.training.widgets import ImagePanel  # pyqtgraph: only once a preview opens

        self.panel = ImagePanel("", self)
        self.panel.setMinimumSize(420, 420)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.seed)
        top.addWidget(self.again)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.panel, 1)
        layout.addWidget(buttons)
        self.done.connect(self._show)
        self.draw()

    def draw(self, *_: Any) -> None:
        """Draw the grid for the seed shown (on a worker thread; one at a time, the newest
        seed asked for next)."""
        seed = self.seed.value()
        if self.busy:
            self.pending = seed
            return
        self.busy = True
        self.status.setText(f"Augmenting for seed {seed}…")
        threading.Thread(target=self._work, args=(seed,), daemon=True).start()

    def _work(self, seed: int) -> None:
        from engine.data.augment import preview

        try:
            result: Any = preview(self.data, self.input_shape, seed, data_seed=self.data_seed)
        except (DesignerError, OSError) as error:  # our messages name the data and the fix
            result = f"Cannot preview the augmentation: {error}"
        except Exception as error:  # unexpected: shown with its kind; the designer keeps running
            result = f"Cannot preview the augmentation: {type(error).__name__}: {error}"
        self.done.emit(result, seed)

    def _show(self, result: Any, seed: int) -> None:
        self.busy = False
        self.last, self.last_seed = result, seed
        if isinstance(result, str):
            self.status.setText(result)
        else:
            grid = result.grid.numpy()
            self.panel.show_image(mosaic(grid))
            notes = "".join(f" {note}." for note in result.notes)
            self.status.setText(
                f"{result.dataset}, seed {seed}: each row one class ({', '.join(result.labels)}); "
                f"the first column as the network takes it, then {grid.shape[1] - 1} "
                f"augmentations.{notes}"
            )
        pending, self.pending = self.pending, None
        if pending is not None and pending != seed:  # the seed box moved on meanwhile
            self.draw()
