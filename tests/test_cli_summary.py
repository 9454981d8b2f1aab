"""``cnn-designer summary``: the table, the --json contract, --input, and the exit codes."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from designer.cli import main
from engine import Graph, Project, save_project


def lenet_like() -> Graph:
    g = Graph()
    g.add_node("input", "input", {"shape": [1, 28, 28]})
    g.add_node("conv2d", "features.conv1", {"out_channels": 6, "kernel_size": 5}, ("features",))
    g.add_node("relu", "features.relu1", group=("features",))
    g.add_node("maxpool2d", "features.pool1", {"kernel_size": 2}, ("features",))
    g.add_node("flatten", "flatten")
    g.add_node("linear", "fc", {"out_features": 10})
    g.add_node("output", "output")
    names = g.names
    for a, b in itertools.pairwise(names):
        g.connect(a, b)
    return g


@pytest.fixture
def project_file(tmp_path: Path) -> Path:
    path = tmp_path / "net.cnnd"
    save_project(Project(lenet_like()), path)
    return path


CONV = 6 * 25 + 6
FC = 6 * 12 * 12 * 10 + 10


def test_table(project_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(project_file)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("Layer"))
    assert header.split() == ["Layer", "Type", "Output", "shape", "RF", "Jump", "Params", "MACs"]
    conv = next(line for line in lines if line.startswith("features.conv1"))
    assert conv.split() == [
        "features.conv1",
        "Conv2d",
        "6×24×24",
        "5×5",
        "1",
        f"{CONV:,}",
        f"{6 * 24 * 24 * 25:,}",
    ]
    assert f"Total params: {CONV + FC:,}" in out
    assert f"Total MACs: {6 * 24 * 24 * 25 + 864 * 10:,}" in out


def test_json_contract(project_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(project_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"layers", "total_params", "total_macs", "diagnostics"} <= set(data)
    for layer in data["layers"]:
        assert set(layer) == {
            "name",
            "type",
            "group",
            "output_shape",
            "params",
            "macs",
            "receptive_field",
            "jump",
        }
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert by_name["features.conv1"] == {
        "name": "features.conv1",
        "type": "conv2d",
        "group": "features",
        "output_shape": [6, 24, 24],
        "params": CONV,
        "macs": 6 * 24 * 24 * 25,
        "receptive_field": [5, 5],
        "jump": [1, 1],
    }
    assert by_name["features.pool1"]["receptive_field"] == [6, 6]
    assert by_name["features.pool1"]["jump"] == [2, 2]
    assert by_name["fc"]["receptive_field"] == [28, 28]  # the whole 28×28 image
    assert by_name["fc"]["group"] == ""
    assert data["total_params"] == CONV + FC == sum(layer["params"] for layer in data["layers"])
    assert data["diagnostics"] == []


def test_input_override(project_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(project_file), "--input", "1x32x32", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {layer["name"]: layer for layer in data["layers"]}
    assert by_name["features.conv1"]["output_shape"] == [6, 28, 28]
    assert by_name["fc"]["params"] == 6 * 14 * 14 * 10 + 10
    assert main(["summary", str(project_file), "--input", "1x3x3", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    (diagnostic,) = data["diagnostics"]
    assert diagnostic["node"] == "features.conv1" and diagnostic["severity"] == "error"
    assert set(diagnostic) == {"node", "severity", "message"}


def test_invalid_graph_prints_diagnostics_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g = lenet_like()
    g.set_params("features.conv1", {"kernel_size": 40})
    path = tmp_path / "bad.cnnd"
    save_project(Project(g), path)
    assert main(["summary", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error: features.conv1 (conv2d): kernel 40 is larger than its 28×28 input" in out
    assert "features.pool1" in out and "?" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing.cnnd"], "cannot be read"),
        (["BAD"], "not valid JSON at line 1"),
        (["GOOD", "--input", "3xbig"], "input: cannot read '3xbig'"),
        (["GOOD", "--input", "0x4x4"], "input must hold positive whole numbers only"),
        (["GOOD", "--input", ""], "--input: must not be empty. Received: --input=''"),
        ([], "name a project FILE or a --preset NAME"),
    ],
)
def test_bad_file_or_argument_exits_2(
    args: list[str],
    expected: str,
    project_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad.cnnd"
    bad.write_text("{not json", encoding="utf-8")
    replace = {"BAD": str(bad), "GOOD": str(project_file), "missing.cnnd": str(tmp_path / "no")}
    assert main(["summary", *(replace.get(a, a) for a in args)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("cnn-designer: error: ")
    assert expected in captured.err
    assert "Traceback" not in captured.err


def test_a_file_system_error_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import designer.cli.summary

    def locked(args: object) -> int:
        raise PermissionError(13, "Permission denied", "/locked/net.cnnd")

    monkeypatch.setattr(designer.cli.summary, "run", locked)
    assert main(["summary", "net.cnnd"]) == 1
    assert capsys.readouterr().err == (
        "cnn-designer: error: Permission denied: /locked/net.cnnd. Check the path and that it "
        "can be written (or read) there\n"
    )


def test_python_dash_m_designer_summary(project_file: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "designer", "summary", str(project_file), "--json"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_params"] == CONV + FC
    assert "PySide6" not in done.stderr
