"""TorchScript and ONNX exports load elsewhere and compute what the design computes."""

from __future__ import annotations

import warnings

import pytest
import torch

from engine import compile_graph, example_inputs
from engine.export import export_model
from presets import PRESETS


@pytest.fixture(scope="module")
def design():
    name = "resnet8" if "resnet8" in PRESETS else "lenet5"
    graph = PRESETS.get(name).create()
    model = compile_graph(graph).eval()
    for parameter in model.state_dict().values():  # non-trivial BatchNorm statistics
        if parameter.dtype.is_floating_point:
            parameter.uniform_(0.5, 1.5)
    return graph, model


def test_torchscript_loads_and_agrees(tmp_path, design):
    graph, model = design
    path = export_model(graph, "torchscript", tmp_path / "model.pt", weights=model.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is marked deprecated
        loaded = torch.jit.load(str(path))
    x = example_inputs(graph, batch=3)
    with torch.no_grad():
        torch.testing.assert_close(loaded(*x), model(*x), rtol=1e-5, atol=1e-5)


def test_onnx_passes_the_checker_and_agrees_with_onnxruntime(tmp_path, design):
    onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install '.[onnx]')")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (optional)")
    graph, model = design
    path = export_model(graph, "onnx", tmp_path / "model.onnx", weights=model.state_dict())
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    for batch in (1, 5):  # the batch axis is dynamic
        x = example_inputs(graph, batch=batch)[0]
        (got,) = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            torch.testing.assert_close(torch.from_numpy(got), model(x), rtol=1e-4, atol=1e-4)
