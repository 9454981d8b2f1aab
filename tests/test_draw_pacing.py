"""Issue 16, item 3: the dashboard's drawing during a run stays within a share of one core.

A draw that costs more CPU (a loaded machine, a large window, a slow display) is followed by
a longer wait, so the window never takes more than its budget from the training threads that
share the cores with it."""

from __future__ import annotations

import time
from dataclasses import replace

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
    dashboard.curve_pacer = DrawPacer(CURVE_INTERVAL, 1.0, clock=dashboard._run_clock)
    dashboard.apply([te.run_started(epochs=50), replace(te.step(5), elapsed=1.0)])  # drawn
    qtbot.wait(300)  # more than CURVE_INTERVAL of wall time, no training time
    dashboard.apply([replace(te.step(10), elapsed=1.05)])
    assert len(dashboard.curves.raw.getData()[0]) == 5  # not due: 0.05 s of training
    dashboard.apply([replace(te.step(15), elapsed=1.0 + CURVE_INTERVAL + 0.01)])
    assert len(dashboard.curves.raw.getData()[0]) == 15
