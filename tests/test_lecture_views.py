"""The lecture views (issue 18, points 2-6) opened the way a person opens them (the canvas's
context menu, the inspector's buttons, ``open_lecture_view``), every shown number held against
torch: autograd for backprop, ``nn.BatchNorm2d`` for BatchNorm, ``F.dropout`` for dropout,
``F.conv2d`` for the step-through on the network's real activation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from designer_helpers import LectureHost
from PySide6.QtWidgets import QApplication

from designer.canvas.view import CanvasView
from designer.document import Document, preset_project
from designer.lecture.probe import ProbeRequest, probe_for
from designer.lecture.views import TITLES, MessageView, open_lecture_view

pytestmark = pytest.mark.gui


def _wait(qtbot, view) -> None:
    qtbot.waitUntil(lambda: not view.busy(), timeout=90_000)
    QApplication.processEvents()


def _menu_view(qtbot, host: LectureHost, node: str, kind: str):
    """Open view ``kind`` of ``node`` from the canvas's context menu entries."""
    canvas = CanvasView(host.document, host)
    qtbot.addWidget(canvas)
    entries = dict(canvas.node_actions(node))
    assert TITLES[kind] in entries, list(entries)
    view = entries[TITLES[kind]]()
    qtbot.addWidget(view)
    return view


def _source(view, key: str) -> None:
    view.source.setCurrentIndex(view.source.findData(key))


@pytest.fixture
def lenet(qtbot) -> LectureHost:
    host = LectureHost(Document(preset_project("lenet5_digits")))
    qtbot.addWidget(host)
    return host


# ----- backprop ------------------------------------------------------------------------------
def test_backprop_of_the_lecture_example_equals_autograd(qtbot, lenet: LectureHost) -> None:
    doc = lenet.document
    conv = "conv1"
    doc.set_params(conv, {"kernel_size": 3, "stride": 2, "padding": 1})
    view = _menu_view(qtbot, lenet, conv, "backprop")
    assert view.message.text() == ""
    x = torch.tensor(view.grid("Input")[None, None], requires_grad=True)
    w = torch.tensor(view.grid("Kernel (")[None, None], requires_grad=True)
    upstream = torch.tensor(view.grid("Upstream")[None, None])
    F.conv2d(x, w, stride=2, padding=1).backward(upstream)
    assert np.allclose(view.grid("Gradient to the input"), x.grad[0, 0].numpy())
    assert np.allclose(view.grid("Gradient to the weights"), w.grad[0, 0].numpy())
    assert np.array_equal(view.grid("Kernel rotated"), np.rot90(view.grid("Kernel ("), 2))
    assert "rotated by 180°" in view.lines.text() and "correlation" in view.lines.text()


def test_backprop_of_a_sample_equals_autograd_of_the_block(qtbot, lenet: LectureHost) -> None:
    for node, kind in (("conv2", "conv"), ("pool1", "max")):
        view = _menu_view(qtbot, lenet, node, "backprop")
        view.channel.setValue(1)
        view.out_channel.setValue(3)
        _source(view, "sample")
        _wait(qtbot, view)
        assert view.message.text() == "", view.message.text()
        assert "no trained run: initial weights" in view.notes.text()
        io = probe_for(ProbeRequest.of(lenet)).block_io(node, 1, 0, grad=True)
        x = torch.tensor(io.x, requires_grad=True)
        module = io.module.double()
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        out.backward(torch.tensor(io.grad))
        assert np.allclose(view.grid("Input (channel 1)"), io.x[0, 1])
        assert np.allclose(view.grid("Gradient to the input (channel 1)"), x.grad[0, 1].numpy())
        if kind == "conv":
            assert np.allclose(view.grid("Upstream gradient (out 3)"), io.grad[0, 3])
            grad_w = module.weight.grad[3, 1].numpy()
            assert np.allclose(view.grid("Gradient to the weights (out 3, in 1)"), grad_w)
        else:
            assert "argmax" in view.lines.text()
        module.float()


def test_backprop_refuses_other_blocks_in_words(qtbot, lenet: LectureHost) -> None:
    view = open_lecture_view(lenet, "backprop", "fc1")
    qtbot.addWidget(view)
    assert "Received: type=linear" in view.message.text()
    unknown = open_lecture_view(lenet, "histogram", "conv1")
    qtbot.addWidget(unknown)
    assert (
        isinstance(unknown, MessageView) and "Received: kind='histogram'" in unknown.message.text()
    )
    nothing = open_lecture_view(lenet, "step", None)
    qtbot.addWidget(nothing)
    assert "select a block first" in nothing.message.text()


def test_a_design_that_no_longer_validates_is_a_message(qtbot, lenet: LectureHost) -> None:
    lenet.document.set_params("conv2", {"kernel_size": 40})  # larger than its input
    assert not lenet.document.result.ok
    view = open_lecture_view(lenet, "backprop", "conv1")
    qtbot.addWidget(view)
    _source(view, "sample")
    assert "does not validate" in view.message.text()
    assert view.shown == {}


# ----- BatchNorm -----------------------------------------------------------------------------
@pytest.fixture
def vgg(qtbot) -> LectureHost:
    doc = Document(preset_project("small_vgg"))
    doc.project.training = {"data": {"dataset": "shapes", "shapes_count": 120}}
    host = LectureHost(doc)
    qtbot.addWidget(host)
    return host


def _bn_text(view, channel: int, column: str) -> str:
    return view.rows[(channel, column)]


def test_batchnorm_on_real_batches_equals_the_module(qtbot, vgg: LectureHost) -> None:
    node = vgg.document.graph.names_of_type("batchnorm")[0]
    view = _menu_view(qtbot, vgg, node, "batchnorm")
    view.batch_size.setValue(2)
    _source(view, "sample")
    _wait(qtbot, view)
    view.next_button.click()
    _wait(qtbot, view)
    assert view.message.text().startswith("with m = 2") or view.message.text() == ""
    probe = probe_for(ProbeRequest.of(vgg))
    module = probe.block_io(node, 1).module
    bn = torch.nn.BatchNorm2d(module.num_features, module.eps, module.momentum).double()
    bn.load_state_dict(module.state_dict())
    bn.train()
    for k in range(2):
        batch = torch.tensor(probe.block_io(node, 2, 2 * k).x)
        y = bn(batch)
    mean = batch.mean(dim=(0, 2, 3))
    var = batch.var(dim=(0, 2, 3), unbiased=False)
    for ch in (0, 5):
        assert _bn_text(view, ch, "μ_B") == f"{mean[ch].item():.6g}"
        assert _bn_text(view, ch, "σ²_B") == f"{var[ch].item():.6g}"
        after = _bn_text(view, ch, "running mean").split(" → ")[1]
        assert after == f"{bn.running_mean[ch].item():.6g}"
        assert _bn_text(view, ch, "running var").split(" → ")[1] == (
            f"{bn.running_var[ch].item():.6g}"
        )
    view.channel.setValue(5)
    assert np.allclose(view.grid("y = γx̂"), y[0, 5].detach().numpy())
    bn.eval()
    assert np.allclose(view.grid("y (eval"), bn(batch)[0, 5].detach().numpy())
    assert "μ_B ← (1/m) Σ xᵢ" in view.lines.text() and "running_var ←" in view.lines.text()


def test_batchnorm_example_steps_and_a_batch_of_one(qtbot, vgg: LectureHost) -> None:
    node = vgg.document.graph.names_of_type("batchnorm")[0]
    view = open_lecture_view(vgg, "batchnorm", node)
    qtbot.addWidget(view)
    bn = torch.nn.BatchNorm2d(2).double()
    for _ in range(3):
        bn(torch.tensor(view.batches[-1]))
        if len(view.batches) < 3:
            view.next_button.click()
    assert view.trace is not None and len(view.trace.steps) == 3
    assert np.allclose(view.trace.running_mean, bn.running_mean.numpy())
    assert _bn_text(view, 1, "running var").endswith(f"{bn.running_var[1].item():.6g}")
    view.batch_size.setValue(1)  # 1×3×3: still 9 values per channel
    assert view.trace.steps[-1].count == 9


# ----- dropout -------------------------------------------------------------------------------
def test_dropout_masks_and_scale_equal_torch(qtbot, vgg: LectureHost) -> None:
    view = _menu_view(qtbot, vgg, "dropout", "dropout")
    p = 0.3
    x = torch.tensor(view.grid("x (input)"))
    view.seed.setValue(7)
    torch.manual_seed(7)
    for i in range(3):
        out = F.dropout(x, p, training=True)
        assert np.allclose(view.grid(f"torch, pass {i + 1}"), out.numpy())
        assert np.array_equal(view.grid(f"mask {i + 1}"), (out != 0).double().numpy())
        assert np.allclose(view.grid(f"lecture, pass {i + 1}"), out.numpy() * (1 - p))
    assert np.allclose(view.grid("torch at test"), x.numpy())
    assert np.allclose(view.grid("lecture at test"), (1 - p) * x.numpy())
    assert view.check is not None and view.check.within_bound
    assert "1/q = 1.42857" in view.lines.text()
    _source(view, "sample")
    _wait(qtbot, view)
    assert view.message.text() == ""
    assert "first 64 of 128 values" in view.notes.text()


# ----- step-through on real numbers, receptive field -----------------------------------------
def test_step_through_on_the_real_activation_equals_conv2d(qtbot, lenet: LectureHost) -> None:
    view = _menu_view(qtbot, lenet, "conv2", "step")
    view.channel.setValue(2)
    _source(view, "activation")
    qtbot.waitUntil(lambda: view.model.result is not None, timeout=90_000)
    io = probe_for(ProbeRequest.of(lenet)).block_io("conv2", 1)
    model = view.model
    assert np.allclose(model.input_grid, io.x[0, 2])  # 14×14: drawn whole
    assert np.allclose(model.kernel, io.module.weight[0, 2].detach().double().numpy())
    want = F.conv2d(torch.tensor(io.x[0, 2])[None, None], torch.tensor(model.kernel)[None, None])
    assert np.allclose(model.output_grid(), want[0, 0].numpy())
    assert "no trained run: initial weights" in view.notes.text()
    # a unit's receptive field on the network's input image, and the window it reads
    view.resize(1300, 700)
    view.show()
    qtbot.waitExposed(view)
    x, y = view.canvas.output_cell_centre(3, 4)
    from PySide6.QtCore import QPoint, Qt

    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(y)))
    assert view.clicked == (3, 4)
    assert (3, 4) in view.canvas.field_cells and (7, 8) in view.canvas.field_cells
    # conv1 5×5, pool 2, conv2 5×5: 14×14 fields, jump 2, the first centred on 6.5
    assert view.field.box == (6 + 0, 8 + 0, 6 + 13, 8 + 13)
    assert "14×14 field" in view.field_note.text()


def test_step_through_on_a_data_set_sample_shows_a_window(qtbot, lenet: LectureHost) -> None:
    view = open_lecture_view(lenet, "step", "conv1")
    qtbot.addWidget(view)
    _source(view, "sample")
    qtbot.waitUntil(lambda: view.model.result is not None, timeout=90_000)
    io = probe_for(ProbeRequest.of(lenet)).block_io("conv1", 1)
    r, c = view.model.offset
    assert np.array_equal(view.model.input_grid, io.images[0, 0, r : r + 16, c : c + 16])
    assert "too large to draw cell by cell" in view.notes.text()
    # the block's own input, cut to a window: its cells are units of the whole map
    _source(view, "activation")
    qtbot.waitUntil(lambda: view.model.result is not None, timeout=90_000)
    r, c = view.model.offset
    assert (r, c) == (8, 8)
    assert np.allclose(view.model.input_grid, io.x[0, 0, 8:24, 8:24])
    view.show_field(0, 0)
    assert view.field.box == (8, 8, 12, 12)  # conv1 5×5: unit (8, 8) sees rows 8-12


def test_a_trained_run_gives_its_weights(qtbot, lenet: LectureHost, tmp_path) -> None:
    from engine.training.trainer import train

    settings = {"data": {"dataset": "digits", "limit": 64}, "epochs": 1, "device": "cpu"}
    lenet.document.project.training = settings
    events = list(train(lenet.document.graph, settings, run_root=tmp_path, snapshots=False))
    assert type(events[-1]).__name__ == "Finished"
    lenet.roots = [tmp_path]
    view = open_lecture_view(lenet, "step", "conv1")
    qtbot.addWidget(view)
    _source(view, "activation")
    qtbot.waitUntil(lambda: view.model.result is not None, timeout=90_000)
    assert "trained weights of run" in view.notes.text()
    from engine.training.runs import list_runs, load_checkpoint

    state = load_checkpoint(list_runs(tmp_path)[-1].path / "last.pt")
    weight = state["model"]["conv1.weight"][0, 0].double().numpy()
    assert np.allclose(view.model.kernel, weight)


# ----- the inspector -------------------------------------------------------------------------
def test_the_inspector_opens_the_views(qtbot, vgg: LectureHost) -> None:
    from designer.panels.inspector import Inspector

    inspector = Inspector(vgg.document, vgg)
    qtbot.addWidget(inspector)
    vgg.document.set_selection(["dropout"])
    rows = inspector.lecture
    assert rows.view_buttons["backprop"].isHidden()
    assert not rows.view_buttons["dropout"].isHidden()
    view = rows.open_view("dropout")
    qtbot.addWidget(view)
    assert view.objectName() == "dropout_view" and view.isVisible()
    assert view.grid("torch at test").shape == (6, 6)


def test_a_view_whose_block_was_deleted_says_so(qtbot, vgg: LectureHost) -> None:
    views = [open_lecture_view(vgg, "dropout", "dropout")]
    node = vgg.document.graph.names_of_type("batchnorm")[0]
    views.append(open_lecture_view(vgg, "batchnorm", node))
    views.append(open_lecture_view(vgg, "backprop", "stage1.pool"))
    for view in views:
        qtbot.addWidget(view)
    from designer.canvas import editing

    editing.delete(vgg.document, ["dropout", node, "stage1.pool"])
    for view in views:
        view.source.setCurrentIndex(1)  # what a person does next: no exception, a message
        assert "no longer in the design" in view.message.text()
    views[1].next_button.click()
    assert "no longer in the design" in views[1].message.text()


def test_clicking_a_feature_map_unit_outlines_its_receptive_field(
    qtbot, lenet: LectureHost
) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtWidgets import QVBoxLayout

    from designer.training.images import PAD, grid_shape
    from designer.training.visuals import FeatureMapsPage
    from engine.analysis.receptive_field import receptive_fields
    from engine.training.events import FeatureMaps

    page = FeatureMapsPage(lenet)
    QVBoxLayout(lenet).addWidget(page)
    page.classes = tuple(str(i) for i in range(10))
    maps = np.random.default_rng(0).random((16, 10, 10)).astype(np.float32)
    image = np.zeros((1, 32, 32), dtype=np.uint8)
    page.update_from(FeatureMaps("conv2", 0, image, 3, maps))
    lenet.resize(900, 500)
    lenet.show()
    qtbot.waitExposed(lenet)
    # map 5, unit (3, 4): tile row 1, column 1 of a 4×4 grid of 10×10 tiles
    _rows, cols = grid_shape(16)
    x = PAD + (5 % cols) * (10 + PAD) + 4 + 0.5
    y = PAD + (5 // cols) * (10 + PAD) + 3 + 0.5
    scene = page.maps.item.mapToScene(QPointF(x, y))
    at = page.maps.view.mapFromScene(scene)
    qtbot.mouseClick(page.maps.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert page.field.unit == (5, 3, 4)
    field = receptive_fields(lenet.document.graph, lenet.document.result)["conv2"]
    (top, bottom), (left, right) = field.span((3, 4))
    assert page.field.box == (int(top), int(left), int(bottom), int(right)) == (6, 8, 19, 21)
    assert page.field.rect.isVisible() and "14×14 receptive field" in page.input.caption.text()


QUIT_WHILE_LOADING = """
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from designer.lecture.worker import Job
app = QApplication([])
done = []
job = Job(lambda: (time.sleep(1.0), done.append(1))).start()
QTimer.singleShot(50, app.quit)  # the person quits while a view is still loading
app.exec()
print("ended", done)
"""


def test_quitting_while_a_view_loads_ends_cleanly(tmp_path) -> None:
    import os
    import subprocess
    import sys

    script = tmp_path / "quit.py"
    script.write_text(QUIT_WHILE_LOADING, encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "ended [1]" in run.stdout and "Destroyed while thread" not in run.stderr
