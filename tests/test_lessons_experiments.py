"""The one-click experiments (issue 18 point 7) started from the Lessons menu with tiny settings:
the variants train in a background process as ordinary run folders in the window's runs folder,
and the comparison window shows their curves and what the experiment is about."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from designer_helpers import DialogRecorder, close_clean, isolate_user_dirs

from designer.app import create_window
from designer.lessons.compare import CompareWindow
from designer.main_window import MainWindow
from engine.lessons.experiments import EXPERIMENTS
from engine.training.runs import list_runs, read_metrics

pytestmark = pytest.mark.gui
TINY = ["--data", "digits", "--epochs", "1", "--limit", "64", "--seed", "0"]


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    isolate_user_dirs(tmp_path, monkeypatch)
    DialogRecorder().install(monkeypatch)
    win = create_window()
    qtbot.addWidget(win)
    win.show()
    win.training.run_root = tmp_path / "runs"
    win.lessons.experiment_args = list(TINY)
    yield win
    if win.lessons.compare is not None:
        win.lessons.compare.close()
    close_clean(win)


def _run(qtbot, window: MainWindow, key: str) -> CompareWindow:
    window.lessons.actions[f"experiment_{key}"].trigger()
    run = window.lessons.run
    assert run is not None and run.is_running()  # in the background: the window goes on
    qtbot.waitUntil(
        lambda: not run.is_running() and window.lessons.compare is not None, timeout=90_000
    )
    assert run.error is None, run.error
    compare = window.lessons.compare
    assert isinstance(compare, CompareWindow) and compare.isVisible()
    return compare


def test_dropout_experiment_trains_both_runs_and_compares_filters(
    qtbot, window: MainWindow
) -> None:
    compare = _run(qtbot, window, "dropout")
    labels = [label for label, _ in EXPERIMENTS["dropout"].variants]
    runs = list_runs(window.training.run_root)
    assert len(runs) == 2 and all(r.status == "completed" for r in runs)
    by_label = {r["label"]: Path(r["run"]) for r in window.lessons.run.results}
    assert sorted(by_label) == sorted(labels)
    for label, folder in by_label.items():
        graph = json.loads((folder / "graph.json").read_text())
        drops = [n["params"]["p"] for n in graph["nodes"] if n["type"] == "dropout"]
        assert drops == [float(label.split("= ")[1])]
        assert compare.curves[label] == [m["val_accuracy"] for m in read_metrics(folder)]
        assert compare.filters[label].shape[0] == 5  # conv1's 5×5 filters side by side
    assert compare.table.rowCount() == 2
    runs_page = window.training.host.runs  # the Runs view lists both runs
    assert runs_page is not None and runs_page.model.rowCount() == 2
    assert compare.table.item(0, 4).text() == str(by_label[compare.table.item(0, 0).text()])


def test_activation_experiment_compares_gradient_norms_per_layer(qtbot, window: MainWindow) -> None:
    compare = _run(qtbot, window, "activations")
    assert sorted(compare.norms) == sorted(
        label for label, _ in EXPERIMENTS["activations"].variants
    )
    layers = {tuple(norms) for norms in compare.norms.values()}
    assert layers == {("conv1", "conv2", "fc1", "fc2", "fc3")}  # the same layers in every run
    assert all(v > 0 for norms in compare.norms.values() for v in norms.values())
    assert len(list_runs(window.training.run_root)) == 3


def test_the_job_refuses_a_spec_it_cannot_read(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "designer.lessons.job", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot read the spec" in done.stderr and "missing.json" in done.stderr
    assert time.monotonic() - started < 30


def test_lc_vs_conv_experiment_shows_each_runs_parameters(qtbot, window: MainWindow) -> None:
    from engine import infer
    from engine.lessons.experiments import BASE_PRESET
    from engine.lessons.variants import with_local
    from presets import PRESETS

    window.lessons.open("cnn_vs_mlp")
    window.lessons.panel.experiment_button.click()  # the lesson's own experiment button
    run = window.lessons.run
    qtbot.waitUntil(
        lambda: not run.is_running() and window.lessons.compare is not None, timeout=90_000
    )
    assert run.error is None, run.error
    compare = window.lessons.compare
    base = PRESETS.get(BASE_PRESET).create()
    expected = {
        "convolution": infer(base).total_params,
        "locally connected": infer(with_local(base)).total_params,
    }
    shown = {
        compare.table.item(row, 0).text(): compare.table.item(row, 1).text()
        for row in range(compare.table.rowCount())
    }
    assert shown == {label: f"{count:,}" for label, count in expected.items()}
    assert len(list_runs(window.training.run_root)) == 2
