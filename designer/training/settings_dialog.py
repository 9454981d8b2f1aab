"""The Training settings dialog: data set, batch size, epochs, optimiser, learning rate, weight
decay, schedule, loss, seed, device, mixed precision, split and augmentation.

The widgets only edit a copy; OK builds ``TrainingSettings`` through ``from_dict`` (the same
checks the trainer makes) and refuses, with the message under the form, when a value is wrong.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.data.settings import DATASETS, NORMALIZATIONS
from engine.training.settings import LOSSES, OPTIMIZERS, SCHEDULES, SettingsError, TrainingSettings

DEVICES = ("auto", "cpu", "cuda", "mps")


def _spin(low: int, high: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    return box


def _real(
    low: float, high: float, value: float, decimals: int = 6, step: float = 0.1
) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    return box


def _choice(items: tuple[str, ...], value: str, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setEditable(editable)
    box.setCurrentText(value)
    return box


class TrainingSettingsDialog(QDialog):
    """Edit a copy of the settings; ``result_settings`` holds the accepted ones."""

    def __init__(self, settings: TrainingSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Training settings")
        self.setObjectName("training_settings_dialog")
        self.initial = settings
        self.result_settings = settings
        s, d = settings, settings.data
        self.dataset = _choice(DATASETS, d.dataset)
        self.root = QLineEdit(d.root or "")
        self.root.setPlaceholderText("cache folder (downloads) or the image folder to read")
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        root_row = QHBoxLayout()
        root_row.addWidget(self.root, 1)
        root_row.addWidget(browse)
        self.limit = _spin(0, 10_000_000, d.limit or 0)
        self.limit.setSpecialValueText("all samples")
        self.val_split = _real(0.0, 0.95, d.val_split, 2, 0.05)
        self.normalize = _choice(NORMALIZATIONS, d.normalize)
        self.crop = _spin(0, 64, d.crop_padding)
        self.flip = QCheckBox("random horizontal flip")
        self.flip.setChecked(d.flip)
        self.fit = QCheckBox("resize / convert the images to fit the Input block")
        self.fit.setChecked(d.fit_input)
        self.batch = _spin(1, 65_536, s.batch_size)
        self.epochs = _spin(1, 100_000, s.epochs)
        self.optimizer = _choice(OPTIMIZERS, s.optimizer)
        self.lr = _real(1e-7, 100.0, s.lr, 7, 0.0005)
        self.momentum = _real(0.0, 0.999, s.momentum, 3, 0.05)
        self.nesterov = QCheckBox("Nesterov momentum (SGD)")
        self.nesterov.setChecked(s.nesterov)
        self.weight_decay = _real(0.0, 1.0, s.weight_decay, 6, 0.0001)
        self.schedule = _choice(SCHEDULES, s.schedule)
        self.loss = _choice(LOSSES, s.loss)
        self.seed = _spin(0, 2**31 - 1, s.seed)
        self.device = _choice(DEVICES, s.device, editable=True)
        self.amp = QCheckBox("mixed precision (CUDA only)")
        self.amp.setChecked(s.mixed_precision)
        form = QFormLayout()
        for label, field in (
            ("Data set", self.dataset),
            ("Data folder", root_row),
            ("Use", self.limit),
            ("Validation share", self.val_split),
            ("Normalisation", self.normalize),
            ("Random crop padding", self.crop),
            ("", self.flip),
            ("", self.fit),
            ("Batch size", self.batch),
            ("Epochs", self.epochs),
            ("Optimiser", self.optimizer),
            ("Learning rate", self.lr),
            ("Momentum", self.momentum),
            ("", self.nesterov),
            ("Weight decay", self.weight_decay),
            ("Schedule", self.schedule),
            ("Loss", self.loss),
            ("Seed", self.seed),
            ("Device", self.device),
            ("", self.amp),
        ):
            form.addRow(label, field)
        self.error = QLabel("", self)
        self.error.setObjectName("settings_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.root.text())
        if folder:
            self.root.setText(folder)

    def values(self) -> dict[str, Any]:
        """The form as settings data (unchecked)."""
        data = dict(self.initial.to_dict())
        data["data"] = {
            **data["data"],
            "dataset": self.dataset.currentText(),
            "root": self.root.text().strip() or None,
            "limit": self.limit.value() or None,
            "val_split": self.val_split.value(),
            "normalize": self.normalize.currentText(),
            "crop_padding": self.crop.value(),
            "flip": self.flip.isChecked(),
            "fit_input": self.fit.isChecked(),
        }
        data.update(
            batch_size=self.batch.value(),
            epochs=self.epochs.value(),
            optimizer=self.optimizer.currentText(),
            lr=self.lr.value(),
            momentum=self.momentum.value(),
            nesterov=self.nesterov.isChecked(),
            weight_decay=self.weight_decay.value(),
            schedule=self.schedule.currentText(),
            loss=self.loss.currentText(),
            seed=self.seed.value(),
            device=self.device.currentText().strip(),
            mixed_precision=self.amp.isChecked(),
        )
        return data

    def accept(self) -> None:
        try:
            self.result_settings = TrainingSettings.from_dict(self.values())
        except SettingsError as error:
            self.error.setText(str(error))
            return
        super().accept()
