"""Generated code holds only sanitised names and checked literals; weights load weights_only."""

from __future__ import annotations

import ast
import os
import pickle

import pytest
import torch

import engine.graph
from engine import Graph, ProjectFileError, project_from_data
from engine.export import ExportError, export_model, python_source, read_state_dict
from engine.export.layers import constructor, inline
from engine.export.literals import literal

HOSTILE = 'x); import os; os.system("touch /tmp/pwned")#'
HOSTILE_NAMES = [HOSTILE, 'a"]\nimport os\n#', "__import__('os').system('id')", "conv1\n    os"]


def small_graph(names: tuple[str, str] = ("conv1", "fc"), group: tuple[str, ...] = ()) -> Graph:
    g = Graph()
    g.add_node("input", "input", {"shape": [1, 8, 8]})
    g.add_node("conv2d", names[0], {"out_channels": 2}, group)
    g.add_node("flatten", "flatten")
    g.add_node("linear", names[1], {"out_features": 3})
    g.add_node("output", "output")
    for a, b in [
        ("input", names[0]),
        (names[0], "flatten"),
        ("flatten", names[1]),
        (names[1], "output"),
    ]:
        g.connect(a, b)
    return g


def assert_harmless(source: str) -> None:
    """The source parses; it imports only torch, pathlib and warnings, and calls nothing
    dangerous."""
    assert "import os" not in source and "os.system(" not in source and "__import__(" not in source
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            allowed = {"torch", "nn", "Path", "warnings"}
            assert all(a.name in allowed for a in node.names), ast.dump(node)
        if isinstance(node, ast.Name):
            assert node.id not in {"os", "system", "eval", "exec", "__import__", "open", "getattr"}
        if isinstance(node, ast.Attribute):
            assert node.attr != "system"


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_refused_by_the_graph_and_project_files(name):
    with pytest.raises(engine.GraphError):
        Graph().add_node("relu", name)
    data = {
        "format": "cnn-designer-project",
        "version": 2,
        "graph": {"nodes": [{"name": name, "type": "relu"}], "edges": []},
    }
    with pytest.raises(ProjectFileError):
        project_from_data(data)
    data["graph"]["nodes"][0] = {"name": "relu", "type": "relu", "group": [name]}
    with pytest.raises(ProjectFileError):
        project_from_data(data)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_that_bypass_validation_are_sanitised(monkeypatch, tmp_path, name):
    monkeypatch.setattr(engine.graph, "name_problem", lambda text: None)
    monkeypatch.setattr(engine.graph, "_check_group", lambda path: None, raising=False)
    graph = small_graph((name, f"head.{name}"), group=(name, "0"))
    with pytest.raises(ExportError, match="a class name is letters, digits and underscores"):
        python_source(graph, class_name=name)  # a class name is refused, never rewritten
    source = python_source(graph)
    assert_harmless(source)
    path = export_model(graph, "python", tmp_path / "model.py")
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    namespace: dict = {"__name__": "generated"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    classes = [
        v for v in namespace.values() if isinstance(v, type) and issubclass(v, torch.nn.Module)
    ]
    assert len(classes) == 1 and classes[0]()(torch.zeros(2, 1, 8, 8)).shape == (2, 3)
    assert called == []


@pytest.mark.parametrize(
    "value",
    [
        HOSTILE,
        "none'); import os #",
        ["3", 3],
        {"a": 1},
        float("nan"),
        float("inf"),
        b"bytes",
        object(),
    ],
)
def test_literal_refuses_everything_but_plain_values(value):
    with pytest.raises(ExportError, match="Received"):
        literal(value, "conv1: kernel_size")


def test_literal_ignores_overridden_int_and_float_text():
    class Sneaky(int):
        def __str__(self) -> str:
            return "__import__('os')"

        __repr__ = __str__

    assert literal(Sneaky(3)) == "3"
    assert literal((1, 2.5, True, None)) == "(1, 2.5, True, None)"


@pytest.mark.parametrize(
    ("type_id", "params"),
    [
        ("gelu", {"approximate": HOSTILE}),
        ("upsample", {"mode": HOSTILE}),
        ("conv2d", {"padding": HOSTILE}),
        ("conv2d", {"kernel_size": HOSTILE}),
        ("linear", {"out_features": HOSTILE}),
        ("dropout", {"p": HOSTILE}),
        ("softmax", {"dim": HOSTILE}),
        ("batchnorm", {"eps": HOSTILE}),
    ],
)
def test_hostile_parameter_values_never_reach_code(type_id, params):
    with pytest.raises(ExportError):
        constructor("node", type_id, params, [(4, 8, 8)])


def test_hostile_parameter_in_a_design_stops_the_export(tmp_path):
    graph = small_graph()
    graph.add_node("gelu", "act", {"approximate": HOSTILE})
    graph.disconnect(graph.edge_into("flatten", "in"))
    graph.connect("conv1", "act")
    graph.connect("act", "flatten")
    with pytest.raises(engine.DesignerError):
        export_model(graph, "python", tmp_path / "model.py")
    assert not (tmp_path / "model.py").exists()
    with pytest.raises(ExportError):
        inline("s", "scale", {"factor": HOSTILE}, ["x"])


def test_weights_are_read_without_executing_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    bad = tmp_path / "evil.pt"
    bad.write_bytes(pickle.dumps({"model": Payload()}, protocol=2))
    with pytest.raises(ExportError, match="cannot be read as PyTorch weights"):
        read_state_dict(bad)
    assert not (tmp_path / "pwned").exists()
    torch.save({"model": {"w": torch.ones(2)}, "optimizer": {}}, tmp_path / "ok.pt")
    assert list(read_state_dict(tmp_path / "ok.pt")) == ["w"]
    torch.save({"w": "not a tensor"}, tmp_path / "odd.pt")
    with pytest.raises(ExportError, match="expected a state dict"):
        read_state_dict(tmp_path / "odd.pt")
