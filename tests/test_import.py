"""Import: presets round-trip through exported code, torchvision models, unmapped operations."""

from __future__ import annotations

import operator
import textwrap

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine import CATALOG, Graph, compile_graph, infer
from engine.export import export_model
from engine.importer import ModelImportError, import_file, import_module, import_torchvision
from presets import PRESETS

ANONYMOUS = {"input", "output", "add", "concat", "scale"}  # written as code, not as modules


def effective(type_id: str, params: dict) -> dict:
    """Parameters with defaults filled and normalised; a pool stride of None means the kernel."""
    spec = CATALOG.get(type_id)
    full = {k: spec.param(k).normalize(v) for k, v in spec.with_defaults(params).items()}
    if "stride" in full and full["stride"] is None and "kernel_size" in full:
        full["stride"] = full["kernel_size"]
    return full


def canonical(graph: Graph) -> dict:
    """The graph with operation nodes named by their inputs, so names of `x + y` do not matter."""
    result = infer(graph)
    names: dict[str, str] = {}
    for name in graph.topological_order():
        node = graph.node(name)
        sources = [f"{names[e.src]}:{e.src_port}" for e in graph.in_edges(name)]
        if node.type_id in ANONYMOUS:
            names[name] = f"{node.type_id}({','.join(sources)})"
        else:
            names[name] = name
    described = {}
    for name, key in names.items():
        node = graph.node(name)
        if node.type_id == "input":
            key = f"input{node.params['shape']}"
        described[key] = (
            node.type_id,
            effective(node.type_id, node.params) if node.type_id != "output" else {},
            node.group if node.type_id not in ANONYMOUS else (),
            [f"{names[e.src]}:{e.src_port}->{e.dst_port}" for e in graph.in_edges(name)],
            result.nodes[name].outputs,
        )
    return described


def round_trip_cases() -> list:
    cases = []
    for preset in PRESETS:
        cases.append(pytest.param(preset.name, {}, id=preset.name))
        if any(o.name == "aux_logits" for o in preset.options):
            cases.append(pytest.param(preset.name, {"aux_logits": True}, id=f"{preset.name}-aux"))
    return cases


@pytest.mark.parametrize(("name", "options"), round_trip_cases())
def test_every_preset_round_trips_through_exported_python(tmp_path, name, options):
    graph = PRESETS.get(name).create(**options)
    path = export_model(graph, "python", tmp_path / f"{name}.py")
    inputs = [n.params["shape"] for n in graph.nodes_of_type("input")]
    imported = import_file(path, "DesignedNet", inputs[0] if len(inputs) == 1 else inputs)
    assert imported.unmapped == [] and imported.warnings == []
    before, after = infer(graph), infer(imported.graph)
    assert after.ok, [d.message for d in after.errors]
    assert after.total_params == before.total_params
    assert canonical(imported.graph) == canonical(graph)


TORCHVISION = {
    "resnet18": 11_689_512,
    "vgg11": 132_863_336,
    "squeezenet1_0": 1_248_424,
    "mobilenet_v2": 3_504_872,
}


@pytest.mark.parametrize(("name", "params"), TORCHVISION.items())
def test_torchvision_models_import_with_exact_parameter_counts(name, params):
    pytest.importorskip("torchvision", reason="torchvision is not installed (optional)")
    result = import_torchvision(name)
    assert result.unmapped == [] and result.warnings == []
    inferred = infer(result.graph)
    assert inferred.ok and inferred.total_params == params == result.source_params


def test_torchvision_names_line_up_with_its_state_dict():
    torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed")
    graph = import_torchvision("squeezenet1_0", (3, 64, 64)).graph
    assert graph.node("features.3.expand3x3").group == ("features", "3")
    model = torchvision.models.squeezenet1_0().eval()
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-5)


def test_unknown_torchvision_name_suggests_close_ones():
    pytest.importorskip("torchvision", reason="torchvision is not installed")
    with pytest.raises(Exception, match="Did you mean 'resnet18'"):
        import_torchvision("resnet81")


class Functional(nn.Module):
    """Layers written with torch functions and operators instead of modules."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.branch = nn.Conv2d(3, 8, 1)
        self.skip = nn.Identity()
        self.fc = nn.Linear(16 * 4 * 4, 5)

    def forward(self, x):
        a = F.relu(self.conv(x))
        b = torch.sigmoid(self.branch(x))
        y = operator.add(a, b) + self.skip(a)
        y = torch.cat([y, 0.5 * b], dim=1)
        y = F.max_pool2d(y, 2)
        y = F.adaptive_avg_pool2d(y, (4, 4))
        y = F.dropout(y, 0.2, self.training)
        y = y.view(y.size(0), -1)
        return F.log_softmax(self.fc(y), dim=1)


def test_functions_and_operators_become_blocks_that_compute_the_same():
    model = Functional().eval()
    result = import_module(model, (3, 16, 16))
    assert result.unmapped == [] and result.warnings == []
    types = sorted(n.type_id for n in result.graph)
    assert types.count("add") == 2 and "concat" in types and "scale" in types
    assert {"relu", "sigmoid", "maxpool2d", "adaptive_avgpool2d", "flatten"} <= set(types)
    compiled = compile_graph(result.graph).eval()
    compiled.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x))


class Partly(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.odd = nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect")
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = self.odd(self.conv(x))
        x = x.mean(dim=(2, 3))
        return self.fc(torch.clamp(x, 0, 1))


def test_what_cannot_be_mapped_is_listed_by_name():
    result = import_module(Partly(), (3, 8, 8))
    assert any(item.startswith("odd (Conv2d): padding_mode='reflect'") for item in result.unmapped)
    assert any(item.startswith("mean (Tensor.mean)") for item in result.unmapped)
    assert any(item.startswith("clamp (clamp)") for item in result.unmapped)
    assert {"conv", "fc"} <= set(result.graph.names)  # the rest is kept
    assert not infer(result.graph).ok  # the gaps show as unconnected inputs, not as fake wires


def test_shared_weights_are_reported():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(self.fc(x))

    result = import_module(Twice(), (4,))
    assert any("called more than once" in w for w in result.warnings)
    assert sorted(result.graph.names) == ["fc", "fc_1", "input", "output"]


def test_untraceable_model_and_wrong_shape_are_explained():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(ModelImportError, match="cannot trace"):
        import_module(Branchy(), (3,))
    with pytest.raises(ModelImportError, match="input of 5×8×8 failed"):
        import_module(Partly(), (5, 8, 8))


def test_wrong_shape_error_prints_no_traceback_of_its_own(capfd):
    with pytest.raises(ModelImportError, match="input of 5×8×8 failed"):
        import_module(Partly(), (5, 8, 8))
    assert "Traceback" not in capfd.readouterr().err  # torch's ShapeProp prints one


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "class Net(nn.Module):\n    def __init__(self):\n        raise RuntimeError('boom')\n",
            "model.py: Net: building it failed (RuntimeError: boom). Fix the class's __init__",
        ),
        (
            "class Net(nn.Module):\n    def __init__(self):\n        raise SystemExit(3)\n",
            "model.py: Net: building it failed (SystemExit: 3)",
        ),
        ("import sys\nsys.exit(4)\n", "model.py: running it failed (SystemExit: 4)"),
        (
            "import sys\nclass Net(nn.Module):\n    def forward(self, x):\n        sys.exit('bye')\n",
            "Net: torch.fx cannot trace its forward (SystemExit: bye)",
        ),
    ],
)
def test_a_model_file_that_fails_or_exits_is_an_import_error(tmp_path, source, expected):
    (tmp_path / "model.py").write_text("from torch import nn\n" + source)
    with pytest.raises(ModelImportError) as caught:
        import_file(tmp_path / "model.py", "Net", (3,))
    assert expected in str(caught.value)


def test_import_file_runs_only_the_chosen_file(tmp_path):
    marker = tmp_path / "ran.txt"
    (tmp_path / "sibling.py").write_text(f"open({str(marker)!r}, 'a').write('sibling')\n")
    (tmp_path / "model.py").write_text(
        textwrap.dedent(
            f"""
            from torch import nn

            class Net(nn.Module):
                def __init__(self, width=4):
                    super().__init__()
                    self.fc = nn.Linear(3, width)

                def forward(self, x):
                    return self.fc(x)

            if __name__ == "__main__":
                open({str(marker)!r}, "a").write("main")
            """
        )
    )
    result = import_file(tmp_path / "model.py", "Net", (3,))
    assert [n.type_id for n in result.graph] == ["input", "linear", "output"]
    assert not marker.exists()  # neither the sibling file nor the __main__ block ran
    with pytest.raises(Exception, match="Net"):
        import_file(tmp_path / "model.py", "Nett", (3,))
    with pytest.raises(ModelImportError, match="no such file"):
        import_file(tmp_path / "missing.py", "Net", (3,))
