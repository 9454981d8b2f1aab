"""Issue 19, point 5: two processes (standing in for two machines) run one study through a
shared ``--storage`` URL, each writing its run folders to its own --out; the study holds every
trial once, with each run folder where its process put it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna

from engine.training.runs import list_runs

ROOT = Path(__file__).resolve().parents[1]


def test_two_processes_share_one_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [sys.executable, "-m", "designer", "sweep", "--preset", "lenet5_digits"]
    command += ["--data", "digits", "--epochs", "1", "--limit", "64", "--device", "cpu"]
    command += ["--param", "lr=log:1e-3..1e-1", "--sampler", "random", "--trials", "2"]
    command += ["--storage", url, "--study", "shared", "--json"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    outs = [tmp_path / "machine_a", tmp_path / "machine_b"]
    processes = [
        subprocess.Popen(
            [*command, "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for out in outs
    ]
    results = [p.communicate(timeout=180) for p in processes]
    for process, (_stdout, stderr) in zip(processes, results, strict=True):
        assert process.returncode == 0, stderr
    assert not (tmp_path / "machine_a" / "sweep.db").exists()  # the study is in shared.db
    for stdout, _ in results:
        assert json.loads(stdout)["study"] == "shared"
    study = optuna.load_study(study_name="shared", storage=url)  # once both have ended
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]
    assert {t.state.name for t in trials} == {"COMPLETE"}
    where = {str(Path(t.user_attrs["run_dir"]).resolve().parent) for t in trials}
    assert where == {str(out.resolve()) for out in outs}
    assert [len(list_runs(out)) for out in outs] == [2, 2]
