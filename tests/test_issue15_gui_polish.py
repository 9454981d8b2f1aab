"""Issue 15, item 15 (the window's part): the cosmetic faults seen while using the designer.

The progress bar's text over the end of its fill, the confusion matrix's axis labels, the status
bar once a pause takes effect, the layer summary's order while blocks are added and wired, the
palette's ranking of search results, and the Group dialog's title and default name; each
driven through the window or widget a person uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import training_events as te
from canvas_helpers import wire
from designer_helpers import close_clean, shown_window, training_window
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QImage
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

from designer.training.dashboard import TrainingDashboard

pytestmark = pytest.mark.gui


# ----- progress bar ----------------------------------------------------------------------------
def _lightness(image: QImage) -> list[list[int]]:
    return [
        [image.pixelColor(x, y).lightness() for x in range(image.width())]
        for y in range(image.height())
    ]


def _grab(bar, value: int, text_visible: bool) -> list[list[int]]:
    bar.setTextVisible(text_visible)
    bar.setValue(value)
    bar.repaint()
    return _lightness(bar.grab().toImage())


def test_progress_text_reads_over_the_fill_and_the_groove_alike(qtbot) -> None:
    """Every letter's core (its darkest pixels on the empty groove) must stand out from what
    lies behind it wherever the fill ends: Fusion split the text's two colours a few pixels
    away from the fill's end, drawing white on the white groove there."""
    dashboard = TrainingDashboard()
    qtbot.addWidget(dashboard)
    dashboard.resize(1200, 400)
    dashboard.show()
    qtbot.waitExposed(dashboard)
    bar = dashboard.progress
    bar.setFormat("epoch 7/10 · 63%")  # the text the run showed, as wide as it gets
    text = _grab(bar, 0, True)
    ground = _grab(bar, 0, False)
    cores = [
        (x, y)
        for y, row in enumerate(text)
        for x, value in enumerate(row)
        if ground[y][x] - value > 150  # the dark middle of a letter on the white groove
    ]
    assert len(cores) > 50
    unreadable: dict[int, int] = {}
    for value in range(0, 1001, 8):  # the fill's end passes under every letter
        shown, behind = _grab(bar, value, True), _grab(bar, value, False)
        faint = sum(1 for x, y in cores if abs(shown[y][x] - behind[y][x]) < 60)
        if faint:
            unreadable[value] = faint
    assert unreadable == {}, f"letter pixels lost in the background at values {unreadable}"


# ----- confusion matrix ------------------------------------------------------------------------
def test_confusion_matrix_names_its_axes(qtbot) -> None:
    dashboard = TrainingDashboard()
    qtbot.addWidget(dashboard)
    dashboard.resize(1200, 500)
    dashboard.show()
    dashboard.begin("test run")
    dashboard.apply([te.run_started()])
    dashboard.show_page(dashboard.evaluation)
    dashboard.apply([te.epoch_end(1, 20)])
    plot = dashboard.evaluation.confusion_plot
    for side, name in (("bottom", "predicted"), ("left", "true")):
        axis = plot.getAxis(side)
        assert axis.labelText == name
        assert axis.label.isVisible()
    assert "rows: true" not in plot.titleLabel.text  # the axes say it now


# ----- status bar on pause ---------------------------------------------------------------------
@pytest.mark.timeout(180)
def test_the_status_bar_says_paused_once_the_pause_takes_effect(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = training_window(qtbot, tmp_path, monkeypatch)
    controller = window.training
    try:
        window.document.project.training = {
            "data": {"dataset": "digits", "limit": 400},
            "batch_size": 32,
            "snapshot_budget": 0.2,
            "epochs": 200,
        }
        assert controller.train()
        dashboard = controller.host.dashboard
        qtbot.waitUntil(lambda: dashboard.loss.size >= 2, timeout=90_000)
        controller.pause()
        assert window.statusBar().currentMessage().startswith("Pausing")  # asked, not yet done
        qtbot.waitUntil(lambda: dashboard.state == "paused", timeout=30_000)
        message = window.statusBar().currentMessage()
        assert message.startswith("Paused at step "), message
        assert "Pausing" not in message
        controller.resume()
        qtbot.waitUntil(lambda: dashboard.state == "running", timeout=30_000)
        assert window.statusBar().currentMessage() == "Training resumed"
        controller.stop()
        qtbot.waitUntil(lambda: not controller.is_running(), timeout=60_000)
    finally:
        controller.shutdown()
        close_clean(window)


# ----- layer summary order ---------------------------------------------------------------------
def _rows(window) -> list[str]:
    model = window.summary.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def _double_click_palette(qtbot, window, type_id: str) -> str:
    tree = window.palette.tree
    item = window.palette.items[type_id]
    tree.scrollToItem(item)
    before = set(window.document.graph.names)
    at = tree.visualItemRect(item).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=at)
    (name,) = set(window.document.graph.names) - before
    return name


def test_the_summary_keeps_the_design_order_while_a_block_is_added_and_wired(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block added from the palette is the last row, and stays there when wired after the
    last layer; before, it showed as the second row and jumped to the bottom once wired."""
    window = shown_window(qtbot, tmp_path, monkeypatch)
    try:
        lenet = _rows(window)
        assert lenet == window.document.graph.names  # LeNet-5 was built in order
        softmax = _double_click_palette(qtbot, window, "softmax")
        assert _rows(window) == [*lenet, softmax]
        # out of the way of the chain, then wired from the last layer with the mouse
        x, y = window.document.position("fc3")
        window.document.move_nodes({softmax: (x + 400.0, y + 60.0)})
        view = window.canvas
        view.zoom_to_fit()
        wire(view, "fc3", softmax)
        assert any(e.src == "fc3" and e.dst == softmax for e in window.document.graph.edges)
        assert _rows(window) == [*lenet, softmax]
        # a block wired between two others moves up only as far as its wires require
        norm = _double_click_palette(qtbot, window, "batchnorm")
        x, y = window.document.position("conv1")
        window.document.move_nodes({norm: (x + 400.0, y + 60.0)})
        view.zoom_to_fit()
        wire(view, "conv1", norm)
        assert _rows(window) == [*lenet, softmax, norm]
    finally:
        close_clean(window)


# ----- palette search --------------------------------------------------------------------------
def _shown_in_tree(palette) -> list[str]:
    """The block rows a person sees, top to bottom."""
    tree = palette.tree
    names = []
    for i in range(tree.topLevelItemCount()):
        header = tree.topLevelItem(i)
        if header.isHidden():
            continue
        for j in range(header.childCount()):
            child = header.child(j)
            if not child.isHidden():
                names.append(child.text(0))
    return names


def test_palette_search_lists_the_best_matches_first(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = shown_window(qtbot, tmp_path, monkeypatch)
    try:
        palette = window.palette
        qtbot.keyClicks(palette.filter_edit, "lin")
        shown = _shown_in_tree(palette)
        assert shown[0] == "Linear"  # the name starts with it
        # then the blocks with a word starting with it ("Exponential linear unit")
        assert shown.index("ELU") < shown.index("MaxPool2d")  # "pooling": letters inside
        assert shown.index("GELU") < shown.index("AvgPool2d")
        first_header = palette.tree.topLevelItem(0)
        assert first_header.text(0) == "Dense" and not first_header.isHidden()
        palette.filter_edit.clear()
        qtbot.keyClicks(palette.filter_edit, "relu")
        assert _shown_in_tree(palette)[0] == "ReLU"  # exact before ReLU6, LeakyReLU, PReLU
        palette.filter_edit.clear()
        assert _shown_in_tree(palette)[:3] == ["Input", "Output", "Conv2d"]  # back in order
        assert len(_shown_in_tree(palette)) == len(palette.items)
    finally:
        close_clean(window)


# ----- Group dialog ----------------------------------------------------------------------------
def _answer_group_dialog(qtbot, typed: str | None, seen: dict) -> None:
    """When the modal Group dialog shows: record it, type ``typed`` (None: keep the
    default) and press Enter."""

    def handle() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            QTimer.singleShot(20, handle)
            return
        edit = dialog.findChild(QLineEdit)
        seen.update(
            title=dialog.windowTitle(),
            width=dialog.width(),
            text=dialog.textValue(),
            selected=edit.selectedText(),
        )
        if typed is not None:
            qtbot.keyClicks(edit, typed)
        qtbot.keyClick(edit, Qt.Key.Key_Return)

    QTimer.singleShot(0, handle)


def test_group_dialog_has_a_title_that_fits_and_a_free_default_name(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = shown_window(qtbot, tmp_path, monkeypatch)
    try:
        doc = window.document
        doc.set_selection(["conv1", "act1"])
        seen: dict = {}
        _answer_group_dialog(qtbot, None, seen)
        window.actions_by_name["group"].trigger()
        # a title bar shows the title in a bold font beside an icon and three buttons
        bold = QFont(window.font())
        bold.setBold(True)
        title_width = QFontMetrics(bold).horizontalAdvance(seen["title"])
        assert seen["width"] >= title_width + 200, seen
        assert seen["text"] == "group1" and seen["selected"] == "group1"  # typing replaces it
        assert doc.graph.node("conv1").group == ("group1",)
        # the next default is free again; what is typed replaces it
        doc.set_selection(["conv2", "act2"])
        seen.clear()
        _answer_group_dialog(qtbot, "features", seen)
        window.actions_by_name["group"].trigger()
        assert seen["text"] == "group2"
        assert doc.graph.node("conv2").group == ("features",)
        # inside a group, the default is free there: group1 inside "features"
        doc.set_selection(["conv2"])
        seen.clear()
        _answer_group_dialog(qtbot, None, seen)
        view = window.canvas
        view._ask_group()  # the canvas menu's Group selection…
        assert seen["text"] == "group1"
        assert doc.graph.node("conv2").group == ("features", "group1")
    finally:
        close_clean(window)


def test_predict_names_a_bad_checkpoint_without_python_error_names(qtbot, tmp_path) -> None:
    """A checkpoint that is not one is said in our words: the file and the fix, no class name."""
    from designer.training.predict import PredictPage

    run = tmp_path / "run"
    run.mkdir()
    (run / "best.pt").write_text("not a checkpoint")
    page = PredictPage()
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.done, timeout=60_000) as shown:
        page._work(str(run), lambda predictor: predictor)
    text = shown.args[0]
    assert isinstance(text, str) and text.startswith("Cannot predict: ")
    assert "best.pt" in text and "Error:" not in text and "weights_only" not in text
