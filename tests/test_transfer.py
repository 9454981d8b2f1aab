"""Transfer learning (issue 20, point 4): torchvision weights into a preset through the CLI.

Every weights file here is saved by the test from an untrained, seeded torchvision model (never
downloaded); the CLI runs as a person runs it, in a subprocess.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
import torch
from designer_helpers import cli

torchvision = pytest.importorskip("torchvision", reason="torchvision is not installed (optional)")


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The output of a refusal: exit status 2, a message, never a traceback."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "cnn-designer: error:" in done.stderr, output
    return output


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(20)
    resnet18 = torchvision.models.resnet18(weights=None)
    torch.manual_seed(34)
    resnet34 = torchvision.models.resnet34(weights=None)
    paths = {name: folder / f"{name}.pt" for name in ("resnet18", "resnet34", "ddp", "dict")}
    torch.save(resnet18.state_dict(), paths["resnet18"])
    torch.save(resnet34.state_dict(), paths["resnet34"])
    torch.save({f"module.{k}": v for k, v in resnet18.state_dict().items()}, paths["ddp"])
    torch.save({"epochs": 3, "lr": 0.1}, paths["dict"])
    return paths


def torchvision_output(path: Path, x: torch.Tensor) -> torch.Tensor:
    model = torchvision.models.resnet18(weights=None)
    model.load_state_dict(torch.load(path, weights_only=True))
    with torch.no_grad():
        return model.eval()(x)


def fixed_input() -> torch.Tensor:
    return torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(7))


@pytest.mark.parametrize("weights", ["resnet18", "ddp"])
def test_torchvision_weights_exported_as_python_compute_what_torchvision_does(
    files: dict[str, Path], tmp_path: Path, weights: str
) -> None:
    out = tmp_path / "net.py"
    done = cli(
        *("export", "--preset", "resnet18", "--weights", str(files[weights])),
        *("--format", "python", "-o", str(out)),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "122 of the design's 122 tensors matched; 0 missing, 0 unexpected" in done.stdout
    spec = importlib.util.spec_from_file_location("exported_resnet18", out)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.ResNet18()
    model.load_state_dict(torch.load(out.with_suffix(".pt"), weights_only=True))
    x = fixed_input()
    with torch.no_grad():
        got = model.eval()(x)
    torch.testing.assert_close(got, torchvision_output(files["resnet18"], x), rtol=0, atol=1e-5)


def test_torchvision_weights_exported_as_torchscript_compute_what_torchvision_does(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "net.ts"
    done = cli(
        *("export", "--preset", "resnet18", "--weights", str(files["resnet18"])),
        *("--format", "torchscript", "-o", str(out)),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    model = torch.jit.load(str(out))
    x = fixed_input()
    with torch.no_grad():
        got = model.eval()(x)
    torch.testing.assert_close(got, torchvision_output(files["resnet18"], x), rtol=0, atol=1e-5)


def test_weights_of_another_network_are_a_report_and_nothing_is_written(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "net.py"
    args = ("--format", "python", "-o", str(out))
    output = refused(
        cli(
            "export",
            "--preset",
            "resnet18",
            "--weights",
            str(files["resnet34"]),
            *args,
            cwd=tmp_path,
        )
    )
    assert "122 of the design's 122 tensors matched; 0 missing, 96 unexpected" in output
    assert "unexpected layer1.2.conv1.weight: in the file, not in the design" in output
    assert "does not fit the design exactly" in output and "Export with the design" in output
    # another shape: torchvision's 1000-class classifier into a 10-class design
    output = refused(
        cli(
            *("export", "--preset", "resnet18", "--option", "classes=10"),
            *("--weights", str(files["resnet18"]), *args),
            cwd=tmp_path,
        )
    )
    assert "shape   fc.weight: file 1000×512, design 10×512" in output
    # the weights of a network with other names: nothing matches
    output = refused(
        cli(
            "export", "--preset", "lenet5", "--weights", str(files["resnet18"]), *args, cwd=tmp_path
        )
    )
    assert "none of its 122 tensors fits the design by name and shape" in output
    # not a state dict at all
    output = refused(
        cli("export", "--preset", "resnet18", "--weights", str(files["dict"]), *args, cwd=tmp_path)
    )
    assert f"weights file {files['dict']}: not a state dict" in output
    assert not out.exists() and not out.with_suffix(".pt").exists()


def test_summary_reports_what_matches(files: dict[str, Path], tmp_path: Path) -> None:
    done = cli(
        *("summary", "--preset", "resnet18", "--option", "classes=10"),
        *("--weights", str(files["resnet18"])),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "120 of the design's 122 tensors matched; 0 missing, 0 unexpected, 2 of another" in (
        done.stdout
    )
    assert "fc.bias: file 1000, design 10 (the classifier: trained anew)" in done.stdout
    done = cli(
        *("summary", "--preset", "resnet18", "--json", "--weights", str(files["resnet34"])),
        cwd=tmp_path,
    )
    import json

    report = json.loads(done.stdout)["weights"]
    assert (report["matched"], report["missing"], report["unexpected"]) == (122, 0, 96)
    assert done.returncode == 0, done.stderr  # loadable for fine-tuning: the extras are unused
    done = cli("summary", "--preset", "resnet18", "--weights", str(files["dict"]), cwd=tmp_path)
    assert "not a state dict" in refused(done)


def test_train_from_torchvision_weights_keeps_frozen_blocks_unchanged(
    files: dict[str, Path], tmp_path: Path
) -> None:
    done = cli(
        *("train", "--preset", "resnet18", "--option", "classes=10", "--option"),
        *("resolution=32", "--weights", str(files["resnet18"]), "--freeze", "layer1"),
        *("--freeze", "conv1", "--data", "digits", "--limit", "64", "--batch-size", "16"),
        *("--epochs", "1", "--val-split", "0", "--device", "cpu", "--lr", "0.1"),
        *("--out", str(tmp_path / "runs")),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "120 of the design's 122 tensors matched" in done.stdout
    assert "fc.weight: file 1000×512, design 10×512 (the classifier: trained anew)" in done.stdout
    frozen = 9_408 + 4 * 36_864  # conv1 and layer1's four convolutions (BatchNorm: + 4 × 128)
    frozen += 4 * 128
    assert f"{11_181_642 - frozen:,} parameters trainable, {frozen:,} frozen" in done.stdout
    (run,) = (tmp_path / "runs").iterdir()
    trained = torch.load(run / "last.pt", weights_only=True)["model"]
    start = torch.load(files["resnet18"], weights_only=True)
    for name in ("conv1.weight", "layer1.0.conv1.weight", "layer1.1.bn2.weight"):
        assert torch.equal(trained[name], start[name]), name
    for name in ("layer4.1.conv2.weight", "layer2.0.conv1.weight"):
        assert not torch.equal(trained[name], start[name]), name
    # a name that is no group or block is refused before the run starts
    done = cli(
        *("train", "--preset", "resnet18", "--freeze", "layer9", "--epochs", "1"),
        *("--out", str(tmp_path / "other")),
        cwd=tmp_path,
    )
    assert "--freeze layer9: no group or block of that name" in refused(done)
    assert not (tmp_path / "other").exists()


def test_the_engine_replaces_the_classifier_and_freezes_by_group(files: dict[str, Path]) -> None:
    from engine.compiler import compile_graph
    from engine.transfer import TransferError, freeze, load_pretrained, replace_classifier
    from presets import PRESETS

    graph = PRESETS.get("resnet18").create(resolution=32)
    assert replace_classifier(graph, 7) == "fc"
    state, report = load_pretrained(graph, files["resnet18"])
    assert [m.name for m in report.mismatched] == ["fc.weight", "fc.bias"]
    assert report.mismatched[0].design_shape == (7, 512) and "fc.weight" not in state
    model = compile_graph(graph)
    model.load_state_dict(state, strict=False)
    assert torch.equal(model.get_parameter("layer4.1.conv2.weight"), state["layer4.1.conv2.weight"])
    trainable, frozen = freeze(model, graph, ["layer4"])
    assert frozen == sum(p.numel() for p in model.get_submodule("layer4").parameters())
    assert trainable + frozen == sum(p.numel() for p in model.parameters())
    with pytest.raises(TransferError, match="--freeze layer5: no group or block"):
        freeze(model, graph, ["layer5"])
    with pytest.raises(TransferError, match="does not fit the design exactly"):
        load_pretrained(graph, files["resnet18"], strict=True)


def test_a_frozen_run_resumes_with_the_same_freeze(tmp_path: Path) -> None:
    common = ("--preset", "lenet5_digits", "--limit", "100", "--device", "cpu", "--quiet")
    done = cli(
        "train", *common, "--freeze", "conv1", "--epochs", "1", "--out", "runs", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "runs").iterdir()
    done = cli("train", *common, "--epochs", "2", "--resume", str(run), cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "a run trained with --freeze resumes with the same --freeze" in done.stderr
    again = ("--freeze", "conv1", "--epochs", "2", "--resume", str(run))
    done = cli("train", *common, *again, cwd=tmp_path)
    assert done.returncode == 0 and "completed: 2 epoch(s)" in done.stdout, done.stderr
