"""Issue 16, items 3-5: live views that cost the run nothing, Runs and Predict following a
run that is training, and charts that stay readable at the Train view's smallest size.

The snapshot parts and the mailbox are driven through the real trainer and a real training
process; the window tests use the real main window under qtbot.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import pytest
import training_events as te
from designer_helpers import close_clean, training_window
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPicture
from PySide6.QtWidgets import QApplication
from tiny_graphs import digits_cnn

from engine.training.control import TrainingControl
from engine.training.events import EpochEnd, Finished, Paused, Snapshot, Step
from engine.training.mailbox import Mailbox
from engine.training.runner import start_training
from engine.training.trainer import train

pytestmark = pytest.mark.timeout(180)

FAST = {"data": {"dataset": "digits", "limit": 400}, "batch_size": 16, "snapshot_budget": 0.5}


# ----- snapshots: only the parts of the page in front --------------------------------------
def test_snapshots_take_only_the_parts_of_the_page_in_front(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Filters in front: the live snapshots hold filters only (no feature-map forward pass, no
    gradient hooks); a full one comes every IDLE_INTERVAL and with the last step."""
    monkeypatch.setattr("engine.training.snapshots.MIN_INTERVAL", 0.0)
    monkeypatch.setattr("engine.training.snapshots.IDLE_INTERVAL", 1e9)
    control = TrainingControl()
    control.set_view(snapshot_parts=("filters",))
    snaps = [
        e
        for e in train(digits_cnn(), {**FAST, "epochs": 1}, control=control)
        if isinstance(e, Snapshot)
    ]
    live, last = snaps[:-1], snaps[-1]
    assert len(live) >= 5
    for snap in live:
        assert snap.parts == ("filters",) and "conv1" in snap.filters
        assert snap.feature_maps is None and not snap.grad_norms and not snap.histograms
        assert not snap.dead_relu
    assert last.parts == ("filters", "feature_maps", "gradients")  # the final weights, whole
    assert last.feature_maps is not None and last.grad_norms and last.histograms
    control = TrainingControl()
    control.set_view(snapshot_parts=("gradients",))
    snaps = [
        e
        for e in train(digits_cnn(), {**FAST, "epochs": 1}, control=control)
        if isinstance(e, Snapshot)
    ]
    assert all(s.parts == ("gradients",) and not s.filters for s in snaps[:-1])
    assert all(s.grad_norms and "relu1" in s.dead_relu for s in snaps[:-1])


def test_no_snapshot_is_taken_while_the_last_one_is_on_its_way() -> None:
    """The trainer takes no snapshot while one is in flight to the window (only the last
    step's, which shows the final weights)."""
    control = TrainingControl()
    control.snapshot_sent()  # as if the window had not taken one yet
    snaps = [
        e
        for e in train(digits_cnn(), {**FAST, "epochs": 1}, control=control)
        if isinstance(e, Snapshot)
    ]
    assert len(snaps) == 1 and snaps[0].parts == ("filters", "feature_maps", "gradients")


# ----- the mailbox: merged, never queued without bound -------------------------------------
def test_waiting_steps_and_snapshots_are_merged_and_nothing_is_lost() -> None:
    box = Mailbox()
    box.put(te.run_started())
    for n in range(5, 1005, 5):  # 200 steps events and 200 snapshots the window did not take
        box.put(te.step(n, total=2000))
        box.put(te.snapshot(n))
    box.put(te.epoch_end(1, 1000))
    box.put(te.step(1005, total=2000, epoch=2))
    events = box.take(10_000)
    kinds = [e.kind for e in events]
    assert kinds == ["run_started", "step", "snapshot", "epoch_end", "step"]
    step = events[1]
    assert step.step == 1000 and len(step.losses) == 1000  # every loss, in order
    assert step.losses == tuple(
        itertools.chain.from_iterable(te.step(n, total=2000).losses for n in range(5, 1005, 5))
    )
    assert events[2].step == 1000 and box.most_waiting == len(events)
    assert box.merged_steps == 199 and box.merged_snapshots == 199


def test_a_merged_snapshot_keeps_the_parts_only_the_older_one_had() -> None:
    from dataclasses import replace

    box = Mailbox()
    full = te.snapshot(1)
    filters_only = replace(
        te.snapshot(2), parts=("filters",), feature_maps=None, grad_norms={}, histograms={}
    )
    box.put(full)
    box.put(filters_only)
    (merged,) = box.take(10)
    assert merged.step == 2 and merged.filters is filters_only.filters
    assert merged.feature_maps is full.feature_maps and merged.grad_norms == full.grad_norms
    assert set(merged.parts) == {"filters", "feature_maps", "gradients"}


def test_a_window_that_takes_200_ms_per_batch_never_holds_the_run_back(tmp_path: Path) -> None:
    """A real training process and a consumer that spends 200 ms on every batch of events:
    every loss arrives, merged into few events; at most one snapshot is in flight at a time, so
    the process neither queues nor computes snapshots the window cannot take."""
    control_view = {"snapshot_parts": ("filters",)}
    handle = start_training(
        digits_cnn().to_data(),
        {**FAST, "epochs": 3, "step_interval": 0.0, "snapshot_budget": 0.5},
        tmp_path / "runs",
    )
    handle.set_view(**control_view)
    batches: list[list] = []
    in_flight: list[int] = []
    deadline = time.monotonic() + 150
    try:
        while time.monotonic() < deadline:
            events = handle.poll_events(timeout=0.2)
            in_flight.append(handle.control.snapshots_in_flight)
            batches.append(events)
            if any(isinstance(e, Finished) for e in events):
                break
            time.sleep(0.2)  # the window drawing them
    finally:
        handle.shutdown()
    events = [e for batch in batches for e in batch]
    assert isinstance(events[-1], Finished) and events[-1].status == "completed"
    steps = [e for e in events if isinstance(e, Step)]
    losses = [loss for e in steps for loss in e.losses]
    assert len(losses) == events[-1].steps  # every step's loss, once
    ends = [e.step for e in steps]
    assert ends == sorted(ends)
    for batch in batches:  # per batch: at most one step per epoch, at most one snapshot
        assert sum(isinstance(e, Snapshot) for e in batch) <= 1
        epochs = sum(isinstance(e, EpochEnd) for e in batch)
        assert sum(isinstance(e, Step) for e in batch) <= epochs + 1
    assert max(in_flight) <= 1
    assert handle.mailbox.most_waiting <= 3 + 3 * 3  # three per epoch at most, and the ends
    assert handle.mailbox.merged_steps > 0  # step_interval 0: a step event per step


# ----- Runs and Predict follow a run that is training --------------------------------------
@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    win = training_window(qtbot, tmp_path, monkeypatch)
    yield win
    win.training.shutdown()
    close_clean(win)


def _pause_after_next_epoch(qtbot, controller, dashboard, epoch: int) -> None:
    controller.handle.pause_after_epoch()
    if dashboard.state == "paused":
        controller.resume()
    qtbot.waitUntil(
        lambda: dashboard.state == "paused" and dashboard.val_accs.size >= epoch,
        timeout=90_000,
    )
    assert dashboard.val_accs.size == epoch


def _predict(qtbot, predict) -> object:
    predict.last = None
    predict.predict_sample(3)
    qtbot.waitUntil(lambda: predict.last is not None, timeout=90_000)
    assert not isinstance(predict.last, str), predict.last
    return predict.last


def _best_epoch(run_dir: Path) -> int:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    accuracies = [r["val_accuracy"] for r in records]
    return accuracies.index(max(accuracies)) + 1  # the first best (best.pt is replaced on >)


def test_runs_and_predict_follow_a_run_between_its_epochs(qtbot, window) -> None:
    controller = window.training
    window.document.project.training = {**FAST, "epochs": 6}
    assert controller.train()
    dashboard = controller.host.dashboard
    runs, predict = controller.host.runs, controller.host.predict
    _pause_after_next_epoch(qtbot, controller, dashboard, 1)
    run_dir = Path(dashboard.started.run_dir)
    # listed once while hidden (its first epoch), so that showing the page is a small update
    qtbot.waitUntil(lambda: runs.row_count() == 1, timeout=5_000)
    assert not runs.isVisible() and runs.cell(0, "epochs") == "1"
    window.switch_view("runs")
    qtbot.waitUntil(runs.isVisible, timeout=5_000)
    texts = [(runs.cell(i, "status"), runs.cell(i, "epochs")) for i in range(runs.row_count())]
    assert texts == [("running", "1")], texts
    qtbot.waitUntil(lambda: str(run_dir) in runs.curves, timeout=5_000)  # the next turn
    acc_curve, _loss_curve = runs.curves[str(run_dir)]
    assert len(acc_curve.getData()[0]) == 1
    first = _predict(qtbot, predict)
    assert first.probabilities.shape == (10,)
    assert abs(float(first.probabilities.sum()) - 1.0) < 1e-4
    assert first.epoch == 1 and "weights of epoch 1" in predict.result.text()
    assert "is training" in predict.info.text()
    reads = runs.follow_reads
    _pause_after_next_epoch(qtbot, controller, dashboard, 2)  # Runs in front: updated at once
    texts = [(runs.cell(i, "status"), runs.cell(i, "epochs")) for i in range(runs.row_count())]
    assert texts == [("running", "2")], texts
    assert len(acc_curve.getData()[0]) == 2 and runs.follow_reads == reads + 1  # once an epoch
    second = _predict(qtbot, predict)
    assert second.epoch == _best_epoch(run_dir)  # the newest best.pt, read while it runs
    window.switch_view("design")  # hidden: the page waits, then reads the run once when shown
    reads = runs.follow_reads
    _pause_after_next_epoch(qtbot, controller, dashboard, 3)
    assert runs.follow_reads == reads
    window.switch_view("runs")
    qtbot.waitUntil(lambda: runs.follow_reads == reads + 1, timeout=5_000)
    assert (runs.cell(0, "status"), runs.cell(0, "epochs")) == ("running", "3")
    assert controller.is_running()  # predicting never stopped the run
    controller.resume()
    controller.stop()
    qtbot.waitUntil(lambda: not controller.is_running(), timeout=60_000)
    assert dashboard.state == "stopped"


# ----- charts readable at the Train view's smallest size -------------------------------------
def _labels(axis) -> list[QRectF]:
    """The scene rectangles of the tick labels the axis draws."""
    picture = QPicture()
    painter = QPainter(picture)
    specs = axis.generateDrawSpecs(painter)
    painter.end()
    if specs is None:
        return []
    return [axis.mapRectToScene(rect) for rect, _flags, _text in specs[2]]


def _plots(dashboard) -> list:
    c, g, e = dashboard.curves, dashboard.gradients, dashboard.evaluation
    return [
        (c, [c.loss_plot, c.acc_plot, c.lr_plot, c.speed_plot]),
        (g, [g.norm_plot, g.dead_plot, g.hist_plot]),
        (e, [e.confusion_plot, e.class_plot]),
    ]


def test_charts_keep_their_labels_apart_at_the_smallest_train_view(qtbot, window) -> None:
    window.resize(1280, 720)
    window.switch_view("train")
    dashboard = window.training.host.ensure_dashboard()
    dashboard.page_interval = 0.0
    dashboard.begin("a run of many steps")
    many_layers = tuple(f"features.{i}.conv" for i in range(24))  # long names, crowded
    from dataclasses import replace

    started = replace(
        te.run_started(epochs=60, steps_per_epoch=1000),
        classes=tuple(f"class {i}" for i in range(10)),
    )
    dashboard.apply([started])
    events: list[object] = []
    for n in range(50, 12_001, 50):
        events.append(te.step(n, count=50, total=60_000))
        if n % 1000 == 0:
            events.append(te.epoch_end(n // 1000, n))
    snap = te.snapshot(7)
    events.append(
        replace(
            snap,
            grad_norms={name: 10.0 ** -(i % 6) for i, name in enumerate(many_layers)},
            dead_relu={name: 0.1 * (i % 10) for i, name in enumerate(many_layers)},
        )
    )
    dashboard.state = "paused"  # drawn at once
    dashboard.apply(events)
    for page, plots in _plots(dashboard):
        dashboard.show_page(page)
        QApplication.processEvents()
        for plot in plots:
            name = plot.titleLabel.text
            assert plot.geometry().height() >= 150, name
            assert plot.vb.sceneBoundingRect().height() >= 90, name
            for side in ("left", "bottom"):
                rects = _labels(plot.getAxis(side))
                assert rects, (name, side)
                for a, b in itertools.combinations(rects, 2):
                    assert not a.intersects(b), (name, side, a, b)
            if plot.legend is not None:  # outside the data
                legend = plot.legend.sceneBoundingRect()
                assert not legend.intersects(plot.vb.sceneBoundingRect()), name
    curves = dashboard.curves
    assert all(
        p.geometry().height() >= 150
        for p in (curves.loss_plot, curves.acc_plot, curves.lr_plot, curves.speed_plot)
    )
    loss_labels = _labels(curves.loss_plot.getAxis("bottom"))
    assert 3 <= len(loss_labels) <= 8  # fewer ticks than pyqtgraph's default, still some


def test_hidden_pages_and_a_hidden_dashboard_draw_nothing(qtbot) -> None:
    from designer.training.dashboard import TrainingDashboard

    dashboard = TrainingDashboard()
    qtbot.addWidget(dashboard)
    dashboard.resize(996, 560)
    dashboard.show()
    dashboard.begin("run")
    dashboard.apply([te.run_started()])
    dashboard.show_page(dashboard.filters)
    dashboard.apply([te.step(5), te.snapshot(5)])
    assert dashboard.filters.first.image is not None  # the page in front draws
    assert dashboard.curves.raw.getData()[0] is None  # the curves, behind it, wait
    first = dashboard.filters.first.image
    dashboard.apply([te.step(10), te.snapshot(10)])  # within PAGE_INTERVAL: not redrawn
    assert dashboard.filters.first.image is first
    dashboard.hide()
    time.sleep(0.6)
    dashboard.apply([te.step(15), te.snapshot(15)])
    assert dashboard.filters.first.image is first  # hidden: nothing drawn
    dashboard.show()  # shown: the latest data, once
    assert dashboard.filters.first.image is not first
    dashboard.show_page(dashboard.curves)
    assert list(dashboard.curves.raw.getData()[0]) == list(range(1, 16))
    assert np.isfinite(dashboard.curves.raw.getData()[1]).all()


def test_the_evaluation_page_draws_twice_a_second_at_most_while_running(qtbot) -> None:
    """Epochs of a tenth of a second: a confusion matrix and gallery each epoch took a tenth of
    the run's time; the newest is drawn at most every PAGE_INTERVAL, and at once on a pause."""
    from designer.training.dashboard import PAGE_INTERVAL, TrainingDashboard
    from designer.training.pacing import DrawPacer

    dashboard = TrainingDashboard()
    qtbot.addWidget(dashboard)
    dashboard.resize(996, 560)
    dashboard.show()
    dashboard.begin("run")
    # the rate alone (the CPU budget, which a loaded test machine stretches, is tested apart)
    dashboard.page_pacer = DrawPacer(PAGE_INTERVAL, budget=1.0)
    dashboard.apply([te.run_started(epochs=10)])
    dashboard.show_page(dashboard.evaluation)
    title = dashboard.evaluation.confusion_plot.titleLabel
    dashboard.apply([te.step(20), te.epoch_end(1, 20)])
    assert "epoch 1" in title.text
    dashboard.apply([te.step(40), te.epoch_end(2, 40)])
    assert "epoch 1" in title.text  # too soon: waits
    time.sleep(PAGE_INTERVAL + 0.05)
    dashboard.apply([te.step(45)])
    assert "epoch 2" in title.text
    dashboard.apply([te.step(60), te.epoch_end(3, 60)])
    dashboard.apply([Paused(60)])
    assert "epoch 3" in title.text  # paused: the latest at once


def test_starting_a_run_moves_the_windows_objects_out_of_the_collectors_way(qtbot, window):
    """A full garbage collection walks every object of the window (and torch's, once loaded):
    about 0.1 s, which came in the middle of runs as an 80-140 ms freeze. Starting a run
    collects once and freezes what is alive, so collections during the run walk only what
    the run made."""
    import gc

    gc.unfreeze()
    alive = len(gc.get_objects())
    window.document.project.training = {**FAST, "epochs": 1}
    assert window.training.train()
    assert gc.get_freeze_count() >= alive // 2  # the window's objects, frozen
    assert len(gc.get_objects()) < alive // 2  # what a collection walks during the run
    window.training.stop()
    qtbot.waitUntil(lambda: not window.training.is_running(), timeout=90_000)
