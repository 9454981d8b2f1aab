"""The transposed-convolution lesson's design runs on Digits (it ends in a small classifier), so
its step-through takes the network's own activation and the block's own kernel; every output
cell equals ``F.conv_transpose2d`` of that map with that kernel (issue 18 point 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from designer_helpers import LectureHost

from designer.document import Document, laid_out_project
from designer.lecture.probe import ProbeRequest, probe_for
from designer.lecture.views import open_lecture_view
from engine.lessons.designs import transposed

pytestmark = pytest.mark.gui


def test_the_transposed_step_through_on_the_networks_activation(qtbot) -> None:
    host = LectureHost(Document(laid_out_project(transposed())))
    qtbot.addWidget(host)
    view = open_lecture_view(host, "step", "up")
    qtbot.addWidget(view)
    view.sample.setValue(2)
    view.source.setCurrentIndex(view.source.findData("activation"))
    qtbot.waitUntil(lambda: view.model.result is not None, timeout=90_000)
    io = probe_for(ProbeRequest.of(host)).block_io("up", 1, 2)
    model = view.model
    assert np.allclose(model.input_grid, io.x[0, 0])  # the 3×3 map reaching the block
    kernel = io.module.weight[0, 0].detach().double().numpy()
    assert np.allclose(model.kernel, kernel)
    want = F.conv_transpose2d(
        torch.tensor(io.x[0, 0])[None, None], torch.tensor(kernel)[None, None], stride=2
    )
    assert np.allclose(model.output_grid(), want[0, 0].numpy())
    view.finish_button.click()
    shown = model.shown_output()
    assert len(shown) == want[0, 0].numel()
    assert "no trained run: initial weights" in view.notes.text()
