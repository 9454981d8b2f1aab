"""Issue 15, training side, driven as a user or an attacker would: the CLI as a subprocess,
checkpoint files written to disk, signals sent to a real training process.

- ``train --help`` gives every option help and its default (item 15);
- a TorchScript archive given as ``--resume`` or ``--weights``, or beside an exported script,
  is refused in one line without torch's advice to load unsafely or its warnings (item 22);
- a crafted checkpoint field is refused on load, naming the field and value (item 27), and so
  are a crop padding larger than the image and an empty class folder;
- SIGTERM, SIGHUP and a second Ctrl-C are recorded in result.json (item 24);
- temporaries a killed checkpoint writer left are removed on resume (item 25).

The zip-bomb checkpoint (item 23) is in test_issue15_checkpoints.py.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "--preset", "lenet5_digits", "--data", "digits"]


def cli(*args: str, timeout: float = 240, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``cnn-designer ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)},
    )


def assert_one_clean_refusal(done: subprocess.CompletedProcess[str]) -> str:
    """The output of a refused command: no traceback, no warning, no unsafe advice."""
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert "weights_only" not in output and "Warning" not in output, output
    assert "arbitrary code" not in output and "trusted source" not in output, output
    return output


def torchscript_archive(path: Path) -> Path:
    """What a TorchScript export writes (issue 10's ``mynet.pt``)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    return path


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run folder: lenet5_digits, one epoch on 200 Digits images."""
    out = tmp_path_factory.mktemp("runs")
    done = cli(*TRAIN, "--epochs", "1", "--limit", "200", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    [run] = out.iterdir()
    return run


# ---- item 15: help for every option, with its default ----------------------------------------

DEFAULTS = {
    "--data": "else digits",
    "--data-dir": "the download cache",
    "--epochs": "else 10",
    "--batch-size": "else 64",
    "--lr": "else 0.001",
    "--optimizer": "else adam",
    "--momentum": "else 0.9",
    "--nesterov": "else off",
    "--weight-decay": "else 0)",
    "--schedule": "else constant",
    "--loss": "else cross_entropy",
    "--seed": "else 0)",
    "--device": "else auto",
    "--val-split": "else 0.2",
    "--normalize": "else dataset",
    "--crop-padding": "else 0)",
    "--flip": "else off",
    "--no-amp": "mixed precision on CUDA",
    "--limit": "else all images",
    "--out": "NAME.runs beside the project file",
    "--resume": "start a new run",
    "--quiet": "a progress bar",
}


def test_train_help_gives_every_option_help_and_its_default() -> None:
    done = cli("train", "--help", timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    options = [line.split()[0] for line in lines if line.startswith("  --")]
    assert set(DEFAULTS) <= set(options)
    for flag, default in DEFAULTS.items():
        [line] = [line for line in lines if line.split()[:1] == [flag]]
        words = line.split()
        described = words[2:] if len(words) > 2 and words[1].isupper() else words[1:]
        assert described and "(default:" in line, line
        assert default in line, line


# ---- item 22: never torch's advice to load unsafely ------------------------------------------


def test_resume_from_a_torchscript_archive_is_one_line_without_unsafe_advice(
    tmp_path: Path,
) -> None:
    archive = torchscript_archive(tmp_path / "mynet.pt")
    done = cli(*TRAIN, "--epochs", "2", "--resume", str(archive), "--out", str(tmp_path / "r"))
    assert done.returncode == 1
    output = assert_one_clean_refusal(done)
    assert f"checkpoint {archive}: not a CNN Designer checkpoint (a TorchScript file" in output
    assert not (tmp_path / "r").exists()


def test_export_weights_from_a_torchscript_archive_without_unsafe_advice(tmp_path: Path) -> None:
    archive = torchscript_archive(tmp_path / "mynet.pt")
    args = ["export", "--preset", "lenet5_digits", "--format", "python", "-o", "net.py"]
    done = cli(*args, "--weights", str(archive), cwd=tmp_path)
    assert done.returncode == 2
    output = assert_one_clean_refusal(done)
    assert f"weights file {archive}: not a CNN Designer checkpoint" in output
    assert "a TorchScript file" in output and not (tmp_path / "net.py").exists()


@pytest.mark.parametrize("bad", ["torchscript", "text", "other_design"])
def test_the_exported_script_with_bad_weights_beside_it_says_one_line(
    tmp_path: Path, bad: str
) -> None:
    args = ["export", "--preset", "lenet5_digits", "--format", "python", "-o", "mynet.py"]
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "mynet.py"
    weights = tmp_path / "mynet.pt"
    if bad == "torchscript":
        torchscript_archive(weights)
    elif bad == "text":
        weights.write_text("not weights\n")
    else:
        torch.save({"fc.weight": torch.zeros(3, 3)}, weights)
    run = subprocess.run(
        [sys.executable, str(target)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 1
    output = assert_one_clean_refusal(run)
    assert output.strip().count("\n") == 0, output
    assert f"{weights}: not weights for" in output and "Export the weights again" in output


def test_the_predictor_refuses_a_torchscript_checkpoint_without_a_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import warnings

    from designer.training.predictor import Predictor
    from engine.training.model import TrainingError

    run = tmp_path / "run"
    run.mkdir()
    torchscript_archive(run / "best.pt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(TrainingError, match="a TorchScript file") as refused:
            Predictor(run)
    assert not caught, [str(w.message) for w in caught]
    assert "weights_only" not in str(refused.value)
    assert "weights_only" not in "".join(capfd.readouterr())


# ---- item 27: a checkpoint's fields are checked on load --------------------------------------


def crafted(run: Path, folder: Path, **fields: object) -> Path:
    state = torch.load(run / "last.pt", weights_only=True)
    state.update(fields)
    path = folder / "crafted.pt"
    torch.save(state, path)
    return path


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("best_val_accuracy", "high", "best_val_accuracy must be an accuracy from 0 to 1"),
        ("best_val_accuracy", math.nan, "Received: best_val_accuracy=nan"),
        ("epoch", -5, "epoch must be the epochs done, a whole number ≥ 1. Received: epoch=-5"),
        ("epoch", math.nan, "Received: epoch=nan"),
        ("step", "many", "Received: step='many'"),
        ("optimizer", [1, 2], "optimizer must be the optimiser's state (an object)"),
    ],
)
def test_a_crafted_checkpoint_field_is_refused_before_training(
    trained_run: Path, tmp_path: Path, field: str, value: object, expected: str
) -> None:
    path = crafted(trained_run, tmp_path, **{field: value})
    out = tmp_path / "runs"
    started = time.monotonic()
    done = cli(*TRAIN, "--limit", "200", "--epochs", "3", "--resume", str(path), "--out", str(out))
    assert done.returncode == 1
    output = assert_one_clean_refusal(done)
    assert f"checkpoint {path}: {field}" in output or expected in output, output
    assert expected in output, output
    assert "ValueError" not in output and "TypeError" not in output
    assert "resume from another checkpoint" in output
    assert "epoch 1/3" not in output and not out.exists()  # nothing trained, no folder
    assert time.monotonic() - started < 120


def test_the_predictor_names_a_crafted_field(trained_run: Path, tmp_path: Path) -> None:
    from designer.training.predictor import Predictor
    from engine.training.model import TrainingError

    run = tmp_path / "run"
    run.mkdir()
    crafted(trained_run, run, epoch=math.nan).rename(run / "best.pt")
    with pytest.raises(TrainingError, match=r"Received: epoch=nan"):
        Predictor(run)


def test_a_crop_padding_beyond_half_the_image_is_refused_before_the_run(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = [*TRAIN, "--epochs", "1", "--limit", "100", "--out", str(out)]
    done = cli(*args, "--crop-padding", "100000")
    assert done.returncode == 1
    output = assert_one_clean_refusal(done)
    assert "data.crop_padding: at most half the height and width" in output
    assert "Received: data.crop_padding=100000. Use 0 to 16" in output
    assert "allocate" not in output and not out.exists()


def test_an_empty_class_folder_is_named_with_the_fix(tmp_path: Path) -> None:
    from PIL import Image

    images = tmp_path / "images"
    for name in ("cat", "dog"):
        (images / name).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (8, 8), 40 * i).save(images / name / f"{i}.png")
    (images / "zebra").mkdir()
    args = ["train", "--preset", "lenet5_digits", "--option", "classes=3", "--data", "imagefolder"]
    args += ["--epochs", "1"]
    done = cli(*args, "--data-dir", str(images), "--out", str(tmp_path / "runs"))
    assert done.returncode == 1
    output = assert_one_clean_refusal(done)
    assert f"image folder {images}: each subfolder is a class, and one holds no images" in output
    assert str(images / "zebra") in output and "Add images to it, or move it out" in output


# ---- item 24: every catchable end is recorded ------------------------------------------------


def start_training(out: Path) -> subprocess.Popen[str]:
    args = [*TRAIN, "--epochs", "200", "--limit", "300", "--out", str(out)]
    return subprocess.Popen(
        [sys.executable, "-m", "designer", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def wait_for_first_epoch(process: subprocess.Popen[str], out: Path) -> Path:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        metrics = list(out.glob("*/metrics.jsonl"))
        if metrics and metrics[0].read_text().strip():
            return metrics[0].parent
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    process.kill()
    raise AssertionError("no epoch finished within 180 s")


@pytest.mark.parametrize("sent", [[signal.SIGTERM], [signal.SIGHUP], [signal.SIGINT] * 2])
def test_a_signal_is_recorded_as_a_stop(tmp_path: Path, sent: list[signal.Signals]) -> None:
    process = start_training(tmp_path)
    try:
        run = wait_for_first_epoch(process, tmp_path)
        for number in sent:
            process.send_signal(number)
            time.sleep(0.3)
        _out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + sent[0], err
    assert "Traceback" not in err, err
    name = signal.Signals(sent[0]).name
    result = json.loads((run / "result.json").read_text())
    assert result["status"] == "stopped" and result["stopped_by"] == name, result
    assert result["checkpoint"]["epoch"] >= 1 and result["epochs_done"] >= 1
    assert f"stopped by {name}" in result["message"] and "--resume" in result["message"]
    assert f"stopped by {name}" in err


# ---- item 25: a killed writer's temporaries go on resume -------------------------------------


def test_resume_removes_the_temporaries_a_killed_checkpoint_writer_left(
    trained_run: Path, tmp_path: Path
) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftovers = [
        run / ".last.pt.k3j_x9a2.tmp",  # as the earlier versions named them
        run / f".last.pt.{dead.pid}-ab12cd34.tmp",  # a writer that was killed
        run / f".best.pt.{dead.pid}-zz99yy88.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half a checkpoint")
    unrelated = run / ".notes.txt.k3j_x9a2.tmp"
    unrelated.write_bytes(b"not ours")
    done = cli(*TRAIN, "--limit", "200", "--epochs", "2", "--resume", str(run), "--quiet")
    assert done.returncode == 0, done.stderr
    assert not [p for p in leftovers if p.exists()]
    assert unrelated.exists()
    assert sorted(p.name for p in run.glob(".*.pt.*.tmp")) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_resume_of_a_run_whose_metrics_file_is_a_named_pipe_is_refused_not_hung(
    trained_run: Path, tmp_path: Path
) -> None:
    """Every other file of a run folder was read through the regular-file guard; the resume's
    trim of metrics.jsonl read it plainly, and a named pipe there blocked the resume for ever."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / "metrics.jsonl").unlink()
    os.mkfifo(run / "metrics.jsonl")
    done = cli(*TRAIN, "--limit", "200", "--epochs", "2", "--resume", str(run), timeout=120)
    output = assert_one_clean_refusal(done)
    assert done.returncode != 0
    assert "metrics.jsonl" in output and "named pipe" in output, output
