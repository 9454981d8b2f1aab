"""Replace with dense equivalent (issue 18 point 1): a Conv2d becomes Flatten → Linear →
Unflatten by one click in the inspector, one undo step; the Linear holds the inspector's dense
row's parameters, and with the convolution's weights written into it as a matrix it computes
exactly what the convolution computed (checked with torch)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from PySide6.QtCore import Qt

from designer.document import Document, preset_project
from designer.panels.inspector import Inspector
from engine import compile_graph, save_project
from engine.analysis.equivalents import node_equivalents

pytestmark = pytest.mark.gui


def _inspector(qtbot, doc: Document) -> Inspector:
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    inspector.show()
    return inspector


def test_dense_replacement_is_one_undo_step_and_matches_the_dense_row(qtbot) -> None:
    doc = Document(preset_project("lenet5"))
    inspector = _inspector(qtbot, doc)
    conv = doc.graph.names_of_type("conv2d")[1]  # 6×14×14 → 16×10×10
    dense_row = node_equivalents(doc.graph, doc.result, conv).dense
    conv_output = doc.result.nodes[conv].output
    source = doc.graph.in_edges(conv)[0].src
    target = doc.graph.out_edges(conv)[0].dst
    before = doc.graph.to_data()
    depth = doc.undo_stack.count()
    doc.set_selection([conv])
    assert inspector.lecture.replace_dense.isVisibleTo(inspector)
    qtbot.mouseClick(inspector.lecture.replace_dense, Qt.MouseButton.LeftButton)
    assert doc.undo_stack.count() == depth + 1 and conv not in doc.graph
    (fc,) = [n for n in doc.graph.names_of_type("linear") if n.startswith("dense")]
    assert doc.selection == [fc]
    assert doc.result.ok, [d.message for d in doc.result.errors]
    assert doc.result.nodes[fc].params == dense_row.params
    assert doc.result.nodes[fc].macs == dense_row.macs
    (back,) = doc.graph.names_of_type("unflatten")
    assert doc.result.nodes[back].output == conv_output
    flat = doc.graph.in_edges(fc)[0].src
    assert doc.graph.in_edges(flat)[0].src == source
    assert doc.graph.out_edges(back)[0].dst == target
    doc.undo_stack.undo()
    assert doc.graph.to_data() == before
    doc.undo_stack.redo()
    assert fc in doc.graph and conv not in doc.graph


def test_the_dense_layer_computes_the_convolution_with_its_weights_as_a_matrix(qtbot) -> None:
    doc = Document(preset_project("lenet5"))
    inspector = _inspector(qtbot, doc)
    conv = doc.graph.names_of_type("conv2d")[1]
    params = doc.graph.node(conv).params
    c, h, w = doc.result.nodes[conv].inputs[0]
    torch.manual_seed(0)
    weight = torch.randn(params["out_channels"], c, params["kernel_size"], params["kernel_size"])
    bias = torch.randn(params["out_channels"])
    doc.set_selection([conv])
    qtbot.mouseClick(inspector.lecture.replace_dense, Qt.MouseButton.LeftButton)
    (fc,) = [n for n in doc.graph.names_of_type("linear") if n.startswith("dense")]
    (back,) = doc.graph.names_of_type("unflatten")
    model = compile_graph(doc.graph).eval()
    linear = model.get_submodule(fc)
    # the convolution as a matrix: its response to every one-hot input, without the bias
    basis = torch.eye(c * h * w).reshape(-1, c, h, w)
    with torch.no_grad():
        linear.weight.copy_(F.conv2d(basis, weight).reshape(c * h * w, -1).T)
        linear.bias.copy_(bias[:, None, None].expand(doc.result.nodes[back].output).reshape(-1))
        x = torch.randn(3, c, h, w)
        dense = model.get_submodule(back)(linear(torch.flatten(x, 1)))
    torch.testing.assert_close(dense, F.conv2d(x, weight, bias), rtol=1e-4, atol=1e-4)


def test_a_conv_too_big_for_a_dense_layer_is_refused_with_a_message(qtbot) -> None:
    doc = Document(preset_project("resnet18"))
    inspector = _inspector(qtbot, doc)
    conv = doc.graph.names_of_type("conv2d")[0]  # 3×224×224 → 64×112×112
    before, depth = doc.graph.to_data(), doc.undo_stack.count()
    doc.set_selection([conv])
    qtbot.mouseClick(inspector.lecture.replace_dense, Qt.MouseButton.LeftButton)
    assert doc.graph.to_data() == before and doc.undo_stack.count() == depth
    text = inspector.lecture.message.text()
    assert "too big" in text and "params=" in text and "3×224×224" in text


def test_a_saved_dense_replacement_exports_and_runs(qtbot, tmp_path: Path) -> None:
    doc = Document(preset_project("lenet5"))
    inspector = _inspector(qtbot, doc)
    doc.set_selection([doc.graph.names_of_type("conv2d")[1]])
    qtbot.mouseClick(inspector.lecture.replace_dense, Qt.MouseButton.LeftButton)
    save_project(doc.project, tmp_path / "dense.cnnd")
    out = tmp_path / "dense.py"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "designer",
            "export",
            str(tmp_path / "dense.cnnd"),
            "--format",
            "python",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "nn.Unflatten(1, (16, 10, 10))" in out.read_text()
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import runpy; m = runpy.run_path({str(out)!r}); "
            "import torch; net = [v for v in m.values() if isinstance(v, type) and "
            "issubclass(v, torch.nn.Module) and v is not torch.nn.Module][-1]; "
            "print(tuple(net()(torch.zeros(2, 1, 32, 32)).shape))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("(2, 10)")


def test_the_canvas_context_menu_offers_both_replacements(qtbot) -> None:
    from designer.canvas.view import CanvasView

    doc = Document(preset_project("lenet5"))
    view = CanvasView(doc)
    qtbot.addWidget(view)
    messages: list[str] = []
    view.status_message.connect(messages.append)
    conv = doc.graph.names_of_type("conv2d")[1]
    entries = dict(view.node_actions(conv))
    assert (
        "Replace with locally connected" in entries and "Replace with dense equivalent" in entries
    )
    assert "Replace with dense equivalent" not in dict(view.node_actions("fc1"))
    depth = doc.undo_stack.count()
    entries["Replace with dense equivalent"]()
    assert conv not in doc.graph and doc.graph.names_of_type("unflatten")
    assert doc.undo_stack.count() == depth + 1
    doc.undo_stack.undo()
    doc.set_params(conv, {"dilation": 2})
    dict(view.node_actions(conv))["Replace with locally connected"]()
    assert conv in doc.graph and messages and "dilation" in messages[-1]
