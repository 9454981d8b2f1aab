"""Exports carry the evaluation preprocessing (issue 20, point 6).

A python export holds ``preprocess(image)`` and its constants; TorchScript and ONNX exports write
``NAME.preprocess.json`` beside the model. Both are checked against what the trainer itself feeds
the network, through the CLI as a person runs it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from designer_helpers import cli

from engine import Graph, load_project
from engine.data import load_digits
from engine.data.pipeline import split_indices
from engine.project import Project, save_project
from engine.training.trainer import Trainer
from presets import PRESETS

SETTINGS = {"data": {"dataset": "digits", "val_split": 0.25}, "seed": 3, "device": "cpu"}


def project(tmp_path: Path) -> Path:
    """LeNet-5 (1×32×32) trained on Digits (1×8×8): a resize of 8×8 to 32×32."""
    path = tmp_path / "lenet.cnnd"
    save_project(Project(PRESETS.get("lenet5_digits").create(), training=dict(SETTINGS)), path)
    return path


def imported(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trainer_for(path: Path, tmp_path: Path) -> Trainer:
    trainer = Trainer(load_project(path).graph, SETTINGS, run_root=tmp_path / "runs")
    trainer.setup()
    return trainer


def test_preprocess_of_a_raw_digits_sample_is_what_the_trainer_feeds(tmp_path: Path) -> None:
    path = project(tmp_path)
    out = tmp_path / "lenet.py"
    done = cli("export", str(path), "--format", "python", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    exported = imported(out)
    assert exported.INPUT_SIZE == (32, 32) and exported.INPUT_CHANNELS == 1
    assert tuple(str(d) for d in range(10)) == exported.CLASSES
    trainer = trainer_for(path, tmp_path)
    raw = load_digits().images  # uint8 N×1×8×8, as the data set gives them
    train_index, _ = split_indices(len(raw), 0.25, 3)
    for k in (0, 1, 500):
        want = trainer.loader.normalize(trainer.train_split.images[k : k + 1])
        got = exported.preprocess(raw[train_index[k]])
        assert got.shape == (1, 1, 32, 32)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
        # an 8×8 grey image given as H×W works too, and the model takes the result
        torch.testing.assert_close(exported.preprocess(raw[train_index[k]][0]), want)
    with torch.no_grad():
        assert exported.DesignedNet().eval()(got).shape == (1, 10)


def test_torchscript_export_writes_the_settings_beside_it(tmp_path: Path) -> None:
    path = project(tmp_path)
    out = tmp_path / "lenet.ts"
    done = cli("export", str(path), "--format", "torchscript", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"(preprocessing: {tmp_path / 'lenet.preprocess.json'})" in done.stdout
    data = json.loads((tmp_path / "lenet.preprocess.json").read_text())
    trainer = trainer_for(path, tmp_path)
    assert data["input_shape"] == [1, 32, 32] and data["resize"] == [32, 32]
    assert data["channels"] == 1 and data["dataset"] == "digits"
    assert data["normalize"] == "dataset"
    assert data["classes"] == list(trainer.classes)
    assert np.allclose(data["mean"], trainer.mean.tolist(), rtol=0, atol=0)
    assert np.allclose(data["std"], trainer.std.tolist(), rtol=0, atol=0)


def test_weights_from_a_checkpoint_carry_its_normalisation(tmp_path: Path) -> None:
    from engine.compiler import compile_graph

    graph = PRESETS.get("lenet5").create()
    checkpoint = {
        "model": compile_graph(graph).state_dict(),
        "normalization": {"mean": torch.tensor([0.25]), "std": torch.tensor([0.5])},
        "classes": ["zero", "one", "two", "three", "four", "five", "six", "seven", "a b", "x'y"],
        "settings": {"data": {"dataset": "mnist", "normalize": "dataset"}},
    }
    torch.save(checkpoint, tmp_path / "best.pt")
    out = tmp_path / "net.py"
    args = ("--preset", "lenet5", "--weights", str(tmp_path / "best.pt"), "--format")
    done = cli("export", *args, "python", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    exported = imported(out)
    assert (exported.MEAN, exported.STD, exported.DATASET) == ((0.25,), (0.5,), "mnist")
    assert tuple(checkpoint["classes"]) == exported.CLASSES  # odd names stay text, not code
    image = np.full((1, 32, 32), 255, dtype=np.uint8)
    assert torch.allclose(exported.preprocess(image), torch.full((1, 1, 32, 32), 1.5))
    done = cli("export", *args, "onnx", "-o", str(tmp_path / "net.onnx"), cwd=tmp_path)
    if done.returncode == 0:  # onnx is optional
        data = json.loads((tmp_path / "net.preprocess.json").read_text())
        assert (data["mean"], data["std"], data["classes"]) == (
            [0.25],
            [0.5],
            checkpoint["classes"],
        )


def test_a_preset_without_settings_says_the_normalisation_is_unknown(tmp_path: Path) -> None:
    out = tmp_path / "net.py"
    done = cli("export", "--preset", "lenet5", "--format", "python", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "note: the normalisation is not known" in done.stdout
    exported = imported(out)
    assert exported.MEAN is None and exported.CLASSES is None
    image = np.full((3, 16, 16), 255, dtype=np.uint8)  # colour to grey, 16×16 to 32×32
    assert torch.allclose(exported.preprocess(image), torch.ones(1, 1, 32, 32))
    ran = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, check=False)
    assert ran.returncode == 0 and "output shape: (1, 10)" in ran.stdout, ran.stderr


def test_grey_images_repeated_as_rgb_are_what_the_trainer_feeds(tmp_path: Path) -> None:
    """Digits (1×8×8) into a 3×8×8 Input: channels only, no resize (the trainer's own
    conversion used to fail on this: it rounded a broadcast view in place)."""
    graph = Graph()
    graph.add_node("input", "input", {"shape": [3, 8, 8]})
    graph.add_node("flatten", "flatten")
    graph.add_node("linear", "fc", {"out_features": 10})
    graph.add_node("output", "output")
    for src, dst in (("input", "flatten"), ("flatten", "fc"), ("fc", "output")):
        graph.connect(src, dst)
    path = tmp_path / "rgb.cnnd"
    save_project(Project(graph, training=dict(SETTINGS)), path)
    out = tmp_path / "rgb.py"
    done = cli("export", str(path), "--format", "python", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "not known" not in done.stdout
    exported = imported(out)
    trainer = trainer_for(path, tmp_path)
    raw = load_digits().images
    train_index, _ = split_indices(len(raw), 0.25, 3)
    want = trainer.loader.normalize(trainer.train_split.images[4:5])
    got = exported.preprocess(raw[train_index[4]])
    assert got.shape == (1, 3, 8, 8)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
