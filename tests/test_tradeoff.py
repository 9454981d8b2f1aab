"""The trade-off of accuracy against cost: the Pareto front on made-up runs (hand-made points
and run folders written as the trainer writes them), and ``cnn-designer runs``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import infer
from engine.experiments.tradeoff import (
    TradeoffError,
    design_fingerprint,
    list_run_facts,
    tradeoff,
)
from engine.training import runs
from presets import PRESETS


def run(name: str, acc: float | None, params: Any) -> SimpleNamespace:
    return SimpleNamespace(name=name, best_val_accuracy=acc, params=params, macs=None, seconds=None)


def test_a_hand_made_front_with_duplicates_ties_and_a_dominated_point_on_its_x() -> None:
    records = [
        run("d", 0.9, 40),
        run("c", 0.6, 30),  # dominated by b (cheaper and better)
        run("b", 0.7, 20),
        run("e", 0.65, 20),  # on b's x, less accurate: dominated
        run("a", 0.5, 10),
        run("f", 0.9, 50),  # as accurate as d, costlier: dominated
        run("g", 0.7, 20),  # the same as b: both on the front
        run("h", 0.4, 10),  # on a's x, less accurate
    ]
    plot = tradeoff(records, "params")
    assert [p.name for p in plot.front] == ["a", "b", "g", "d"]
    assert [p.name for p in plot.points] == ["a", "h", "b", "g", "e", "c", "d", "f"]
    assert [p.x for p in plot.points] == sorted(p.x for p in plot.points)
    assert {p.name: p.on_front for p in plot.points}["e"] is False
    assert plot.excluded == ()


def test_runs_without_accuracy_or_cost_are_left_out_and_listed() -> None:
    records = [
        run("ok", 0.8, 100),
        run("no-acc", None, 50),
        run("nan-acc", math.nan, 50),
        run("no-params", 0.99, None),
        run("inf-params", 0.99, math.inf),
    ]
    plot = tradeoff(records, "params")
    assert [p.name for p in plot.points] == ["ok"] and [p.name for p in plot.front] == ["ok"]
    assert dict(plot.excluded) == {
        "no-acc": "no validation accuracy",
        "nan-acc": "no validation accuracy",
        "no-params": "no parameters",
        "inf-params": "no parameters",
    }


def test_a_single_run_is_the_front_and_no_runs_give_an_empty_plot() -> None:
    assert [p.name for p in tradeoff([run("only", 0.1, 5)], "params").front] == ["only"]
    empty = tradeoff([], "seconds")
    assert empty.points == () and empty.front == () and empty.excluded == ()


def test_an_unknown_axis_is_named_with_the_choices() -> None:
    with pytest.raises(TradeoffError, match=r"axis='flops'.*params, macs, seconds"):
        tradeoff([run("a", 0.5, 1)], "flops")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=12))
def test_the_front_is_exactly_the_undominated_runs(pairs: list[tuple[int, int]]) -> None:
    records = [run(f"r{i}", y / 5, x) for i, (x, y) in enumerate(pairs)]
    plot = tradeoff(records, "params")

    def dominated(i: int) -> bool:
        x, y = pairs[i]
        return any(
            (ox <= x and oy >= y) and (ox < x or oy > y)
            for j, (ox, oy) in enumerate(pairs)
            if j != i
        )

    expected = {f"r{i}" for i in range(len(pairs)) if not dominated(i)}
    assert {p.name for p in plot.front} == expected
    assert [p.x for p in plot.front] == sorted(p.x for p in plot.front)
    assert len(plot.points) == len(pairs)


# ---- run folders as the trainer writes them -------------------------------------------------


def write_run(
    root: Path,
    name: str,
    graph: Any,
    accuracies: list[float],
    *,
    status: str | None = "completed",
    seconds: float = 1.5,
) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    settings_data = {"settings": {"epochs": len(accuracies), "data": {"dataset": "digits"}}}
    runs.write_json(folder / "settings.json", settings_data)
    if graph is not None:
        runs.write_json(folder / "graph.json", graph.to_data())
    for epoch, acc in enumerate(accuracies, 1):
        runs.append_metrics(
            folder,
            {
                "epoch": epoch,
                "step": epoch * 3,
                "train_loss": 2.0 / epoch,
                "train_accuracy": acc,
                "val_loss": 1.0 - acc,
                "val_accuracy": acc,
                "lr": 0.001,
                "seconds": seconds,
                "time": "2026-12-02T05:00:00",
            },
        )
    if status is not None:
        runs.write_json(folder / "result.json", {"status": status, "epochs_done": len(accuracies)})
    return folder


def lenet(**options: Any) -> Any:
    return PRESETS.get("lenet5_digits").create(**options)


@pytest.fixture
def run_root(tmp_path: Path) -> Path:
    root = tmp_path / "net.runs"
    big, small, smaller = lenet(), lenet(resolution=28), lenet(classes=5, resolution=28)
    write_run(root, "20261202-050000", big, [0.5, 0.9])  # most accurate, most parameters
    write_run(root, "20261202-050100", small, [0.7, 0.8], seconds=0.5)  # front (fewer params)
    write_run(root, "20261202-050200", small, [0.6, 0.75])  # same design, worse: dominated
    write_run(root, "20261202-050300", smaller, [0.3], status=None)  # still running: front
    write_run(root, "20261202-050400", big, [0.2])  # dominated by the first
    damaged = write_run(root, "20261202-050500", None, [0.95])  # no graph.json
    assert not (damaged / "graph.json").exists()
    write_run(root, "20261202-050600", None, [])  # no epoch yet: no accuracy
    (root / "20261202-050600" / "graph.json").write_text("{not json")
    return root


def test_run_folders_give_params_macs_time_and_a_design_fingerprint(run_root: Path) -> None:
    facts = {f.name: f for f in list_run_facts(run_root)}
    first, second, third = (facts[f"20261202-050{n}00"] for n in (0, 1, 2))
    expected = infer(lenet())
    assert (first.params, first.macs) == (expected.total_params, expected.total_macs)
    assert second.params == infer(lenet(resolution=28)).total_params < first.params
    assert second.fingerprint == third.fingerprint != first.fingerprint
    assert first.fingerprint == facts["20261202-050400"].fingerprint
    assert (first.best_val_accuracy, first.best_val_loss, first.seconds) == (
        0.9,
        pytest.approx(0.1),
        3.0,
    )
    assert first.started == "2026-12-02 05:00:00" and first.dataset == "digits"
    assert facts["20261202-050300"].status == "running"
    assert facts["20261202-050500"].params is None
    assert any("graph.json: missing" in p for p in facts["20261202-050500"].problems)
    assert any("graph.json: not valid JSON" in p for p in facts["20261202-050600"].problems)


def test_the_fingerprint_ignores_groups_and_layout_but_not_parameters() -> None:
    data = lenet().to_data()
    grouped = json.loads(json.dumps(data))
    grouped["nodes"][1]["group"] = ["stage 1"]
    changed = lenet(activation="tanh").to_data()
    assert design_fingerprint(grouped) == design_fingerprint(data)
    assert design_fingerprint(changed) != design_fingerprint(data)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_runs_command_json_marks_the_pareto_runs(run_root: Path) -> None:
    done = cli("runs", str(run_root), "--json", "--tradeoff", "params")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["runs"]) == 7
    plot = data["tradeoff"]
    assert plot["front"] == ["20261202-050300", "20261202-050100", "20261202-050000"]
    pareto = {r["name"]: r["pareto"] for r in data["runs"]}
    assert [n for n, on in pareto.items() if on] == sorted(plot["front"])
    assert {e["name"]: e["reason"] for e in plot["excluded"]} == {
        "20261202-050500": "no parameters",
        "20261202-050600": "no validation accuracy",
    }
    xs = [p["x"] for p in plot["points"]]
    assert xs == sorted(xs)
    # by training time the run without graph.json counts: 1.5 s at 95% beats everything slower
    by_time = json.loads(cli("runs", str(run_root), "--json", "--tradeoff", "seconds").stdout)
    assert by_time["tradeoff"]["front"] == ["20261202-050100", "20261202-050500"]


def test_runs_command_table(run_root: Path) -> None:
    done = cli("runs", str(run_root), "--tradeoff", "macs")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "best acc" in lines[0] and "params" in lines[0] and "design" in lines[0]
    marked = [line.split()[1] for line in lines[1:8] if line.startswith("*")]
    assert marked == ["20261202-050000", "20261202-050100", "20261202-050300"]
    row = next(line for line in lines if "20261202-050000" in line)
    assert f"{infer(lenet()).total_params:,}" in row and "90.00%" in row and "3.0 s" in row
    assert "Pareto front (best validation accuracy against MACs)" in done.stdout
    assert "not plotted: 20261202-050500: no MACs" in done.stdout
    assert "note: 20261202-050500: graph.json: missing" in done.stdout
    plain = cli("runs", str(run_root))
    assert plain.returncode == 0 and "Pareto" not in plain.stdout
    assert not any(line.startswith("*") for line in plain.stdout.splitlines())


def test_runs_command_bad_folder_and_empty_folder(tmp_path: Path) -> None:
    missing = cli("runs", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "runs folder does not exist" in missing.stderr and "nowhere" in missing.stderr
    (tmp_path / "file.txt").write_text("x")
    assert "is a file, not a folder" in cli("runs", str(tmp_path / "file.txt")).stderr
    bad_axis = cli("runs", str(tmp_path), "--tradeoff", "flops")
    assert bad_axis.returncode == 2 and "invalid choice" in bad_axis.stderr
    empty = cli("runs", str(tmp_path), "--json", "--tradeoff", "params")
    assert empty.returncode == 0
    assert json.loads(empty.stdout)["tradeoff"]["front"] == []
    assert "no runs in" in cli("runs", str(tmp_path)).stdout
