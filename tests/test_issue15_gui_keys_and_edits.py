"""Issue 15, the designer's keyboard and inspector as a user meets them.

Shortcuts: Redo did nothing on X11, where ``StandardKey.Redo`` is Ctrl+Shift+Z, the very key
listed beside it (Qt ignores a key bound twice: "Ambiguous shortcut overload"); the offscreen
platform the tests run on maps Redo to Ctrl+Y first, so no test saw it. The checks here do not
depend on the platform: no standard keys at all, and no key bound twice anywhere in the window.

Inspector: a value typed and left (another block clicked, focus moved) is applied, as one undo
step; what cannot be applied stays marked or is named, never dropped silently; the name field
marks a name that cannot be used while it is typed.
"""

from __future__ import annotations

import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest
from designer_helpers import close_clean, shown_window
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QFocusEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QLineEdit, QSpinBox

from designer.main_window import MainWindow
from designer.panels.param_editors import INVALID_COLOUR

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    win = shown_window(qtbot, tmp_path, monkeypatch)  # LeNet-5
    yield win
    close_clean(win)


# ----- item 9: shortcuts ---------------------------------------------------------------------
def test_the_designer_binds_no_standard_key() -> None:
    """A StandardKey is a different key on each platform, so a table that looks unique here
    can bind one key twice on another (Redo beside Ctrl+Shift+Z on X11): every shortcut is
    written out."""
    uses = []
    for path in sorted((ROOT / "designer").rglob("*.py")):
        with path.open("rb") as source:  # names in the code, not words in the docstrings
            tokens = list(tokenize.tokenize(source.readline))
        uses += [
            f"{path.relative_to(ROOT)}:{token.start[0]}"
            for token in tokens
            if token.type == tokenize.NAME and token.string == "StandardKey"
        ]
    assert uses == []


def bindings(window: MainWindow) -> list[tuple[str, str]]:
    """Every (key, owner) of the window: its actions (menus, toolbars, docks' toggles, the
    training actions) and any QShortcut, each key in portable text."""
    found = []
    for action in window.findChildren(QAction):
        owner = action.objectName() or action.text()
        found += [(key.toString(), owner) for key in action.shortcuts() if not key.isEmpty()]
    for shortcut in window.findChildren(QShortcut):
        owner = shortcut.objectName() or "QShortcut"
        found += [(key.toString(), owner) for key in shortcut.keys() if not key.isEmpty()]  # noqa: SIM118
    return found


def test_no_key_is_bound_twice(window: MainWindow) -> None:
    found = bindings(window)
    assert ("Ctrl+Shift+Z", "redo") in found and ("Ctrl+Y", "redo") in found
    owners: dict[str, list[str]] = {}
    for key, owner in found:
        owners.setdefault(key, []).append(owner)
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}


def test_each_action_has_exactly_its_listed_keys(window: MainWindow) -> None:
    from designer.shortcuts import SHORTCUTS

    for name, keys in SHORTCUTS.items():
        shown = [key.toString() for key in window.actions_by_name[name].shortcuts()]
        assert shown == [QKeySequence(key).toString() for key in keys], name


def test_undo_and_redo_by_every_listed_key(qtbot, window: MainWindow, qtlog) -> None:
    doc = window.document
    doc.set_params("fc1", {"out_features": 50})
    window.activateWindow()
    window.canvas.setFocus()
    for redo_key, modifiers in ((Qt.Key.Key_Z, CTRL | SHIFT), (Qt.Key.Key_Y, CTRL)):
        qtbot.keyClick(window.canvas, Qt.Key.Key_Z, CTRL)
        assert doc.graph.node("fc1").params["out_features"] == 120
        qtbot.keyClick(window.canvas, redo_key, modifiers)
        assert doc.graph.node("fc1").params["out_features"] == 50, redo_key
    assert not [r for r in qtlog.records if "Ambiguous shortcut" in r.message]


X11_SESSION = """
import json, sys
import designer.app as launcher
from PySide6.QtGui import QAction
app = launcher.create_application()
window = launcher.create_window()
keys = {}
for action in window.findChildren(QAction):
    for key in action.shortcuts():
        keys.setdefault(key.toString(), []).append(action.objectName() or action.text())
print(json.dumps({k: v for k, v in keys.items() if len(v) > 1}))
window.document.undo_stack.setClean()
window.close()
"""


def test_no_key_is_bound_twice_on_a_real_x_server(tmp_path: Path) -> None:
    """Where an X server is at hand (``DISPLAY``), the same check on the xcb platform, whose
    standard keys are the ones that clashed."""
    import json
    import os
    import subprocess
    import sys

    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server (DISPLAY is not set)")
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="xcb",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    result = subprocess.run(
        [sys.executable, "-c", X11_SESSION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode and "platform plugin" in result.stderr:
        pytest.skip("Qt's xcb platform cannot start here (libraries missing)")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}
    assert "Ambiguous shortcut" not in result.stderr


# ----- item 14: edits applied when left ------------------------------------------------------
def click_block(qtbot, window: MainWindow, name: str) -> None:
    """Click block ``name`` on the canvas, as a user picks another block."""
    rect = window.canvas.scene_item_rects()[name]
    at = window.canvas.mapFromScene(rect.center())
    qtbot.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=at)


def type_over(qtbot, edit: QLineEdit, text: str) -> None:
    """Select the field's text and type ``text`` over it, without pressing Enter."""
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def test_a_value_typed_then_another_block_clicked_is_applied_as_one_step(
    qtbot, window: MainWindow
) -> None:
    doc = window.document
    click_block(qtbot, window, "conv1")
    assert doc.selection == ["conv1"]
    spin = window.inspector.editors["out_channels"].widget
    assert isinstance(spin, QSpinBox)
    steps = doc.undo_stack.count()
    type_over(qtbot, spin.lineEdit(), "12")
    click_block(qtbot, window, "pool1")
    assert doc.selection == ["pool1"]
    assert doc.graph.node("conv1").params["out_channels"] == 12
    assert doc.undo_stack.count() == steps + 1 and window.isWindowModified()
    window.actions_by_name["undo"].trigger()
    assert doc.graph.node("conv1").params["out_channels"] == 6


def test_a_number_being_typed_survives_an_edit_elsewhere(qtbot, window: MainWindow) -> None:
    """A toolbar button takes no focus: an edit made with it refreshes the inspector while a
    number is still being typed, which must stay, and be applied when the block is left."""
    doc = window.document
    click_block(qtbot, window, "conv1")
    spin = window.inspector.editors["out_channels"].widget
    type_over(qtbot, spin.lineEdit(), "12")
    doc.set_params("fc1", {"out_features": 100})  # the views refresh from the model
    assert spin.text() == "12"
    click_block(qtbot, window, "pool1")
    assert doc.graph.node("conv1").params["out_channels"] == 12


def test_a_text_value_typed_then_the_canvas_background_clicked_is_applied(
    qtbot, window: MainWindow
) -> None:
    doc = window.document
    click_block(qtbot, window, "conv1")
    edit = window.inspector.editors["kernel_size"].widget
    assert isinstance(edit, QLineEdit)
    type_over(qtbot, edit, "3x3")
    doc.set_selection([])  # a click on the empty canvas clears the selection
    assert doc.graph.node("conv1").params["kernel_size"] in ([3, 3], (3, 3), 3)
    window.actions_by_name["undo"].trigger()
    assert doc.graph.node("conv1").params["kernel_size"] == 5


def test_a_refused_value_left_behind_is_named_never_lost_silently(
    qtbot, window: MainWindow
) -> None:
    doc = window.document
    click_block(qtbot, window, "conv1")
    edit = window.inspector.editors["kernel_size"].widget
    type_over(qtbot, edit, "3x")
    steps = doc.undo_stack.count()
    click_block(qtbot, window, "pool1")
    message = window.inspector.message.text()
    assert "conv1" in message and "kernel_size" in message and "'3x'" in message
    assert doc.undo_stack.count() == steps and doc.graph.node("conv1").params["kernel_size"] == 5


def test_a_refused_value_left_in_place_stays_marked(qtbot, window: MainWindow) -> None:
    """Focus moves away from a refused value: it stays in its field, marked, even when the
    design is inferred again (another edit elsewhere)."""
    doc = window.document
    click_block(qtbot, window, "conv1")
    edit = window.inspector.editors["kernel_size"].widget
    type_over(qtbot, edit, "3x")
    QApplication.sendEvent(edit, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.TabFocusReason))
    doc.set_params("fc1", {"out_features": 100})  # the views refresh from the model
    assert edit.text() == "3x" and INVALID_COLOUR in edit.styleSheet()
    assert window.inspector.editors["kernel_size"].problem
    window.actions_by_name["undo"].trigger()  # fc1 again; kernel_size did not change
    assert edit.text() == "3x"


def test_a_spin_box_left_with_unusable_text_says_it_went_back(qtbot, window: MainWindow) -> None:
    doc = window.document
    click_block(qtbot, window, "conv1")
    spin = window.inspector.editors["out_channels"].widget
    type_over(qtbot, spin.lineEdit(), "")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Backspace)  # an empty box: not a number
    click_block(qtbot, window, "pool1")
    message = window.inspector.message.text()
    assert "out_channels" in message and "stays 6" in message
    assert doc.graph.node("conv1").params["out_channels"] == 6


def test_a_spin_box_that_loses_the_focus_to_a_click_on_another_block_says_it_went_back(
    qtbot, window: MainWindow
) -> None:
    """On a desktop the click moves the focus first (the spin box goes back to its value)
    and selects the other block next; what was dropped is still named after that."""
    doc = window.document
    click_block(qtbot, window, "conv1")
    spin = window.inspector.editors["out_channels"].widget
    type_over(qtbot, spin.lineEdit(), "")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Backspace)
    QApplication.sendEvent(spin, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.MouseFocusReason))
    doc.set_selection(["pool1"])  # what the click does next
    message = window.inspector.message.text()
    assert "conv1" in message and "out_channels" in message and "stays 6" in message
    qtbot.wait(10)  # back in the event loop: a later selection does not repeat it
    doc.set_selection(["conv2"])
    assert "out_channels" not in window.inspector.message.text()


def test_a_name_typed_then_another_block_clicked_renames_as_one_step(
    qtbot, window: MainWindow
) -> None:
    doc = window.document
    click_block(qtbot, window, "conv1")
    type_over(qtbot, window.inspector.name_edit, "stem")
    click_block(qtbot, window, "pool1")
    assert "stem" in doc.graph and "conv1" not in doc.graph and doc.selection == ["pool1"]
    window.actions_by_name["undo"].trigger()
    assert "conv1" in doc.graph and "stem" not in doc.graph


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("pool1", "already exists"), ("my block", "letters, digits and underscores"), ("", "empty")],
)
def test_the_name_field_marks_a_name_that_cannot_be_used_while_typing(
    qtbot, window: MainWindow, typed: str, reason: str
) -> None:
    click_block(qtbot, window, "conv1")
    name = window.inspector.name_edit
    name.selectAll()
    qtbot.keyClick(name, Qt.Key.Key_Backspace)
    qtbot.keyClicks(name, typed)
    assert INVALID_COLOUR in name.styleSheet()
    assert reason in name.toolTip() and reason in window.inspector.message.text()
    qtbot.keyClicks(name, "_2" if typed else "stem")
    assert INVALID_COLOUR not in name.styleSheet() or " " in typed
    assert "conv1" in window.document.graph  # nothing renamed while typing


def test_train_applies_a_value_still_being_typed_first(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Train trains what the inspector shows: a kernel of 30 typed (not entered) into conv1
    of LeNet-5 makes the design invalid, so Train refuses and starts no process."""
    import engine.training.runner as runner

    started: list[object] = []
    monkeypatch.setattr(runner, "start_training", lambda *a, **k: started.append(a))
    doc = window.document
    click_block(qtbot, window, "conv1")
    edit = window.inspector.editors["kernel_size"].widget
    type_over(qtbot, edit, "30")
    assert window.training.train() is False
    assert doc.graph.node("conv1").params["kernel_size"] == 30
    assert not doc.result.ok and started == []
