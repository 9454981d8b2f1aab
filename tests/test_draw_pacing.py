"""Issue 16, item 3: the dashboard's drawing during a run stays within a share of one core.

A draw that costs more CPU (a loaded machine, a large window, a slow display) is followed by
a longer wait, so the window never takes more than its budget from the training threads that
share the cores with it."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
import training_events as te

from designer.training.pacing import DrawPacer
from engine.training.events import Paused


class Clocks:
    """A wall clock and a CPU clock the test moves by hand."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def pacer(self, interval: float, budget: float) -> DrawPacer:
        return DrawPacer(interval, budget, clock=lambda: self.wall, cpu_clock=lambda: self.cpu)


def test_a_cheap_draw_waits_the_interval_and_a_costly_one_waits_its_budget() -> None:
    clocks = Clocks()
    pacer = clocks.pacer(interval=0.2, budget=0.02)
    assert pacer.due()
    pacer.drawing()
    clocks.wall, clocks.cpu = 0.1, 0.002  # a 2 ms draw (and its paint): 0.1 s of budget
    assert not pacer.due()
    clocks.wall = 0.2
    assert pacer.due()  # the interval rules
    pacer.drawing()
    clocks.wall, clocks.cpu = 0.3, 0.002 + 0.02  # a 20 ms draw: 1 s before the next
    assert not pacer.due()
    assert pacer.last_cost == pytest.approx(0.02)
    clocks.wall = 1.19
    assert not pacer.due()
    clocks.wall = 1.21
    assert pacer.due()


def test_cancel_takes_back_a_draw_that_drew_nothing_and_reset_starts_afresh() -> None:
    clocks = Clocks()
    pacer = clocks.pacer(interval=0.5, budget=0.02)
    pacer.drawing()
    clocks.wall, clocks.cpu = 0.6, 0.05
    assert not pacer.due()  # 50 ms of CPU: 2.5 s
    clocks.wall = 1.0
    pacer.drawing()
    pacer.cancel()  # nothing new to draw: the wait stays as it was
    assert pacer.next_due == pytest.approx(2.5)
    pacer.reset()
    assert pacer.due()


@pytest.mark.parametrize("interval, budget", [(-1.0, 0.02), (0.2, 0.0), (0.2, 1.5)])
def test_a_pacer_refuses_settings_that_cannot_pace(interval: float, budget: float) -> None:
    with pytest.raises(ValueError, match="budget"):
        DrawPacer(interval, budget)


def test_a_dashboard_whose_curves_draw_slowly_draws_them_less_often(qtbot, monkeypatch) -> None:
    """A curves draw that burns 30 ms of the UI thread (as on a loaded machine) is drawn at
    most once per 30 ms / 2 % = 1.5 s while the run trains, whatever the event rate; paused,
    the latest data is drawn at once."""
    from designer.training.dashboard import DRAW_BUDGET, TrainingDashboard

    dashboard = TrainingDashboard()
    qtbot.addWidget(dashboard)
    dashboard.resize(996, 560)
    dashboard.show()
    dashboard.begin("run")
    dashboard.apply([te.run_started(epochs=50)])
    draws: list[float] = []
    draw = dashboard._draw_curves

    def slow_draw() -> None:
        began = time.thread_time()
        while time.thread_time() - began < 0.03:  # bounded: 30 ms of this thread's CPU
            pass
        draws.append(time.perf_counter())
        draw()

    monkeypatch.setattr(dashboard, "_draw_curves", slow_draw)
    began = time.perf_counter()
    step = 0
    while time.perf_counter() - began < 2.0:  # ticks every 50 ms for two seconds
        step += 5
        trained = time.perf_counter() - began  # the run trains all along: its clock is wall's
        dashboard.apply([replace(te.step(step, total=10_000), elapsed=trained)])
        qtbot.wait(50)
    assert 1 <= len(draws) <= 2, draws  # at 5 Hz it would be 10
    if len(draws) == 2:
        assert draws[1] - draws[0] >= 0.03 / DRAW_BUDGET - 0.05
    drawn = len(draws)
    dashboard.apply([te.step(step + 5, total=10_000), Paused(step + 5)])
    assert len(draws) == drawn + 1  # paused: the latest at once, whatever the budget says
    assert dashboard.curves.raw.getData()[0][-1] == step + 5


def test_the_pacers_follow_the_runs_training_time_not_the_wall_clock(qtbot) -> None:
    """Time the run did not train (paused, validating, held back by other programs) gives the
    window no extra draws: per second of training it draws at the same rate."""
    from designer.training.dashboard import CURVE_INTERVAL, TrainingDashboard

    dashboard = TrainingDashboard()
    qtbot.addWidget(dashboard)
    dashboard.resize(996, 560)
    dashboard.show()
    dashboard.begin("run")
    dashboard.curve_pacer = DrawPacer(CURVE_INTERVAL, 1.0, clock=dashboard.run_clock)
    dashboard.apply([te.run_started(epochs=50), replace(te.step(5), elapsed=1.0)])  # drawn
    qtbot.wait(300)  # more than CURVE_INTERVAL of wall time, no training time
    dashboard.apply([replace(te.step(10), elapsed=1.05)])
    assert len(dashboard.curves.raw.getData()[0]) == 5  # not due: 0.05 s of training
    dashboard.apply([replace(te.step(15), elapsed=1.0 + CURVE_INTERVAL + 0.01)])
    assert len(dashboard.curves.raw.getData()[0]) == 15


def test_snapshots_are_due_by_training_time_so_a_pause_earns_none() -> None:
    """The snapshot taker's clock is the trainer's training seconds: after a pause of twice
    the live interval, the next snapshot still waits for MIN_INTERVAL of training (on the wall
    clock it was due at once)."""
    import threading

    from tiny_graphs import digits_cnn

    from engine.training.control import TrainingControl
    from engine.training.snapshots import MIN_INTERVAL
    from engine.training.trainer import Trainer

    control = TrainingControl()
    control.set_view(snapshot_parts=("filters",))
    settings = {"epochs": 50, "batch_size": 16, "data": {"dataset": "digits", "limit": 300}}
    trainer = Trainer(digits_cnn(), settings, control=control)
    began = time.perf_counter()
    taken: list[tuple[float, float]] = []  # (training seconds, wall) of each live snapshot
    paused_for = 0.0
    for event in trainer.run():
        if time.perf_counter() - began > 120:  # bounded
            control.stop()
        if event.kind == "snapshot":
            taken.append((trainer.training_seconds(), time.perf_counter()))
            if len(taken) == 1:
                control.pause()  # right after a live snapshot
            elif len(taken) == 2:
                control.stop()
        elif event.kind == "paused":
            paused_at = time.perf_counter()
            threading.Timer(MIN_INTERVAL * 2, control.resume).start()
        elif event.kind == "resumed":
            paused_for = time.perf_counter() - paused_at
    assert len(taken) >= 2 and paused_for >= MIN_INTERVAL * 2 - 0.05
    (trained_1, wall_1), (trained_2, wall_2) = taken[:2]
    assert trained_2 - trained_1 >= MIN_INTERVAL - 0.01  # it waited for training time
    assert wall_2 - wall_1 >= paused_for + MIN_INTERVAL - 0.05  # the pause was not counted


def test_the_runs_page_follows_a_fast_run_at_its_pace_and_shows_the_last_epoch_on_pause(
    qtbot, tmp_path, monkeypatch
) -> None:
    """Epochs a tenth of a second apart: the followed run is read once a second of training,
    not at every epoch end; a pause shows the epoch the pacing held back. (The page of a
    window's Runs view, as a user has it.)"""
    from designer_helpers import close_clean, training_window
    from tiny_graphs import digits_cnn

    from designer.training.runs_page import FOLLOW_BUDGET, FOLLOW_INTERVAL
    from engine.training.trainer import train

    settings = {"data": {"dataset": "digits", "limit": 64}, "epochs": 6, "batch_size": 16}
    events = list(train(digits_cnn(4), settings, run_root=tmp_path / "runs", snapshots=False))
    run_dir = Path(events[-1].run_dir)
    metrics = run_dir / "metrics.jsonl"
    lines = metrics.read_text().splitlines(keepends=True)
    window = training_window(qtbot, tmp_path, monkeypatch)
    try:
        _follow_at_pace(qtbot, window, run_dir, metrics, lines, FOLLOW_INTERVAL, FOLLOW_BUDGET)
    finally:
        window.training.shutdown()
        close_clean(window)


def _follow_at_pace(qtbot, window, run_dir, metrics, lines, interval, budget) -> None:
    metrics.write_text("")
    window.switch_view("runs")
    page = window.training.host.runs
    qtbot.waitUntil(page.isVisible, timeout=5_000)
    clocks = Clocks()
    assert page.follow_pacer.interval == interval
    page.follow_pacer = clocks.pacer(interval, budget)  # training time and CPU time by hand
    assert [page.cell(i, "epochs") for i in range(page.row_count())] == ["0"]  # listed, empty
    metrics.write_text(lines[0])
    page.follow(run_dir, run_dir.parent)  # the run's first epoch: read at once ...
    assert page.cell(0, "epochs") == "0"  # ... at the next turn of the event loop
    qtbot.waitUntil(lambda: page.cell(0, "epochs") == "1", timeout=5_000)
    clocks.cpu += 0.005  # the listing took 5 ms: 0.25 s of budget, less than the interval
    reads = page.follow_reads
    for epoch in range(2, 6):  # four more epochs, 0.1 s of training each
        clocks.wall += 0.1
        metrics.write_text("".join(lines[:epoch]))
        page.follow(run_dir)
        qtbot.wait(20)  # a read would come at the next turn of the event loop
    assert page.follow_reads == reads  # 0.4 s < the interval: nothing read again
    assert page.cell(0, "epochs") == "1"
    page.flush_follow()  # the run paused: its latest epoch shows
    assert page.follow_reads == reads + 1 and page.cell(0, "epochs") == "5"
    page.flush_follow()  # nothing new: no read
    assert page.follow_reads == reads + 1
    clocks.wall += interval
    metrics.write_text("".join(lines[:6]))
    page.follow(run_dir)  # a second of training later: read after the epoch's end
    qtbot.waitUntil(lambda: page.follow_reads == reads + 2, timeout=5_000)
    assert page.cell(0, "epochs") == "6"
