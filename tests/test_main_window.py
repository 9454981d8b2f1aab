"""The designer window driven like a user: palette, inspector, summary, problems, quick fixes,
undo/redo, files and the unsaved-changes prompt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QLineEdit,
    QMessageBox,
    QPushButton,
)

from designer.app import create_window
from designer.main_window import MainWindow
from engine import CATALOG

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, dialogs: DialogRecorder) -> Iterator[MainWindow]:
    win = create_window()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    close_clean(win)


def select_row(qtbot, win: MainWindow, name: str) -> None:
    """Click the summary row of block ``name``."""
    view = win.summary.view
    row = win.summary.model.row_of(name)
    view.scrollTo(win.summary.model.index(row, 0))
    rect = view.visualRect(win.summary.model.index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def type_into(qtbot, edit: QLineEdit, text: str) -> None:
    """Replace a line edit's text by typing, then press Enter."""
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def drop_from_palette(win: MainWindow, type_id: str, pos: QPoint) -> str:
    """Drag a palette entry onto the canvas viewport at ``pos`` (the events a QDrag delivers)."""
    data = win.palette.tree.mimeData([win.palette.items[type_id]])
    viewport = win.canvas.viewport()
    action, buttons = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    no_keys = Qt.KeyboardModifier.NoModifier
    before = set(win.document.graph.names)
    for event in (
        QDragEnterEvent(pos, action, data, buttons, no_keys),  # QPoint before PySide6 6.12
        QDragMoveEvent(pos, action, data, buttons, no_keys),
        QDropEvent(QPointF(pos), action, data, buttons, no_keys),
    ):
        QApplication.sendEvent(viewport, event)
    (name,) = set(win.document.graph.names) - before
    return name


def summary_output(win: MainWindow, name: str) -> str:
    model = win.summary.model
    return model.index(model.row_of(name), 2).data()


def test_starts_with_lenet5_and_every_panel(window: MainWindow) -> None:
    doc = window.document
    assert "input" in doc.graph and "fc3" in doc.graph and doc.result.ok
    assert doc.project.training["data"]["dataset"] == "digits"
    assert window.windowTitle().startswith("Untitled") and not window.isWindowModified()
    assert window.summary.model.rowCount() == len(doc.graph)
    assert "61,706" in window.summary.totals.text()
    assert window.problems.tree.topLevelItemCount() == 0
    assert set(window.palette.items) == {spec.type_id for spec in CATALOG}
    assert window.bottom_tabs.tabText(0) == "Layer summary"


def test_edit_mistake_fix_undo_redo(qtbot, window: MainWindow) -> None:
    doc = window.document
    undo, redo = window.actions_by_name["undo"], window.actions_by_name["redo"]

    # double-click a palette entry: the block is added and selected
    tree = window.palette.tree
    tree.scrollToItem(window.palette.items["relu"])
    rect = tree.visualItemRect(window.palette.items["relu"])
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    added = doc.selection[0]
    assert doc.graph.node(added).type_id == "relu" and window.isWindowModified()

    # drag a block from the palette and drop it on the canvas: created where it is dropped
    dropped = drop_from_palette(window, "dropout", QPoint(200, 150))
    assert doc.graph.node(dropped).type_id == "dropout" and doc.selection == [dropped]
    item = window.canvas.canvas.nodes[dropped]
    where = window.canvas.mapToScene(QPoint(200, 150))
    assert item.sceneBoundingRect().contains(where)
    undo.trigger()
    assert dropped not in doc.graph

    # click the conv1 row and type a new kernel size: the summary row follows
    select_row(qtbot, window, "conv1")
    assert doc.selection == ["conv1"]
    kernel = window.inspector.editors["kernel_size"].widget
    assert isinstance(kernel, QLineEdit) and kernel.text() == "5"
    wire = window.canvas.canvas.edges[doc.graph.out_edges("conv1")[0]]
    assert wire.label == "6×28×28"
    type_into(qtbot, kernel, "3")
    assert doc.graph.node("conv1").params["kernel_size"] == 3
    assert wire.label == "6×30×30"
    assert summary_output(window, "conv1") == "6×30×30"
    assert "32 − 3 + 1 = 30" in window.inspector.details.text()

    # unreadable text: red border and the spec's message, the model keeps its value
    type_into(qtbot, kernel, "3y")
    assert "cannot read '3y'" in window.inspector.message.text()
    assert "border" in kernel.styleSheet() and doc.graph.node("conv1").params["kernel_size"] == 3

    # a mistake the engine explains: the problems list shows it in red
    type_into(qtbot, kernel, "40")
    assert not doc.result.ok
    messages = [d.message for d in window.problems.diagnostics]
    assert any("kernel 40 is larger than its 32×32 input" in m for m in messages)
    assert "2 error(s)" in window.bottom_tabs.tabText(1)  # with the unwired ReLU's
    first = window.problems.tree.topLevelItem(0)
    assert first.foreground(2).color().name() == "#d32f2f"
    assert summary_output(window, "fc3") == "?"

    # undo the mistake, then make one with a quick fix and apply it from the list
    undo.trigger()
    assert doc.graph.node("conv1").params["kernel_size"] == 3
    assert [d.node for d in doc.result.errors] == [added]
    select_row(qtbot, window, "pool1")
    type_into(qtbot, window.inspector.editors["padding"].widget, "2")
    row = [d.node for d in window.problems.diagnostics].index("pool1")
    assert "padding must be at most half the kernel" in window.problems.diagnostics[row].message
    button = window.problems.tree.itemWidget(window.problems.tree.topLevelItem(row), 3)
    assert isinstance(button, QPushButton) and "set padding 1" in button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [d.node for d in doc.result.errors] == [added]
    assert doc.graph.node("pool1").params["padding"] == 1
    assert window.inspector.editors["padding"].widget.text() == "1"  # model → widget

    # every step undoes and redoes, one at a time
    undo.trigger()
    assert doc.graph.node("pool1").params["padding"] == 2
    undo.trigger()
    assert doc.graph.node("pool1").params["padding"] == 0
    undo.trigger()
    assert doc.graph.node("conv1").params["kernel_size"] == 5
    undo.trigger()
    assert added not in doc.graph and not window.isWindowModified()
    for _ in range(3):
        redo.trigger()
    assert added in doc.graph and doc.graph.node("pool1").params["padding"] == 2
    redo.trigger()
    assert doc.graph.node("pool1").params["padding"] == 1


def test_keyboard_undo_redo_and_rename(qtbot, window: MainWindow) -> None:
    doc = window.document
    select_row(qtbot, window, "fc1")
    type_into(qtbot, window.inspector.name_edit, "hidden")
    assert "hidden" in doc.graph and doc.selection == ["hidden"]
    type_into(qtbot, window.inspector.name_edit, "fc2")  # taken: refused with the reason
    assert "already exists" in window.inspector.message.text() and "hidden" in doc.graph
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "fc1" in doc.graph and "hidden" not in doc.graph
    qtbot.keyClick(
        window.canvas,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert "hidden" in doc.graph


def test_save_close_reopen(
    qtbot, window: MainWindow, dialogs: DialogRecorder, tmp_path: Path
) -> None:
    doc = window.document
    doc.set_params("conv2", {"out_channels": 32})
    doc.add_node("dropout", (400.0, 300.0), name="drop")
    path = tmp_path / "net.cnnd"
    assert window.save_as(path)
    assert window.windowTitle().startswith("net.cnnd") and not window.isWindowModified()
    saved = doc.project.to_data()
    window.close()
    assert dialogs.calls == []  # clean: no prompt

    again = create_window(file=str(path))
    qtbot.addWidget(again)
    assert again.document.project.to_data() == saved
    assert again.document.path == path and not again.isWindowModified()
    assert again.document.graph.node("conv2").params["out_channels"] == 32
    close_clean(again)


def test_close_with_unsaved_changes_asks(
    qtbot, window: MainWindow, dialogs: DialogRecorder
) -> None:
    window.document.set_params("fc1", {"out_features": 100})
    dialogs.answer = QMessageBox.StandardButton.Cancel
    window.close()
    assert dialogs.kinds() == ["question"] and window.isVisible()  # cancelled: still open
    dialogs.answer = QMessageBox.StandardButton.Discard
    window.close()
    assert dialogs.kinds() == ["question", "question"] and not window.isVisible()


def test_corrupt_file_shows_a_dialog_and_keeps_the_work(
    window: MainWindow, dialogs: DialogRecorder, tmp_path: Path
) -> None:
    window.document.set_params("fc1", {"out_features": 100})
    before = window.document.project.to_data()
    broken = tmp_path / "broken.cnnd"
    broken.write_text('{"format": "cnn-designer-project", "version": 2, "graph": 5}')
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert not window.open_file(broken)
    assert dialogs.kinds() == ["question", "critical"]
    assert "broken.cnnd" in dialogs.calls[1][2] and "graph" in dialogs.calls[1][2]
    assert window.document.project.to_data() == before
    assert not window.open_file(tmp_path / "missing.cnnd")
    assert window.document.project.to_data() == before


def test_find_block_and_load_preset(window: MainWindow) -> None:
    doc = window.document
    assert window.find_block("FC2") == "fc2" and doc.selection == ["fc2"]
    assert window.find_block("nothing-like-this") is None
    assert "No block named" in window.statusBar().currentMessage()
    assert window.load_preset("lenet5", activation="relu", pooling="max")
    # a new untitled design, as File > New gives (the old one was asked about first)
    assert doc.graph.node("act1").type_id == "relu" and not window.isWindowModified()
    assert doc.path is None and doc.undo_stack.count() == 0


def test_add_bottom_tab(window: MainWindow) -> None:
    label = QLineEdit()
    index = window.add_bottom_tab(label, "Training")
    assert window.bottom_tabs.tabText(index) == "Training"


def test_new_from_preset_dialog_driven_by_the_keyboard_and_mouse(qtbot, window: MainWindow) -> None:
    """Ctrl+Shift+N, click ResNet-18 in the list, type 10 classes, press Open: a new design."""
    from designer.dialogs.preset_dialog import PresetDialog

    seen: list[str] = []

    def use_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PresetDialog)
        items = dialog.list.findItems("ResNet-18", Qt.MatchFlag.MatchStartsWith)
        assert items, "ResNet-18 is not listed"
        dialog.list.scrollToItem(items[0])
        rect = dialog.list.visualItemRect(items[0])
        qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        seen.append(dialog.info.text())
        classes = dialog.option_widgets["classes"]
        classes.setFocus()
        classes.selectAll()
        qtbot.keyClicks(classes, "10")
        box = dialog.findChild(QDialogButtonBox)
        open_button = box.button(QDialogButtonBox.StandardButton.Open)
        qtbot.mouseClick(open_button, Qt.MouseButton.LeftButton)

    def use_dialog_or_close_it() -> None:
        try:
            use_dialog()
        finally:
            modal = QApplication.activeModalWidget()
            if modal is not None:  # a failed step must not leave the test hanging in exec()
                modal.reject()

    lenet_names = [node.name for node in window.document.graph]
    assert "conv1" in lenet_names and "fc" not in lenet_names
    QTimer.singleShot(0, use_dialog_or_close_it)
    window.activateWindow()
    qtbot.keyClick(
        window,
        Qt.Key.Key_N,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert seen and "ResNet-18" in seen[0] and "11,689,512" in seen[0]
    graph = window.document.graph
    assert window.document.project.metadata.get("preset") == "resnet18"
    assert graph.node("fc").params["out_features"] == 10
    assert window.document.result.ok
    assert window.document.path is None and not window.isWindowModified()  # a new design
