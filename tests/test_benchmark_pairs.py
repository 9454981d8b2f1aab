"""The dashboard benchmark's paired ratios (benchmarks/paired.py): which plain epochs a run's
epoch is compared with, and the Hodges–Lehmann estimate with its bootstrap interval."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.paired import hodges_lehmann, paired_ratio, sandwich_ratios


def test_each_counted_epoch_is_compared_with_the_plain_epochs_on_both_sides() -> None:
    run = [9.0, 2.0, 3.0, 4.0]  # epochs 1-4 of the run
    plain = [1.0, 4.0, 2.0]  # in the pauses after epochs 1, 2 and 3
    pairs = sandwich_ratios(plain, run, counted=[2, 3, 4])
    assert pairs[0] == (pytest.approx(2.0), 2.0)  # sqrt(1 * 4): before and after epoch 2
    assert pairs[1] == (pytest.approx(math.sqrt(8.0)), 3.0)
    assert pairs[2] == (2.0, 4.0)  # the last epoch: the plain epoch before it alone
    assert sandwich_ratios(plain, run, counted=[1, 7]) == []  # none before / not trained


def test_a_drift_linear_over_three_epochs_cancels() -> None:
    """Both sides slow down by the same steps: a run as fast as the loop gives 1 exactly,
    where pairing each run epoch with the plain one before it would say 0.95 or so."""
    speed = [1.0 + 0.05 * i for i in range(21)]  # seconds an epoch takes at time slot i
    plain = [speed[2 * i] for i in range(10)]  # plain epochs in even slots ...
    run = [speed[1]] + [speed[2 * i - 1] for i in range(1, 11)]  # ... run epochs in odd ones
    run = run[:10]
    pairs = sandwich_ratios(plain, run, counted=list(range(2, 10)))
    ratios = [p / r for p, r in pairs]
    assert ratios == pytest.approx([1.0] * len(ratios), abs=2e-3)


def test_hodges_lehmann_is_the_median_of_the_walsh_averages_and_shrugs_off_a_stall() -> None:
    assert hodges_lehmann(np.array([1.0, 2.0, 9.0])) == pytest.approx(3.5)  # 1 1.5 2 5 5.5 9
    values = np.log([1.0, 0.98, 1.02, 0.99, 1.01, 0.2])  # one epoch stalled five-fold
    assert math.exp(hodges_lehmann(values)) == pytest.approx(0.995, abs=0.01)


def test_paired_ratio_gives_an_interval_around_its_estimate() -> None:
    generator = np.random.default_rng(1)
    pairs = [(1.0, float(r)) for r in np.exp(generator.normal(math.log(1 / 0.97), 0.1, 40))]
    estimate, low, high = paired_ratio(pairs)
    assert low < estimate < high
    assert 0.92 < estimate < 1.02 and high - low < 0.1
    assert paired_ratio([]) is None
    assert paired_ratio([(1.0, 2.0)]) == (0.5, 0.5, 0.5)


def test_the_pages_take_turns_in_blocks_spread_over_the_run() -> None:
    """Each page's epochs come in ``rounds`` blocks spread over the whole run (a slow minute
    of the machine weighs on every page alike); a block's first epoch, the switch, and with
    probing every third epoch are not counted."""
    from benchmarks.bench_dashboard import PROBE_EVERY, Plan, rounds_for

    pages = ("curves", "filters", "runs")
    plan = Plan(pages, per_page=60, probe=True, rounds=rounds_for(60))
    assert (plan.rounds, plan.block, plan.epochs) == (5, 12, 1 + 3 * 60)
    order = [plan.page(e) for e in range(2, plan.epochs + 1)]
    assert order == [page for _ in range(5) for page in pages for _ in range(12)]
    switches = [e for e in range(2, plan.epochs + 1) if plan.starts_block(e)]
    assert len(switches) == 15 and not any(plan.counted(e) for e in switches)
    for page in pages:
        counted = [e for e in range(2, plan.epochs + 1) if plan.page(e) == page and plan.counted(e)]
        assert len(counted) == 5 * (12 - 12 // PROBE_EVERY)  # 40: four probed epochs a block
        assert {plan.round(e) for e in counted} == set(range(5))
    assert plan.page(1) == "curves" and plan.probed(1) and not plan.counted(1)
    smoke = Plan(pages, per_page=2, probe=True, rounds=rounds_for(2))  # one block of two
    assert (smoke.rounds, smoke.epochs) == (1, 7)
    loaded = Plan(pages, per_page=30, probe=False, rounds=rounds_for(30))
    assert sum(loaded.counted(e) for e in range(2, loaded.epochs + 1)) == 3 * 2 * 14
