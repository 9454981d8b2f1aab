"""A CPU run computes with as many threads as the rest of the machine leaves cores free
(engine.training.cores): looks at /proc/stat, lowers at once, raises after two looks, keeps
torch's own count as the ceiling and gives it back at the end."""

from __future__ import annotations

import os
import sys

import pytest
import torch

from benchmarks.busy import busy_processes
from engine.training.cores import CoreShare, busy_seconds, fitting_threads, read_stat
from engine.training.trainer import train
from presets import PRESETS

TICKS = float(os.sysconf("SC_CLK_TCK"))


class FakeMachine:
    """Two CPUs whose busy time, this process's CPU time and the clock the test moves."""

    def __init__(self) -> None:
        self.now, self.own, self.busy = 0.0, 0.0, 0.0
        self.readable = True
        self.set_to: list[int] = []

    def stat(self) -> str | None:
        if not self.readable:
            return None
        ticks = round(self.busy * TICKS / 2)  # half of it on each CPU
        return f"cpu  0 0 0 0\ncpu0 {ticks} 0 0 9 0 0 0 0 0 0\ncpu1 {ticks} 0 0 9 0 0 0 0 0 0\n"

    def run(self, seconds: float, own_cores: float, other_cores: float) -> None:
        self.now += seconds
        self.own += seconds * own_cores
        self.busy += seconds * (own_cores + other_cores)

    def share(self, ceiling: int = 2) -> CoreShare:
        return CoreShare(
            read=self.stat,
            cpus=[0, 1],
            clock=lambda: self.now,
            own_cpu=lambda: self.own,
            set_threads=self.set_to.append,
            ceiling=ceiling,
        )


def test_busy_seconds_sums_the_busy_fields_of_the_cpus_asked_for() -> None:
    text = (
        "cpu  9 9 9 9 9 9 9 9\n"
        "cpu0 100 10 20 500 7 1 2 3 0 0\n"  # user nice system idle iowait irq softirq steal
        "cpu1 50 0 0 900 0 0 0 0 0 0\n"
        "intr 1 2 3\n"
    )
    assert busy_seconds(text, [0], 100.0) == pytest.approx((100 + 10 + 20 + 1 + 2 + 3) / 100)
    assert busy_seconds(text, [0, 1], 100.0) == pytest.approx(1.86)
    assert busy_seconds(text, [2], 100.0) is None  # a CPU with no line: unknown, not zero


@pytest.mark.parametrize(
    ("others", "expected"), [(0.0, 2), (0.3, 2), (0.5, 2), (0.67, 1), (1.0, 1), (1.4, 1), (3.9, 1)]
)
def test_threads_are_the_cores_other_programs_leave_free(others: float, expected: int) -> None:
    assert fitting_threads(2, others, ceiling=2) == expected


def test_the_count_never_exceeds_the_ceiling_nor_falls_below_one() -> None:
    assert fitting_threads(16, 0.0, ceiling=8) == 8  # OMP_NUM_THREADS=8 is kept
    assert fitting_threads(16, 4.0, ceiling=16) == 12
    assert fitting_threads(4, 9.0, ceiling=4) == 1


def test_busy_cores_lower_the_count_at_once_and_free_ones_raise_it_after_two_looks() -> None:
    machine = FakeMachine()
    share = machine.share()
    assert share.active and share.threads == 2
    machine.run(0.5, own_cores=2.0, other_cores=0.0)
    assert share.after_step() == 2 and machine.set_to == []  # not a second yet: no look
    machine.run(0.75, own_cores=1.0, other_cores=1.0)  # another program took a core
    assert share.after_step() == 1 and machine.set_to == [1]
    assert share.others == pytest.approx(0.75 / 1.25)  # over the look's 1.25 s
    machine.run(1.0, own_cores=1.0, other_cores=1.0)
    assert share.after_step() == 1
    machine.run(1.0, own_cores=1.0, other_cores=0.0)  # it has gone: one look is not enough
    assert share.after_step() == 1 and machine.set_to == [1]
    machine.run(1.0, own_cores=1.0, other_cores=0.05)
    assert share.after_step() == 2 and machine.set_to == [1, 2]


def test_a_pause_is_not_looked_at() -> None:
    machine = FakeMachine()
    share = machine.share()
    machine.run(0.2, own_cores=2.0, other_cores=0.0)
    machine.run(30.0, own_cores=0.0, other_cores=2.0)  # paused: the benchmark's plain loop ran
    share.restart()
    machine.run(1.0, own_cores=1.95, other_cores=0.05)
    assert share.after_step() == 2 and machine.set_to == []


def test_nothing_changes_where_the_machine_cannot_be_read_or_one_thread_is_asked() -> None:
    machine = FakeMachine()
    machine.readable = False
    share = machine.share()
    machine.run(5.0, own_cores=1.0, other_cores=1.0)
    assert not share.active and share.after_step() == 2 and machine.set_to == []

    machine = FakeMachine()
    single = machine.share(ceiling=1)  # torchrun's OMP_NUM_THREADS=1, or the user's choice
    machine.run(5.0, own_cores=1.0, other_cores=1.0)
    assert not single.active and single.after_step() == 1 and machine.set_to == []


def test_the_count_is_given_back_at_the_end() -> None:
    machine = FakeMachine()
    share = machine.share()
    machine.run(1.0, own_cores=1.0, other_cores=1.0)
    share.after_step()
    share.close()
    assert machine.set_to == [1, 2] and share.threads == 2


def test_only_regular_files_are_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert read_stat(str(tmp_path)) is None  # a folder
    assert read_stat(str(tmp_path / "missing")) is None
    if os.path.exists("/proc/stat"):
        assert (read_stat() or "").startswith("cpu")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
def test_a_run_on_a_busy_machine_trains_with_fewer_threads_and_gives_them_back() -> None:
    ceiling = torch.get_num_threads()
    if ceiling < 2:
        pytest.skip("torch computes with one thread here: nothing to lower")
    cores = len(os.sched_getaffinity(0))
    seen: list[int] = []
    with busy_processes(cores, seconds=120):
        for event in train(
            PRESETS.get("lenet5").create(),
            {"data": {"dataset": "digits"}, "epochs": 3, "batch_size": 64},
        ):
            if event.kind == "failed":
                pytest.fail(event.message)
            if event.kind == "epoch_end":
                seen.append(event.threads)
    # one spinning process a core: every core is taken by more than half
    assert seen[-1] < ceiling, seen
    assert torch.get_num_threads() == ceiling  # the test process keeps its own count
