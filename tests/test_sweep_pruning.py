"""Issue 19, point 5: pruning through Optuna's MedianPruner, from the CLI. The study is seeded
(through Optuna's own API) with five finished trials whose validation accuracy was 100 % at
every epoch, so a tiny Digits trial is below their median at its first epoch and is pruned:
its run stops there, its trial.json and the study say PRUNED, and the TPE sampler chose its
learning rate inside the range."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna

from engine.training.runs import list_runs

ROOT = Path(__file__).resolve().parents[1]
SPEC = "lr=log:1e-3..1e-1"


def test_a_trial_below_the_median_is_pruned_at_its_first_epoch(tmp_path: Path) -> None:
    db = tmp_path / "sweep.db"
    study = optuna.create_study(
        storage=f"sqlite:///{db}", study_name="lenet5_digits", direction="maximize"
    )
    study.set_user_attr("sweep", {"params": [SPEC], "sampler": "tpe"})
    distribution = optuna.distributions.FloatDistribution(1e-3, 1e-1, log=True)
    for lr in (1e-3, 3e-3, 1e-2, 3e-2, 1e-1):
        study.add_trial(
            optuna.trial.create_trial(
                params={"lr": lr},
                distributions={"lr": distribution},
                value=1.0,
                intermediate_values={1: 1.0, 2: 1.0, 3: 1.0},
            )
        )
    command = [sys.executable, "-m", "designer", "sweep", "--preset", "lenet5_digits"]
    command += ["--data", "digits", "--epochs", "3", "--limit", "64", "--device", "cpu"]
    command += ["--param", SPEC, "--sampler", "tpe", "--prune", "--trials", "1", "--json"]
    result = subprocess.run(
        [*command, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["counts"] == {"COMPLETE": 5, "PRUNED": 1}
    [pruned] = [t for t in data["trials"] if t["state"] == "PRUNED"]
    assert pruned["number"] == 5 and 1e-3 <= pruned["params"]["lr"] <= 1e-1
    [run] = list_runs(tmp_path)  # the pruned trial is an ordinary run folder, stopped early
    assert str(run.path.resolve()) == str(Path(pruned["run_dir"]).resolve())
    assert run.epochs == 1 and run.status != "completed"
    trial = json.loads((run.path / "trial.json").read_text())
    assert trial["state"] == "PRUNED" and trial["trial"] == 5
