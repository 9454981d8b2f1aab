"""The benchmark runner's command line (issue 16): ``python -m benchmarks NAME --json`` prints one
JSON object of results, an unknown name is refused with the list of names, and the dashboard
benchmark reports every page's measures. Figures are never asserted: only their shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["canvas", "dashboard", "dashboard_loaded", "engine", "presets", "startup", "training"]
PAGES = ["curves", "filters", "feature_maps", "gradient_flow", "evaluation", "predict", "runs"]


def run_benchmarks(*args: str, timeout: float, **env: str) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", **env)
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def only_json_object(stdout: str) -> dict[str, Any]:
    """stdout holds exactly one JSON object and nothing else."""
    report = json.loads(stdout)  # raises on anything before or after the object
    assert isinstance(report, dict)
    assert stdout.strip().count("\n") == 0, "one line: the object alone"
    assert set(report) == {"results", "seconds", "errors"}
    for result in report["results"]:
        assert set(result) == {"name", "value", "unit", "target", "met"}, result
        assert isinstance(result["name"], str) and result["name"].count(".") >= 1
        assert isinstance(result["unit"], str) and result["unit"]
        assert result["value"] is None or isinstance(result["value"], float)
        if result["target"] is None:
            assert result["met"] is None
        else:
            op, bound = result["target"].split(" ")
            assert op in ("<", "<=", ">=", ">")
            float(bound)
            if result["value"] is None:
                assert result["met"] is None
            else:  # met agrees with the value and the target
                value, limit = result["value"], float(bound)
                expected = {
                    "<": value < limit,
                    "<=": value <= limit,
                    ">=": value >= limit,
                    ">": value > limit,
                }[op]
                assert result["met"] is expected, result
    return report


def test_list_names_every_benchmark() -> None:
    done = run_benchmarks("--list", timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == NAMES


def test_an_unknown_name_is_refused_with_the_list_of_names() -> None:
    done = run_benchmarks("engine", "dashbord", "--json", timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "unknown benchmark 'dashbord'" in done.stderr
    assert ", ".join(NAMES) in done.stderr
    assert "Traceback" not in done.stderr


def test_json_mode_prints_one_object_with_the_engine_measures() -> None:
    done = run_benchmarks("engine", "--json", timeout=600)
    assert done.returncode == 0, done.stderr
    report = only_json_object(done.stdout)
    assert [r["name"] for r in report["results"]] == [
        "engine.inference_500_nodes.ms",
        "engine.compiled_vs_hand_written.ratio",
    ]
    assert [r["unit"] for r in report["results"]] == ["ms", "ratio"]
    assert all(isinstance(r["value"], float) for r in report["results"])
    assert list(report["seconds"]) == ["engine"] and report["errors"] == []
    # the human lines went to stderr
    assert "inference of 497 nodes" in done.stderr and "=== engine ===" in done.stderr


def test_without_json_the_human_text_is_on_stdout() -> None:
    done = run_benchmarks("engine", timeout=600)
    assert done.returncode == 0, done.stderr
    assert "inference of 497 nodes" in done.stdout
    assert not done.stdout.lstrip().startswith("{")


def test_a_bad_epoch_count_is_named_without_a_traceback() -> None:
    done = run_benchmarks("dashboard", "--json", timeout=120, BENCH_DASHBOARD_EPOCHS="1")
    assert done.returncode == 1
    report = only_json_object(done.stdout)
    assert report["results"] == []
    [error] = report["errors"]
    assert error["benchmark"] == "dashboard"
    assert "BENCH_DASHBOARD_EPOCHS" in error["error"] and "'1'" in error["error"]
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_dashboard_benchmarks_report_every_page() -> None:
    """Two epochs a page, one busy process in the loaded variant: the names and units only.

    About 30-60 s on a quiet 2-core machine; much longer on a loaded one (every epoch of both
    sides slows down many times over), hence the generous time limit."""
    done = run_benchmarks(
        "dashboard",
        "dashboard_loaded",
        "--json",
        timeout=840,
        BENCH_DASHBOARD_EPOCHS="2",
        BENCH_DASHBOARD_BUSY="1",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = only_json_object(done.stdout)
    units = {r["name"]: r["unit"] for r in report["results"]}
    expected = {f"dashboard.{page}.ratio": "ratio" for page in PAGES}
    expected |= {f"dashboard.{page}.max_gap_ms": "ms" for page in PAGES}
    expected |= {f"dashboard_loaded.{page}.ratio": "ratio" for page in PAGES}
    expected |= {
        f"{variant}.{page}.window_cpu": "fraction"
        for page in PAGES
        for variant in ("dashboard", "dashboard_loaded")
    }
    assert units == expected
    targets = {r["name"]: r["target"] for r in report["results"]}
    assert {targets[f"dashboard.{page}.ratio"] for page in PAGES} == {">= 0.95"}
    assert {targets[f"dashboard.{page}.max_gap_ms"] for page in PAGES} == {"<= 50"}
    assert {targets[f"dashboard_loaded.{page}.ratio"] for page in PAGES} == {">= 0.90"}
    # every page was measured: one pair of epochs each gives a ratio, the probed epochs a gap
    unmeasured = [r["name"] for r in report["results"] if r["value"] is None]
    assert unmeasured == [], done.stderr[-3000:]
    assert "NOTE" not in done.stderr, done.stderr[-3000:]
