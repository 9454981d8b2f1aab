"""The dropout view for a Dropout2d block (issue 18 point 6): the values are a (channels,
positions) grid, each training pass keeps or drops whole channels exactly as ``F.dropout2d``
does, scales the kept ones by 1/(1 − p), and the expectation check holds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from designer_helpers import LectureHost
from PySide6.QtWidgets import QApplication

from designer.canvas.view import CanvasView
from designer.document import Document, laid_out_project
from designer.lecture.probe import ProbeRequest, probe_for
from designer.lecture.views import TITLES
from engine.errors import ParameterError
from engine.lecture.dropout import dropout_trace, expectation_check
from presets import PRESETS

pytestmark = pytest.mark.gui


def _with_dropout2d(p: float) -> Document:
    """LeNet-5 for Digits with a Dropout2d between pool1 and conv2 (6 channels of 14×14)."""
    graph = PRESETS.get("lenet5_digits").create()
    (edge,) = graph.out_edges("pool1")
    graph.disconnect(edge)
    graph.add_node("dropout2d", "drop", {"p": p})
    graph.connect("pool1", "drop")
    graph.connect("drop", "conv2")
    project = laid_out_project(graph)
    project.training = {"data": {"dataset": "digits"}}
    return Document(project)


def _torch_passes(x: np.ndarray, p: float, seed: int, passes: int) -> list[np.ndarray]:
    torch.manual_seed(seed)
    t = torch.tensor(x)[None, :, :, None]  # one image: channels × positions × 1
    return [F.dropout2d(t, p, training=True)[0, :, :, 0].numpy() for _ in range(passes)]


def test_channel_masks_equal_dropout2d() -> None:
    x = np.arange(1, 41, dtype=np.float64).reshape(8, 5)
    trace = dropout_trace(x, 0.5, passes=4, seed=3, channels=True)
    wanted = _torch_passes(x, 0.5, 3, 4)
    for drawn, out, want in zip(trace.masks, trace.train_outputs, wanted, strict=True):
        mask = np.asarray(drawn)
        assert np.allclose(out, want)
        assert all(len(set(row)) == 1 for row in mask.tolist())  # whole channels
        assert np.array_equal(mask, (want != 0).astype(np.float64))
    check = expectation_check(x, 0.5, passes=2000, seed=1, channels=True)
    assert check.within_bound
    with pytest.raises(ParameterError, match="one row per channel"):
        dropout_trace(np.ones((2, 2, 2)), 0.5, channels=True)


def test_the_dropout2d_view_from_the_canvas_menu(qtbot) -> None:
    host = LectureHost(_with_dropout2d(0.4))
    qtbot.addWidget(host)
    canvas = CanvasView(host.document, host)
    qtbot.addWidget(canvas)
    entries = dict(canvas.node_actions("drop"))
    assert TITLES["dropout"] in entries
    view = entries[TITLES["dropout"]]()
    qtbot.addWidget(view)
    assert view.message.text() == ""
    view.seed.setValue(5)
    x = view.grid("x (input)")
    for i, want in enumerate(_torch_passes(x, 0.4, 5, 3)):
        assert np.allclose(view.grid(f"torch, pass {i + 1}"), want)
        assert np.allclose(view.grid(f"lecture, pass {i + 1}"), want * 0.6)
    assert "Dropout2d keeps or drops whole channels" in view.lines.text()
    assert "6 channels (rows) of 6 positions" in view.notes.text()
    view.source.setCurrentIndex(view.source.findData("sample"))
    qtbot.waitUntil(lambda: view.job is None or not view.job.running, timeout=90_000)
    qtbot.waitUntil(lambda: "channels 0–5 of 6" in view.notes.text(), timeout=90_000)
    QApplication.processEvents()
    real = probe_for(ProbeRequest.of(host)).block_io("drop", 1, 0).x[0]
    assert np.allclose(view.grid("x (input)"), real.reshape(6, -1)[:, :16])
    for i, want in enumerate(_torch_passes(real.reshape(6, -1)[:, :16], 0.4, 5, 3)):
        assert np.allclose(view.grid(f"torch, pass {i + 1}"), want)
