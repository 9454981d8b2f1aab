"""Design diff (issue 19, point 2): ``cnn-designer diff A B``, ``engine.diff`` and its replay.

The command runs as a subprocess on presets and on project files written to disk; the engine's
``apply_diff`` is checked by a property test: for random graphs and random edits (blocks added,
removed, retyped, renamed, re-parametrised, regrouped, bypassed, wires moved), applying the diff
of A and B to A gives B, both from the diff object and from its JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_property import BLOCKS, draw_graph, param_value

from engine import CATALOG, DesignerError, Graph, Project, infer, save_project
from engine.diff import apply_diff, diff_graphs
from engine.diff_report import diff_from_json, diff_text, diff_to_json
from presets import PRESETS


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "designer", "diff", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(graph: Graph) -> tuple[dict[str, Any], set[tuple[str, str, str, str]]]:
    """What makes two designs equal: blocks with type, full parameters, group and bypass flag,
    and the wires (orders aside)."""
    nodes = {
        n.name: (
            n.type_id,
            json.dumps(CATALOG.get(n.type_id).with_defaults(dict(n.params)), sort_keys=True),
            n.group,
            bool(getattr(n, "bypassed", False)),
        )
        for n in graph
    }
    return nodes, {(e.src, e.src_port, e.dst, e.dst_port) for e in graph.edges}


# ----- the command line ----------------------------------------------------------------------
def test_resnet34_adds_exactly_its_extra_blocks() -> None:
    a, b = PRESETS.get("resnet18").create(), PRESETS.get("resnet34").create()
    expected = set(b.names) - set(a.names)
    assert not set(a.names) - set(b.names)
    done = cli("preset:resnet18", "preset:resnet34", "--json")
    assert done.returncode == 1, done.stderr  # diff's convention: 1 when the designs differ
    report = json.loads(done.stdout)
    assert set(report["added"]) == expected and len(report["added"]) == len(expected)
    for name in ("layer1.2.conv1", "layer2.2.add", "layer2.3.relu", "layer3.5.bn2"):
        assert name in report["added"]
    assert "layer4.2.conv1" in report["added"] and "layer4.3.conv1" not in report["added"]
    assert report["removed"] == report["changed"] == report["renamed"] == []
    assert report["retyped"] == report["regrouped"] == []
    # every wire change is one the added blocks bring: a removed wire ran from the last block
    # of a stage to the next stage, which now takes its input from an added block
    for item in report["rewired"]:
        src, _, dst, _ = item["wire"]
        if item["change"] == "added":
            assert src in expected or dst in expected
        else:
            assert src not in expected and dst not in expected
            assert any(e.dst == dst and e.src in expected for e in b.in_edges(dst))
    ra, rb = infer(a), infer(b)
    assert report["totals"] == {
        "params": [ra.total_params, rb.total_params],
        "macs": [ra.total_macs, rb.total_macs],
    }
    assert snapshot(apply_diff(a, diff_from_json(report))) == snapshot(b)


def test_text_lists_the_added_blocks_and_the_totals() -> None:
    done = cli("preset:resnet18", "preset:resnet34")
    assert done.returncode == 1, done.stderr
    assert "Added blocks (56):" in done.stdout
    assert "+ layer2.3.conv1 (conv2d)" in done.stdout
    assert "Removed blocks" not in done.stdout and "Changed blocks" not in done.stdout
    assert "parameters 11,689,512 → 21,797,672 (+10,108,160)" in done.stdout


def test_a_design_against_itself_is_empty() -> None:
    done = cli("preset:resnet18?classes=10", "preset:resnet18?classes=10", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for key in ("added", "removed", "changed", "rewired", "renamed", "retyped", "regrouped"):
        assert report[key] == [], key
    text = cli("preset:lenet5", "preset:lenet5")
    assert text.returncode == 0 and "the same" in text.stdout


def test_preset_options_are_compared(tmp_path: Path) -> None:
    done = cli("preset:resnet18", "preset:resnet18?classes=10", "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["changed"] == [{"node": "fc", "params": {"out_features": [1000, 10]}}]
    assert report["added"] == report["removed"] == report["rewired"] == []


def _project(tmp_path: Path, name: str, graph: Graph) -> Path:
    path = tmp_path / name
    save_project(Project(graph), path)
    return path


def chain() -> Graph:
    g = Graph()
    g.add_node("input", "input", {"shape": [3, 16, 16]})
    g.add_node("conv2d", "conv", {"out_channels": 8, "kernel_size": 3})
    g.add_node("batchnorm", "bn")
    g.add_node("relu", "act")
    g.add_node("flatten", "flat")
    g.add_node("linear", "fc", {"out_features": 10})
    g.add_node("output", "output")
    for src, dst in zip(g.names, g.names[1:], strict=False):
        g.connect(src, dst)
    return g


def test_a_default_written_out_is_no_change(tmp_path: Path) -> None:
    explicit = _project(tmp_path, "explicit.cnnd", chain())
    data = json.loads(explicit.read_text())
    for node in data["graph"]["nodes"] if "graph" in data else data["nodes"]:
        if node["name"] == "conv":
            assert node["params"].pop("stride") in (1, [1, 1])  # the default, left out
    implicit = tmp_path / "implicit.cnnd"
    implicit.write_text(json.dumps(data))
    done = cli(str(explicit), str(implicit), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["changed"] == []


def test_renamed_retyped_changed_regrouped_rewired(tmp_path: Path) -> None:
    a, b = chain(), chain()
    b.rename("bn", "norm")  # renamed: same type, parameters and neighbours
    b.rename("conv", "stem")  # a renamed chain: matched from the Input on
    b.remove_node("act")
    b.add_node("gelu", "act")  # retyped: same name, other type
    b.connect("norm", "act")
    b.connect("act", "flat")
    b.set_params("fc", {"out_features": 5})
    b.set_groups({"flat": ("head",)})
    b.add_node("dropout", "drop", {"p": 0.5})
    b.disconnect(next(e for e in b.in_edges("fc")))
    b.connect("flat", "drop")
    b.connect("drop", "fc")
    path_a, path_b = _project(tmp_path, "a.cnnd", a), _project(tmp_path, "b.cnnd", b)
    done = cli(str(path_a), str(path_b), "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["added"] == ["drop"] and report["removed"] == []
    assert sorted(report["renamed"]) == [["bn", "norm"], ["conv", "stem"]]
    assert [(r["node"], r["type"]) for r in report["retyped"]] == [("act", ["relu", "gelu"])]
    assert report["changed"] == [{"node": "fc", "params": {"out_features": [10, 5]}}]
    assert report["regrouped"] == [{"node": "flat", "group": ["", "head"]}]
    assert {"change": "removed", "wire": ["flat", "out", "fc", "in"]} in report["rewired"]
    assert len(report["rewired"]) == 3
    assert snapshot(apply_diff(a, diff_from_json(report))) == snapshot(b)
    text = cli(str(path_a), str(path_b)).stdout
    for line in ("bn → norm", "act: relu → gelu", "fc: out_features 10 → 5", "- flat.out → fc.in"):
        assert line in text, text


def test_bypass_is_a_changed_attribute() -> None:
    a, b = chain(), chain()
    if not hasattr(b, "set_bypassed"):
        pytest.skip("bypass flags are not in the graph model yet")
    b.set_bypassed("bn", True)
    diff = diff_graphs(a, b)
    assert [(c.node, c.params, c.bypassed) for c in diff.changed] == [("bn", {}, (False, True))]
    assert "bn: bypassed" in diff_text(diff)
    assert snapshot(apply_diff(a, diff_from_json(diff_to_json(diff)))) == snapshot(b)


@pytest.mark.parametrize(
    ("a", "b", "named"),
    [
        ("preset:resnt18", "preset:resnet18", "'resnt18'. Did you mean 'resnet18'"),
        ("preset:resnet18?classes=many", "preset:resnet18", "cannot read 'many' as int"),
        ("preset:resnet18?clases=10", "preset:resnet18", "'clases'. Did you mean 'classes'"),
        ("preset:resnet18", "preset:resnet18?classes", "'classes' is not KEY=VALUE"),
        ("preset:lenet5", "missing.cnnd", "missing.cnnd"),
        ("garbage.cnnd", "preset:lenet5", "garbage.cnnd"),
        ("folder", "preset:lenet5", "folder"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(tmp_path: Path, a: str, b: str, named: str) -> None:
    (tmp_path / "garbage.cnnd").write_text("{ not json")
    (tmp_path / "folder").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "designer", "diff", a, b],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.startswith("cnn-designer: error: ") and done.stderr.count("\n") == 1
    assert named in done.stderr
    assert "preset" in done.stderr  # names the way to fix it


# ----- the property: apply_diff(A, diff(A, B)) == B ------------------------------------------
def edit(data: st.DataObject, g: Graph) -> None:
    """One random edit of the kind a person makes."""
    names = g.names
    kind = data.draw(
        st.sampled_from(
            ["add", "remove", "params", "rewire", "rename", "retype", "group", "bypass"]
        ),
        label="edit",
    )
    if kind == "add" or not names:
        type_id = data.draw(st.sampled_from(BLOCKS), label="type")
        spec = CATALOG.get(type_id)
        node = g.add_node(type_id, params={p.name: param_value(data, p) for p in spec.params})
        if names:
            source = data.draw(st.sampled_from(names), label="source")
            if g.out_edges(source) or data.draw(st.booleans(), label="wire"):
                with suppress(DesignerError):  # a port it lacks: stays unwired
                    g.connect(source, node.name)
        return
    name = data.draw(st.sampled_from(names), label="node")
    node = g.node(name)
    if kind == "remove":
        g.remove_node(name)
    elif kind == "params" and node.spec.params:
        param = data.draw(st.sampled_from(node.spec.params), label="param")
        g.set_params(name, {param.name: param_value(data, param)})
    elif kind == "rewire" and g.edges:
        g.disconnect(data.draw(st.sampled_from(g.edges), label="wire"))
        target = data.draw(st.sampled_from(names), label="target")
        with suppress(DesignerError):  # a cycle or a full port: the wire just goes
            g.connect(name, target)
    elif kind == "rename":
        g.rename(name, g.unique_name("renamed"))
    elif kind == "retype" and node.type_id not in ("input", "output"):
        removed = g.remove_node(name)
        type_id = data.draw(st.sampled_from(BLOCKS), label="new type")
        g.add_node(type_id, name, group=node.group)
        for e in removed.edges:
            with suppress(DesignerError):  # the new type lacks the port
                g.connect(e.src, e.dst, e.src_port if e.src != name else "out", None)
    elif kind == "group":
        path = data.draw(st.sampled_from([(), ("stage",), ("stage", "1"), ("head",)]))
        g.set_groups({name: path})
    elif (
        kind == "bypass" and hasattr(g, "set_bypassed") and node.type_id not in ("input", "output")
    ):
        g.set_bypassed(name, not getattr(node, "bypassed", False))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_applying_the_diff_gives_the_other_design(data: st.DataObject) -> None:
    a = draw_graph(data)
    assert diff_graphs(a, a).empty and diff_graphs(a, a.copy()).empty
    b = a.copy()
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        edit(data, b)
    diff = diff_graphs(a, b)
    assert snapshot(apply_diff(a, diff)) == snapshot(b)
    replayed = json.loads(json.dumps(diff_to_json(diff), default=repr))
    assert snapshot(apply_diff(a, diff_from_json(replayed))) == snapshot(b)
    assert diff.empty == (snapshot(a) == snapshot(b))
    diff_text(diff)  # never raises
