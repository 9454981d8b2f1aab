"""Issue 17, items 5 and 6: the canvas reads at every zoom (level of detail, zoom to fit that
stops where short names still read, Find that zooms to the block, New that resets the view)
and the layout uses the screen (left to right, wrapped columns, Inception's towers side by
side). Texts are measured as drawn: every QPainter.drawText call of a repaint of the shown
window is recorded with its font's pixel size times the painter's scale."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from designer_helpers import OPENED, open_window, wheel
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter

from designer.canvas.style import MIN_TEXT_PX, painter_scale, short_name
from designer.canvas.view import FIND_SCALE, FIT_MIN_SCALE
from designer.document import Document, preset_project
from designer.main_window import MainWindow
from engine.layout import DEFAULT_NODE_SIZE, layout_positions

pytestmark = pytest.mark.usefixtures("clean_windows")

Drawn = list[tuple[str, float]]


@contextmanager
def recorded_texts() -> Iterator[Drawn]:
    """Every text drawn meanwhile, with its height in screen pixels."""
    drawn: Drawn = []
    original = QPainter.drawText

    def record(painter: QPainter, *args: Any) -> Any:
        text = next((a for a in args if isinstance(a, str)), "")
        pixels = painter.font().pixelSize() * painter_scale(painter)
        drawn.append((text, pixels))
        return original(painter, *args)

    QPainter.drawText = record  # type: ignore[method-assign]
    try:
        yield drawn
    finally:
        QPainter.drawText = original  # type: ignore[method-assign]


def repaint_canvas(window: MainWindow) -> Drawn:
    """Repaint the canvas as shown (item caches dropped) and return the texts drawn."""
    view = window.canvas
    for item in view.canvas.items():
        item.update()
    with recorded_texts() as drawn:
        view.viewport().grab()
    return drawn


def click_toolbar(qtbot: Any, window: MainWindow, name: str) -> None:
    button = window.design_toolbar.widgetForAction(window.actions_by_name[name])
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def shown_names(window: MainWindow) -> set[str]:
    """Short names of the blocks and groups inside the visible part of the canvas."""
    view = window.canvas
    seen = view.visible_scene_rect()
    return {
        short_name(name) for name, rect in view.scene_item_rects().items() if seen.contains(rect)
    }


def test_lenet5_names_read_at_9_px_or_more_at_the_start_up_fit(qtbot: Any) -> None:
    window = open_window(qtbot, "lenet5")
    drawn = repaint_canvas(window)
    names = shown_names(window)
    assert names == set(window.document.graph.names)  # the whole design is shown
    sizes = {text: px for text, px in drawn}
    assert names <= set(sizes)  # every block's name was drawn...
    assert min(sizes[n] for n in names) >= 9.0  # ...at 9 px or more (about 5 before)
    assert min(px for _text, px in drawn) >= MIN_TEXT_PX  # and no text smaller than 8 px
    window.document.undo_stack.setClean()


def test_resnet50_expanded_is_fitted_with_readable_names(qtbot: Any) -> None:
    window = open_window(qtbot, "resnet50")
    click_toolbar(qtbot, window, "expand_all")
    assert len(window.canvas.canvas.nodes) == len(window.document.graph)
    assert window.canvas.transform().m11() >= FIT_MIN_SCALE
    drawn = repaint_canvas(window)
    names = shown_names(window)
    assert len(names) >= 10  # a good part of the design is on screen
    sizes = {text: px for text, px in drawn}
    assert names <= set(sizes) and min(sizes[n] for n in names) >= 8.0
    assert min(px for _text, px in drawn) >= MIN_TEXT_PX
    # the design starts at the top of the view: its input is shown
    assert window.canvas.visible_scene_rect().contains(window.canvas.scene_item_rects()["input"])
    window.document.undo_stack.setClean()


def test_no_zoom_draws_unreadable_text_and_labels_hide_when_zoomed_out(qtbot: Any) -> None:
    window = open_window(qtbot, "resnet18")
    click_toolbar(qtbot, window, "expand_all")
    seen_forms: set[str] = set()
    labels = {item.label for item in window.canvas.canvas.edges.values()}
    for _ in range(12):  # from the fit out to the smallest zoom, a notch at a time
        drawn = repaint_canvas(window)
        assert all(px >= MIN_TEXT_PX for _text, px in drawn), window.canvas.transform().m11()
        texts = {text for text, _px in drawn}
        if texts & labels:
            seen_forms.add("labels")
        if texts and not texts & labels:
            seen_forms.add("names without labels")
        if not texts:
            seen_forms.add("patches")
        wheel(window, -3)
    assert {"names without labels", "patches"} <= seen_forms
    window.document.undo_stack.setClean()


def test_expanded_blocks_show_their_short_name(qtbot: Any) -> None:
    window = open_window(qtbot, "resnet18")
    click_toolbar(qtbot, window, "expand_all")
    window.canvas.center_on_node("layer1.0.conv1")
    drawn = repaint_canvas(window)
    texts = {text for text, _px in drawn}
    assert "conv1" in texts and not any(t.startswith("layer1.0.co") for t in texts)
    item = window.canvas.canvas.nodes["layer1.0.conv1"]
    assert "layer1.0.conv1" in item.toolTip()  # the whole name in the tooltip
    window.document.undo_stack.setClean()


def test_find_zooms_to_each_match_with_next_and_previous(qtbot: Any) -> None:
    window = open_window(qtbot, "resnet50")
    click_toolbar(qtbot, window, "expand_all")
    view, doc = window.canvas, window.document
    wheel(window, -10)
    assert view.transform().m11() < FIND_SCALE
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus()
    qtbot.keyClicks(window.search, "downsample.0")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    matches = [n for n in doc.graph.names if "downsample.0" in n]
    assert len(matches) == 4
    assert doc.selection == [matches[0]]
    assert view.transform().m11() >= FIND_SCALE
    rect = view.scene_item_rects()[matches[0]]
    assert view.visible_scene_rect().contains(rect)
    assert abs(view.visible_scene_rect().center().x() - rect.center().x()) < 2
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert doc.selection == [matches[1]]
    qtbot.keyClick(window.search, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert doc.selection == [matches[0]]
    qtbot.keyClick(window.search, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert doc.selection == [matches[-1]]  # wraps around
    qtbot.keyClick(window.search, Qt.Key.Key_F3)
    assert doc.selection == [matches[0]]
    assert view.visible_scene_rect().contains(view.scene_item_rects()[matches[0]])
    assert "1 of 4" in window.statusBar().currentMessage()
    window.document.undo_stack.setClean()


def test_new_resets_the_zoom_of_a_big_design(qtbot: Any) -> None:
    window = open_window(qtbot, "resnet50")
    click_toolbar(qtbot, window, "expand_all")
    wheel(window, -15)
    assert window.canvas.transform().m11() < 0.2
    window.document.undo_stack.setClean()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert len(window.document.graph) == 0
    assert window.canvas.transform().m11() == pytest.approx(1.0)
    assert window.canvas.visible_scene_rect().contains(QPointF(0.0, 0.0))


# ----- item 6: a layout that uses the screen ---------------------------------------------------
TOWER_MODULES = ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"]


def _towers(graph: Any, module: str) -> list[list[str]]:
    """The chains of blocks from a module's split to its concat."""
    members = set(graph.group_members(module))
    first = next(n for n in graph.names if n in members)
    source = next(e.src for e in graph.in_edges(first))
    towers = []
    for start in sorted({e.dst for e in graph.out_edges(source) if e.dst in members}):
        tower, node = [], start
        while not node.endswith("concat"):
            tower.append(node)
            node = next(e.dst for e in graph.out_edges(node))
        towers.append(tower)
    return towers


def test_inception_v3_expanded_towers_are_side_by_side_columns() -> None:
    graph = preset_project("inception_v3").graph
    positions = layout_positions(graph, [])
    width = DEFAULT_NODE_SIZE[0]
    for module in TOWER_MODULES:
        towers = _towers(graph, module)
        assert len(towers) == 4, module
        ranges = []
        for tower in towers:
            xs = {positions[n][0] for n in tower}
            ys = [positions[n][1] for n in tower]
            assert len(xs) == 1, (module, tower)  # one vertical column
            assert ys == sorted(ys) and len(set(ys)) == len(ys)
            ranges.append((min(xs), min(xs) + width))
        for (_a0, a1), (b0, _b1) in itertools.combinations(sorted(ranges), 2):
            assert a1 <= b0, (module, ranges)  # the towers' x ranges do not overlap


def test_a_long_design_wraps_into_columns_that_use_a_wide_screen() -> None:
    graph = preset_project("resnet50").graph
    positions = layout_positions(graph, [])
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    assert max(xs) - min(xs) > 1500  # several columns...
    assert max(ys) - min(ys) < 10_000  # ...instead of a 22,000-unit-high thin column
    # a stage is never cut between two columns: nothing else lies inside its bounding box
    w, h = DEFAULT_NODE_SIZE
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        inside = [positions[n] for n in graph.group_members(stage)]
        left, right = min(p[0] for p in inside), max(p[0] for p in inside) + w
        top, bottom = min(p[1] for p in inside), max(p[1] for p in inside) + h
        others = [positions[n] for n in graph.names if not n.startswith(stage + ".")]
        assert not [
            p
            for p in others
            if left < p[0] + w and p[0] < right and top < p[1] + h and p[1] < bottom
        ], stage


def test_left_to_right_from_the_view_menu_is_saved_and_undoable(qtbot: Any, tmp_path) -> None:
    window = open_window(qtbot, "lenet5")
    doc = window.document
    down = dict(doc.project.layout)
    assert window.actions_by_name["layout_down"].isChecked()
    view_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View"
    )
    action = window.actions_by_name["layout_right"]
    assert action in view_menu.actions()
    action.trigger()
    assert doc.project.view["layout_direction"] == "right"
    assert action.isChecked()
    names = window.document.graph.topological_order()
    xs = [doc.position(n)[0] for n in names]
    assert xs == sorted(xs) and len(set(xs)) > 1  # left to right
    assert len({doc.position(n)[1] for n in names}) == 1  # one row
    # ports on the sides: a wire leaves a block's right edge and enters the next one's left
    conv1 = window.canvas.canvas.nodes["conv1"]
    out = conv1.outputs["out"].anchor()
    assert out.x() == pytest.approx(conv1.scene_rect().right())
    path = tmp_path / "lenet_lr.cnnd"
    doc.save(path)
    window.document.undo_stack.setClean()
    reopened = MainWindow(Document(), session=False)
    OPENED.append(reopened)
    qtbot.addWidget(reopened)
    reopened.open_file(path)
    assert reopened.document.project.view["layout_direction"] == "right"
    assert reopened.actions_by_name["layout_right"].isChecked()
    assert reopened.canvas.canvas.across
    doc.undo_stack.undo()
    assert doc.project.layout == down and "layout_direction" not in doc.project.view
    assert window.actions_by_name["layout_down"].isChecked()
    assert not window.canvas.canvas.across
    window.document.undo_stack.setClean()
