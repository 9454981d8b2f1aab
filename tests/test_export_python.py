"""Python export: the generated module equals the compiled design and runs as a script."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine import CATALOG, Graph, compile_graph, example_inputs, infer
from engine.export import ExportError, export_model, python_source, supported
from presets import PRESETS


def load_class(path: Path, class_name: str = "DesignedNet") -> type[torch.nn.Module]:
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, class_name)


def many_blocks() -> Graph:
    """Two inputs, two outputs, and nearly every block type, including multi-port wiring."""
    g = Graph()
    g.add_node("input", "image", {"shape": [3, 16, 16]})
    g.add_node("input", "extra", {"shape": [8]})
    chain = [
        ("conv2d", "stem.conv", {"out_channels": 8, "kernel_size": [3, 5], "padding": "same"}),
        ("batchnorm", "stem.bn", {"momentum": 0.2}),
        ("prelu", "stem.act", {"per_channel": True}),
        ("locally_connected2d", "stem.local", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("maxpool2d", "pool", {"kernel_size": 2, "return_indices": True}),
    ]
    previous = "image"
    for type_id, name, params in chain:
        g.add_node(type_id, name, params, tuple(name.split(".")[:-1]))
        g.connect(previous, name)
        previous = name
    g.add_node("maxunpool2d", "unpool", {"kernel_size": 2})
    g.connect("pool", "unpool", "out", "in")
    g.connect("pool", "unpool", "indices", "indices")
    g.add_node(
        "conv_transpose2d", "up.0", {"out_channels": 8, "kernel_size": 2, "stride": 2}, ("up",)
    )
    g.connect("pool", "up.0")
    g.add_node("add", "merge")
    g.connect("unpool", "merge")
    g.connect("up.0", "merge")
    g.add_node("scale", "merge_scale", {"factor": 0.17})
    g.connect("merge", "merge_scale")
    for type_id, name, params in [
        ("lppool2d", "lp", {"kernel_size": 2}),
        ("local_response_norm", "lrn", {"size": 3}),
        ("gelu", "gelu", {"approximate": "tanh"}),
        ("upsample", "upsample", {"mode": "bilinear"}),
        ("dropout2d", "drop2d", {"p": 0.1}),
        ("avgpool2d", "avg", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ]:
        g.add_node(type_id, name, params)
        g.connect(previous if name != "lp" else "merge_scale", name)
        previous = name
    g.add_node("adaptive_maxpool2d", "amax", {"output_size": 2})
    g.connect(previous, "amax")
    g.add_node("adaptive_avgpool2d", "aavg", {"output_size": 2})
    g.connect(previous, "aavg")
    g.add_node("concat", "join")
    g.connect("amax", "join")
    g.connect("aavg", "join")
    g.add_node("flatten", "flat0")
    g.connect("join", "flat0")
    g.add_node("unflatten", "unflat", {"shape": [4, 4, 4]})  # 16×2×2 values laid out again
    g.connect("flat0", "unflat")
    g.add_node("flatten", "flat")
    g.connect("unflat", "flat")
    g.add_node("global_avgpool", "gap")
    g.connect("merge_scale", "gap")
    tail = [
        ("linear", "head.fc1", {"out_features": 12}),
        ("batchnorm", "head.bn", {}),
        ("leaky_relu", "head.act", {"negative_slope": 0.2}),
        ("dropout", "head.drop", {"p": 0.3}),
        ("linear", "head.fc2", {"out_features": 4, "bias": False}),
        ("log_softmax", "head.out", {"dim": 1}),
    ]
    previous = "flat"
    for type_id, name, params in tail:
        g.add_node(type_id, name, params, ("head",))
        g.connect(previous, name)
        previous = name
    g.add_node("output", "output")
    g.connect(previous, "output")
    for type_id in ("elu", "silu", "relu6", "hardswish", "sigmoid", "tanh", "relu", "softmax"):
        g.add_node(type_id, f"side.{type_id}", {}, ("side",))
        g.connect("extra" if type_id == "elu" else previous, f"side.{type_id}")
        previous = f"side.{type_id}"
    g.add_node("linear", "side.fc", {"out_features": 3}, ("side",))
    g.connect(previous, "side.fc")
    g.add_node("concat", "side.join", {}, ("side",))
    g.connect("gap", "side.join")
    g.connect("side.fc", "side.join")
    g.add_node("output", "output2")
    g.connect("side.join", "output2")
    return g


def assert_same_outputs(graph: Graph, path: Path) -> None:
    compiled = compile_graph(graph).eval()
    exported = load_class(path)().eval()
    exported.load_state_dict(compiled.state_dict(), strict=True)
    inputs = example_inputs(graph, batch=3)
    with torch.no_grad():
        want, got = compiled(*inputs), exported(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(want) == len(got)
    for a, b in zip(want, got, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)


def test_many_blocks_graph_is_valid_and_covers_the_catalog():
    graph = many_blocks()
    assert infer(graph).ok, [d.message for d in infer(graph).errors]
    used = {n.type_id for n in graph}
    assert set(CATALOG_TYPES) - used == set(), "extend many_blocks() with the new block types"


CATALOG_TYPES = [spec.type_id for spec in CATALOG]


@pytest.mark.parametrize("type_id", CATALOG_TYPES)
def test_every_block_type_can_be_exported(type_id):
    assert supported(type_id), f"{type_id}: add a code writer in engine/export/layers.py"


def test_exported_module_matches_compiled_model(tmp_path):
    graph = many_blocks()
    path = export_model(graph, "python", tmp_path / "many.py")
    assert_same_outputs(graph, path)


@pytest.mark.parametrize(
    ("preset", "options"),
    [("lenet5", {}), ("resnet8", {}), ("squeezenet1_1", {"resolution": 64, "classes": 5})],
)
def test_exported_presets_match_compiled_model(tmp_path, preset, options):
    if preset not in PRESETS:
        pytest.skip(f"preset {preset} is not registered")
    graph = PRESETS.get(preset).create(**options)
    assert_same_outputs(graph, export_model(graph, "python", tmp_path / f"{preset}.py"))


def test_forward_has_a_shape_comment_on_every_line_and_readable_names():
    source = python_source(PRESETS.get("lenet5").create(), "LeNet5")
    forward = source[source.index("    def forward") : source.index("\ndef main")].strip()
    lines = forward.splitlines()
    assert all("  # " in line for line in lines), lines
    assert "        x = self.conv1(x)  # 6×28×28" in lines
    assert "        return x  # 10" in lines
    assert "self.conv1 = nn.Conv2d(1, 6, kernel_size=5)" in source
    assert "class LeNet5(nn.Module):" in source
    # only torch and the standard library are imported
    imports = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    } | {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert imports <= {"torch", "nn", "pathlib", "Path", "warnings"}


def test_nested_names_use_containers_with_the_compiled_state_dict_keys(tmp_path):
    if "resnet8" not in PRESETS:
        pytest.skip("preset resnet8 is not registered")
    graph = PRESETS.get("resnet8").create()
    source = python_source(graph)
    assert "nn.ModuleList([" in source and "nn.ModuleDict({" in source
    path = export_model(graph, "python", tmp_path / "resnet8.py")
    exported = load_class(path)()
    assert sorted(exported.state_dict()) == sorted(compile_graph(graph).state_dict())


def test_script_runs_and_prints_shape_and_parameter_count(tmp_path):
    graph = PRESETS.get("lenet5").create()
    compiled = compile_graph(graph)
    torch.save({"model": compiled.state_dict(), "epoch": 3}, tmp_path / "checkpoint.pt")
    path = export_model(graph, "python", tmp_path / "lenet.py", weights=tmp_path / "checkpoint.pt")
    weights = torch.load(tmp_path / "lenet.pt", weights_only=True)
    assert all(torch.equal(weights[k], v) for k, v in compiled.state_dict().items())
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "loaded weights: lenet.pt" in done.stdout
    assert "output shape: (1, 10)" in done.stdout
    assert "parameters: 61,706" in done.stdout


def test_weights_that_do_not_fit_are_refused(tmp_path):
    graph = PRESETS.get("lenet5").create()
    other = compile_graph(PRESETS.get("lenet5").create(classes=5)).state_dict()
    with pytest.raises(ExportError, match="do not fit this design"):
        export_model(graph, "python", tmp_path / "lenet.py", weights=other)
    assert not (tmp_path / "lenet.py").exists()


def test_bad_format_and_suffix_are_explained(tmp_path):
    graph = PRESETS.get("lenet5").create()
    with pytest.raises(ExportError, match="unknown export format 'keras'"):
        export_model(graph, "keras", tmp_path / "a.h5")
    with pytest.raises(ExportError, match=r"must end in \.py"):
        export_model(graph, "python", tmp_path / "a.txt")


def test_invalid_design_is_not_exported(tmp_path):
    graph = PRESETS.get("lenet5").create()
    graph.set_params("fc1", {"out_features": -3})
    with pytest.raises(Exception, match="error"):
        export_model(graph, "python", tmp_path / "bad.py")
