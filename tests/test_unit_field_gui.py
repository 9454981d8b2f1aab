"""Issue 18, point 3: a unit clicked after a MaxUnpool2d is boxed exactly on the input image, on
the Feature maps page and in the step-through, equal to the gradient measurement of
tests/test_unit_field.py (positive weights; max pool and unpool measured through same-window
twins). The recurrence's ``start + i·jump`` put these boxes a cell off."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget
from test_unit_field import measured_boxes

from designer.document import Document, preset_project
from engine import Graph
from engine.project import Project

pytestmark = pytest.mark.gui


def unpool_design() -> Graph:
    g = Graph()
    g.add_node("input", "image", {"shape": [1, 32, 32]})
    g.add_node("conv2d", "conv1", {"out_channels": 4, "kernel_size": 3})
    g.add_node("maxpool2d", "pool", {"kernel_size": 2, "return_indices": True})
    g.add_node("conv2d", "mid", {"out_channels": 4, "kernel_size": 3, "padding": 1})
    g.add_node("maxunpool2d", "unpool", {"kernel_size": 2})
    g.add_node("conv2d", "conv2", {"out_channels": 4, "kernel_size": 3, "stride": 2})
    g.add_node("flatten", "flat", {})
    g.add_node("linear", "fc", {"out_features": 10})
    g.add_node("output", "out", {})
    for src, dst in [("image", "conv1"), ("conv1", "pool"), ("pool", "mid"), ("mid", "unpool")]:
        g.connect(src, dst)
    g.connect("pool", "unpool", "indices", "indices")
    for src, dst in [("unpool", "conv2"), ("conv2", "flat"), ("flat", "fc"), ("fc", "out")]:
        g.connect(src, dst)
    return g


class Host(QWidget):
    """A window as the views see it: a document, and the runs folders of its design."""

    def __init__(self, document: Document) -> None:
        super().__init__()
        self.document = document

    @property
    def run_roots(self) -> Host:
        return self

    def all(self) -> list:
        return []


@pytest.fixture
def host(qtbot) -> Host:
    training = preset_project("lenet5_digits").training
    window = Host(Document(Project(graph=unpool_design(), training=training)))
    qtbot.addWidget(window)
    return window


def test_feature_maps_click_after_an_unpool_draws_the_measured_box(qtbot, host: Host) -> None:
    from designer.training.images import PAD, grid_shape
    from designer.training.visuals import FeatureMapsPage
    from engine.training.events import FeatureMaps

    page = FeatureMapsPage(host)
    QVBoxLayout(host).addWidget(page)
    page.classes = tuple(str(i) for i in range(10))
    maps = np.random.default_rng(0).random((4, 30, 30)).astype(np.float32)
    page.update_from(FeatureMaps("unpool", 0, np.zeros((1, 32, 32), np.uint8), 3, maps))
    host.resize(900, 500)
    host.show()
    qtbot.waitExposed(host)
    _rows, cols = grid_shape(4)
    for unit in [(2, 3), (7, 12), (29, 0)]:
        x = PAD + (1 % cols) * (30 + PAD) + unit[1] + 0.5
        y = PAD + (1 // cols) * (30 + PAD) + unit[0] + 0.5
        at = page.maps.view.mapFromScene(page.maps.item.mapToScene(QPointF(x, y)))
        qtbot.mouseClick(page.maps.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
        assert page.field.unit == (1, *unit)
        [want] = measured_boxes(host.document.graph, "unpool", [unit])
        rect = page.field.rect.rect()
        drawn = (int(rect.top()), int(rect.left()), int(rect.bottom()) - 1, int(rect.right()) - 1)
        assert page.field.box == drawn == want, unit
        assert page.field.rect.isVisible()
        if unit == (2, 3):  # wholly inside the image: the caption gives the box's own size
            assert "a 8×8 receptive field" in page.input.caption.text()
    # unit (2, 3): the pooled unit (1, 1) whose 2×2 window holds it, through mid's 3×3 and
    # the pooling windows and conv1's 3×3: rows 0-7; the recurrence boxed rows 0-6
    assert measured_boxes(host.document.graph, "unpool", [(2, 3)]) == [(0, 0, 7, 7)]


def test_step_through_click_after_an_unpool_boxes_the_measured_field(qtbot, host: Host) -> None:
    from designer.lecture.views import open_lecture_view

    view = open_lecture_view(host, "step", "conv2")
    qtbot.addWidget(view)
    view.source.setCurrentIndex(view.source.findData("activation"))
    qtbot.waitUntil(lambda: view.model.result is not None, timeout=90_000)
    view.resize(1300, 700)
    view.show()
    qtbot.waitExposed(view)
    QApplication.processEvents()
    for cell in [(1, 2), (5, 3)]:
        x, y = view.canvas.output_cell_centre(*cell)
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(y)))
        assert view.clicked == cell
        unit = (view.model.offset[0] // 2 + cell[0], view.model.offset[1] // 2 + cell[1])
        [want] = measured_boxes(host.document.graph, "conv2", [unit])
        assert view.field.box == want, (cell, unit)
        assert f"rows {want[0]}–{want[2]}, columns {want[1]}–{want[3]}" in view.field_note.text()
