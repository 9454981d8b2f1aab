"""A run records what it started from (issue 20, point 4): the run folder's settings.json
names the weights file and the frozen blocks, for ``train --weights/--freeze`` and for a
project whose training settings hold them (what File ▸ Load weights… and Freeze store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from designer_helpers import cli

TINY = ("--limit", "64", "--batch-size", "16", "--epochs", "1", "--device", "cpu")


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    """A state dict saved from the compiled LeNet-5 preset, seeded."""
    import torch

    from engine.compiler import compile_graph
    from presets import PRESETS

    torch.manual_seed(7)
    module = compile_graph(PRESETS.get("lenet5").create())
    path = tmp_path / "lenet.pt"
    torch.save(module.state_dict(), path)
    return path


def recorded(root: Path) -> tuple[dict, Path]:
    (run,) = root.iterdir()
    return json.loads((run / "settings.json").read_text())["settings"], run


def test_train_records_weights_and_frozen_blocks_in_the_run_folder(
    weights: Path, tmp_path: Path
) -> None:
    import torch

    done = cli(
        *("train", "--preset", "lenet5", "--data", "digits", *TINY),
        *("--weights", str(weights), "--freeze", "conv1", "--freeze", "conv2"),
        *("--out", str(tmp_path / "runs")),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    settings, run = recorded(tmp_path / "runs")
    assert settings["weights"] == str(weights.resolve())
    assert settings["freeze"] == ["conv1", "conv2"]
    trained = torch.load(run / "last.pt", weights_only=True)["model"]
    start = torch.load(weights, weights_only=True)
    assert torch.equal(trained["conv1.weight"], start["conv1.weight"])  # frozen
    assert not torch.equal(trained["fc1.weight"], start["fc1.weight"])  # trained


def test_a_project_holding_weights_and_freeze_trains_from_them(
    weights: Path, tmp_path: Path
) -> None:
    import torch

    from engine import load_project, save_project
    from engine.project import Project
    from presets import PRESETS

    project = Project(graph=PRESETS.get("lenet5").create())
    project.training = {
        "data": {"dataset": "digits"},
        "weights": str(weights),
        "freeze": ["fc1", "gone"],  # a block deleted since it was frozen
    }
    file = tmp_path / "net.cnnd"
    save_project(project, file)
    assert load_project(file).training["freeze"] == ["fc1", "gone"]
    done = cli("train", str(file), *TINY, "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "freeze: gone no longer in the design (renamed or deleted): not frozen" in done.stdout
    settings, run = recorded(tmp_path / "runs")
    assert (settings["weights"], settings["freeze"]) == (str(weights), ["fc1", "gone"])
    trained = torch.load(run / "last.pt", weights_only=True)["model"]
    start = torch.load(weights, weights_only=True)
    assert torch.equal(trained["fc1.weight"], start["fc1.weight"])  # loaded, then frozen
    assert not torch.equal(trained["conv1.weight"], start["conv1.weight"])
    # a weights file that is gone: one message naming it, no traceback
    weights.unlink()
    done = cli("train", str(file), *TINY, "--out", str(tmp_path / "again"), cwd=tmp_path)
    assert done.returncode == 1
    assert str(weights) in done.stderr and "Traceback" not in done.stderr


def test_bad_transfer_settings_name_the_field() -> None:
    from engine.training.settings import SettingsError, TrainingSettings

    with pytest.raises(SettingsError, match=r"training\.freeze must be a list"):
        TrainingSettings.from_dict({"freeze": "layer1"})
    with pytest.raises(SettingsError, match="training setting weights"):
        TrainingSettings.from_dict({"weights": " "})
    settings = TrainingSettings.from_dict({"freeze": ["a", "a", "b"], "weights": "w.pt"})
    assert settings.freeze == ("a", "b")
    assert settings.to_dict()["freeze"] == ["a", "b"]
