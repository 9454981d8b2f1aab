"""The augmentation preview of a data set it cannot read (issue 20, "Bad input"): one message in
the preview naming the folder and what is wrong, no traceback, and the settings unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from designer.training.settings_dialog import TrainingSettingsDialog
from engine.training.settings import TrainingSettings


@pytest.mark.parametrize(
    ("dataset", "folder", "words"),
    [
        ("imagefolder", "missing", "does not exist or is not a folder"),
        ("imagefolder", "empty", "needs one subfolder per class"),
        ("mnist", "empty", "no train-images-idx3-ubyte"),
    ],
)
def test_a_data_set_the_preview_cannot_read_is_one_message(
    qtbot, tmp_path: Path, dataset: str, folder: str, words: str
) -> None:
    (tmp_path / "empty").mkdir()
    root = str(tmp_path / folder)
    settings = TrainingSettings.from_dict({"data": {"dataset": dataset, "root": root}})
    dialog = TrainingSettingsDialog(settings, None, (1, 32, 32))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.augment.preview_button, Qt.MouseButton.LeftButton)
    preview = dialog.preview
    assert preview is not None
    qtbot.waitUntil(lambda: preview.last is not None and not preview.busy, timeout=30_000)
    assert isinstance(preview.last, str)
    assert preview.last.startswith("Cannot preview the augmentation: ")
    assert root in preview.last and words in preview.last and "Traceback" not in preview.last
    assert preview.last.count("\n") == 0 and preview.status.text() == preview.last  # shown
    assert TrainingSettings.from_dict(dialog.values()) == settings
