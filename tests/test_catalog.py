"""Every block type against the real torch module: output shapes, parameter counts and MACs.

The table below has at least one case per registered type (a test fails for a type without one),
and hypothesis draws parameters for the windowed blocks, where shape arithmetic goes wrong:
inference must reject exactly the settings torch rejects and agree with it on the rest. MACs are
checked against torch's own ``FlopCounterMode`` (2 FLOPs per multiply-accumulate; bias, norms and
activations count zero in both).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from engine import CATALOG, DuplicateNameError, Graph, UnknownNameError, infer
from engine.catalog import BlockRegistry, BlockSpec

Shape = tuple[int, ...]
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")

# (type_id, params, input shapes); for maxunpool2d the shape is its MaxPool2d's input.
CASES: list[tuple[str, dict[str, Any], list[Shape]]] = [
    ("input", {"shape": [3, 8, 8]}, []),
    ("input", {"shape": [10]}, []),
    ("output", {}, [(4,)]),
    ("conv2d", {"out_channels": 8, "kernel_size": 3}, [(3, 8, 8)]),
    (
        "conv2d",
        {
            "out_channels": 6,
            "kernel_size": [3, 5],
            "stride": [2, 1],
            "padding": [1, 2],
            "dilation": [1, 2],
            "bias": False,
        },
        [(4, 9, 11)],
    ),
    ("conv2d", {"out_channels": 8, "kernel_size": 3, "groups": 4, "padding": 1}, [(4, 6, 6)]),
    (
        "conv2d",
        {"out_channels": 4, "kernel_size": 4, "padding": "same", "dilation": 2},
        [(2, 7, 7)],
    ),
    ("conv2d", {"out_channels": 4, "kernel_size": 1, "stride": 2}, [(3, 7, 7)]),
    ("conv_transpose2d", {"out_channels": 4, "kernel_size": 2, "stride": 2}, [(6, 5, 5)]),
    (
        "conv_transpose2d",
        {
            "out_channels": 6,
            "kernel_size": [3, 2],
            "stride": [2, 3],
            "padding": 1,
            "output_padding": [1, 2],
            "dilation": 1,
            "groups": 2,
            "bias": False,
        },
        [(4, 4, 5)],
    ),
    ("locally_connected2d", {"out_channels": 4, "kernel_size": 3}, [(3, 8, 8)]),
    (
        "locally_connected2d",
        {
            "out_channels": 2,
            "kernel_size": [3, 2],
            "stride": [2, 1],
            "padding": [1, 0],
            "bias": False,
        },
        [(2, 7, 6)],
    ),
    ("maxpool2d", {"kernel_size": 2}, [(3, 8, 8)]),
    ("maxpool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, [(2, 14, 14)]),  # GoogLeNet
    ("maxpool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}, [(2, 11, 9)]),
    ("maxpool2d", {"kernel_size": 2, "return_indices": True}, [(2, 6, 6)]),
    ("avgpool2d", {"kernel_size": 2}, [(3, 8, 8)]),
    (
        "avgpool2d",
        {"kernel_size": 3, "stride": [2, 1], "padding": 1, "ceil_mode": True},
        [(2, 10, 7)],
    ),
    ("lppool2d", {"kernel_size": 2}, [(3, 8, 8)]),
    ("lppool2d", {"kernel_size": 3, "stride": 2, "norm_type": 3.0, "ceil_mode": True}, [(2, 8, 8)]),
    ("maxunpool2d", {"kernel_size": 2}, [(3, 8, 8)]),
    ("adaptive_avgpool2d", {"output_size": [3, 2]}, [(4, 7, 9)]),
    ("adaptive_avgpool2d", {"output_size": 1}, [(4, 5, 5)]),
    ("adaptive_maxpool2d", {"output_size": 2}, [(4, 7, 9)]),
    ("global_avgpool", {}, [(5, 4, 3)]),
    ("upsample", {"scale_factor": 2.0}, [(3, 4, 5)]),
    ("upsample", {"scale_factor": 1.5, "mode": "bilinear"}, [(3, 5, 7)]),
    ("batchnorm", {}, [(4, 5, 5)]),
    ("batchnorm", {"affine": False, "eps": 1e-3, "momentum": 0.2}, [(6,)]),
    ("local_response_norm", {"size": 3}, [(6, 4, 4)]),
    ("dropout", {"p": 0.3}, [(3, 4, 4)]),
    ("dropout", {}, [(8,)]),
    ("dropout2d", {"p": 0.2}, [(3, 4, 4)]),
    ("relu", {}, [(3, 4, 4)]),
    ("leaky_relu", {"negative_slope": 0.2}, [(3, 4, 4)]),
    ("prelu", {}, [(3, 4, 4)]),
    ("prelu", {"per_channel": True, "init": 0.1}, [(5, 4, 4)]),
    ("prelu", {"per_channel": True}, [(7,)]),
    ("elu", {"alpha": 0.5}, [(3, 4, 4)]),
    ("gelu", {"approximate": "tanh"}, [(3, 4, 4)]),
    ("silu", {}, [(8,)]),
    ("relu6", {}, [(3, 4, 4)]),
    ("hardswish", {}, [(3, 4, 4)]),
    ("sigmoid", {}, [(3, 4, 4)]),
    ("tanh", {}, [(8,)]),
    ("softmax", {}, [(10,)]),
    ("softmax", {"dim": -1}, [(3, 4, 5)]),
    ("log_softmax", {"dim": 1}, [(10,)]),
    ("flatten", {}, [(3, 4, 5)]),
    ("flatten", {}, [(7,)]),
    ("unflatten", {"shape": [4, 3, 5]}, [(60,)]),
    ("unflatten", {"shape": [6]}, [(6,)]),
    ("linear", {"out_features": 5}, [(12,)]),
    ("linear", {"out_features": 3, "bias": False}, [(12,)]),
    ("add", {}, [(3, 4, 4), (3, 4, 4)]),
    ("add", {}, [(6,), (6,), (6,)]),
    ("concat", {}, [(3, 4, 4), (5, 4, 4)]),
    ("concat", {}, [(3,), (2,), (4,)]),
    ("scale", {"factor": 0.17}, [(3, 4, 4)]),
]


def predict(type_id: str, params: dict[str, Any], shapes: list[Shape]) -> tuple[Graph, Any]:
    """A graph Input(s) → block → Output, and inference's result for the block."""
    g = Graph()
    if type_id == "input":
        g.add_node("input", "block", params)
        g.add_node("output", "out")
        g.connect("block", "out")
        return g, infer(g)
    if type_id == "maxunpool2d":
        g.add_node("input", "in0", {"shape": list(shapes[0])})
        g.add_node("maxpool2d", "pool", {**params, "return_indices": True})
        g.connect("in0", "pool")
        g.add_node(type_id, "block", params)
        g.connect("pool", "block", "out", "in")
        g.connect("pool", "block", "indices", "indices")
    else:
        g.add_node(type_id, "block", params)
        for index, shape in enumerate(shapes):
            g.add_node("input", f"in{index}", {"shape": list(shape)})
            g.connect(f"in{index}", "block")
    if type_id != "output":
        g.add_node("output", "out")
        g.connect("block", "out")
    return g, infer(g)


def actual(spec: BlockSpec, params: dict[str, Any], shapes: list[Shape]) -> dict[str, Any]:
    """Run the block's real torch module (or function) on one random sample."""
    full = spec.with_defaults(params)
    xs = [torch.randn(1, *s) for s in shapes]
    module: torch.nn.Module | None = None
    if spec.type_id == "maxunpool2d":
        stride = full["stride"] if full["stride"] is not None else full["kernel_size"]
        pooled, indices = F.max_pool2d(
            xs[0], full["kernel_size"], stride, full["padding"], return_indices=True
        )
        xs, shapes = [pooled, indices], [tuple(pooled.shape[1:])] * 2
    with FlopCounterMode(display=False) as counter:
        if spec.type_id == "input":
            outs = [torch.randn(1, *full["shape"])]
        elif spec.type_id == "output":
            outs = []
        elif spec.type_id == "add":
            outs = [sum(xs[1:], xs[0])]
        elif spec.type_id == "concat":
            outs = [torch.cat(xs, 1)]
        else:
            assert spec.build is not None
            module = spec.build(full, shapes).eval()
            result = module(*xs)
            outs = list(result) if isinstance(result, tuple) else [result]
    params_count = sum(p.numel() for p in module.parameters()) if module is not None else 0
    return {
        "shapes": [tuple(o.shape[1:]) for o in outs],
        "params": params_count,
        "macs": counter.get_total_flops() // 2,
    }


@pytest.mark.parametrize(
    ("type_id", "params", "shapes"),
    CASES,
    ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(CASES)],
)
def test_block_matches_torch(type_id: str, params: dict[str, Any], shapes: list[Shape]) -> None:
    spec = CATALOG.get(type_id)
    _, result = predict(type_id, params, shapes)
    assert result.for_node("block") == [] or all(
        d.severity == "warning" for d in result.for_node("block")
    ), result.diagnostics
    node = result.nodes["block"]
    real = actual(spec, params, shapes)
    assert list(node.outputs.values()) == real["shapes"]
    assert node.params == real["params"]
    assert node.macs == real["macs"]


def test_every_block_type_has_a_case() -> None:
    covered = {type_id for type_id, _, _ in CASES}
    missing = sorted(spec.type_id for spec in CATALOG if spec.type_id not in covered)
    assert missing == [], f"add a CASES row for: {missing}"


@pytest.mark.parametrize("spec", list(CATALOG), ids=lambda s: s.type_id)
def test_spec_is_complete(spec: BlockSpec) -> None:
    assert spec.display_name and spec.description.strip() and spec.category
    assert spec.name_prefix.isidentifier()
    for param in spec.params:
        assert param.help.strip(), f"{spec.type_id}.{param.name} has no help"
        assert param.problem(param.default) is None, f"{spec.type_id}.{param.name} default"
    assert isinstance(spec.label(spec.defaults()), str)


def test_registry_is_strict() -> None:
    registry = BlockRegistry()
    spec = CATALOG.get("relu")
    registry.register(spec)
    with pytest.raises(DuplicateNameError, match="'relu' is registered twice"):
        registry.register(spec)
    with pytest.raises(UnknownNameError, match="Did you mean 'conv2d'"):
        CATALOG.get("conv2")


# ----- hypothesis: drawn parameters, inference vs torch ----------------------------------------


def _agree(type_id: str, params: dict[str, Any], shape: Shape) -> None:
    """Inference accepts exactly what torch accepts, with torch's shapes, counts and MACs."""
    _, result = predict(type_id, params, [shape])
    errors = [d for d in result.errors if d.node == "block"]
    spec = CATALOG.get(type_id)
    try:
        real = actual(spec, params, [shape])
        if any(0 in out for out in real["shapes"]):  # torch returns an empty tensor: refuse too
            raise RuntimeError(f"empty output {real['shapes']}")
    except (RuntimeError, ValueError) as error:
        assert errors, f"torch refuses {params} on {shape} ({error}) but inference accepts it"
        return
    assert not errors, f"inference refuses {params} on {shape} but torch accepts it: {errors}"
    node = result.nodes["block"]
    assert list(node.outputs.values()) == real["shapes"]
    assert node.params == real["params"]
    assert node.macs == real["macs"]


sizes = st.integers(1, 12)
small = st.integers(1, 4)
both = st.one_of(small, st.lists(small, min_size=2, max_size=2))


@settings(max_examples=60)
@given(
    channels=st.integers(1, 4),
    h=sizes,
    w=sizes,
    groups=st.sampled_from([1, 2]),
    out_mult=st.integers(1, 3),
    kernel=both,
    stride=st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2)),
    padding=st.one_of(st.integers(0, 3), st.just("same")),
    dilation=st.integers(1, 3),
    bias=st.booleans(),
)
def test_conv2d_agrees_with_torch(
    channels: int, h: int, w: int, groups: int, out_mult: int, **params: Any
) -> None:
    params["kernel_size"] = params.pop("kernel")
    params["groups"] = groups
    params["out_channels"] = groups * out_mult
    _agree("conv2d", params, (channels * groups, h, w))


@settings(max_examples=50)
@given(
    channels=st.integers(1, 4),
    h=sizes,
    w=sizes,
    out_channels=st.integers(1, 4),
    kernel=both,
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    output_padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
)
def test_conv_transpose2d_agrees_with_torch(channels: int, h: int, w: int, **params: Any) -> None:
    params["kernel_size"] = params.pop("kernel")
    _agree("conv_transpose2d", params, (channels, h, w))


@settings(max_examples=80)
@given(
    type_id=st.sampled_from(["maxpool2d", "avgpool2d", "lppool2d"]),
    h=sizes,
    w=sizes,
    kernel=both,
    stride=st.one_of(st.none(), st.integers(1, 3)),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    ceil_mode=st.booleans(),
)
def test_pooling_agrees_with_torch(type_id: str, h: int, w: int, **params: Any) -> None:
    params["kernel_size"] = params.pop("kernel")
    if type_id != "maxpool2d":
        params.pop("dilation")
    if type_id == "lppool2d":
        params.pop("padding")
    _agree(type_id, params, (2, h, w))


@settings(max_examples=30)
@given(
    h=sizes,
    w=sizes,
    scale=st.sampled_from([0.3, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]),
    mode=st.sampled_from(["nearest", "bilinear"]),
)
def test_upsample_agrees_with_torch(h: int, w: int, scale: float, mode: str) -> None:
    _agree("upsample", {"scale_factor": scale, "mode": mode}, (2, h, w))


@settings(max_examples=30)
@given(
    type_id=st.sampled_from(["adaptive_avgpool2d", "adaptive_maxpool2d"]),
    h=sizes,
    w=sizes,
    out=both,
)
def test_adaptive_pooling_agrees_with_torch(type_id: str, h: int, w: int, out: Any) -> None:
    _agree(type_id, {"output_size": out}, (2, h, w))


@settings(max_examples=30)
@given(h=st.integers(3, 12), w=st.integers(3, 12), kernel=st.integers(2, 3))
def test_maxunpool_restores_the_pooled_size(h: int, w: int, kernel: int) -> None:
    """Unpooling is valid exactly when it restores the size its pool saw (else: a diagnostic)."""
    _, result = predict("maxunpool2d", {"kernel_size": kernel}, [(2, h, w)])
    restored = h % kernel == 0 and w % kernel == 0
    assert result.ok == restored, result.diagnostics
    if restored:
        assert result.nodes["block"].output == (2, h, w)
    else:
        assert "indices would land in the wrong places" in result.errors[0].message
