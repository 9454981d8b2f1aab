"""The Training settings dialog: data set, batch size, epochs, optimiser, learning rate, weight
decay, schedule, loss, seed, device, mixed precision, split and augmentation.

The widgets only edit a copy. Every field shows the stored value exactly and can hold any value
the engine accepts (number fields from ``number_fields``: no 32-bit limit, no rounding to a few
decimals, no clamping), so OK without edits gives back exactly the stored settings, and only the
fields the user changed change. OK builds ``TrainingSettings`` through ``from_dict`` (the same
checks the trainer makes) and refuses, with the engine's message under the form, when a value
is wrong; the dialog stays open.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.dialogs.number_fields import FieldError, IntField, RealField
from designer.training.augment_preview import AugmentationBox, AugmentPreviewDialog
from engine.data.settings import DATASETS, NORMALIZATIONS
from engine.training.settings import (
    LOSSES,
    MAX_SEED,
    OPTIMIZERS,
    SCHEDULES,
    TrainingSettings,
)

DEVICES = ("auto", "cpu", "cuda", "mps")


def _choice(items: tuple[str, ...], value: str, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setEditable(editable)
    box.setCurrentText(value)
    return box


class TrainingSettingsDialog(QDialog):
    """Edit a copy of the settings; ``result_settings`` holds the accepted ones."""

    def __init__(
        self,
        settings: TrainingSettings,
        parent: QWidget | None = None,
        input_shape: tuple[int, int, int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.input_shape = input_shape  # the Input block's, for the augmentation preview
        self.preview: AugmentPreviewDialog | None = None
        self.setWindowTitle("Training settings")
        self.setObjectName("training_settings_dialog")
        self.initial = settings
        self.result_settings = settings
        s, d = settings, settings.data
        self.dataset = _choice(DATASETS, d.dataset)
        self._root_text = d.root or ""
        self.root = QLineEdit(self._root_text)
        self.root.setPlaceholderText("cache folder (downloads) or the image folder to read")
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        root_row = QHBoxLayout()
        root_row.addWidget(self.root, 1)
        root_row.addWidget(browse)
        self.limit = IntField("Use", d.limit, 2, None, 1000, optional=True, example="1000")
        self.limit.lineEdit().setPlaceholderText("all samples")
        self.limit.setToolTip("How many samples to use (at least 2); empty: all samples")
        self.val_split = RealField("Validation share", d.val_split, 0.0, 0.95, 0.05, example="0.2")
        self.val_split.setToolTip("Share of the samples kept for validation, in [0, 1)")
        self.normalize = _choice(NORMALIZATIONS, d.normalize)
        self.augment = AugmentationBox(d, self)
        self.crop, self.flip = self.augment.crop, self.augment.flip
        self.augment.preview_button.clicked.connect(self.preview_augmentation)
        self.fit = QCheckBox("resize / convert the images to fit the Input block")
        self.fit.setChecked(d.fit_input)
        self.batch = IntField("Batch size", s.batch_size, 1, None, example="64")
        self.epochs = IntField("Epochs", s.epochs, 1, None, example="10")
        self.optimizer = _choice(OPTIMIZERS, s.optimizer)
        self.lr = RealField(
            "Learning rate", s.lr, 0.0, None, 1e-4, log_steps=True, example="0.001 or 1e-4"
        )
        self.lr.setToolTip("A positive number; e.g. 0.001 or 1e-3 (the arrows multiply by 10)")
        self.momentum = RealField("Momentum", s.momentum, 0.0, 0.999, 0.05, example="0.9")
        self.momentum.setToolTip("In [0, 1), e.g. 0.9")
        self.nesterov = QCheckBox("Nesterov momentum (SGD)")
        self.nesterov.setChecked(s.nesterov)
        self.weight_decay = RealField(
            "Weight decay", s.weight_decay, 0.0, None, 1e-4, log_steps=True, example="5e-4"
        )
        self.weight_decay.setToolTip("0 or a small positive number, e.g. 5e-4")
        self.schedule = _choice(SCHEDULES, s.schedule)
        self.loss = _choice(LOSSES, s.loss)
        self.seed = IntField("Seed", s.seed, 0, MAX_SEED, example="0")
        self.seed.setToolTip(f"A whole number from 0 to {MAX_SEED:,}")
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
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        columns = QHBoxLayout()  # side by side: one column is taller than a 720-pixel screen
        columns.addLayout(form, 1)
        columns.addWidget(self.augment, 1, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(columns)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.root.text())
        if folder:
            self.root.setText(folder)

    def _root(self) -> str | None:
        text = self.root.text()
        if text == self._root_text:
            return self.initial.data.root  # untouched: exactly as stored ("" stays "")
        return text.strip() or None

    def values(self) -> dict[str, Any]:
        """The form as settings data (unchecked); FieldError for text that is not a number."""
        data = dict(self.initial.to_dict())
        data["data"] = {
            **data["data"],
            "dataset": self.dataset.currentText(),
            "root": self._root(),
            "limit": self.limit.value(),
            "val_split": self.val_split.value(),
            "normalize": self.normalize.currentText(),
            **self.augment.values(),
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

    def preview_augmentation(self) -> None:
        """Open the preview of the augmentation the form holds (refused, with the message
        under the form, when a value is wrong)."""
        try:
            settings = TrainingSettings.from_dict(self.values())
        except FieldError as error:
            self.error.setText(str(error))
            return
        except (ValueError, TypeError) as error:
            self.error.setText(str(error))
            return
        self.error.setText("")
        if self.preview is not None:
            self.preview.close()
        self.preview = AugmentPreviewDialog(settings.data, self.input_shape, settings.seed, 0, self)
        self.preview.show()

    def accept(self) -> None:
        try:
            self.result_settings = TrainingSettings.from_dict(self.values())
        except FieldError as error:  # text that is not a number: show it and go to the field
            self.error.setText(str(error))
            if error.field is not None:
                error.field.setFocus()
            return
        except (ValueError, TypeError) as error:  # SettingsError: the engine says what to fix
            self.error.setText(str(error))
            return
        self.error.setText("")
        super().accept()
