"""The designer's dialogs with the values at the edges of what the engine accepts, driven like a
user: typing into the fields and clicking the buttons.

Training settings: every value the engine accepts is shown exactly and comes back unchanged
when OK is pressed without edits (no 32-bit limit, no rounding, no clamping); a wrong value is
refused with the engine's message. New from preset: a resolution below the stated minimum, or
options that give a design with errors, are refused in the dialog. Export: a class name the
exporter would rename is refused with the reason and a name to use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from designer_helpers import close_clean, shown_window
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QSpinBox,
)

from designer.dialogs.export_dialog import ExportDialog
from designer.dialogs.preset_dialog import PresetDialog
from designer.training.settings_dialog import TrainingSettingsDialog
from engine import DesignerError, infer
from engine.training.settings import MAX_SEED, TrainingSettings
from presets import PRESETS

pytestmark = pytest.mark.gui

JOB_TIMEOUT_MS = 60_000
OK = QDialogButtonBox.StandardButton.Ok


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    win = shown_window(qtbot, tmp_path, monkeypatch)
    win.training.run_root = tmp_path / "runs"
    yield win
    win.training.shutdown()
    close_clean(win)


def type_into(qtbot, field: Any, text: str) -> None:
    """Select what the field holds and type ``text`` over it, as a user does."""
    field.setFocus()
    edit = field.lineEdit() if hasattr(field, "lineEdit") else field
    edit.selectAll()
    if not text:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)
    for char in text:
        if char.isascii():
            qtbot.keyClicks(edit, char)
        else:  # QTest aborts on keys outside ASCII: send the key event a keyboard would
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                event = QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char)
                QApplication.sendEvent(edit, event)


def click(qtbot, buttons: Any, which: QDialogButtonBox.StandardButton) -> None:
    qtbot.mouseClick(buttons.button(which), Qt.MouseButton.LeftButton)


def in_modal(action: Callable[[Any], None], opener: Callable[[], object]) -> None:
    """Call ``opener`` (which shows a modal dialog) and run ``action`` on that dialog; a failure
    in ``action`` closes the dialog and is raised here; no dialog at all fails the test."""
    failures: list[BaseException] = []
    seen: list[Any] = []
    opened = False

    def step() -> None:
        dialog: Any = QApplication.activeModalWidget()
        if dialog is None:
            if not opened:  # opener has not returned: the dialog is still to come
                QTimer.singleShot(20, step)
            return
        seen.append(dialog)
        try:
            action(dialog)
        except BaseException as error:  # reported by the test, after exec() returns
            failures.append(error)
        finally:
            modal = QApplication.activeModalWidget()
            if isinstance(modal, QDialog) and modal is dialog:
                modal.reject()

    QTimer.singleShot(0, step)
    try:
        opener()
    finally:
        opened = True
    if failures:
        raise failures[0]
    assert seen, "no dialog opened"


# ----- training settings -------------------------------------------------------------------
def settings_dialog(qtbot, stored: dict[str, Any]) -> tuple[TrainingSettings, Any]:
    settings = TrainingSettings.from_dict(stored)
    dialog = TrainingSettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return settings, dialog


EDGE_SETTINGS = [
    ({"seed": 3_000_000_000}, "seed", "3000000000"),
    ({"seed": MAX_SEED}, "seed", "4294967295"),
    ({"lr": 1e-8}, "lr", "1e-08"),
    ({"lr": 0.00012345678}, "lr", "0.00012345678"),
    ({"lr": 250.0}, "lr", "250.0"),
    ({"weight_decay": 1e-7}, "weight_decay", "1e-07"),
    ({"weight_decay": 3.5}, "weight_decay", "3.5"),
    ({"epochs": 200_000}, "epochs", "200000"),
    ({"batch_size": 100_000}, "batch", "100000"),
    ({"batch_size": 2**40}, "batch", str(2**40)),
    ({"momentum": 0.9999}, "momentum", "0.9999"),
    ({"data": {"val_split": 0.125}}, "val_split", "0.125"),
    ({"data": {"val_split": 0.99}}, "val_split", "0.99"),
    ({"data": {"crop_padding": 100}}, "crop", "100"),
    ({"data": {"dataset": "digits", "limit": 20_000_000}}, "limit", "20000000"),
    ({"data": {"root": ""}}, "root", ""),
]


@pytest.mark.parametrize(
    ("stored", "field", "shown"), EDGE_SETTINGS, ids=[f"{c[1]}={c[2]}" for c in EDGE_SETTINGS]
)
def test_settings_dialog_shows_and_keeps_every_value_the_engine_accepts(
    qtbot, stored: dict[str, Any], field: str, shown: str
) -> None:
    settings, dialog = settings_dialog(qtbot, stored)
    assert getattr(dialog, field).text() == shown  # the stored value, not a rounded one
    click(qtbot, dialog.buttons, OK)
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.error.text()
    assert dialog.result_settings == settings
    assert dialog.result_settings.to_dict() == settings.to_dict()


def test_settings_dialog_changes_only_what_was_typed(qtbot) -> None:
    stored = {"lr": 1e-8, "momentum": 0.9999, "seed": 3_000_000_000, "gamma": 0.37}
    settings, dialog = settings_dialog(qtbot, {**stored, "data": {"val_split": 0.125}})
    type_into(qtbot, dialog.epochs, "200000")
    type_into(qtbot, dialog.weight_decay, "1e-7")
    type_into(qtbot, dialog.batch, "100000")
    type_into(qtbot, dialog.limit, "20000000")
    click(qtbot, dialog.buttons, OK)
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.error.text()
    expected = settings.updated(
        epochs=200_000, weight_decay=1e-7, batch_size=100_000, data__limit=20_000_000
    )
    assert dialog.result_settings == expected


def test_settings_dialog_takes_the_largest_seed_and_refuses_one_more(qtbot) -> None:
    settings, dialog = settings_dialog(qtbot, {})
    type_into(qtbot, dialog.seed, str(MAX_SEED + 1))
    click(qtbot, dialog.buttons, OK)
    assert dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    message = dialog.error.text()
    assert "seed" in message and f"{MAX_SEED + 1}" in message and f"{MAX_SEED:,}" in message
    assert dialog.seed.text() == str(MAX_SEED + 1)  # what was typed stays, not clamped
    type_into(qtbot, dialog.seed, str(MAX_SEED))
    click(qtbot, dialog.buttons, OK)
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.error.text()
    assert dialog.result_settings == settings.updated(seed=MAX_SEED)


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [
        ("lr", "0", ["lr", "positive"]),
        ("lr", "1e", ["Learning rate", "'1e' is not a number"]),
        ("lr", "", ["Learning rate", "nothing is not a number"]),
        ("momentum", "1", ["momentum", "[0, 1)"]),
        ("val_split", "1.0", ["val_split", "[0, 1)"]),
        ("limit", "1", ["limit", "≥ 2"]),
        ("epochs", "0", ["epochs", "≥ 1"]),
        ("epochs", "", ["Epochs", "not a whole number"]),
        ("batch", "-", ["Batch size", "not a whole number"]),
        ("crop", "-3", ["crop_padding", "≥ 0"]),
    ],
)
def test_settings_dialog_refuses_a_wrong_value_and_says_how_to_fix_it(
    qtbot, field: str, text: str, words: list[str]
) -> None:
    _settings, dialog = settings_dialog(qtbot, {})
    type_into(qtbot, getattr(dialog, field), text)
    click(qtbot, dialog.buttons, OK)
    assert dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    for word in words:
        assert word in dialog.error.text()


def test_settings_dialog_letters_cannot_be_typed_into_a_number(qtbot) -> None:
    _settings, dialog = settings_dialog(qtbot, {"lr": 0.01})
    type_into(qtbot, dialog.lr, "abc")
    assert dialog.lr.text() == "0.01"  # the letters were refused as typed
    type_into(qtbot, dialog.seed, "12x3")
    assert dialog.seed.text() == "123"


def test_settings_dialog_arrows_step_within_the_engine_range(qtbot) -> None:
    _settings, dialog = settings_dialog(qtbot, {"seed": MAX_SEED - 1, "lr": 0.001})
    dialog.seed.setFocus()
    for _ in range(3):
        qtbot.keyClick(dialog.seed, Qt.Key.Key_Up)
    assert dialog.seed.text() == str(MAX_SEED)
    dialog.lr.setFocus()
    qtbot.keyClick(dialog.lr, Qt.Key.Key_Up)
    assert dialog.lr.text() == "0.01"
    qtbot.keyClick(dialog.lr, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.lr, Qt.Key.Key_Down)
    assert dialog.lr.text() == "0.0001"
    click(qtbot, dialog.buttons, OK)
    assert dialog.result_settings.lr == 0.0001 and dialog.result_settings.seed == MAX_SEED


def test_settings_dialog_empty_limit_means_all_samples(qtbot) -> None:
    _settings, dialog = settings_dialog(qtbot, {"data": {"limit": 500}})
    type_into(qtbot, dialog.limit, "")
    click(qtbot, dialog.buttons, OK)
    assert dialog.result_settings.data.limit is None


def test_training_settings_action_opens_a_project_with_a_large_seed(
    qtbot, window, tmp_path: Path
) -> None:
    """Training ▸ Settings on a project whose seed is above 2^31 - 1 (valid up to 2^32 - 1)."""
    from designer.document import preset_project
    from engine import save_project

    project = preset_project("lenet5")
    stored = TrainingSettings.from_dict({"seed": 3_000_000_000, "lr": 1e-8, "epochs": 3})
    project.training = stored.to_dict()
    path = tmp_path / "net.cnnd"
    save_project(project, path)
    assert window.open_file(path)
    seen: list[str] = []

    def press_ok(dialog: Any) -> None:
        seen.append(dialog.seed.text())
        click(qtbot, dialog.buttons, OK)

    in_modal(press_ok, window.actions_by_name["training_settings"].trigger)
    assert seen == ["3000000000"]
    assert window.document.project.training == stored.to_dict()
    assert not window.document.modified  # nothing was changed, so nothing to save


# ----- new from preset ---------------------------------------------------------------------
def preset_dialog(qtbot, name: str) -> PresetDialog:
    dialog = PresetDialog(current=name)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def press_open(qtbot, dialog: PresetDialog) -> None:
    box = dialog.findChild(QDialogButtonBox)
    click(qtbot, box, QDialogButtonBox.StandardButton.Open)


@pytest.mark.parametrize(
    ("name", "typed", "minimum"),
    [("alexnet", 1, 63), ("vgg16", 1, 32), ("squeezenet1_1", 16, 17), ("resnet18", 16, 32)],
)
def test_preset_dialog_refuses_a_resolution_below_the_stated_minimum(
    qtbot, name: str, typed: int, minimum: int
) -> None:
    dialog = preset_dialog(qtbot, name)
    resolution = dialog.option_widgets["resolution"]
    assert f"at least {minimum}" in resolution.toolTip()
    type_into(qtbot, resolution, str(typed))
    press_open(qtbot, dialog)
    assert dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    message = dialog.error.text()
    assert dialog.error.isVisible()
    assert f"at least {minimum}" in message and f"resolution={typed}" in message
    type_into(qtbot, resolution, str(minimum))
    press_open(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.error.text()
    assert dialog.chosen() == (name, {"resolution": minimum})


def test_preset_dialog_refuses_options_that_give_a_design_with_errors(
    qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Options the preset allows but whose design has errors (here: a minimum set too low) are
    refused, with the smallest resolution that works."""
    preset = PRESETS.get("squeezenet1_0")
    options = tuple(
        dataclasses.replace(o, minimum=1) if o.name == "resolution" else o for o in preset.options
    )
    monkeypatch.setitem(PRESETS._presets, preset.name, dataclasses.replace(preset, options=options))
    dialog = preset_dialog(qtbot, "squeezenet1_0")
    resolution = dialog.option_widgets["resolution"]
    type_into(qtbot, resolution, "17")
    press_open(qtbot, dialog)
    assert dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    message = dialog.error.text()
    assert "error" in message and "resolution=17" in message and "is 21. Type 21 or more" in message


def test_every_preset_builds_without_errors_at_its_minimum_resolution() -> None:
    for preset in PRESETS:
        option = next((o for o in preset.options if o.name == "resolution"), None)
        if option is None or option.choices:
            continue
        assert infer(preset.create(resolution=option.minimum)).ok, preset.name
        with pytest.raises(DesignerError, match=f"must be at least {option.minimum}"):
            option.check(option.minimum - 1)


def test_new_from_preset_keeps_the_design_when_the_resolution_is_too_small(qtbot, window) -> None:
    """Ctrl+Shift+N, AlexNet, resolution 1, Open: refused in the dialog; 63 then loads it."""
    names = window.document.graph.names
    shown: list[str] = []

    def choose(dialog: Any) -> None:
        assert isinstance(dialog, PresetDialog)
        dialog.select("alexnet")
        resolution = dialog.option_widgets["resolution"]
        assert isinstance(resolution, QSpinBox)
        type_into(qtbot, resolution, "1")
        press_open(qtbot, dialog)
        assert dialog.isVisible()
        shown.append(dialog.error.text())
        assert window.document.graph.names == names  # nothing loaded yet
        type_into(qtbot, resolution, "63")
        press_open(qtbot, dialog)

    in_modal(choose, window.new_from_preset)
    assert "at least 63" in shown[0]
    assert window.document.project.metadata.get("preset") == "alexnet"
    assert window.document.result.ok and not window.document.result.errors


# ----- export class name -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "reason", "suggestion"),
    [
        ("1Net", "cannot start with a digit", "N1Net"),
        ("My Net", "letters, digits and underscores only", "My_Net"),
        ("class", "Python keyword", "Class"),
        ("Net\u00e9", "ASCII", "Net"),
        ("_Net", "would write it as 'Net'", "Net"),
        ("model", "already uses the name", "Model"),
        ("Path", "already uses the name", "PathNet"),
        ("super", "built-in", "Super"),
        ("", "Type a class name", "DesignedNet"),
    ],
)
def test_export_refuses_a_class_name_the_exporter_would_change(
    qtbot, window, tmp_path: Path, typed: str, reason: str, suggestion: str
) -> None:
    dialog = window.export_design("python")
    assert isinstance(dialog, ExportDialog)
    target = tmp_path / "out.py"
    type_into(qtbot, dialog.path, str(target))
    type_into(qtbot, dialog.class_name, typed)
    click(qtbot, dialog.buttons, OK)
    assert dialog.isVisible() and dialog.job is None  # refused: nothing started
    message = dialog.error.text()
    assert dialog.error.isVisible() and reason in message and repr(suggestion) in message
    assert not target.exists()


def test_export_writes_the_class_name_as_typed(qtbot, window, tmp_path: Path) -> None:
    dialog = window.export_design("python")
    target = tmp_path / "out.py"
    type_into(qtbot, dialog.path, str(target))
    type_into(qtbot, dialog.class_name, "My_Net2")
    click(qtbot, dialog.buttons, OK)
    assert not dialog.isVisible() and dialog.job is not None, dialog.error.text()
    qtbot.waitUntil(lambda: dialog.job.finished, timeout=JOB_TIMEOUT_MS)
    assert "class My_Net2(nn.Module):" in target.read_text()
