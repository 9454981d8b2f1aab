"""Issue 18 (engine): LocallyConnected2d, the dense / LC / conv equivalents and receptive fields.

LocallyConnected2d is checked against a naive loop over output positions, its parameter count
against its formula, its gradients and one training step of a compiled design, and its Python
and TorchScript exports against the compiled model.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from engine import Graph, compile_graph, example_inputs, infer
from engine.analysis import node_equivalents
from engine.catalog import CATALOG
from engine.export import export_model

LC_SETTINGS = [
    # (in_channels, h, w, out_channels, kernel, stride, padding, bias)
    (1, 5, 5, 1, (3, 3), (1, 1), (0, 0), True),
    (3, 7, 6, 4, (3, 2), (2, 1), (1, 0), True),
    (2, 6, 9, 3, (2, 3), (1, 2), (1, 1), False),
    (2, 4, 4, 2, (1, 1), (2, 2), (0, 0), True),
]


def _build(cin: int, h: int, w: int, cout: int, kernel, stride, padding, bias):
    params = {
        "out_channels": cout,
        "kernel_size": list(kernel),
        "stride": list(stride),
        "padding": list(padding),
        "bias": bias,
    }
    spec = CATALOG.get("locally_connected2d")
    return spec.build(spec.with_defaults(params), [(cin, h, w)]), params


def _naive(module, x: torch.Tensor) -> torch.Tensor:
    """Every output position computed on its own window with its own filters and bias."""
    kh, kw = module.kernel_size
    sh, sw = module.stride
    padded = F.pad(x, (module.padding[1], module.padding[1], module.padding[0], module.padding[0]))
    oh, ow = module.output_size
    out = torch.zeros(x.shape[0], module.out_channels, oh, ow, dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            window = padded[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw].reshape(
                x.shape[0], -1
            )
            filters = module.weight[i * ow + j]  # (out_channels, in_channels·kh·kw)
            for o in range(module.out_channels):
                value = (window * filters[o]).sum(dim=1)
                if module.bias is not None:
                    value = value + module.bias[o, i, j]
                out[:, o, i, j] = value
    return out


@pytest.mark.parametrize("setting", LC_SETTINGS)
def test_locally_connected_equals_a_naive_loop(setting) -> None:
    torch.manual_seed(0)
    module, _ = _build(*setting)
    x = torch.randn(2, setting[0], setting[1], setting[2])
    with torch.no_grad():
        torch.testing.assert_close(module(x), _naive(module, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("setting", LC_SETTINGS)
def test_locally_connected_parameter_count(setting) -> None:
    cin, h, w, cout, kernel, stride, padding, bias = setting
    module, params = _build(*setting)
    oh = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    ow = (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    expected = oh * ow * cout * cin * kernel[0] * kernel[1] + (oh * ow * cout if bias else 0)
    assert sum(p.numel() for p in module.parameters()) == expected
    g = Graph()
    g.add_node("input", "x", {"shape": [cin, h, w]})
    g.add_node("locally_connected2d", "lc", params)
    g.add_node("output", "out")
    g.connect("x", "lc")
    g.connect("lc", "out")
    result = infer(g)
    assert result.nodes["lc"].params == expected
    assert result.nodes["lc"].outputs["out"] == (cout, oh, ow)
    assert result.nodes["lc"].macs == oh * ow * cout * cin * kernel[0] * kernel[1]


def test_locally_connected_weights_are_not_shared() -> None:
    """Changing the filters of one output position changes that position only."""
    torch.manual_seed(1)
    module, _ = _build(2, 5, 5, 3, (3, 3), (1, 1), (0, 0), True)
    x = torch.randn(1, 2, 5, 5)
    with torch.no_grad():
        before = module(x)
        module.weight[4] += 1.0  # position (1, 1) of the 3×3 output
        after = module(x)
    changed = (after - before).abs().sum(dim=1)[0] > 0
    assert changed.nonzero().tolist() == [[1, 1]]


def test_locally_connected_gradients_reach_every_parameter() -> None:
    torch.manual_seed(2)
    module, _ = _build(3, 7, 6, 4, (3, 2), (2, 1), (1, 0), True)
    x = torch.randn(2, 3, 7, 6, requires_grad=True)
    module(x).square().sum().backward()
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name
    assert x.grad is not None and x.grad.abs().sum() > 0


def _tiny_lc_graph() -> Graph:
    g = Graph()
    g.add_node("input", "image", {"shape": [1, 8, 8]})
    g.add_node("locally_connected2d", "lc", {"out_channels": 3, "kernel_size": 3, "stride": 2})
    g.add_node("relu", "act")
    g.add_node("flatten", "flat")
    g.add_node("linear", "fc", {"out_features": 4})
    g.add_node("output", "out")
    for a, b in [("image", "lc"), ("lc", "act"), ("act", "flat"), ("flat", "fc"), ("fc", "out")]:
        g.connect(a, b)
    return g


def test_a_compiled_design_with_locally_connected_trains() -> None:
    torch.manual_seed(3)
    graph = _tiny_lc_graph()
    assert infer(graph).ok
    model = compile_graph(graph).train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 4, (16,))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss0 = F.cross_entropy(model(x), y)
    optimiser.zero_grad()
    loss0.backward()
    optimiser.step()
    lc_keys = [k for k in before if k.startswith("lc.")]
    assert sorted(k.split(".")[-1] for k in lc_keys) == ["bias", "weight"]
    for key in lc_keys:
        assert not torch.equal(before[key], model.state_dict()[key]), key
    for _ in range(20):
        optimiser.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimiser.step()
    assert loss.item() < loss0.item()


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_python_export_defines_locally_connected_and_matches(tmp_path: Path) -> None:
    torch.manual_seed(4)
    graph = _tiny_lc_graph()
    compiled = compile_graph(graph).eval()
    path = export_model(graph, "python", tmp_path / "lc_net.py")
    text = path.read_text()
    assert "class LocallyConnected2d(nn.Module):" in text
    assert "engine" not in text.split("class DesignedNet")[0].replace("CNN Designer", "")
    exported = _load(path).DesignedNet().eval()
    exported.load_state_dict(compiled.state_dict(), strict=True)
    inputs = example_inputs(graph, batch=3)
    with torch.no_grad():
        torch.testing.assert_close(exported(*inputs), compiled(*inputs), rtol=1e-5, atol=1e-5)


def test_torchscript_export_of_locally_connected_matches(tmp_path: Path) -> None:
    torch.manual_seed(5)
    graph = _tiny_lc_graph()
    notes: list[str] = []
    state = compile_graph(graph).state_dict()
    path = export_model(graph, "torchscript", tmp_path / "lc.pt", state, on_note=notes.append)
    loaded = torch.jit.load(str(path)).eval()
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), compiled(x), rtol=1e-5, atol=1e-5)


# ----- item 1: dense / locally connected / convolution equivalents --------------------------
def _conv_graph(shape: list[int], **params) -> tuple[Graph, object]:
    g = Graph()
    g.add_node("input", "x", {"shape": shape})
    g.add_node("conv2d", "conv", params)
    g.add_node("output", "out")
    g.connect("x", "conv")
    g.connect("conv", "out")
    return g, infer(g)


def test_the_lecture_example_21_9_3() -> None:
    """7 inputs, 3 outputs, windows of 3 (the lecture's figure, as a 1×1×7 image): dense 21
    weights, locally connected 9, convolution 3; LC is 2.3× faster, the conv 7× smaller."""
    graph, result = _conv_graph(
        [1, 1, 7], out_channels=1, kernel_size=[1, 3], stride=[1, 2], bias=False
    )
    rows = node_equivalents(graph, result, "conv")
    assert rows is not None
    assert result.nodes["conv"].output == (1, 1, 3)
    assert (rows.dense.weights, rows.locally_connected.weights, rows.convolution.weights) == (
        21,
        9,
        3,
    )
    assert rows.dense.macs == 21 and rows.locally_connected.macs == rows.convolution.macs == 9
    ratios = rows.ratios()
    assert ratios["dense_over_conv_params"] == 7
    assert round(ratios["dense_over_lc_macs"], 1) == 2.3
    assert ratios["lc_over_conv_params"] == 3


EQUIVALENT_CASES = [
    ([3, 8, 8], {"out_channels": 4, "kernel_size": 3}),
    ([2, 9, 7], {"out_channels": 3, "kernel_size": [3, 2], "stride": [2, 1], "padding": 1}),
    ([4, 6, 6], {"out_channels": 2, "kernel_size": 1, "bias": False}),
    ([2, 7, 7], {"out_channels": 2, "kernel_size": 3, "padding": "same"}),
]


@pytest.mark.parametrize(("shape", "params"), EQUIVALENT_CASES)
def test_equivalents_count_like_real_torch_modules(shape: list[int], params: dict) -> None:
    graph, result = _conv_graph(shape, **params)
    rows = node_equivalents(graph, result, "conv")
    assert rows is not None
    out = result.nodes["conv"].output
    conv = graph.node("conv").spec.build(
        graph.node("conv").spec.with_defaults(params), [tuple(shape)]
    )
    bias = params.get("bias", True)
    dense = torch.nn.Linear(math.prod(shape), math.prod(out), bias=bias)
    local_params = {k: v for k, v in params.items() if k != "padding" or v != "same"}
    if params.get("padding") == "same":
        local_params["padding"] = 1
    local_spec = CATALOG.get("locally_connected2d")
    local = local_spec.build(local_spec.with_defaults(local_params), [tuple(shape)])

    def count(module: torch.nn.Module) -> tuple[int, int]:
        weights = sum(p.numel() for n, p in module.named_parameters() if n == "weight")
        biases = sum(p.numel() for n, p in module.named_parameters() if n == "bias")
        return weights, biases

    assert (rows.dense.weights, rows.dense.biases) == count(dense)
    assert (rows.locally_connected.weights, rows.locally_connected.biases) == count(local)
    assert (rows.convolution.weights, rows.convolution.biases) == count(conv)
    assert rows.convolution.params == result.nodes["conv"].params
    assert rows.convolution.macs == result.nodes["conv"].macs
    assert rows.dense.macs == math.prod(shape) * math.prod(out)
    x = torch.randn(1, *shape)
    assert tuple(local(x).shape[1:]) == out  # the LC equivalent has the conv's own windows


def test_equivalents_only_for_conv2d() -> None:
    graph = _tiny_lc_graph()
    result = infer(graph)
    assert node_equivalents(graph, result, "lc") is None
    assert node_equivalents(graph, result, "fc") is None
