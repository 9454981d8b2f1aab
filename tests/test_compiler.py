"""The compiler: readable fx code, torchvision-style names, module attribute clashes, errors."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from engine import CompileError, Graph, compile_graph, infer
from engine.catalog import CATALOG
from engine.compiler import example_inputs, run_and_record_shapes


def test_a_layer_torch_cannot_build_gives_a_compile_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as torch answers a layer too large for memory; the real case would try to allocate it
    def refuse(params: dict, inputs: list) -> torch.nn.Module:
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory")

    spec = CATALOG.get("conv2d")
    monkeypatch.setitem(CATALOG._specs, "conv2d", dataclasses.replace(spec, build=refuse))
    g = residual()
    with pytest.raises(CompileError) as caught:
        compile_graph(g)
    assert str(caught.value) == (
        "layer1.0.conv1 (conv2d): torch could not build this layer: DefaultCPUAllocator: can't "
        "allocate memory. Lower the sizes that make it this large"
    )
    assert isinstance(caught.value.__cause__, RuntimeError)
    wide = Graph()  # 2^28 filters of 3×3: the weights alone would take 10 GiB
    wide.add_node("input", "input", {"shape": [1, 4, 4]})
    wide.add_node("conv2d", "conv", {"out_channels": 2**28})
    wide.add_node("output", "output")
    wide.connect("input", "conv")
    wide.connect("conv", "output")
    with pytest.raises(
        CompileError, match=r"It has 2,684,354,560 parameters \(10.0 GiB in float32\)"
    ):
        compile_graph(wide)


def residual() -> Graph:
    g = Graph()
    g.add_node("input", "input", {"shape": [3, 8, 8]})
    g.add_node("conv2d", "layer1.0.conv1", {"out_channels": 3, "padding": 1}, ("layer1", "0"))
    g.add_node("relu", "layer1.0.relu", group=("layer1", "0"))
    g.add_node("add", "layer1.0.add", group=("layer1", "0"))
    g.add_node("concat", "cat")
    g.add_node("output", "output")
    g.connect("input", "layer1.0.conv1")
    g.connect("layer1.0.conv1", "layer1.0.relu")
    g.connect("layer1.0.relu", "layer1.0.add")
    g.connect("input", "layer1.0.add")
    g.connect("layer1.0.add", "cat")
    g.connect("input", "cat")
    g.connect("cat", "output")
    return g


def test_code_reads_like_pytorch_and_names_nest() -> None:
    module = compile_graph(residual())
    assert "self.layer1[0].conv1" in module.code.replace(
        'getattr(self.layer1, "0")', "self.layer1[0]"
    )
    assert "torch.cat(" in module.code and " + " in module.code
    assert set(module.state_dict()) == {"layer1.0.conv1.weight", "layer1.0.conv1.bias"}
    x = torch.randn(2, 3, 8, 8)
    conv = module.get_submodule("layer1.0.conv1")
    expected = torch.cat([torch.relu(conv(x)) + x, x], 1)
    torch.testing.assert_close(module(x), expected)


def test_recorded_shapes_match_inference() -> None:
    g = residual()
    result = infer(g)
    module = compile_graph(g, result)
    shapes = run_and_record_shapes(module, *example_inputs(g))
    assert shapes[("cat", "out")] == result.nodes["cat"].output == (6, 8, 8)
    assert shapes[("layer1.0.add", "out")] == (3, 8, 8)


@pytest.mark.parametrize(
    "name", ["train", "graph", "code", "eval", "to", "forward", "a.0.training"]
)
def test_node_names_clashing_with_module_attributes(name: str) -> None:
    g = Graph()
    g.add_node("input", "input", {"shape": [4]})
    g.add_node("linear", name, {"out_features": 3})
    g.add_node("output", "output")
    g.connect("input", name)
    g.connect(name, "output")
    module = compile_graph(g).train()
    assert module(torch.randn(2, 4)).shape == (2, 3)
    assert module.training


def test_multiple_inputs_and_outputs() -> None:
    g = Graph()
    g.add_node("input", "a", {"shape": [4]})
    g.add_node("input", "b", {"shape": [4]})
    g.add_node("add", "sum")
    g.add_node("output", "out1")
    g.add_node("output", "out2")
    g.connect("a", "sum")
    g.connect("b", "sum")
    g.connect("sum", "out1")
    g.connect("a", "out2")
    order = infer(g).order  # arguments and results follow the inference order
    module = compile_graph(g)
    assert module.designer_inputs == [n for n in order if n in ("a", "b")]
    tensors = dict(zip(module.designer_inputs, example_inputs(g), strict=True))
    returned = dict(
        zip([n for n in order if n.startswith("out")], module(*tensors.values()), strict=True)
    )
    torch.testing.assert_close(returned["out1"], tensors["a"] + tensors["b"])
    torch.testing.assert_close(returned["out2"], tensors["a"])


def test_invalid_graph_lists_its_errors() -> None:
    g = residual()
    g.set_params("layer1.0.conv1", {"out_channels": 5})
    with pytest.raises(CompileError, match=r"1 error\(s\) to fix.*\n  - layer1.0.add \(add\): all"):
        compile_graph(g)
