"""``cnn-designer repeat``: N seeds of one design, the per-epoch mean ± std of their curves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.experiments.repeats import bands
from engine.training.runs import list_runs, read_metrics

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--data", "digits", "--limit", "200", "--batch-size", "32", "--device", "cpu"]


def repeat(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "designer", "repeat", "--preset", "lenet5_digits", *TINY]
    return subprocess.run(
        [*command, "--out", str(out), *extra], capture_output=True, text=True, timeout=240, cwd=ROOT
    )


def test_repeat_writes_runs_with_each_seed_and_their_bands(tmp_path: Path) -> None:
    result = repeat(tmp_path, "--seeds", "3", "--seed", "5", "--epochs", "2", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary == json.loads((tmp_path / "repeat.json").read_text())
    runs = list_runs(tmp_path)
    assert sorted(r.settings["seed"] for r in runs) == [5, 6, 7] == summary["seeds"]
    assert {r.status for r in runs} == {"completed"}
    curves = [read_metrics(r.path) for r in runs]
    assert [row["epoch"] for row in summary["epochs"]] == [1, 2]
    for row in summary["epochs"]:
        for key in ("val_accuracy", "val_loss"):
            values = np.array([c[row["epoch"] - 1][key] for c in curves])
            assert row[key]["mean"] == pytest.approx(values.mean())
            assert row[key]["std"] == pytest.approx(values.std(ddof=1))
    assert len({tuple(m["val_loss"] for m in c) for c in curves}) == 3  # the seeds differ


def test_repeat_in_parallel_processes(tmp_path: Path) -> None:
    result = repeat(tmp_path, "--seeds", "2", "--epochs", "1", "--parallel", "2")
    if "--parallel: must be from 1 to the 1 CPU core" in result.stderr:
        pytest.skip("one CPU core")
    assert result.returncode == 0, result.stderr
    assert "epoch 1 (2 runs): val_accuracy" in result.stdout
    assert sorted(r.settings["seed"] for r in list_runs(tmp_path)) == [0, 1]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--seeds", "1"], "--seeds: must be at least 2. Received: --seeds=1"),
        (["--seeds", "2", "--parallel", "0"], "--parallel: must be from 1 to the"),
        (["--seeds", "2", "--batch-size", "0"], "batch_size: value out of range"),
    ],
)
def test_repeat_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, flags: list[str], expected: str
) -> None:
    out = tmp_path / "runs"
    result = repeat(out, *flags)
    assert result.returncode == 2 and expected in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_bands_of_runs_of_different_lengths() -> None:
    rng = np.random.default_rng(0)
    curves = [
        [{"epoch": e + 1, "val_accuracy": float(rng.random()), "val_loss": None} for e in range(n)]
        for n in (3, 2, 1)
    ]
    rows = bands(curves)
    assert [r["runs"] for r in rows] == [3, 2, 1]
    first = np.array([c[0]["val_accuracy"] for c in curves])
    assert rows[0]["val_accuracy"]["std"] == pytest.approx(first.std(ddof=1))
    assert rows[2]["val_accuracy"] == {"mean": curves[0][2]["val_accuracy"], "std": 0.0, "n": 1}
    assert rows[0]["val_loss"] is None
