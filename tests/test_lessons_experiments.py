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
from designer_helpers import close_clean, shown_window
from PySide6.QtWidgets import QLabel

from designer.lessons.compare import CompareWindow
from designer.main_window import MainWindow
from engine.lessons.experiments import EXPERIMENTS
from engine.training.runs import list_runs, read_metrics

pytestmark = pytest.mark.gui
TINY = ["--epochs", "1", "--limit", "64", "--seed", "0"]  # the data set: the base design's


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    win = shown_window(qtbot, tmp_path, monkeypatch)
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
    # (a): both runs' first-layer filters side by side, below both validation curves
    pictures = [compare.findChild(QLabel, f"filters_{row}") for row in range(2)]
    assert all(p is not None and p.isVisible() and not p.pixmap().isNull() for p in pictures)
    first, second = (p.mapTo(compare, p.rect().topLeft()) for p in pictures)
    assert first.x() + pictures[0].width() <= second.x() and abs(first.y() - second.y()) < 40
    curves = compare.accuracy_plot.getPlotItem().listDataItems()
    assert sorted(item.name() for item in curves) == sorted(labels)
    plot_bottom = compare.accuracy_plot.mapTo(compare, compare.accuracy_plot.rect().bottomLeft())
    assert plot_bottom.y() <= first.y()
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
    from engine.lessons.variants import with_local

    window.lessons.open("cnn_vs_mlp")  # LeNet-5: the experiment trains the open design
    window.lessons.panel.experiment_button.click()  # the lesson's own experiment button
    run = window.lessons.run
    qtbot.waitUntil(
        lambda: not run.is_running() and window.lessons.compare is not None, timeout=90_000
    )
    assert run.error is None, run.error
    compare = window.lessons.compare
    base = window.document.graph
    assert compare.note.text() == "Trained on the open design lenet5 with digits."
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


def test_dropout_lesson_experiment_trains_the_open_design_on_its_data_set(
    qtbot, window: MainWindow
) -> None:
    """The dropout lesson opens the small VGG (Shapes): its experiment trains that network
    with p = 0 and p = 0.5 on Shapes, not a fixed LeNet-5."""
    window.lessons.open("dropout")
    opened = window.document.graph.to_data()
    window.lessons.panel.experiment_button.click()
    assert "small_vgg with shapes" in window.lessons.panel.status.text()
    run = window.lessons.run
    qtbot.waitUntil(
        lambda: not run.is_running() and window.lessons.compare is not None, timeout=90_000
    )
    assert run.error is None, run.error
    compare = window.lessons.compare
    assert compare.note.text() == "Trained on the open design small_vgg with shapes."
    names = {n["name"] for n in opened["nodes"]}
    for record in run.results:
        folder = Path(record["run"])
        graph = json.loads((folder / "graph.json").read_text())
        assert {n["name"] for n in graph["nodes"]} == names  # the same network
        (p,) = [n["params"]["p"] for n in graph["nodes"] if n["type"] == "dropout"]
        assert p == float(record["label"].split("= ")[1])
        settings = json.loads((folder / "settings.json").read_text())["settings"]
        assert settings["data"]["dataset"] == "shapes"
        assert compare.filters[record["label"]].shape[0] == 3  # the 3×3 first convolution
    assert len(list_runs(window.training.run_root)) == 2


def test_batchnorm_experiment_on_an_unsuitable_design_falls_back_and_says_so(
    qtbot, window: MainWindow
) -> None:
    """(c) BatchNorm on/off from Lessons ▸ Experiments: the transposed-convolution lesson's tiny
    design has no Conv2d to normalise, so LeNet-5 for Digits is trained instead, with a
    message."""
    window.lessons.open("transposed")
    compare = _run(qtbot, window, "batchnorm")
    assert compare.note.text().startswith(
        "Not on the open design: BatchNorm variant: the design has no convolution to normalise."
    )
    assert compare.note.text().endswith("Trained on LeNet-5 for Digits with digits instead.")
    assert compare.note.isVisible()
    by_label = {r["label"]: Path(r["run"]) for r in window.lessons.run.results}
    assert sorted(by_label) == ["BatchNorm off", "BatchNorm on"]
    for label, folder in by_label.items():
        graph = json.loads((folder / "graph.json").read_text())
        norms = {n["name"] for n in graph["nodes"] if n["type"] == "batchnorm"}
        fed = {e[2]: e[0] for e in graph["edges"] if e[2] in norms}  # [src, port, dst, port]
        assert sorted(fed.values()) == (["conv1", "conv2"] if label == "BatchNorm on" else [])
        assert compare.curves[label] == [m["val_accuracy"] for m in read_metrics(folder)]
    curves = compare.accuracy_plot.getPlotItem().listDataItems()
    assert sorted(item.name() for item in curves) == sorted(by_label)
    assert len(compare.loss_plot.getPlotItem().listDataItems()) == 2
