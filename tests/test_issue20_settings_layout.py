"""The training settings dialog with its augmentation box fits a 1280×720 screen (issue 20,
point 5): the box stands beside the form, so OK and Cancel are never below the screen's edge."""

from __future__ import annotations

from designer.training.settings_dialog import TrainingSettingsDialog
from engine.training.settings import TrainingSettings


def test_the_settings_dialog_fits_a_1280_by_720_screen(qtbot) -> None:
    settings = TrainingSettings.from_dict({"data": {"dataset": "digits", "limit": 128}})
    dialog = TrainingSettingsDialog(settings, None, (1, 32, 32))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    hint = dialog.sizeHint()
    # room left for a title bar and a panel: 720 − 60 pixels
    assert hint.height() <= 660 and hint.width() <= 1200, hint
    assert dialog.height() <= 660
    ok = dialog.buttons.buttons()[0]
    assert ok.isVisible() and ok.mapTo(dialog, ok.rect().bottomLeft()).y() <= dialog.height()
    box, form_top = dialog.augment, dialog.dataset.mapTo(dialog, dialog.dataset.rect().topLeft())
    assert box.mapTo(dialog, box.rect().topLeft()).y() <= form_top.y() + 40  # beside, not below
    assert box.preview_button.isVisible()
