"""The lecture lab in the window (issue 18): the inspector's CNN-vs-MLP rows and receptive field,
the one-click replacement with a locally connected layer (one undo step), and the step-through
dialog driven by its buttons, every shown number held against the engine and torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from PySide6.QtCore import Qt

from designer.document import Document, preset_project
from designer.lecture.step_view import StepDialog
from designer.panels.inspector import Inspector
from engine.analysis.equivalents import node_equivalents
from engine.analysis.receptive_field import receptive_fields
from engine.lecture.steps_types import LECTURE_FEATURE

pytestmark = pytest.mark.gui


@pytest.fixture
def doc() -> Document:
    return Document(preset_project("lenet5"))


def _torch_params(module: torch.nn.Module) -> tuple[int, int]:
    weights = sum(p.numel() for n, p in module.named_parameters() if n.endswith("weight"))
    biases = sum(p.numel() for n, p in module.named_parameters() if n.endswith("bias"))
    return weights, biases


def _first_conv(doc: Document) -> str:
    return doc.graph.names_of_type("conv2d")[0]


def test_inspector_shows_conv_rows_equal_to_engine_and_torch(qtbot, doc: Document) -> None:
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    inspector.show()
    conv = _first_conv(doc)
    doc.set_selection([conv])
    rows = inspector.lecture
    assert rows.isVisibleTo(inspector) and rows.table.isVisibleTo(inspector)
    engine_rows = node_equivalents(doc.graph, doc.result, conv)
    assert engine_rows is not None
    for r, (_label, counts) in enumerate(engine_rows.rows()):
        for key, value in counts.as_dict().items():
            assert rows.cell(r, key) == value, (r, key)
            assert f"{value:,}" in rows.table.text()
    # the dense and conv rows are exactly torch's parameter counts for layers of those sizes
    found = doc.result.nodes[conv]
    cin, h, w = found.inputs[0]
    cout, oh, ow = found.output
    p = doc.graph.node(conv).spec.with_defaults(doc.graph.node(conv).params)
    dense = torch.nn.Linear(cin * h * w, cout * oh * ow, bias=p["bias"])
    convolution = torch.nn.Conv2d(cin, cout, p["kernel_size"], p["stride"], p["padding"])
    assert (rows.cell(0, "weights"), rows.cell(0, "biases")) == _torch_params(dense)
    assert (rows.cell(2, "weights"), rows.cell(2, "biases")) == _torch_params(convolution)
    assert rows.cell(2, "params") == found.params
    ratio = engine_rows.ratios()["dense_over_conv_params"]
    assert f"{ratio:,.1f}×" in rows.ratios.text()
    # the receptive field shown is the engine's
    field = receptive_fields(doc.graph, doc.result)[conv]
    assert field is not None
    text = rows.field_label.text()
    assert f"{field.size[0]}" in text and "jump" in text and "start" in text


def test_rows_follow_an_edit(qtbot, doc: Document) -> None:
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    inspector.show()
    conv = _first_conv(doc)
    doc.set_selection([conv])
    before = inspector.lecture.cell(2, "weights")
    doc.set_params(conv, {"out_channels": 12})
    after = inspector.lecture.cell(2, "weights")
    assert after == node_equivalents(doc.graph, doc.result, conv).convolution.weights
    assert after != before
    # a non-conv block: no CNN-vs-MLP rows, but its receptive field
    pool = doc.graph.names_of_type("avgpool2d")[0]
    doc.set_selection([pool])
    assert not inspector.lecture.table.isVisibleTo(inspector)
    field = receptive_fields(doc.graph, doc.result)[pool]
    assert f"{field.size[0]}" in inspector.lecture.field_label.text()
    assert inspector.lecture.step_button.isVisibleTo(inspector)


def test_replace_with_locally_connected_is_one_undo_step(qtbot, doc: Document) -> None:
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    inspector.show()
    conv = _first_conv(doc)
    expected = node_equivalents(doc.graph, doc.result, conv).locally_connected
    conv_output = doc.result.nodes[conv].output
    before_edges = {(e.src, e.dst) for e in doc.graph.edges}
    before_data = doc.graph.to_data()
    doc.set_selection([conv])
    qtbot.mouseClick(inspector.lecture.replace_lc, Qt.MouseButton.LeftButton)
    assert conv not in doc.graph
    (new,) = doc.graph.names_of_type("locally_connected2d")
    assert doc.selection == [new]
    # the same place in the network, the same output shape, the LC row's parameter count
    assert doc.result.nodes[new].params == expected.params
    assert doc.result.nodes[new].output == conv_output
    renamed = {(new if s == conv else s, new if d == conv else d) for s, d in before_edges}
    assert {(e.src, e.dst) for e in doc.graph.edges} == renamed
    doc.undo_stack.undo()
    assert doc.graph.to_data() == before_data
    doc.undo_stack.redo()
    assert new in doc.graph and conv not in doc.graph


def test_replace_refuses_dilation_with_a_message(qtbot, doc: Document) -> None:
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    inspector.show()
    conv = _first_conv(doc)
    doc.set_params(conv, {"dilation": 2})
    doc.set_selection([conv])
    depth = doc.undo_stack.count()
    qtbot.mouseClick(inspector.lecture.replace_lc, Qt.MouseButton.LeftButton)
    assert conv in doc.graph and doc.undo_stack.count() == depth
    assert "dilation" in inspector.lecture.message.text()


def _conv_doc(kernel: int = 3) -> tuple[Document, str]:
    doc = Document(preset_project("lenet5"))
    conv = _first_conv(doc)
    doc.set_params(conv, {"kernel_size": kernel, "stride": 1, "padding": 0})
    return doc, conv


def test_step_through_lecture_example_matches_conv2d(qtbot) -> None:
    doc, conv = _conv_doc()
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    inspector.show()
    doc.set_selection([conv])
    dialog = inspector.lecture.open_step_through()
    assert isinstance(dialog, StepDialog)
    qtbot.addWidget(dialog)
    model = dialog.model
    assert model.source == "lecture" and len(model.steps) == 9
    for _ in range(5):
        qtbot.mouseClick(dialog.step_button, Qt.MouseButton.LeftButton)
    expected = F.conv2d(
        torch.tensor(model.input_grid)[None, None], torch.tensor(model.kernel)[None, None]
    )[0, 0].numpy()
    shown = model.shown_output()
    assert len(shown) == 5
    for (r, c), value in shown.items():
        assert value == expected[r, c]
    assert "output[1, 1]" in dialog.canvas.arithmetic()
    for _ in range(4):
        qtbot.mouseClick(dialog.step_button, Qt.MouseButton.LeftButton)
    grid = np.full((3, 3), np.nan)
    for (r, c), value in model.shown_output().items():
        grid[r, c] = value
    assert grid.tolist() == [list(row) for row in LECTURE_FEATURE]
    assert not dialog.step_button.isEnabled()  # the path is done
    dialog.grab()  # paints without an exception


def test_step_through_controls_change_the_path(qtbot) -> None:
    doc, conv = _conv_doc()
    dialog = StepDialog.for_node(doc, conv)
    qtbot.addWidget(dialog)
    dialog.source.setCurrentIndex(dialog.source.findData("random"))
    model = dialog.model
    h, w = model.input_grid.shape
    assert len(model.steps) == (h - 2) * (w - 2)
    dialog.spins["stride"].setValue(2)
    assert len(model.steps) == ((h - 3) // 2 + 1) * ((w - 3) // 2 + 1)
    dialog.spins["padding"].setValue(1)
    dialog.spins["dilation"].setValue(2)
    dialog.finish_button.click()
    x = torch.tensor(model.input_grid)[None, None]
    k = torch.tensor(model.kernel)[None, None]
    expected = F.conv2d(x, k, stride=2, padding=1, dilation=2)[0, 0].numpy()
    assert len(model.shown_output()) == expected.size
    for (r, c), value in model.shown_output().items():
        assert math.isclose(value, expected[r, c], abs_tol=1e-9)
    # the design keeps its own parameters
    assert doc.graph.node(conv).params["stride"] == 1
    dialog.spins["kernel"].setValue(9)
    dialog.spins["dilation"].setValue(5)  # a window larger than the input: a message
    assert dialog.model.result is None and "does not fit" in dialog.message.text()
    dialog.grab()


@pytest.mark.parametrize(
    "type_id, params",
    [
        ("maxpool2d", {"kernel_size": 2, "stride": None}),
        ("avgpool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
        ("lppool2d", {"kernel_size": 2, "stride": None, "norm_type": 2.0}),
        ("conv_transpose2d", {"kernel_size": 3, "stride": 2, "padding": 1, "out_channels": 4}),
        ("maxunpool2d", {"kernel_size": 2, "stride": None}),
    ],
)
def test_step_through_other_blocks_match_torch(qtbot, type_id: str, params: dict) -> None:
    from designer.lecture.step_model import StepModel

    model = StepModel.for_block(type_id, params, (3, 6, 6))
    dialog = StepDialog(model, type_id)
    qtbot.addWidget(dialog)
    dialog.finish_button.click()
    assert not model.error and model.finished
    x = torch.tensor(model.input_grid)[None, None]
    s = params.get("stride") or params["kernel_size"]
    k = params["kernel_size"]
    if type_id == "maxpool2d":
        expected = F.max_pool2d(x, k, s)
    elif type_id == "avgpool2d":
        expected = F.avg_pool2d(x, k, s, params["padding"])
    elif type_id == "lppool2d":
        expected = F.lp_pool2d(x, 2.0, k, s)
    elif type_id == "conv_transpose2d":
        w = torch.tensor(model.kernel)[None, None]
        expected = F.conv_transpose2d(x, w, stride=s, padding=0)  # uncropped: padding 0
    else:
        idx = torch.tensor(model.result.extra["indices"])[None]
        expected = F.max_unpool2d(x, idx[:, :1], k, s, output_size=model.output_grid().shape)
    expected = expected[0, 0].numpy()
    shown = model.shown_output()
    if type_id == "maxunpool2d":  # each value lands at its index; every other cell stays 0
        assert len(shown) == x.numel()
        assert all(
            expected[r, c] == 0 for r, c in np.ndindex(*expected.shape) if (r, c) not in shown
        )
    else:
        assert len(shown) == expected.size
    for (r, c), value in shown.items():
        assert math.isclose(value, expected[r, c], rel_tol=1e-9, abs_tol=1e-9)
    dialog.grab()


def test_unsupported_block_shows_a_message(qtbot, doc: Document) -> None:
    name = doc.graph.names_of_type("tanh")[0]
    dialog = StepDialog.for_node(doc, name)
    qtbot.addWidget(dialog)
    assert "Received: type=" in dialog.message.text()
    assert not dialog.step_button.isEnabled()
    dialog.step_button.click()
    dialog.grab()
