"""Issue 18, item 3: receptive fields against a gradient measurement.

The analytic field of a unit (engine.analysis.receptive_field) is compared with the input pixels
whose gradient is non-zero when one output unit is back-propagated through the compiled design.
The measurement is made exact: weights random but positive (no two paths cancel), biases zero,
BatchNorm the identity, inputs positive, float64; max pooling becomes average pooling with the
same windows (same field, but every pixel of a window gets gradient, where max sends it to one).
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import torch

from engine import Graph, compile_graph, infer
from engine.analysis import Field, receptive_fields
from presets import PRESETS

UPSAMPLING = {"conv_transpose2d", "upsample"}


def _ancestors(graph: Graph, name: str) -> set[str]:
    seen, todo = {name}, [name]
    while todo:
        for edge in graph.in_edges(todo.pop()):
            if edge.src not in seen:
                seen.add(edge.src)
                todo.append(edge.src)
    return seen


def _measurable(graph: Graph, name: str) -> Graph:
    """The part of ``graph`` that computes ``name``, ending in an Output, max pools averaged."""
    result = infer(graph)
    keep = _ancestors(graph, name)
    g = Graph()
    for node_name in result.order:
        if node_name not in keep:
            continue
        node = graph.node(node_name)
        type_id, params = node.type_id, dict(node.params)
        if type_id == "maxpool2d":
            full = node.spec.with_defaults(params)
            assert full["dilation"] in (1, [1, 1]), "a dilated max pool has no average twin"
            type_id = "avgpool2d"
            params = {k: full[k] for k in ("kernel_size", "stride", "padding", "ceil_mode")}
        elif type_id == "adaptive_maxpool2d":
            type_id = "adaptive_avgpool2d"
        g.add_node(type_id, node_name, params)
    for node_name in result.order:
        if node_name in keep:
            for edge in graph.in_edges(node_name):
                g.connect(edge.src, edge.dst, edge.src_port, edge.dst_port)
    g.add_node("output", "__measured")
    g.connect(name, "__measured")
    return g


def _positive_model(graph: Graph, seed: int) -> torch.nn.Module:
    model = compile_graph(graph).double().eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None)
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.zero_()
                module.running_var.fill_(1.0)
                if module.affine:
                    module.weight.fill_(1.0)
                    module.bias.zero_()
            elif isinstance(weight, torch.Tensor) and weight.dim() >= 2:
                fan = weight[0].numel()
                weight.copy_((0.5 + 0.5 * torch.rand(weight.shape, generator=generator)) / fan)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
    return model


def _jacobian_rows(graph: Graph, name: str, seed: int = 0):
    """A function giving, for one unit of ``name``'s output, the input gradient (for an image
    unit, ``(None, h, w)``, of all channels together: through a Concat the channels come from
    different paths, and the field is the largest of theirs)."""
    part = _measurable(graph, name)
    model = _positive_model(part, seed)
    shape = next(n for n in graph if n.type_id == "input").params["shape"]
    generator = torch.Generator().manual_seed(seed + 1)
    x = (0.1 + 0.9 * torch.rand(1, *shape, generator=generator)).double()

    def gradient(unit: tuple[int, ...]) -> torch.Tensor:
        probe = x.clone().requires_grad_(True)
        out = model(probe)
        out[(0, *(slice(None) if i is None else i for i in unit))].sum().backward()
        return probe.grad[0].abs().sum(0)  # (H, W)

    return gradient


def _measured_span(grad: torch.Tensor) -> tuple[tuple[int, int], tuple[int, int]] | None:
    rows = grad.sum(1).nonzero().flatten().tolist()
    cols = grad.sum(0).nonzero().flatten().tolist()
    if not rows:
        return None
    return (min(rows), max(rows)), (min(cols), max(cols))


def _clipped(field: Field, unit: tuple[int, int], size: tuple[int, int]):
    spans = field.span(unit)
    return tuple(
        (int(max(0, lo)), int(min(limit - 1, hi)))
        for (lo, hi), limit in zip(spans, size, strict=True)
    )


def _inside(field: Field, unit: tuple[int, int], size: tuple[int, int]) -> bool:
    spans = field.span(unit)
    return all(lo >= 0 and hi <= limit - 1 for (lo, hi), limit in zip(spans, size, strict=True))


def _check_centre_unit(graph: Graph, name: str) -> None:
    result = infer(graph)
    field = receptive_fields(graph, result)[name]
    assert field is not None, name
    out = result.nodes[name].output
    image = next(n for n in graph if n.type_id == "input").params["shape"]
    gradient = _jacobian_rows(graph, name)
    size = (image[1], image[2])
    if len(out) == 3:  # the unit nearest the centre whose whole field lies inside the image
        units = [(h, w) for h in range(out[1]) for w in range(out[2])]
        units.sort(key=lambda u: abs(u[0] - out[1] // 2) + abs(u[1] - out[2] // 2))
        inside = [u for u in units if _inside(field, u, size)]
        unit = inside[0] if inside else units[0]
        measured = _measured_span(gradient((None, *unit)))
    else:  # feature 0: unit (0, 0) of the map it was flattened from, or the whole of it
        unit, inside = (0, 0), []
        measured = _measured_span(gradient((0,)))
    assert measured is not None, f"{name}: no gradient reached the input"
    expected = _clipped(field, unit, size)
    if not inside:
        # the field reaches past the image: padding there (at any layer) sends no gradient, so
        # the measured pixels lie within the analytic field without filling it
        for axis in range(2):
            low, high = measured[axis]
            assert expected[axis][0] <= low <= high <= expected[axis][1], (name, measured, field)
        return
    assert measured == expected, f"{name}: measured {measured}, analytic {expected} ({field})"


PRESET_CASES = [
    ("lenet5", {"resolution": 32, "pooling": "max"}),
    ("lenet5", {"resolution": 28}),
    ("vgg11", {"resolution": 32, "batch_norm": True}),
    ("resnet18", {"resolution": 32}),
    ("googlenet", {"resolution": 32}),
    ("mobilenet_v1", {"resolution": 32, "width": 0.25}),
    ("squeezenet1_1", {"resolution": 33}),
]


@pytest.mark.parametrize(("preset", "options"), PRESET_CASES)
def test_preset_fields_match_the_gradient(preset: str, options: dict) -> None:
    graph = PRESETS.get(preset).create(classes=3, **options)
    result = infer(graph)
    assert result.ok
    candidates = [
        n
        for n in result.order
        if graph.node(n).type_id not in ("input", "output") and result.nodes[n].output is not None
    ]
    picks = {candidates[i * (len(candidates) - 1) // 5] for i in range(6)}
    for name in sorted(picks):
        _check_centre_unit(graph, name)


def _random_graph(seed: int, upsampling: bool) -> Graph:
    """A small random design: windows of every kind, dilation, skips into Add and Concat."""
    rng = random.Random(seed)
    g = Graph()
    size = rng.randint(14, 24)
    g.add_node("input", "image", {"shape": [2, size, size]})
    previous, count = "image", 0
    steps = ["conv", "conv", "pool", "lc", "act", "skip", "concat", "bn"]
    plan = [rng.choice(steps) for _ in range(rng.randint(2, 5))]
    if upsampling:  # a regular start, then one layer that divides the jump
        plan = [*plan[: rng.randint(0, 2)], rng.choice(["transposed", "upsample"])]
    for step in plan:
        count += 1
        name = f"{step}{count}"
        k, s = rng.randint(1, 3), rng.randint(1, 2)
        if step == "conv":
            params = {
                "out_channels": 2,
                "kernel_size": [k, rng.randint(1, 3)],
                "stride": [s, rng.randint(1, 2)],
                "padding": rng.randint(0, 1),
                "dilation": rng.randint(1, 2),
            }
            g.add_node("conv2d", name, params)
        elif step == "pool":
            kind = rng.choice(["maxpool2d", "avgpool2d", "lppool2d"])
            params = {"kernel_size": max(k, 2), "stride": s, "ceil_mode": rng.random() < 0.5}
            if kind != "lppool2d":
                params["padding"] = rng.randint(0, max(k, 2) // 2)
            g.add_node(kind, name, params)
        elif step == "lc":
            g.add_node("locally_connected2d", name, {"out_channels": 2, "kernel_size": k})
        elif step == "act":
            g.add_node(rng.choice(["relu", "sigmoid", "tanh", "gelu", "dropout"]), name)
        elif step == "bn":
            g.add_node("batchnorm", name)
        elif step == "transposed":
            g.add_node(
                "conv_transpose2d",
                name,
                {
                    "out_channels": 2,
                    "kernel_size": k + 1,
                    "stride": s,
                    "dilation": rng.randint(1, 2),
                },
            )
        elif step == "upsample":
            g.add_node(
                "upsample", name, {"scale_factor": 2.0, "mode": rng.choice(["nearest", "bilinear"])}
            )
        else:  # a branch with a bigger field, joined to the plain path
            branch = f"branch{count}"
            g.add_node(
                "conv2d",
                branch,
                {"out_channels": 2, "kernel_size": 3, "padding": "same", "dilation": 2},
            )
            g.connect(previous, branch)
            g.add_node("add" if step == "skip" else "concat", name)
            g.connect(previous, name)
            g.connect(branch, name)
            previous = name
            continue
        g.connect(previous, name)
        previous = name
    g.add_node("output", "out")
    g.connect(previous, "out")
    return g


def _valid_random_graph(seed: int, upsampling: bool) -> Graph:
    for attempt in range(50):
        graph = _random_graph(seed * 100 + attempt, upsampling)
        if infer(graph).ok and (not upsampling or {n.type_id for n in graph} & UPSAMPLING):
            return graph
    pytest.fail(f"no valid random graph for seed {seed}")


@pytest.mark.parametrize("seed", range(25))
def test_random_graph_fields_match_the_gradient(seed: int) -> None:
    graph = _valid_random_graph(seed, upsampling=False)
    result = infer(graph)
    for name in result.order:
        if graph.node(name).type_id not in ("input", "output"):
            _check_centre_unit(graph, name)


@pytest.mark.parametrize("seed", range(8))
def test_upsampling_fields_are_the_largest_measured_and_jump_is_their_period(seed: int) -> None:
    """After a transposed convolution or upsampling units see different amounts of input: the
    analytic size is the largest measured among units whose field is inside the image, and the
    field of unit u + q starts jump·q pixels after that of unit u (q: the layer's factor).
    (Windows after such a layer follow the recurrence, which averages over its uneven units.)"""
    graph = _valid_random_graph(seed, upsampling=True)
    result = infer(graph)
    fields = receptive_fields(graph, result)
    image = next(n for n in graph if n.type_id == "input").params["shape"][1:]
    name = result.order[-2]
    field = fields[name]
    assert field is not None
    out = result.nodes[name].output
    gradient = _jacobian_rows(graph, name)
    spans = {}
    for h in range(out[1]):
        for w in range(out[2]):
            spans[(h, w)] = _measured_span(gradient((None, h, w)))
    inside = {u: s for u, s in spans.items() if s is not None and _inside(field, u, image)}
    assert inside, "no unit's field lies inside the image: use a larger input"
    for axis in range(2):
        widest = max(s[axis][1] - s[axis][0] + 1 for s in inside.values())
        assert widest == field.size[axis], (name, axis, widest, field)
        jump = field.jump[axis]
        node = graph.node(name)
        factor = node.params.get("stride", 2) if node.type_id == "conv_transpose2d" else 2
        q = factor if isinstance(factor, int) else factor[axis]  # the pattern's period
        for unit, span in inside.items():
            later = list(unit)
            later[axis] += q
            other = inside.get(tuple(later))  # type: ignore[arg-type]
            if other is not None:
                assert other[axis][0] - span[axis][0] == jump * q, (name, unit, field)


def test_the_lecture_numbers_of_simple_fields() -> None:
    """Two 3×3 convolutions see 5×5; a 2×2 pool of stride 2 doubles the jump; dilation 2
    spreads a 3×3 kernel over 5×5; a transposed convolution halves the jump."""
    g = Graph()
    g.add_node("input", "x", {"shape": [1, 32, 32]})
    chain = [
        ("conv2d", "c1", {"kernel_size": 3}),
        ("conv2d", "c2", {"kernel_size": 3}),
        ("maxpool2d", "p", {"kernel_size": 2}),
        ("conv2d", "c3", {"kernel_size": 3, "dilation": 2}),
        ("conv_transpose2d", "t", {"kernel_size": 2, "stride": 2}),
        ("global_avgpool", "gap", {}),
        ("linear", "fc", {"out_features": 2}),
    ]
    previous = "x"
    for type_id, name, params in chain:
        g.add_node(type_id, name, params)
        g.connect(previous, name)
        previous = name
    fields = receptive_fields(g, infer(g))
    assert fields["c1"].size == (3, 3) and fields["c1"].start == (1, 1)
    assert fields["c2"].size == (5, 5) and fields["c2"].start == (2, 2)
    assert fields["p"].size == (6, 6) and fields["p"].jump == (2, 2)
    assert fields["p"].start == (Fraction(5, 2), Fraction(5, 2))
    assert fields["c3"].size == (6 + 4 * 2,) * 2  # (3 − 1)·2·jump 2 more
    assert fields["t"].jump == (1, 1) and fields["t"].size == fields["c3"].size
    assert fields["gap"].whole and fields["fc"].whole
    assert fields["x"].size == (1, 1)
