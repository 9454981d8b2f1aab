"""Issue 20, point 5, in the window: the training settings' augmentation fields and the preview
grid (the same seed draws the same grid, another seed another one; bad values and colour jitter
on grey images are refused with the engine's message)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from designer_helpers import DialogRecorder, isolate_user_dirs
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from designer.document import Document, preset_project
from designer.main_window import MainWindow
from designer.training.settings_dialog import TrainingSettingsDialog
from engine.training.settings import TrainingSettings


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    win = MainWindow(Document(preset_project("lenet5")), session=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.training.shutdown()


def _dialog(qtbot, **data) -> TrainingSettingsDialog:
    dialog = TrainingSettingsDialog(TrainingSettings.from_dict({"data": data}), None, (1, 32, 32))
    qtbot.addWidget(dialog)
    return dialog


def _preview(qtbot, dialog: TrainingSettingsDialog) -> np.ndarray | str:
    qtbot.mouseClick(dialog.augment.preview_button, Qt.MouseButton.LeftButton)
    preview = dialog.preview
    assert preview is not None
    qtbot.waitUntil(lambda: preview.last is not None and not preview.busy, timeout=20_000)
    if isinstance(preview.last, str):
        return preview.last
    return np.array(preview.panel.image, copy=True)


def _reseed(qtbot, dialog: TrainingSettingsDialog, seed: int) -> np.ndarray:
    preview = dialog.preview
    assert preview is not None
    preview.seed.setValue(seed)
    qtbot.waitUntil(lambda: preview.last_seed == seed and not preview.busy, timeout=20_000)
    return np.array(preview.panel.image, copy=True)


def test_the_preview_grid_is_the_same_for_the_same_seed(qtbot) -> None:
    dialog = _dialog(qtbot)
    dialog.augment.rotation.setValue(30.0)
    dialog.augment.crop_scale.setValue(0.6)
    dialog.augment.vflip.setChecked(True)
    dialog.augment.jitter["brightness"].setValue(0.3)
    first = _preview(qtbot, dialog)
    assert isinstance(first, np.ndarray), first
    assert first.shape == (6 * 33 + 1, 6 * 33 + 1)  # 6 digits, the original and 5 copies
    assert "digits, seed 0" in dialog.preview.status.text()  # type: ignore[union-attr]
    other = _reseed(qtbot, dialog, 7)
    assert not np.array_equal(first, other)
    assert np.array_equal(_reseed(qtbot, dialog, 0), first)
    again = _preview(qtbot, dialog)  # a new preview window for the same seed
    assert np.array_equal(again, first)
    # the first column is the images as fed, unaugmented: the same for every seed
    assert np.array_equal(first[:, :34], other[:, :34])


def test_the_preview_shows_no_change_without_augmentation(qtbot) -> None:
    grid = _preview(qtbot, _dialog(qtbot))
    assert isinstance(grid, np.ndarray), grid
    tiles = [grid[1:33, 1 + 33 * j : 33 + 33 * j] for j in range(6)]
    assert all(np.allclose(tile, tiles[0], atol=1e-6) for tile in tiles)


def test_an_out_of_range_value_is_refused_and_opens_no_preview(qtbot) -> None:
    dialog = _dialog(qtbot)
    dialog.augment.rotation.lineEdit().setText("400")
    qtbot.mouseClick(dialog.augment.preview_button, Qt.MouseButton.LeftButton)
    assert dialog.preview is None
    assert "Received: data.rotation=400.0. Use degrees in [0, 180]" in dialog.error.text()
    dialog.accept()
    assert dialog.result() == 0  # still open: OK refuses it too


def test_hue_on_grey_images_is_explained_in_the_preview(qtbot) -> None:
    dialog = _dialog(qtbot)
    dialog.augment.jitter["hue"].setValue(0.1)
    text = _preview(qtbot, dialog)
    assert isinstance(text, str)
    assert "data.hue: colour jitter of hue needs 3-channel (RGB) images" in text
    assert "Traceback" not in text


def test_the_fields_round_trip_through_ok(qtbot) -> None:
    stored = TrainingSettings.from_dict(
        {"data": {"rotation": 12.5, "vflip": True, "crop_scale": 0.7, "hue": 0.05}}
    )
    dialog = TrainingSettingsDialog(stored)
    qtbot.addWidget(dialog)
    assert TrainingSettings.from_dict(dialog.values()) == stored
    dialog.augment.jitter["contrast"].setValue(0.25)
    dialog.accept()
    assert dialog.result_settings.data.contrast == 0.25
    assert dialog.result_settings.data.rotation == 12.5


def test_the_window_gives_the_dialog_the_input_blocks_shape(qtbot, window) -> None:
    seen: list[object] = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        seen.append(getattr(dialog, "input_shape", None))
        dialog.reject()  # type: ignore[union-attr]

    QTimer.singleShot(200, look)
    assert window.training.edit_settings() is False
    assert seen == [(1, 32, 32)]
