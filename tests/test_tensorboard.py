"""TensorBoard event files of a run (``--tensorboard``): read back with TensorBoard's own
EventAccumulator they hold the numbers of metrics.jsonl, the weight histograms and the graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from engine.training import runs

TRAIN = ["train", "--preset", "lenet5_digits", "--data", "digits", "--limit", "200"]


def cli(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "designer", *args]
    if code is not None:  # the command line with something changed first (a missing package)
        command = [
            sys.executable,
            "-c",
            f"{code}\nimport sys\nfrom designer.cli import main\nsys.exit(main({list(args)!r}))",
        ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def only_run(root: Path) -> Path:
    [folder] = [p for p in root.iterdir() if p.is_dir()]
    return folder


def test_a_run_with_tensorboard_writes_what_metrics_jsonl_holds(tmp_path: Path) -> None:
    done = cli(*TRAIN, "--epochs", "2", "--tensorboard", "--out", str(tmp_path / "tb"), "--quiet")
    assert done.returncode == 0, done.stderr
    folder = only_run(tmp_path / "tb")
    events = folder / "tensorboard"
    assert list(events.glob("events.out.tfevents.*"))
    result = json.loads((folder / "result.json").read_text())
    assert result["tensorboard"] == str(events) and "tensorboard_notes" not in result
    acc = ea.EventAccumulator(str(events), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0})
    acc.Reload()
    tags = acc.Tags()
    metrics = runs.read_metrics(folder)
    assert len(metrics) == 2
    for tag, key in (
        ("train/loss", "train_loss"),
        ("train/accuracy", "train_accuracy"),
        ("val/loss", "val_loss"),
        ("val/accuracy", "val_accuracy"),
        ("lr", "lr"),
    ):
        scalars = acc.Scalars(tag)
        assert [s.step for s in scalars] == [1, 2]
        assert [s.value for s in scalars] == pytest.approx([m[key] for m in metrics], rel=1e-6)
    weights = {"conv1.weight", "conv1.bias", "conv2.weight", "fc3.weight", "fc3.bias"}
    assert {f"weights/{w}" for w in weights} <= set(tags["histograms"])
    histogram = acc.Histograms("weights/conv1.weight")
    assert [h.step for h in histogram] == [1, 2]
    assert histogram[0].histogram_value.num == 6 * 1 * 5 * 5  # every weight of conv1
    assert tags["graph"] is True and len(acc.Graph().node) > 5
    # the event files change nothing in training: the same run without them has the same curves
    plain = cli(*TRAIN, "--epochs", "2", "--out", str(tmp_path / "plain"), "--quiet")
    assert plain.returncode == 0, plain.stderr
    other = only_run(tmp_path / "plain")
    assert not (other / "tensorboard").exists()
    keys = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
    assert [[m[k] for k in keys] for m in runs.read_metrics(other)] == [
        [m[k] for k in keys] for m in metrics
    ]
    # resumed, the run continues its event files: epoch 3 added, the graph not written twice
    resumed = cli(*TRAIN, "--epochs", "3", "--tensorboard", "--resume", str(folder), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    acc = ea.EventAccumulator(str(events), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    metrics = runs.read_metrics(folder)
    assert [(s.step, s.value) for s in acc.Scalars("val/accuracy")] == [
        (m["epoch"], pytest.approx(m["val_accuracy"], rel=1e-6)) for m in metrics
    ]
    assert len(metrics) == 3
    graphs = [
        event
        for path in sorted(events.glob("events.out.tfevents.*"))
        for event in EventFileLoader(str(path)).Load()
        if event.HasField("graph_def")
    ]
    assert len(graphs) == 1


def test_without_the_package_tensorboard_is_refused_before_the_run(tmp_path: Path) -> None:
    block = "import sys\nsys.modules['tensorboard'] = None"  # as if it were not installed
    out = tmp_path / "runs"
    for command in ("train", "repeat"):
        args = [command, *TRAIN[1:], "--epochs", "1", "--tensorboard", "--out", str(out)]
        if command == "repeat":
            args += ["--seeds", "2"]
        done = cli(*args, code=block)
        assert done.returncode == 2, done.stderr
        assert "tensorboard package is not installed" in done.stderr
        assert "pip install" in done.stderr and "Traceback" not in done.stderr
        assert done.stderr.count("error:") == 1
    assert not out.exists() or not any(out.iterdir())


def test_every_training_command_takes_the_flag() -> None:
    for command in ("train", "sweep", "repeat"):
        done = cli(command, "--help")
        assert "--tensorboard" in done.stdout, command
