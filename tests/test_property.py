"""Random graphs: every valid one compiles and torch agrees with inference; invalid ones only diagnose.

Hypothesis draws chains and DAGs (skips into Add and Concat, MaxPool indices into MaxUnpool, a
second Input now and then) from every block type of the catalog, with parameters drawn from each
ParamSpec and, now and then, a value that breaks its rule. Sources are picked with an eye on
their inferred shapes so that a good share of the graphs are valid.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine import CATALOG, CompileError, Graph, compile_graph, infer
from engine.catalog import RuleContext, ShapeRuleError
from engine.compiler import example_inputs, run_and_record_shapes
from engine.params import ParamKind, ParamSpec

BLOCKS = sorted(spec.type_id for spec in CATALOG if spec.type_id not in ("input", "output"))
BAD_VALUES = (0, -1, None, "x", 1.0, [0, 2], [3], float("inf"))


def _accepts(type_id: str, shape: tuple[int, ...]) -> bool:
    spec = CATALOG.get(type_id)
    inputs = [shape, shape] if spec.variadic or type_id == "maxunpool2d" else [shape]
    try:
        spec.shape(RuleContext("probe", spec.defaults(), inputs))
    except ShapeRuleError as error:
        return error.code not in ("rank", "needs_flatten")
    return True


# the block types that take a vector (rank 1) or an image (rank 3), found by asking each rule
SUITED = {
    rank: [t for t in BLOCKS if _accepts(t, shape)] for rank, shape in ((1, (8,)), (3, (4, 8, 8)))
}

# per-parameter ranges that keep small graphs mostly valid; others come from the ParamSpec
RANGES: dict[str, st.SearchStrategy[Any]] = {
    "out_channels": st.integers(1, 6),
    "out_features": st.integers(1, 8),
    "groups": st.sampled_from([1, 1, 2]),
    "size": st.integers(1, 4),
    "dim": st.sampled_from([1, -1]),
    "p": st.sampled_from([0.0, 0.25, 0.5]),
    "scale_factor": st.sampled_from([0.5, 1.0, 1.5, 2.0]),
    "norm_type": st.sampled_from([1.0, 2.0, 3.0]),
    "padding": st.integers(0, 1),
    "output_padding": st.integers(0, 1),
    "output_size": st.one_of(
        st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2)
    ),
}


def param_value(data: st.DataObject, param: ParamSpec) -> Any:
    """A value for ``param`` in a range that keeps small graphs mostly valid."""
    if param.name in RANGES and param.kind is not ParamKind.PADDING:
        return data.draw(RANGES[param.name], label=param.name)
    kind = param.kind
    if kind is ParamKind.BOOL:
        return data.draw(st.booleans(), label=param.name)
    if kind is ParamKind.CHOICE:
        return data.draw(st.sampled_from(param.choices), label=param.name)
    if kind is ParamKind.SIZE2:
        side = st.integers(1, 3)
        return data.draw(st.one_of(side, st.lists(side, min_size=2, max_size=2)), label=param.name)
    if kind is ParamKind.OPTIONAL_SIZE2:
        return data.draw(st.one_of(st.none(), st.integers(1, 3)), label=param.name)
    if kind is ParamKind.PADDING:
        return data.draw(st.one_of(st.integers(0, 1), st.just("same")), label=param.name)
    return param.default  # INT and FLOAT without a listed range: the default is typical


def pick_sources(
    data: st.DataObject,
    type_id: str,
    first: tuple[str, str],
    shapes: dict[tuple[str, str], Any],
    known: list[tuple[str, str]],
) -> list[tuple[str, str]]:
    """(node, port) pairs to feed a new block; shape-aware so that many graphs are valid."""
    if type_id in ("add", "concat"):
        count = data.draw(st.integers(1, 3), label="inputs")
        same = [
            k
            for k in known
            if shapes.get(k) is not None
            and (
                shapes[k] == shapes[first]
                if type_id == "add"
                else shapes[k][1:] == shapes[first][1:]
            )
        ]
        pool = same if same and data.draw(st.integers(0, 4), label="match") else known
        return [first, *(data.draw(st.sampled_from(pool), label="other") for _ in range(count))]
    if type_id == "maxunpool2d":
        indices = [k for k, shape in shapes.items() if k[1] == "indices" and shape is not None]
        if indices and data.draw(st.integers(0, 4), label="real indices"):
            pool_name = data.draw(st.sampled_from(indices), label="pool")[0]
            return [(pool_name, "out"), (pool_name, "indices")]
        return [first, data.draw(st.sampled_from(known), label="fake indices")]
    return [first]


def draw_graph(data: st.DataObject) -> Graph:
    g = Graph()
    if data.draw(st.integers(0, 3), label="image") > 0:
        shape = [
            data.draw(st.integers(1, 4), label="C"),
            data.draw(st.integers(1, 12), label="H"),
            data.draw(st.integers(1, 12), label="W"),
        ]
    else:
        shape = [data.draw(st.integers(1, 12), label="F")]
    g.add_node("input", "input", {"shape": shape})
    recent = ["input"]
    if data.draw(st.integers(0, 9), label="second input") == 0:
        g.add_node("input", "input2", {"shape": shape})
        recent.append("input2")
    for index in range(data.draw(st.integers(1, 7), label="blocks")):
        result = infer(g)
        shapes = {(n, port): s for n, r in result.nodes.items() for port, s in r.outputs.items()}
        known = [key for key, shape in shapes.items() if shape is not None and key[1] == "out"]
        known = known or [(recent[-1], "out")]
        every = [key for key, shape in shapes.items() if shape is not None] or known
        near = known[-4:] if data.draw(st.integers(0, 9), label="near") else every
        first = data.draw(st.sampled_from(near), label="source")
        suited = SUITED.get(len(shapes.get(first) or ()), BLOCKS)
        choices = suited if data.draw(st.integers(0, 5), label="suited") else BLOCKS
        type_id = data.draw(st.sampled_from(choices), label="type")
        spec = CATALOG.get(type_id)
        params = {p.name: param_value(data, p) for p in spec.params}
        if spec.params and data.draw(st.integers(0, 19), label="break") == 0:
            broken = data.draw(st.sampled_from(spec.params), label="broken").name
            params[broken] = data.draw(st.sampled_from(BAD_VALUES), label="bad value")
        if type_id == "maxpool2d" and data.draw(st.booleans(), label="indices"):
            params["return_indices"] = True
        group: tuple[str, ...] = ()
        if data.draw(st.integers(0, 3), label="grouped") == 0:
            group = ("layer1", str(index % 2))
        name = ".".join((*group, f"{spec.name_prefix}{index}"))
        sources = pick_sources(data, type_id, first, shapes, known)
        g.add_node(type_id, name, params, group)
        ports = ["in", "indices"] if type_id == "maxunpool2d" else [None] * len(sources)
        for (src, port), dst_port in zip(sources, ports, strict=True):
            g.connect(src, name, port, dst_port)
        recent.append(name)
    if data.draw(st.integers(0, 9), label="output") > 0:
        g.add_node("output", "output")
        g.connect(recent[-1], "output")
    if data.draw(st.integers(0, 4), label="second output") == 0:
        g.add_node("output", "output2")
        g.connect(data.draw(st.sampled_from(recent), label="output2 source"), "output2")
    return g


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_random_graphs_compile_and_agree_with_inference(data: st.DataObject) -> None:
    g = draw_graph(data)
    result = infer(g)  # must never raise
    assert not [d for d in result.diagnostics if d.code == "internal"], result.diagnostics
    for diagnostic in result.diagnostics:
        assert (diagnostic.message and diagnostic.message[0].islower()) or diagnostic.node
    event("valid" if result.ok else f"invalid: {result.errors[0].code}")
    if not result.ok:
        assert result.errors
        with pytest.raises(CompileError):
            compile_graph(g, result)
        return
    module = compile_graph(g, result).eval()
    with torch.no_grad():
        actual = run_and_record_shapes(module, *example_inputs(g))
    for name, node in result.nodes.items():
        for port, shape in node.outputs.items():
            assert actual[(name, port)] == shape, f"{name}.{port}"
    assert sum(p.numel() for p in module.parameters()) == result.total_params
