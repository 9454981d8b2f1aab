"""Project files: round trip, version-1 migration, atomic saves, clear errors, no code injection."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine import (
    Graph,
    GraphError,
    Project,
    ProjectFileError,
    compile_graph,
    infer,
    load_project,
    project_from_data,
    save_project,
)
from engine.identifiers import safe_identifier, safe_module_path
from engine.project import VERSION, project_from_text

HOSTILE = 'x); import os; os.system("echo pwned")#'


def small_graph() -> Graph:
    g = Graph()
    g.add_node("input", "input", {"shape": [1, 8, 8]})
    g.add_node("conv2d", "stem.conv1", {"out_channels": 4, "kernel_size": [3, 5]}, ("stem",))
    g.add_node("maxpool2d", "pool", {"kernel_size": 2, "return_indices": True})
    g.add_node("maxunpool2d", "unpool")
    g.add_node("output", "output")
    g.connect("input", "stem.conv1")
    g.connect("stem.conv1", "pool")
    g.connect("pool", "unpool", "out", "in")
    g.connect("pool", "unpool", "indices", "indices")
    g.connect("unpool", "output")
    return g


def test_round_trip(tmp_path: Path) -> None:
    project = Project(
        small_graph(),
        layout={"input": (0.0, 1.5), "pool": (120.25, -3.0)},
        view={"collapsed": ["stem"]},
        training={"epochs": 3, "optimizer": "adam"},
        metadata={"title": "tiny"},
    )
    path = tmp_path / "net.cnnd"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.graph.to_data() == project.graph.to_data()
    assert loaded.layout == project.layout
    assert (loaded.view, loaded.training, loaded.metadata) == (
        project.view,
        project.training,
        project.metadata,
    )
    assert loaded.graph.node("stem.conv1").group == ("stem",)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "cnn-designer-project" and data["version"] == VERSION
    assert infer(loaded.graph).ok


def test_version_1_file_migrates() -> None:
    v1 = {
        "format": "cnn-designer-project",
        "version": 1,
        "graph": {
            "nodes": [
                {"name": "input", "type": "input", "params": {"shape": [3, 4, 4]}, "x": 1, "y": 2},
                {"name": "relu", "type": "relu", "x": 10, "y": 20},
                {"name": "output", "type": "output"},
            ],
            "edges": [
                {"from": "input:out", "to": "relu:in"},
                {"from": "relu:out", "to": "output:in"},
            ],
        },
        "training": {"epochs": 1},
    }
    project = project_from_data(v1)
    assert project.layout == {"input": (1.0, 2.0), "relu": (10.0, 20.0)}
    assert [str(e) for e in project.graph.edges] == ["input.out → relu.in", "relu.out → output.in"]
    assert project.training == {"epochs": 1}
    assert infer(project.graph).nodes["relu"].output == (3, 4, 4)


def test_interrupted_save_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "net.cnnd"
    save_project(Project(small_graph()), path)
    before = path.read_bytes()

    def crash(*args: Any) -> None:
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, "replace", crash)
    bigger = small_graph()
    bigger.add_node("relu", "extra")
    with pytest.raises(ProjectFileError, match="disk pulled out") as info:
        save_project(Project(bigger), path)
    assert isinstance(info.value, OSError)  # the autosave retries on OSError
    assert "the previous file is unchanged" in str(info.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.cnnd"]  # no temporary file left


def test_save_failing_while_writing_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "net.cnnd"
    save_project(Project(small_graph()), path)
    before = path.read_bytes()

    def crash(*args: Any) -> None:
        raise OSError("no space left")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(
        ProjectFileError, match=r"net\.cnnd: the project cannot be saved \(no space left\)"
    ):
        save_project(Project(small_graph(), metadata={"title": "new"}), path)
    assert path.read_bytes() == before
    assert load_project(path).graph.to_data() == small_graph().to_data()


def _saved(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "good.cnnd"
    save_project(Project(small_graph()), path)
    return json.loads(path.read_text(encoding="utf-8"))


def _edit(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target: Any = data
    keys = path.split("/")
    for key in keys[:-1]:
        target = target[int(key) if key.isdigit() else key]
    last = keys[-1]
    target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "format",
            "something-else",
            'not a CNN Designer project: the field format must be "cnn-designer-project". '
            'Received: format="something-else".',
        ),
        ("version", VERSION + 1, f"saved by a newer CNN Designer (format version {VERSION + 1}"),
        ("version", "2", 'version must be a positive whole number. Received: version="2".'),
        ("graph", [], "graph must be an object ({...}). Received: graph=[]."),
        ("graph/nodes", {}, "graph.nodes must be a list ([...]). Received: graph.nodes={}."),
        (
            "graph/nodes/1/type",
            "conv9d",
            'graph.nodes[1].type names an unknown block type. Received: graph.nodes[1].type="conv9d". '
            'Did you mean "conv2d"',
        ),
        (
            "graph/nodes/1/name",
            42,
            "graph.nodes[1].name must be a string. Received: graph.nodes[1].name=42.",
        ),
        (
            "graph/nodes/1/params",
            {"kernal_size": 3},
            'graph.nodes[1].params has an unknown parameter "kernal_size" for conv2d. '
            'Received: graph.nodes[1].params={"kernal_size": 3}. conv2d takes: bias, dilation',
        ),
        (
            "graph/nodes/2/name",
            "input",
            'graph.nodes[2].name repeats a node name. Received: graph.nodes[2].name="input".',
        ),
        ("graph/nodes/1/group", ["a.b"], "graph.nodes[1] is invalid: a group name"),
        (
            "graph/edges/0",
            ["input", "out", "ghost", "in"],
            'graph.edges[0] refers to a node "ghost" that does not exist. '
            'Received: graph.edges[0]=["input", "out", "ghost", "in"].',
        ),
        (
            "graph/edges/0",
            ["input", "out"],
            "graph.edges[0] must be [source, source port, target, target port] (four strings). "
            'Received: graph.edges[0]=["input", "out"].',
        ),
        (
            "graph/edges/0",
            ["input", "bogus", "stem.conv1", "in"],
            'starts at output port "bogus" of input, which has only "out".',
        ),
        (
            "graph/edges/0",
            ["input", "out", "stem.conv1", "in7"],
            'ends at input port "in7", which stem.conv1 does not have.',
        ),
        (
            "graph/edges/1",
            ["input", "out", "stem.conv1", "in"],
            "is a second wire into stem.conv1.in.",
        ),
        (
            "layout",
            {"input": [1]},
            "layout.input must be [x, y] (two numbers). Received: layout.input=[1].",
        ),
        ("training", [], "training must be an object ({...}). Received: training=[]."),
    ],
)
def test_bad_fields_are_named(tmp_path: Path, path: str, value: Any, expected: str) -> None:
    data = _edit(_saved(tmp_path), path, value)
    with pytest.raises(ProjectFileError) as info:
        project_from_data(data, "net.cnnd")
    assert expected in str(info.value)
    assert str(info.value).startswith("net.cnnd: ")


def test_truncated_corrupt_and_foreign_files(tmp_path: Path) -> None:
    good = tmp_path / "good.cnnd"
    save_project(Project(small_graph()), good)
    text = good.read_text(encoding="utf-8")
    truncated = tmp_path / "truncated.cnnd"
    truncated.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(
        ProjectFileError, match=r"not valid JSON at line \d+, column \d+.*truncated"
    ):
        load_project(truncated)
    corrupt = tmp_path / "corrupt.cnnd"
    corrupt.write_text(text.replace('"edges"', '"edges" "oops"', 1), encoding="utf-8")
    with pytest.raises(ProjectFileError, match=r"not valid JSON at line \d+, column \d+"):
        load_project(corrupt)
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    with pytest.raises(ProjectFileError, match="not UTF-8 text at byte"):
        load_project(binary)
    foreign = tmp_path / "package.json"
    foreign.write_text('{"name": "left-pad", "version": "1.3.0"}', encoding="utf-8")
    with pytest.raises(ProjectFileError, match="the field format is missing"):
        load_project(foreign)
    with pytest.raises(ProjectFileError, match="cannot be read"):
        load_project(tmp_path / "missing.cnnd")
    for junk in ("[]", "null", "42", '"text"'):
        with pytest.raises(ProjectFileError, match="not a CNN Designer project"):
            project_from_text(junk)


def test_version_1_file_with_bad_graph_gives_a_field_error() -> None:
    with pytest.raises(ProjectFileError, match=r"graph must be an object .* graph=\[1, 2\]"):
        project_from_data({"format": "cnn-designer-project", "version": 1, "graph": [1, 2]})
    with pytest.raises(ProjectFileError, match=r"graph\.nodes must be a list .* graph.nodes=3\."):
        project_from_data(
            {"format": "cnn-designer-project", "version": 1, "graph": {"nodes": 3, "edges": []}}
        )


def test_hostile_node_name_is_refused_by_graph_and_file(tmp_path: Path) -> None:
    g = Graph()
    with pytest.raises(GraphError, match="a node name is made of letters, digits"):
        g.add_node("relu", HOSTILE)
    g.add_node("relu", "ok")
    with pytest.raises(GraphError):
        g.rename("ok", HOSTILE)
    data = _edit(_saved(tmp_path), "graph/nodes/1/name", HOSTILE)
    with pytest.raises(ProjectFileError, match=r"graph\.nodes\[1\] is invalid: a node name"):
        project_from_data(data)


def test_names_reaching_generated_code_are_sanitised(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    assert safe_identifier(HOSTILE).isidentifier()
    for part in safe_module_path(HOSTILE).split("."):
        assert part.isidentifier() or part.isdigit()
    # even if a name slipped past the graph's check, the compiler turns it into identifiers
    monkeypatch.setattr("engine.graph.name_problem", lambda name: None)
    g = small_graph()
    g.rename("pool", HOSTILE)
    result = infer(g)
    assert result.ok, result.diagnostics
    module = compile_graph(g, result)
    code = module.code
    assert "import os" not in code and "os.system(" not in code and '"echo' not in code
    tree = ast.parse(code)
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert "os" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    import torch

    module(torch.randn(1, 1, 8, 8))
    assert "pwned" not in capfd.readouterr().out
