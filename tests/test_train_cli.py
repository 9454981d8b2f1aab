"""``cnn-designer train``: headless training with the same run folder, clear failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_graphs import digits_cnn

from designer.cli import main
from engine import Project, load_project, save_project


def tiny_project(path: Path) -> Path:
    g = digits_cnn()
    save_project(Project(graph=g, training={"epochs": 5, "lr": 0.01, "batch_size": 32}), path)
    return path


def test_train_a_project_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project(tmp_path / "net.cnnd")
    assert main(["train", str(project), "--epochs", "2", "--data", "digits"]) == 0
    out = capsys.readouterr().out
    assert "on digits (1438 train / 359 val) on cpu; batch 32, lr 0.01" in out
    assert "epoch 2/2  train_loss" in out and "completed: 2 epoch(s)" in out
    [run] = (tmp_path / "net.runs").iterdir()  # default: beside the project file
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert json.loads((run / "settings.json").read_text())["settings"]["epochs"] == 2
    assert load_project(project).training["epochs"] == 5  # the project file is not changed
    assert main(["train", str(project), "--epochs", "3", "--resume", str(run), "--quiet"]) == 0
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3


def test_train_failures_exit_non_zero_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tiny_project(tmp_path / "net.cnnd")
    code = main(
        [
            "train",
            str(project),
            "--epochs",
            "1",
            "--optimizer",
            "sgd",
            "--lr",
            "1e6",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert code == 1
    assert "cnn-designer: error: loss became" in capsys.readouterr().err
    assert main(["train", str(project), "--batch-size", "0"]) == 2
    assert "batch_size: value out of range. Received: batch_size=0" in capsys.readouterr().err
    assert main(["train", "--preset", "lenet5", "--data", "imagenet"]) == 2
    assert "Choose one of digits, shapes" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({"data": 5}, "training.data must be an object ({...}). Received: data=5."),
        ({"data": "digits"}, "Received: data='digits'. Write it as an object, e.g. {\"dataset\""),
        ({"seed": -1}, "seed: value out of range. Received: seed=-1. Use a whole number from 0"),
    ],
)
def test_bad_stored_settings_are_named_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stored: dict, expected: str
) -> None:
    project = load_project(tiny_project(tmp_path / "net.cnnd"))
    project.training = stored
    save_project(project, tmp_path / "bad.cnnd")
    assert main(["train", str(tmp_path / "bad.cnnd"), "--data", "digits", "--epochs", "1"]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--seed", "4294967296"], "Received: seed=4294967296. Use a whole number from 0 to"),
        (["--lr", "inf"], "lr: value out of range. Received: lr=inf. Use a positive learning"),
        (["--weight-decay", "inf"], "weight_decay: value out of range. Received: weight_decay=inf"),
    ],
)
def test_out_of_range_flags_are_refused_before_training(
    capsys: pytest.CaptureFixture[str], flags: list[str], expected: str
) -> None:
    assert main(["train", "--preset", "lenet5_digits", *flags]) == 2
    assert expected in capsys.readouterr().err


def test_the_run_shows_data_notes_and_names_the_setting_that_breaks_the_shape(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["train", "--preset", "lenet5_digits", "--epochs", "1", "--out", str(tmp_path)]
    assert main([*args, "--limit", "300"]) == 0
    assert "note: data.limit=300: a seeded sample" in capsys.readouterr().out
    project = load_project(tiny_project(tmp_path / "net.cnnd"))
    project.training = {"data": {"dataset": "digits", "channels": 3}}
    save_project(project, tmp_path / "rgb.cnnd")
    assert main(["train", str(tmp_path / "rgb.cnnd"), "--epochs", "1"]) == 1
    assert "data.channels=3 turns the digits images" in capsys.readouterr().err


def test_without_a_validation_split_the_final_line_names_a_training_accuracy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["train", "--preset", "lenet5_digits", "--epochs", "1", "--val-split", "0"]
    assert main([*args, "--limit", "200", "--out", str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "best training accuracy" in last and "(no validation split)" in last, last
