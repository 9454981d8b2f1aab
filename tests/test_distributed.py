"""Data-parallel training under torchrun: two CPU processes with gloo train on Digits and end
with identical weights; only rank 0 writes the run folder."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

from engine import Graph, Project, save_project


def tiny_project(path: Path) -> Path:
    g = Graph()
    g.add_node("input", "input", {"shape": [1, 8, 8]})
    g.add_node("conv2d", "conv1", {"out_channels": 8, "kernel_size": 3, "padding": 1})
    g.add_node("relu", "relu1")
    g.add_node("dropout", "drop", {"p": 0.2})
    g.add_node("flatten", "flatten")
    g.add_node("linear", "fc", {"out_features": 10})
    g.add_node("output", "output")
    chain = ["input", "conv1", "relu1", "drop", "flatten", "fc", "output"]
    for a, b in itertools.pairwise(chain):
        g.connect(a, b)
    save_project(Project(graph=g, training={"lr": 0.01, "batch_size": 32}), path)
    return path


def test_two_gloo_processes_train_and_agree(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "net.cnnd")
    out = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "designer",
        "train",
        str(project),
        "--epochs",
        "3",
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "batch 32 × 2 processes = 64, lr 0.01" in done.stdout
    assert done.stdout.count("completed: 3 epoch(s)") == 1  # rank 0 speaks, rank 1 is quiet
    [run] = list(out.iterdir())  # one run folder, written by rank 0 only
    result = json.loads((run / "result.json").read_text())
    assert result["world_size"] == 2 and result["global_batch_size"] == 64
    assert result["replicas_max_abs_diff"] == 0.0  # every parameter identical on both processes
    per_process = math.ceil(1438 / 2)  # DistributedSampler: each process gets half the training set
    assert result["steps"] == 3 * math.ceil(per_process / 32)
    assert result["final_val_accuracy"] > 0.8  # chance is 0.1
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3
