"""Issue 18, point 3: the exact receptive field of one unit (engine.analysis.unit_field) against
a gradient measurement: the input pixels whose gradient is non-zero when one output unit is
back-propagated through the compiled design.

The measurement is made exact: weights random but positive (no two paths cancel), biases zero,
inputs positive, float32 (the network's own precision: Upsample's bilinear weights are computed
as torch computes them). A softmax over H or W is measured through a positive convolution that
sees its whole axis (its own Jacobian has negative entries that can cancel). Where the gradient depends on the argmax, the design is measured through
a twin with the same windows: a max pool becomes an average pool (or a depthwise convolution
when dilated), an L2 pool an average pool, a MaxUnpool2d a depthwise transposed convolution with
its kernel, stride and padding (its output q takes every input whose pooling window holds q:
every position an index may point to).
"""

from __future__ import annotations

import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Graph, compile_graph, infer
from engine.analysis.unit_field import unit_field
from engine.errors import DesignerError

C = 2  # channels everywhere, so that depthwise twins fit


def _try_add(g: Graph, prev: str, type_id: str, params: dict, extra=None) -> str | None:
    name = g.unique_name(type_id.replace("2d", ""))
    g.add_node(type_id, name, params)
    g.connect(prev, name)
    for src, port in extra or ():
        g.connect(src, name, port, port)
    if infer(g).nodes[name].output is None:
        g.remove_node(name)
        return None
    return name


def _window(rng: random.Random, pool: bool) -> dict:
    k = rng.randint(1, 4) if not pool else rng.randint(2, 3)
    return {"kernel_size": k, "stride": rng.randint(1, 3), "padding": rng.randint(0, k // 2)}


def _step(g: Graph, prev: str, rng: random.Random) -> str:
    kinds = ["conv", "maxpool", "avgpool", "lppool", "transposed", "unpool", "up", "adaptive"]
    kind = rng.choice([*kinds, "softmax"])
    w = _window(rng, kind != "conv")
    if kind == "conv":
        p = {**w, "out_channels": C, "dilation": rng.randint(1, 2), "padding": rng.randint(0, 3)}
        if rng.random() < 0.2:
            p.update(padding="same", stride=1)
        name = _try_add(g, prev, "conv2d", p)
    elif kind == "maxpool":
        dilation = rng.randint(1, 2)
        ceil = dilation == 1 and rng.random() < 0.5
        name = _try_add(g, prev, "maxpool2d", {**w, "dilation": dilation, "ceil_mode": ceil})
    elif kind == "avgpool":
        name = _try_add(g, prev, "avgpool2d", {**w, "ceil_mode": rng.random() < 0.5})
    elif kind == "lppool":
        p = {
            "kernel_size": w["kernel_size"],
            "stride": w["stride"],
            "ceil_mode": rng.random() < 0.5,
        }
        name = _try_add(g, prev, "lppool2d", p)
    elif kind == "transposed":
        s, d = rng.randint(1, 3), rng.randint(1, 2)
        p = {"out_channels": C, "kernel_size": rng.randint(1, 4), "stride": s, "dilation": d}
        p.update(padding=rng.randint(0, 2), output_padding=rng.randint(0, max(s, d) - 1))
        name = _try_add(g, prev, "conv_transpose2d", p)
    elif kind == "unpool":
        pool = _try_add(g, prev, "maxpool2d", {**w, "return_indices": True})
        if pool is None:
            return prev
        middle = pool
        if rng.random() < 0.5:  # a shape-keeping convolution between: the field spreads
            conv = {"out_channels": C, "kernel_size": 3, "padding": 1}
            middle = _try_add(g, pool, "conv2d", conv) or pool
        name = _try_add(g, middle, "maxunpool2d", w, [(pool, "indices")])
        if name is None:
            return middle
    elif kind == "adaptive":
        size = [rng.randint(1, 7), rng.randint(1, 7)]
        kind = rng.choice(["adaptive_avgpool2d", "adaptive_maxpool2d"])
        name = _try_add(g, prev, kind, {"output_size": size})
    elif kind == "softmax":  # over the rows or the columns: the whole axis
        dim = rng.choice([2, 3, -1, -2])
        name = _try_add(g, prev, rng.choice(["softmax", "log_softmax"]), {"dim": dim})
    else:
        factor = rng.choice([0.5, 0.7, 1.5, 2.0, 2.5, 3.0, 1.3])
        mode = rng.choice(["nearest", "bilinear"])
        name = _try_add(g, prev, "upsample", {"scale_factor": factor, "mode": mode})
    return name or prev


def random_chain(seed: int) -> tuple[Graph, str]:
    rng = random.Random(seed)
    g = Graph()
    g.add_node("input", "x", {"shape": [C, rng.randint(5, 16), rng.randint(5, 16)]})
    last = "x"
    for _ in range(rng.randint(1, 4)):
        last = _step(g, last, rng)
        if rng.random() < 0.3:
            last = _join(g, last, rng)
    return g, last


def _join(g: Graph, last: str, rng: random.Random) -> str:
    """A second path beside ``last`` (a shape-keeping convolution, maybe after an up- and
    downsampling), joined by Add or Concat: the field is the union over the paths."""
    side = last
    if rng.random() < 0.5:
        up = _try_add(g, side, "upsample", {"scale_factor": 2.0, "mode": "bilinear"})
        side = (up and _try_add(g, up, "avgpool2d", {"kernel_size": 2})) or side
    k, d = rng.choice([1, 3, 5]), rng.randint(1, 2)
    conv = {"out_channels": C, "kernel_size": k, "dilation": d, "padding": "same"}
    side = _try_add(g, side, "conv2d", conv) or side
    join = g.unique_name("join")
    g.add_node(rng.choice(["add", "concat"]), join, {})
    g.connect(last, join)
    g.connect(side, join)
    if infer(g).nodes[join].output is None:
        g.remove_node(join)
        return last
    if g.node(join).type_id == "concat":  # back to C channels for the depthwise twins
        return _try_add(g, join, "conv2d", {"out_channels": C, "kernel_size": 1}) or join
    return join


def _twin(graph: Graph, name: str) -> Graph:
    """``graph`` up to ``name`` with every argmax-dependent block replaced by a same-window twin."""
    result = infer(graph)
    keep = graph.upstream(name) | {name}
    g = Graph()
    for node_name in result.order:
        node = graph.node(node_name)
        t, p = node.type_id, node.spec.with_defaults(node.params)
        inputs = result.nodes[node_name].inputs
        channels = inputs[0][0] if inputs and inputs[0] else 1
        stride = p.get("stride") or p.get("kernel_size")
        if t == "maxpool2d" and p["dilation"] in (1, [1, 1]):
            keys = ("kernel_size", "stride", "padding", "ceil_mode")
            t, p = "avgpool2d", {**{k: p[k] for k in keys}, "stride": stride}
        elif t == "maxpool2d":
            keys = ("kernel_size", "padding", "dilation")
            t, p = "conv2d", {**{k: p[k] for k in keys}, "stride": stride}
            p.update(out_channels=channels, groups=channels, bias=False)
        elif t in {"softmax", "log_softmax"} and p["dim"] % 4 in (2, 3):
            t, p = _softmax_twin(p["dim"] % 4 - 2, inputs[0], channels)
        elif t == "adaptive_maxpool2d":
            t = "adaptive_avgpool2d"
        elif t == "lppool2d":
            t, p = "avgpool2d", {"kernel_size": p["kernel_size"], "stride": stride}
            p["ceil_mode"] = node.params.get("ceil_mode", False)
        elif t == "maxunpool2d":
            keys = ("kernel_size", "padding")
            t, p = "conv_transpose2d", {**{k: p[k] for k in keys}, "stride": stride}
            p.update(out_channels=channels, groups=channels, bias=False)
        else:
            p = dict(node.params)
        g.add_node(t, node_name, p)
    for edge in graph.edges:
        if edge.dst_port != "indices":
            g.connect(edge.src, edge.dst, edge.src_port, edge.dst_port)
    for out in [n for n in g.names if g.node(n).type_id == "output" or n not in keep]:
        g.remove_node(out)
    g.add_node("output", "__measured")
    g.connect(name, "__measured")
    assert infer(g).ok, [d.message for d in infer(g).errors]
    return g


def _softmax_twin(axis: int, shape: tuple[int, ...], channels: int) -> tuple[str, dict]:
    """A softmax over an axis of n values depends on all n (∂s_i/∂x_j = s_i(δ_ij − s_j)), but
    its Jacobian's negative entries can cancel in a sum: measured through a positive depthwise
    convolution that sees the whole axis; over one value it is a constant (scale by 0)."""
    n = shape[1 + axis]
    if n == 1:
        return "scale", {"factor": 0.0}
    kernel, padding = [1, 1], [0, 0]
    kernel[axis], padding[axis] = 2 * n - 1, n - 1
    params = {"out_channels": channels, "groups": channels, "bias": False}
    return "conv2d", {**params, "kernel_size": kernel, "padding": padding}


def measured_boxes(graph: Graph, name: str, units: list[tuple[int, int]], seed: int = 0):
    """For each unit, the box (r0, c0, r1, c1) of input pixels with non-zero gradient."""
    model = compile_graph(_twin(graph, name)).float().eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None)
            if isinstance(weight, torch.Tensor):
                fan = weight[0].numel()
                weight.copy_((0.5 + 0.5 * torch.rand(weight.shape, generator=gen)) / fan)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
    shape = next(n for n in graph if n.type_id == "input").params["shape"]
    x = 0.5 + 0.5 * torch.rand(1, *shape, generator=gen)
    boxes = []
    for unit in units:
        probe = x.clone().requires_grad_(True)
        out = model(probe)
        out[0, :, unit[0], unit[1]].sum().backward()
        grad = probe.grad[0].abs().sum(0)
        rows, cols = grad.sum(1).nonzero().flatten(), grad.sum(0).nonzero().flatten()
        boxes.append(
            None if len(rows) == 0 else (int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1]))
        )
    return boxes


def _units(shape: tuple[int, ...], rng: random.Random) -> list[tuple[int, int]]:
    h, w = shape[1], shape[2]
    corners = [(0, 0), (h - 1, w - 1), (0, w - 1), (h - 1, 0)]
    return corners + [(rng.randrange(h), rng.randrange(w)) for _ in range(4)]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(st.integers(0, 10**6))
def test_unit_box_equals_the_gradient_measurement_on_random_chains(seed):
    graph, last = random_chain(seed)
    result = infer(graph)
    shape = result.nodes[last].output
    units = _units(shape, random.Random(seed))
    want = measured_boxes(graph, last, units, seed)
    got = [unit_field(graph, result, last, u) for u in units]
    for unit, box, field in zip(units, want, got, strict=True):
        assert field is not None
        assert field.box == box, (
            seed,
            last,
            unit,
            [n.type_id for n in graph],
            dict((n.name, n.params) for n in graph),
        )


def test_unit_after_a_2x2_unpool_is_boxed_on_its_pooling_window():
    g = Graph()
    g.add_node("input", "x", {"shape": [C, 8, 8]})
    g.add_node("maxpool2d", "pool", {"kernel_size": 2, "return_indices": True})
    g.add_node("maxunpool2d", "unpool", {"kernel_size": 2})
    g.connect("x", "pool")
    g.connect("pool", "unpool")
    g.connect("pool", "unpool", "indices", "indices")
    field = unit_field(g, infer(g), "unpool", (2, 3))
    assert field is not None and field.box == (2, 2, 3, 3)
    assert measured_boxes(g, "unpool", [(2, 3)]) == [field.box]


def _branches() -> Graph:
    g = Graph()
    g.add_node("input", "x", {"shape": [C, 12, 12]})
    g.add_node("conv2d", "a", {"out_channels": C, "kernel_size": 5, "padding": 2})
    g.add_node("conv2d", "b", {"out_channels": C, "kernel_size": 1})
    g.add_node("upsample", "up", {"scale_factor": 2.0, "mode": "bilinear"})
    g.add_node("maxpool2d", "down", {"kernel_size": 2})
    g.add_node("add", "sum", {})
    g.add_node("flatten", "flat", {})
    g.add_node("linear", "fc", {"out_features": 3})
    g.connect("x", "a")
    g.connect("x", "up")
    g.connect("up", "down")
    g.connect("down", "b")
    g.connect("a", "sum")
    g.connect("b", "sum")
    g.connect("sum", "flat")
    g.connect("flat", "fc")
    return g


def test_add_takes_the_union_over_paths_and_linear_the_whole_map():
    g = _branches()
    result = infer(g)
    units = [(0, 0), (5, 7), (11, 11)]
    want = measured_boxes(g, "sum", units)
    got = [unit_field(g, result, "sum", u) for u in units]
    assert [f.box for f in got if f is not None] == want
    assert got[0] is not None and got[0].padded  # conv a reads padding at the corner
    fc = unit_field(g, result, "fc", (0, 0))
    assert fc is not None and fc.whole and fc.box == (0, 0, 11, 11)


def test_a_unit_outside_the_map_is_named_with_the_fix():
    g = _branches()
    with pytest.raises(DesignerError, match=r"sum: .*12×12.*unit=\(12, 0\).*rows 0–11"):
        unit_field(g, infer(g), "sum", (12, 0))


def test_a_unit_that_reads_only_padding_has_no_box():
    g = Graph()
    g.add_node("input", "x", {"shape": [1, 4, 4]})
    g.add_node("conv2d", "c", {"out_channels": 1, "kernel_size": 1, "padding": 3})
    g.connect("x", "c")
    field = unit_field(g, infer(g), "c", (0, 0))
    assert field is not None and field.box is None and field.padded


def test_a_softmax_over_one_value_is_constant_and_reads_nothing():
    g = Graph()
    g.add_node("input", "x", {"shape": [C, 6, 6]})
    g.add_node("adaptive_avgpool2d", "rows", {"output_size": [1, 6]})
    g.add_node("softmax", "soft", {"dim": 2})
    g.connect("x", "rows")
    g.connect("rows", "soft")
    field = unit_field(g, infer(g), "soft", (0, 2))
    assert field is not None and field.box is None
    assert measured_boxes(g, "soft", [(0, 2)]) == [None]
    g.set_params("soft", {"dim": 3})  # over the 6 columns: every column, rows all
    field = unit_field(g, infer(g), "soft", (0, 2))
    assert field is not None and field.box == (0, 0, 5, 5) == measured_boxes(g, "soft", [(0, 2)])[0]


def test_a_bypassed_block_passes_the_region_through():
    g = _branches()
    result = infer(g)
    before = unit_field(g, result, "sum", (5, 7))
    g.set_bypassed("a", True)  # conv a (5×5) passes its input through: the field narrows
    after = unit_field(g, infer(g), "sum", (5, 7))
    assert before is not None and after is not None
    assert before.box == (3, 5, 7, 9) and after.box == (4, 6, 6, 8)


def test_unknown_without_an_image_or_with_unknown_shapes():
    g = Graph()
    g.add_node("input", "x", {"shape": [10]})
    g.add_node("linear", "fc", {"out_features": 3})
    g.connect("x", "fc")
    assert unit_field(g, infer(g), "fc", (0, 0)) is None  # a vector input: no image
    g = _branches()
    g.set_params("down", {"kernel_size": 3})  # 24 → 8: Add's inputs no longer agree
    result = infer(g)
    assert not result.ok
    assert unit_field(g, result, "fc", (0, 0)) is None
