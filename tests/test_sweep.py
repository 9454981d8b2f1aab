"""``cnn-designer sweep``: a real Optuna study over tiny Digits runs, resumed, refused, interrupted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.training.runs import list_runs

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--data", "digits", "--epochs", "1", "--limit", "200", "--device", "cpu"]


def sweep(out: Path, *extra: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "designer", "sweep", "--preset", "lenet5_digits", *TINY]
    return subprocess.run(
        [*command, "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def trial_states(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT state FROM trials ORDER BY number")]


def test_sweep_of_four_trials_resumed_for_two_more(tmp_path: Path) -> None:
    params = ["--param", "lr=log:1e-3..1e-1", "--param", "batch_size=choice:16,32"]
    first = sweep(tmp_path, *params, "--trials", "4", "--sampler", "random")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count(" complete: value ") == 4
    assert (tmp_path / "sweep.db").is_file()
    second = sweep(tmp_path, *params, "--trials", "2", "--sampler", "random", "--json")
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert data["counts"] == {"COMPLETE": 6}
    assert [t["number"] for t in data["trials"]] == [0, 1, 2, 3, 4, 5]
    runs = list_runs(tmp_path)  # each trial is an ordinary run folder the browser lists
    assert len(runs) == 6 and {r.status for r in runs} == {"completed"}
    folders = {str(Path(t["run_dir"]).resolve()) for t in data["trials"]}
    assert folders == {str(r.path.resolve()) for r in runs}
    for run in runs:
        trial = json.loads((run.path / "trial.json").read_text())
        assert trial["state"] == "COMPLETE"
        assert run.settings["lr"] == trial["params"]["lr"]
        assert run.settings["batch_size"] == trial["params"]["batch_size"] in (16, 32)
        assert 1e-3 <= trial["params"]["lr"] <= 1e-1
    best = data["best"]
    values = [t["value"] for t in data["trials"]]
    assert best["value"] == max(values)
    best_run = next(
        r for r in runs if str(r.path.resolve()) == str(Path(best["run_dir"]).resolve())
    )
    assert best_run.best_val_accuracy == pytest.approx(best["value"])


def test_grid_over_choices_block_parameter_and_preset_option(tmp_path: Path) -> None:
    result = sweep(
        tmp_path,
        "--param",
        "conv1.out_channels=choice:4",
        "--param",
        "option.activation=choice:relu,tanh",
        "--sampler",
        "grid",
        "--trials",
        "10",  # the grid holds 2: the sweep stops there
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    seen = {
        (t["params"]["conv1.out_channels"], t["params"]["option.activation"])
        for t in data["trials"]
    }
    assert seen == {(4, "relu"), (4, "tanh")}
    for trial in data["trials"]:
        graph = json.loads((Path(trial["run_dir"]) / "graph.json").read_text())
        nodes = {n["name"]: n for n in graph["nodes"]}
        assert nodes["conv1"]["params"]["out_channels"] == trial["params"]["conv1.out_channels"]
        assert nodes["act1"]["type"] == trial["params"]["option.activation"]


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("lr", "write it as KEY=SPEC"),
        ("lr=uniform:0..1", "SPEC starts with one of log:, int:, float:, choice:"),
        ("lr=log:1e-1..1e-4", "the range is empty (LOW must be less than HIGH)"),
        ("lr=log:0..1", "a log: range must be above 0"),
        ("lr=float:a..1", "the low end 'a' is not a finite number"),
        ("batch_size=int:8.5..64", "int: takes whole numbers"),
        ("batch_size=int:0..64", "batch_size"),
        ("optimizer=choice:adam,", "a choice needs values separated by commas, none empty"),
        ("optimizer=choice:adam,nadamx", "nadamx"),
        ("optimizer=float:0..1", "takes a choice of values"),
        ("lrr=log:1e-4..1e-1", "unknown sweep key 'lrr'. Did you mean 'lr'"),
        ("conv1.out_chanels=int:4..8", "Did you mean 'out_channels'"),
        ("option.widht=choice:1,2", "unknown option of preset lenet5_digits 'widht'"),
        ("dropout.p=float:0..0.5", "unknown sweep key 'dropout.p'"),
    ],
)
def test_bad_param_is_one_message_and_changes_nothing(
    tmp_path: Path, param: str, expected: str
) -> None:
    out = tmp_path / "runs"
    result = sweep(out, "--param", param, "--trials", "2", timeout=60)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(
        "cnn-designer: error: --param"
    )
    assert not out.exists()


def test_grid_refuses_a_continuous_range(tmp_path: Path) -> None:
    result = sweep(
        tmp_path / "r", "--param", "lr=log:1e-4..1e-1", "--sampler", "grid", "--trials", "2"
    )
    assert result.returncode == 2
    assert "a grid needs a finite set of values" in result.stderr
    assert "choice:" in result.stderr and not (tmp_path / "r").exists()


def test_unreachable_storage_is_named_and_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    for url in (f"sqlite:///{tmp_path}/no/such/folder/s.db", "nosuchdriver://host/db"):
        result = sweep(out, "--param", "lr=log:1e-3..1e-1", "--trials", "1", "--storage", url)
        assert result.returncode == 2, result.stderr
        assert f"--storage {url}: cannot open the study's database" in result.stderr
        assert "Check the URL" in result.stderr and "Traceback" not in result.stderr
        assert not out.exists() and not (tmp_path / "no").exists()


def test_sigint_during_a_trial_keeps_finished_trials_and_resumes(tmp_path: Path) -> None:
    params = ["--param", "lr=log:1e-3..1e-1", "--trials", "3", "--sampler", "random"]
    command = [sys.executable, "-m", "designer", "sweep", "--preset", "lenet5_digits", *TINY]
    # 8 epochs on 1000 images (a few seconds a trial): the test sees the second trial training
    command += ["--out", str(tmp_path), *params]
    command[command.index("--limit") + 1] = "1000"
    command[command.index("--epochs") + 1] = "8"
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # the first trial's run folder is complete
            runs = list_runs(tmp_path)
            done = [r for r in runs if r.status == "completed"]
            if done and any(r.status == "running" for r in runs):  # the next one is training
                break
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "sweep stopped by SIGINT" in err and "Traceback" not in err
    states = trial_states(tmp_path / "sweep.db")
    assert states[0] == "COMPLETE" and "RUNNING" not in states
    assert states[-1] == "FAIL"
    completed = states.count("COMPLETE")
    interrupted = [r for r in list_runs(tmp_path) if r.status != "completed"]
    # the signal reaches a trial while it trains, or (when that trial has just finished) the
    # next one while it is set up, before its run folder exists
    assert [r.status for r in interrupted] in (["stopped"], [])
    for run in interrupted:
        assert json.loads((run.path / "trial.json").read_text())["state"] == "FAIL"
    again = sweep(tmp_path, *params[:-4], "--trials", "1", "--sampler", "random", "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["counts"]["COMPLETE"] == completed + 1
    assert len(data["trials"]) == len(states) + 1


def test_killed_sweep_keeps_finished_trials_and_resumes(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "designer", "sweep", "--preset", "lenet5_digits", *TINY]
    command += ["--out", str(tmp_path), "--param", "lr=log:1e-3..1e-1", "--trials", "3"]
    command[command.index("--limit") + 1] = "1000"
    command[command.index("--epochs") + 1] = "8"  # a few seconds a trial: seen while training
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if (
                any(r.status == "completed" for r in list_runs(tmp_path))
                and len(list_runs(tmp_path)) >= 2
            ):
                break
            assert process.poll() is None
            time.sleep(0.1)
    finally:
        process.kill()  # SIGKILL: nothing is recorded by the process itself
        process.wait(timeout=30)
    states = trial_states(tmp_path / "sweep.db")
    assert states[0] == "COMPLETE"
    again = sweep(tmp_path, "--param", "lr=log:1e-3..1e-1", "--trials", "1", "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["counts"]["COMPLETE"] == states.count("COMPLETE") + 1
    assert len(data["trials"]) == len(states) + 1
