"""Issue 18, "Command line": ``cnn-designer explain`` and the summary's receptive-field columns,
run as a person runs them (a subprocess), on presets and on project files written to disk."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import torch

from engine import Graph, Project, save_project


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _lecture_file(tmp_path: Path) -> Path:
    """The lecture's figure as a design: 7 inputs, windows of 3, 3 outputs."""
    g = Graph()
    g.add_node("input", "x", {"shape": [1, 1, 7]})
    g.add_node(
        "conv2d",
        "conv",
        {"out_channels": 1, "kernel_size": [1, 3], "stride": [1, 2], "bias": False},
    )
    g.add_node("output", "out")
    g.connect("x", "conv")
    g.connect("conv", "out")
    path = tmp_path / "lecture.cnnd"
    save_project(Project(g), path)
    return path


def test_explain_json_on_the_lecture_example(tmp_path: Path) -> None:
    done = _run("explain", str(_lecture_file(tmp_path)), "--node", "conv", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["node"] == "conv" and data["type"] == "conv2d"
    assert data["input_shape"] == [1, 1, 7] and data["output_shape"] == [1, 1, 3]
    assert data["receptive_field"] == [1, 3] and data["jump"] == [1, 2] and data["start"] == [0, 1]
    rows = data["equivalents"]
    assert rows["dense"]["weights"] == 21
    assert rows["locally_connected"]["weights"] == 9
    assert rows["convolution"]["weights"] == 3
    assert rows["dense"]["macs"] == 21 and rows["convolution"]["macs"] == 9


def test_explain_json_counts_equal_torch_modules() -> None:
    done = _run("explain", "--preset", "lenet5", "--node", "conv2", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    cin, h, w = data["input_shape"]
    cout, oh, ow = data["output_shape"]
    assert data["receptive_field"] == [14, 14] and data["jump"] == [2, 2]
    assert data["start"] == [6.5, 6.5]
    conv = torch.nn.Conv2d(cin, cout, 5)
    dense = torch.nn.Linear(cin * h * w, cout * oh * ow)
    rows = data["equivalents"]
    assert rows["convolution"]["params"] == sum(p.numel() for p in conv.parameters())
    assert rows["convolution"]["params"] == data["params"]
    assert rows["dense"]["params"] == sum(p.numel() for p in dense.parameters())
    assert rows["locally_connected"]["weights"] == oh * ow * cout * cin * 25
    assert rows["locally_connected"]["biases"] == oh * ow * cout
    assert math.isclose(
        rows["ratios"]["dense_over_conv_params"],
        rows["dense"]["params"] / rows["convolution"]["params"],
        rel_tol=1e-4,
    )


def test_explain_text_shows_the_inspectors_lines() -> None:
    done = _run("explain", "--preset", "lenet5", "--node", "conv2")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("conv2 (Conv2d): 6×14×14 → 16×10×10")
    assert "Output size: 14 − 5 + 1 = 10" in out
    assert "Receptive field: 14×14 input pixels" in out
    assert "Jump (effective stride): 2" in out
    assert "centred on input pixel 6.5" in out
    for label in ("dense (MLNN)", "locally connected (MLNN-LC)", "convolution (MLNN-LC-PS)"):
        assert label in out
    assert "2,416" in out


def test_explain_a_pooling_block_has_no_equivalents() -> None:
    done = _run(
        "explain",
        "--preset",
        "resnet18",
        "--option",
        "resolution=64",
        "--node",
        "maxpool",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert "equivalents" not in data
    assert data["receptive_field"] == [11, 11] and data["jump"] == [4, 4]
    assert data["arithmetic"] == ["(32 − 3 + 2·1)/2 + 1 = 16"]


def test_explain_an_unknown_node_suggests_close_names() -> None:
    done = _run("explain", "--preset", "lenet5", "--node", "conv9")
    assert done.returncode == 2
    assert "unknown node 'conv9'" in done.stderr and "'conv2'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_explain_a_block_whose_shapes_are_unknown(tmp_path: Path) -> None:
    g = Graph()
    g.add_node("input", "x", {"shape": [1, 4, 4]})
    g.add_node("conv2d", "conv", {"kernel_size": 7})
    g.add_node("output", "out")
    g.connect("x", "conv")
    g.connect("conv", "out")
    path = tmp_path / "broken.cnnd"
    save_project(Project(g), path)
    done = _run("explain", str(path), "--node", "conv", "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["output_shape"] is None and data["receptive_field"] is None
    assert any("larger than its 4×4 input" in p for p in data["problems"])
    assert "shapes are unknown" in done.stderr and "Traceback" not in done.stderr


def test_summary_json_layers_have_receptive_field_and_jump() -> None:
    done = _run("summary", "--preset", "resnet18", "--json")
    assert done.returncode == 0, done.stderr
    layers = {layer["name"]: layer for layer in json.loads(done.stdout)["layers"]}
    assert layers["conv1"]["receptive_field"] == [7, 7] and layers["conv1"]["jump"] == [2, 2]
    assert layers["layer4.1.relu"]["receptive_field"] == [435, 435]  # ResNet-18's known value
    assert layers["layer4.1.relu"]["jump"] == [32, 32]
    text = _run("summary", "--preset", "resnet18").stdout
    assert "435×435" in text
