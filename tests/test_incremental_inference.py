"""Incremental inference (engine.incremental) always equals a full inference.

Hypothesis draws random graphs (tests/test_property.py's strategy: every block type, skips into
Add and Concat, pooling indices, broken parameters, groups) and then random edits of every kind a
person or a file makes: parameters, wires added and removed, blocks added, removed and renamed,
blocks bypassed, groups, and now and then a wire that closes a cycle. After each step the
incremental result must equal ``infer(graph)`` field for field, and every node it says did not
change must show exactly what it showed before (the canvas repaints only the changed ones).
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_property import BLOCKS, draw_graph, param_value

from engine import DesignerError, Edge, Graph, infer
from engine.incremental import IncrementalInference

EDITS = (
    "params",
    "params",
    "params",
    "connect",
    "disconnect",
    "add",
    "remove",
    "rename",
    "bypass",
    "bypass",
    "group",
    "cycle",
)


def _edit(data: st.DataObject, g: Graph, step: int) -> str:
    """One random edit of ``g``; returns its kind (a refused edit leaves ``g`` as it was)."""
    kind = data.draw(st.sampled_from(EDITS), label="edit")
    names = g.names
    if not names:
        kind = "add"
    try:
        if kind == "params":
            name = data.draw(st.sampled_from(names), label="node")
            spec = g.node(name).spec
            if spec.params:
                param = data.draw(st.sampled_from(spec.params), label="param")
                g.set_params(name, {param.name: param_value(data, param)})
        elif kind == "connect":
            src = data.draw(st.sampled_from(names), label="src")
            dst = data.draw(st.sampled_from(names), label="dst")
            g.connect(src, dst)
        elif kind == "disconnect" and g.edges:
            g.disconnect(data.draw(st.sampled_from(g.edges), label="wire"))
        elif kind == "add":
            type_id = data.draw(st.sampled_from(BLOCKS), label="type")
            node = g.add_node(type_id, name=f"new{step}")
            if names and data.draw(st.booleans(), label="wired"):
                g.connect(data.draw(st.sampled_from(names), label="from"), node.name)
        elif kind == "remove":
            name = data.draw(st.sampled_from(names), label="removed")
            g.remove_node(name)
            if data.draw(st.booleans(), label="same name again"):  # another type, same name
                g.add_node(data.draw(st.sampled_from(BLOCKS), label="type"), name=name)
                if g.names[:-1] and data.draw(st.booleans(), label="wired"):
                    g.connect(data.draw(st.sampled_from(g.names[:-1]), label="from"), name)
        elif kind == "rename":
            g.rename(data.draw(st.sampled_from(names), label="renamed"), f"renamed{step}")
        elif kind == "bypass":
            name = data.draw(st.sampled_from(names), label="bypassed")
            g.set_bypassed(name, not g.node(name).bypassed)
        elif kind == "group":
            name = data.draw(st.sampled_from(names), label="grouped")
            g.set_groups({name: data.draw(st.sampled_from([(), ("a",), ("a", "0")]))})
        elif kind == "cycle" and len(names) > 1:
            src, dst = data.draw(st.sampled_from(names)), data.draw(st.sampled_from(names))
            port = g.free_input_port(dst)
            outputs = g.node(src).spec.outputs(g.node(src).params)
            if port is not None and outputs and src in g.downstream(dst):
                g.add_edge_unchecked(Edge(src, outputs[0], dst, port))
    except DesignerError:
        pass  # refused (a cycle, a busy port, an Input bypassed): the graph is unchanged
    return kind


def _shown(result: Any, name: str) -> tuple[Any, list[Any]]:
    return result.nodes.get(name), result.for_node(name)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_incremental_inference_equals_a_full_one_after_random_edits(data: st.DataObject) -> None:
    g = draw_graph(data)
    incremental = IncrementalInference(g)
    previous = incremental.update()
    assert previous == infer(g)
    for step in range(data.draw(st.integers(1, 8), label="edits")):
        before = copy.deepcopy([(n.name, n.params, n.bypassed, n.group) for n in g])
        kind = _edit(data, g, step)
        result = incremental.update()
        expected = infer(g)
        assert result.nodes == expected.nodes, kind
        assert result.diagnostics == expected.diagnostics, kind
        assert result.order == expected.order, kind
        assert result.groups == expected.groups, kind
        if result.changed is not None:  # what it says is unchanged shows what it showed
            assert result.base is not None and result.base() is previous
            unchanged = {name for name, *_ in before} & set(g.names) - result.changed
            for name in unchanged:
                assert _shown(result, name) == _shown(previous, name), (kind, name)
                was = next(item for item in before if item[0] == name)
                node = g.node(name)
                assert (name, node.params, node.bypassed) == was[:3], (kind, name)
        previous = result


def _chain(groups: int) -> Graph:
    """The benchmark's design: Input → (Conv → BatchNorm → ReLU) × groups → Output."""
    from benchmarks.canvas_5000 import chain_graph

    return chain_graph(groups)


def test_a_parameter_edit_on_5000_blocks_visits_only_what_it_changes() -> None:
    g = _chain(1666)
    incremental = IncrementalInference(g)
    incremental.update()
    times, changed = [], []
    for step in range(15):
        g.set_params(f"conv{(step * 101) % 1666}", {"out_channels": 8 + 8 * (step % 3)})
        start = time.perf_counter()
        result = incremental.update()
        times.append(time.perf_counter() - start)
        changed.append(len(result.changed or ()))
    assert result == infer(g)
    # the conv, its BatchNorm and ReLU, and the next conv whose parameter count changes
    assert max(changed) <= 5, changed
    assert statistics.median(times) < 0.016, times  # a full pass takes about 40 ms here


def test_an_edit_that_changes_every_shape_downstream_reaches_the_end() -> None:
    g = _chain(30)
    incremental = IncrementalInference(g)
    incremental.update()
    g.set_params("conv0", {"padding": 0})  # 32×32 → 30×30 in every later layer
    result = incremental.update()
    assert result == infer(g)
    assert result.nodes["output1"].inputs == [(16, 30, 30)]
    assert result.changed is not None and "output1" in result.changed
