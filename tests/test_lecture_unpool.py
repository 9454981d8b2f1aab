"""The step-through of MaxUnpool2d on real numbers (issue 18 point 2): the lecture's image, a
data set sample or the network's map entering the max pooling whose indices the block uses is
max-pooled with the shown kernel, stride and padding and unpooled by those indices; every
output cell equals ``F.max_unpool2d`` (and, on the network's map, the network's own output)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from designer_helpers import LectureHost

from designer.document import Document, laid_out_project
from designer.lecture.probe import ProbeRequest, probe_for
from designer.lecture.step_model import MAX_SIDE, StepModel
from designer.lecture.views import open_lecture_view
from engine.lecture.steps_types import LECTURE_IMAGE
from engine.lessons.designs import pooling_unpooling


def _torch_unpool(source: np.ndarray, k: int, s: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    x = torch.tensor(source)[None, None]
    values, indices = F.max_pool2d(x, k, s, p, return_indices=True)
    out = F.max_unpool2d(values, indices, k, s, p, output_size=source.shape)
    return values[0, 0].numpy(), out[0, 0].numpy()


@pytest.mark.parametrize(("k", "s", "p"), [(2, 2, 0), (3, 2, 0), (2, 1, 0), (3, 3, 1), (3, 2, 1)])
@pytest.mark.parametrize("side", [9, 23])
def test_a_real_map_is_pooled_and_unpooled_as_torch_does(k: int, s: int, p: int, side: int) -> None:
    rng = np.random.default_rng(side * 10 + k)
    real = rng.normal(size=(side, side))
    model = StepModel.for_block("maxunpool2d", {"kernel_size": k, "stride": s, "padding": p}, None)
    model.source, model.real, model.real_note = "sample", real, "a test map"
    model.compute()
    assert model.error == "" and model.result is not None
    r, c = model.offset
    shown = real[r : r + MAX_SIDE, c : c + MAX_SIDE]
    assert (r % s, c % s) == (0, 0)
    values, want = _torch_unpool(shown, k, s, p)
    assert np.allclose(model.input_grid, values)
    assert np.allclose(model.output_grid(), want)
    model.step(len(model.steps))  # every step done: the cells written are torch's non-zeros
    for (i, j), value in model.shown_output().items():
        assert value == pytest.approx(want[i, j])
    assert ("too large to draw" in " ".join(model.notes)) == (side > MAX_SIDE)


def test_the_lecture_image_is_pooled_and_unpooled() -> None:
    model = StepModel.for_block("maxunpool2d", {"kernel_size": 2, "stride": 2}, (1, 4, 4))
    model.source = "lecture"
    model.compute()
    values, want = _torch_unpool(np.asarray(LECTURE_IMAGE, dtype=np.float64), 2, 2, 0)
    assert model.output_grid().shape == (5, 5)
    assert np.allclose(model.input_grid, values) and np.allclose(model.output_grid(), want)
    assert "The lecture's 5×5 image (not drawn) is max-pooled" in " ".join(model.notes)


@pytest.mark.gui
def test_unpooling_the_networks_map_equals_the_network(qtbot) -> None:
    """The pooling lesson's design: input → pool (2×2, indices) → unpool. On the network's map
    the view's output is the unpool block's own output in the compiled network."""
    host = LectureHost(Document(laid_out_project(pooling_unpooling())))
    qtbot.addWidget(host)
    view = open_lecture_view(host, "step", "unpool")
    qtbot.addWidget(view)
    assert view.source.isEnabled()
    view.sample.setValue(3)
    view.source.setCurrentIndex(view.source.findData("activation"))
    qtbot.waitUntil(lambda: view.model.result is not None, timeout=90_000)
    probe = probe_for(ProbeRequest.of(host))
    pooled, unpooled = probe.block_io("pool", 1, 3), probe.block_io("unpool", 1, 3)
    assert np.allclose(view.model.input_grid, pooled.y[0, 0])
    assert np.allclose(view.model.output_grid(), unpooled.y[0, 0])
    assert "pool (the max pooling whose indices unpool uses)" in view.notes.text()
    assert view.message.text() == ""
    view.source.setCurrentIndex(view.source.findData("sample"))
    qtbot.waitUntil(lambda: view.model.result is not None, timeout=90_000)
    _, want = _torch_unpool(pooled.images[0, 0].astype(np.float64), 2, 2, 0)
    assert np.allclose(view.model.output_grid(), want)
    view.show_field(5, 6)  # a unit of the unpooled map: its field is that of the whole block
    assert "Unit (5, 6) of unpool's output" in view.field_note.text()
