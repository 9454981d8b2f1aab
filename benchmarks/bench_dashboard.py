"""The live dashboard's cost (issues 5 and 16), with each dashboard page in front in turn:
training throughput with the designer window drawing every event, against a plain PyTorch loop
on the same model (LeNet-5), data (Digits at 1×32×32) and batch size in this process (target
≥ 0.95 for every page), and the longest gap between event-loop ticks of the window while it
trains (target ≤ 50 ms for every page). Measures: ``dashboard.<page>.ratio`` and
``dashboard.<page>.max_gap_ms`` for the pages Curves, Filters, Feature maps, Gradient flow,
Evaluation, Predict and Runs (slugs ``curves``, ``filters``, ``feature_maps``,
``gradient_flow``, ``evaluation``, ``predict``, ``runs``). ``bench_dashboard_loaded`` runs the
same with busy processes competing for the cores.

One run trains in its own process (as in the designer) while the pages are brought to the
front one after another, in that order, as a click on a page's tab does (where the window has
views and a page is a view of its own, as Runs may be, a click on that view's switch; a
dashboard tab is then shown in the Train view): the first epoch with Curves in front (the
child starts), then a block of ``BLOCK_EPOCHS`` (12) epochs for each page, the pages taking
turns until each has had its share (ten turns by default), so that each page's epochs are
spread over the whole run and a slow minute of the machine weighs on every page alike (with
one block of 60 a page, a page's figure moved by ±0.025 from run to run, more than its pairs'
spread explains). The page changes at the start of each of its blocks while the run trains
(the click an event of its own, posted as the run resumes, as a user's click never runs inside
the window's poll of the run's events), and that first epoch of a block (the page's draw as it
comes to the front, the first one included; the training process told which snapshots are
looked at) is not counted for throughput; what a page leaves behind after it goes to the
back shows in the next page's figures, as a user who moves between pages would see it. The
page's epochs are paired with plain epochs: the two sides are interleaved, because the load on
these shared machines drifts by ±30 % within seconds. The run pauses between each two of its
epochs (``TrainingHandle.pause_after_epoch``), the benchmark runs one epoch of the plain loop and
resumes it. Each run epoch is compared with the plain epochs before and after it (their
geometric mean: a drift over the three cancels), and a page's verdict is the Hodges–Lehmann
estimate of the pairs' ratios, with a 90 % bootstrap interval beside it
(``benchmarks/paired.py``), and the ratio of the fastest epochs. The plain epoch computes
with as many threads as the run had at its last epoch's end (the trainer fits its count to the
cores other programs leave free, ``engine.training.cores``; on a quiet machine both keep
torch's own count), so that a ratio is the window's cost, never the threads'. No epoch
is split by a pause (each half would start cold), and each side starts 25 ms after the other
stopped, once the other's OpenMP threads have stopped spinning (about 10 ms). The window draws
each epoch's end after the resume, while the next epoch trains, as in a run that is never
paused, and never sees the pauses: they are taken out of the events the window polls, so
neither the controller (its status line, its Pause and Resume actions) nor the dashboard
reacts to them (a "Paused" and a "Resumed" message an epoch cost the window about as much CPU
as the page in front did). docs/benchmarks.md tells what each of these choices changed.

The two measurements take turns, so that neither instrument weighs on the other: the 5 ms
ticker that finds the event loop's gaps runs in the run's first epoch (with the first event)
and in every third epoch of each page's block, starting with its first (the page's first
draw included); only the other epochs count for throughput. The ticker wakes the window 200
times a second; on two cores that took about 2 % from training. The ticks are not measured
while the run is paused.

Epochs per page: 120 by default, in ten turns of 12 (80 counted pairs and 40 probed epochs a
page; one run of 841 epochs, 0.35-0.7 s each with its plain epoch: five to ten minutes on a
quiet 2-core machine). One pair's log ratio scatters by about 0.11 on these machines, so a
page's estimate from 40 pairs moved by ±0.02, as far as a page's cost is from the target;
from 80 pairs about ±0.013.
Beside each ratio the benchmark prints the CPU this process (the window) used while the run
trained the counted epochs, as a share of a core (``dashboard.<page>.window_cpu``): on two
cores that share is taken from the training threads, and it moves far less from run to run
than the ratio does.
``BENCH_DASHBOARD_EPOCHS`` sets another count (at least 2, for one pair a page: a smoke run),
``BENCH_DASHBOARD_PAGES`` a comma-separated subset of the slugs. The run is stopped if it takes
longer than 120 s plus 15 s an epoch; the figures then come from the epochs done.

It runs on the platform QT_QPA_PLATFORM names (offscreen when unset). Note that Qt's offscreen
platform paints more per update than a real display does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.busy import busy_processes
from benchmarks.paired import paired_ratio, sandwich_ratios
from benchmarks.results import BenchmarkSettingError, Measure, measure

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# (slug in the measures' names, the tab's title)
PAGES = (
    ("curves", "Curves"),
    ("filters", "Filters"),
    ("feature_maps", "Feature maps"),
    ("gradient_flow", "Gradient flow"),
    ("evaluation", "Evaluation"),
    ("predict", "Predict"),
    ("runs", "Runs"),
)
EPOCHS = 120  # per page: ten turns of 12
EPOCHS_VARIABLE = "BENCH_DASHBOARD_EPOCHS"
PAGES_VARIABLE = "BENCH_DASHBOARD_PAGES"
BUSY_VARIABLE = "BENCH_DASHBOARD_BUSY"
PROBE_EVERY = 3  # the ticker runs in the 1st, 4th, 7th, ... epoch of each page's block
# the pages take turns in blocks of about this many epochs, so that each page's epochs are
# spread over the whole run and a slow minute of the machine weighs on every page alike
BLOCK_EPOCHS = 12
BATCH = 64
TICK_MS = 5
RATIO_TARGET = ">= 0.95"
GAP_TARGET = "<= 50"
# OpenMP's threads spin for about 10 ms after their last parallel work before they sleep, taking
# one of the two cores: each side starts only once the other's threads have gone to sleep
SETTLE_SECONDS = 0.025


def run_limit_seconds(epochs: int) -> float:
    """How long a run of ``epochs`` may take before it is stopped (a bound, not an estimate)."""
    return 120.0 + 15.0 * epochs


def epochs_setting(default: int) -> int:
    """Epochs per page: ``BENCH_DASHBOARD_EPOCHS`` when set, else ``default``."""
    text = os.environ.get(EPOCHS_VARIABLE, "").strip()
    if not text:
        return default
    try:
        epochs = int(text)
    except ValueError:
        epochs = 0
    if epochs < 2:
        raise BenchmarkSettingError(
            f"{EPOCHS_VARIABLE}: the epochs per page must be a whole number of at least 2 "
            f"(one pair of epochs). Received: {EPOCHS_VARIABLE}={text!r}. Set it to 2 for a "
            f"smoke run, or unset it for the default ({default})."
        )
    return epochs


def busy_setting(default: int) -> int:
    """Busy processes in the loaded variant: ``BENCH_DASHBOARD_BUSY`` when set, else ``default``."""
    text = os.environ.get(BUSY_VARIABLE, "").strip()
    if not text:
        return default
    try:
        count = int(text)
    except ValueError:
        count = -1
    if not 1 <= count <= 64:
        raise BenchmarkSettingError(
            f"{BUSY_VARIABLE}: the number of busy processes must be a whole number from 1 to 64. "
            f"Received: {BUSY_VARIABLE}={text!r}. Unset it for the default ({default})."
        )
    return count


def pages_setting() -> list[tuple[str, str]]:
    """The pages to measure: ``BENCH_DASHBOARD_PAGES`` (slugs, comma-separated), else all."""
    text = os.environ.get(PAGES_VARIABLE, "").strip()
    if not text:
        return list(PAGES)
    slugs = dict(PAGES)
    wanted = [slug.strip() for slug in text.split(",") if slug.strip()]
    unknown = [slug for slug in wanted if slug not in slugs]
    if unknown or not wanted:
        raise BenchmarkSettingError(
            f"{PAGES_VARIABLE}: every page must be one of {', '.join(slugs)}. Received: "
            f"{PAGES_VARIABLE}={text!r}. Name pages by these slugs, comma-separated, or unset "
            "it for all of them."
        )
    return [(slug, slugs[slug]) for slug in dict.fromkeys(wanted)]


def _plain_loop() -> tuple[Callable[[int], float], int]:
    """A function running one epoch of a hand-written loop (seconds); the training split's size."""
    import torch

    from benchmarks.bench_training import plain_epoch
    from engine import compile_graph
    from engine.training.trainer import Trainer
    from presets import PRESETS

    trainer = Trainer(PRESETS.get("lenet5").create(), {"epochs": 1, "batch_size": BATCH})
    trainer.setup()
    split = trainer.train_split
    x, y = trainer.loader.normalize(split.images), split.labels
    model = compile_graph(PRESETS.get("lenet5").create())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    plain_epoch(model, opt, x, y, BATCH, 99)  # warm-up
    return (lambda seed: plain_epoch(model, opt, x, y, BATCH, seed)), len(split)


@dataclass
class PageRun:
    """What the epochs with one page in front gave."""

    pairs: list[tuple[float, float]] = field(default_factory=list)  # (plain s, run s)
    window_cpu: float = 0.0  # CPU seconds of this process while the run trained counted epochs
    window_wall: float = 0.0  # and the wall seconds they took
    gaps: list[float] = field(default_factory=list)  # seconds between ticks, probed epochs
    longest_gap_epoch: int = 0  # in which epoch of the page's block (1: the switch to it)
    longest_gap_round: int = 0  # in which of its blocks (1: the page's first show)
    longest_draw: float = 0.0
    threads: set[int] = field(default_factory=set)  # the run's CPU threads in counted epochs
    problem: str = ""  # why the page could not be measured


@dataclass(frozen=True)
class Plan:
    """Which page is in front in which epoch of the run, and what each epoch measures.

    Epoch 1 (1-based) starts the run with the first page in front and is probed, not counted
    (the child starts, the first event is drawn). Then the pages take turns ``rounds`` times:
    in each round every page has a block of ``per_page // rounds`` epochs, brought to the
    front as its block begins. A block's first epoch (the switch: the page's draw as it comes
    to the front) is probed, not counted; with ``probe`` every third epoch of the block is
    probed too; the others count for throughput. Without ``probe`` no epoch is probed.
    """

    pages: tuple[str, ...]  # slugs
    per_page: int  # epochs with each page in front, over all its blocks (rounded down)
    probe: bool
    rounds: int = 1

    @property
    def block(self) -> int:
        return max(1, self.per_page // self.rounds)

    @property
    def epochs(self) -> int:
        return 1 + len(self.pages) * self.rounds * self.block

    def place(self, epoch: int) -> tuple[int, int]:
        """(page index, index in the page's block); epoch 1 belongs to the first page."""
        if epoch < 2:
            return 0, 0
        block, index = divmod(epoch - 2, self.block)
        return block % len(self.pages), index

    def round(self, epoch: int) -> int:
        """The round (0-based) the epoch belongs to."""
        return 0 if epoch < 2 else (epoch - 2) // (self.block * len(self.pages))

    def page(self, epoch: int) -> str:
        return self.pages[self.place(epoch)[0]]

    def starts_block(self, epoch: int) -> bool:
        return epoch >= 2 and self.place(epoch)[1] == 0

    def probed(self, epoch: int) -> bool:
        return self.probe and self.place(epoch)[1] % PROBE_EVERY == 0

    def counted(self, epoch: int) -> bool:
        index = self.place(epoch)[1]
        return epoch >= 2 and index != 0 and not self.probed(epoch)


def rounds_for(per_page: int) -> int:
    """How often the pages take turns: blocks of about ``BLOCK_EPOCHS`` epochs, at least one."""
    return max(1, per_page // BLOCK_EPOCHS)


def page_titles(dashboard: Any) -> list[str]:
    tabs = dashboard.pages
    return [tabs.tabText(i) for i in range(tabs.count())]


def can_show(window: Any, dashboard: Any, slug: str, title: str) -> bool:
    """Whether the page is a tab of the dashboard or a view of the window (``view_<slug>``)."""
    return title in page_titles(dashboard) or f"view_{slug}" in window.actions_by_name


def bring_to_front(window: Any, dashboard: Any, slug: str, title: str) -> None:
    """Bring the page to the front as a user does: a click on the dashboard's tab titled
    ``title`` (in the window's Train view, where the window has views), or on the window's view
    switch ``view_<slug>`` where the page is a view of its own."""
    actions = window.actions_by_name
    titles = page_titles(dashboard)
    if title in titles:
        if "view_train" in actions and not actions["view_train"].isChecked():
            actions["view_train"].trigger()
        dashboard.pages.setCurrentIndex(titles.index(title))
    elif f"view_{slug}" in actions:
        actions[f"view_{slug}"].trigger()
    else:
        raise LookupError(f"the dashboard has no page {title!r} (its pages: {', '.join(titles)})")


def run_pages_once(
    window: Any, plain: Callable[[int], float], pages: list[tuple[str, str]], plan: Plan
) -> tuple[dict[str, PageRun], str]:
    """Train LeNet-5 from ``window``, a plain epoch between each two of its epochs, each of
    ``pages`` in front in turn as ``plan`` says; each page's figures and the run's status."""
    import torch
    from PySide6.QtCore import QEventLoop, QTimer

    controller = window.training
    dashboard = controller.host.ensure_dashboard()
    titles = dict(pages)
    window.document.project.training = {
        "data": {"dataset": "digits"},
        "epochs": plan.epochs,
        "batch_size": BATCH,
    }
    results = {slug: PageRun() for slug, _ in pages}
    run_epochs: list[float] = []  # seconds of epoch 1, 2, ...
    plain_epochs: list[float] = []  # plain_epochs[i] ran in the pause after epoch i + 1
    last = [time.perf_counter()]
    measuring = [False]
    resumed = [time.perf_counter(), time.process_time()]  # when the run last went on
    shown = [plan.pages[0]]  # the page in front

    def note_gap(gap: float) -> None:
        page = results[shown[0]]
        if gap > max(page.gaps, default=0.0):  # where it was: the epoch in the page's block
            epoch = len(run_epochs) + 1
            page.longest_gap_epoch = plan.place(epoch)[1] + 1
            page.longest_gap_round = plan.round(epoch) + 1
        page.gaps.append(gap)

    def tick() -> None:
        now = time.perf_counter()
        if measuring[0]:
            note_gap(now - last[0])
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(tick)
    if plan.probed(1):
        ticker.start()
    original = dashboard.apply

    def interleaving(events: list) -> list:
        """The events the window polled, the benchmark's pauses taken out (a plain epoch
        runs in each, and the page may change after it): the controller, the dashboard and
        the window see a run that is never interrupted."""
        started = time.perf_counter()
        if plan.probed(1) and any(event.kind == "run_started" for event in events):
            # from the first event on (the child has loaded torch), the draw of this one included:
            # the gap runs from the tick before it
            measuring[0] = True
        ends = [event for event in events if event.kind == "epoch_end"]
        run_epochs.extend(event.seconds for event in ends)
        if ends and plan.counted(len(run_epochs)):  # the window's CPU while the run trained it
            spent = results[plan.page(len(run_epochs))]
            spent.window_cpu += time.process_time() - resumed[1]
            spent.window_wall += started - resumed[0]
            spent.threads.add(ends[-1].threads)
        if ends and ends[-1].threads:  # the plain loop computes with the threads the run had
            torch.set_num_threads(ends[-1].threads)
        following = len(run_epochs) + 1  # the epoch the run trains next
        if any(event.kind == "paused" for event in events):
            # the run stopped between two epochs, as asked: a plain epoch now
            if measuring[0]:
                note_gap(started - last[0])  # the wait for this tick
            measuring[0] = False
            ticker.stop()
            time.sleep(SETTLE_SECONDS)  # the run's OpenMP threads stop spinning
            plain_epochs.append(plain(len(plain_epochs)))
            time.sleep(SETTLE_SECONDS)  # and this process's
            if following < plan.epochs:
                controller.handle.pause_after_epoch()
            controller.handle.resume()
            resumed[:] = [time.perf_counter(), time.process_time()]
            if plan.probed(following):
                ticker.start()
                measuring[0] = True
                last[0] = time.perf_counter()
            if plan.starts_block(following) and plan.page(following) != shown[0]:
                # a click on the next page's tab, while the run trains: an input event of
                # its own, as a click is, not part of this poll's turn (which draws the
                # epoch's end); what both turns take counts for the new page
                shown[0] = plan.page(following)
                QTimer.singleShot(
                    0, lambda slug=shown[0]: bring_to_front(window, dashboard, slug, titles[slug])
                )
        # the epoch's end is drawn after the resume, while the run trains its next epoch, as
        # in a run that is never paused
        return [event for event in events if event.kind not in ("paused", "resumed")]

    def timed(events: list) -> None:
        draw_started = time.perf_counter()
        original(events)
        spent = time.perf_counter() - draw_started
        results[shown[0]].longest_draw = max(results[shown[0]].longest_draw, spent)

    status: list[str] = []
    loop = QEventLoop()  # block in Qt's own loop, as app.exec() does, not in a polling loop

    def ended(text: str) -> None:
        status.append(text)
        loop.quit()

    limit = run_limit_seconds(plan.epochs)
    problem = [""]

    def too_long() -> None:
        problem[0] = f"stopped after {limit:.0f} s"
        controller.stop()

    dashboard.apply = timed
    controller.run_ended.connect(ended)
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(too_long)
    backstop = QTimer()  # the stop was not answered either: give up waiting
    backstop.setSingleShot(True)
    backstop.timeout.connect(loop.quit)
    threads = torch.get_num_threads()
    try:
        if controller.train() and controller.is_running():
            poll_events = controller.handle.poll_events

            def polled(*args: Any, **kwargs: Any) -> list:
                return interleaving(poll_events(*args, **kwargs))

            controller.handle.poll_events = polled  # before the window's first poll
            bring_to_front(window, dashboard, shown[0], titles[shown[0]])
            controller.handle.pause_after_epoch()  # after the first epoch
            watchdog.start(int(limit * 1000))
            backstop.start(int((limit + 60) * 1000))
            loop.exec()
    finally:
        ticker.stop()
        watchdog.stop()
        backstop.stop()
        controller.run_ended.disconnect(ended)
        dashboard.apply = original
        torch.set_num_threads(threads)
    for slug in plan.pages:
        counted = [e for e in range(2, plan.epochs + 1) if plan.page(e) == slug and plan.counted(e)]
        results[slug].pairs = sandwich_ratios(plain_epochs, run_epochs, counted)
    text = ((status or ["?"])[0] + " " + dashboard.message.text()).strip()
    return results, text + (f"; NOTE: {problem[0]}" if problem[0] else "")


def _report(
    variant: str, slug: str, title: str, run: PageRun, size: int, probe: bool, ratio_target: str
) -> list[Measure]:
    """Print one page's line; its measures."""
    found = paired_ratio(run.pairs)
    ratio = found[0] if found else None
    measures = [measure(f"{variant}.{slug}.ratio", ratio, "ratio", ratio_target)]
    text = f"  {title:<14}"
    if found:
        low, high = found[1], found[2]
        plain_best, run_best = min(p for p, _ in run.pairs), min(r for _, r in run.pairs)
        verdict = "ok" if measures[0].met else f"MISSED ({ratio_target})"
        text += (
            f"ratio {ratio:.3f} [{verdict}] (90 % interval {low:.3f}–{high:.3f}) over "
            f"{len(run.pairs)} pairs, fastest {plain_best / run_best:.3f} "
            f"({size / plain_best:,.0f} vs {size / run_best:,.0f} img/s)"
        )
    else:
        text += "no pair of epochs"
    share = run.window_cpu / run.window_wall if run.window_wall > 0 else None
    measures.append(measure(f"{variant}.{slug}.window_cpu", share, "fraction"))
    if share is not None:
        text += f"; window CPU {share:.1%} of a core"
    if probe:
        worst = max(run.gaps) * 1000 if run.gaps else None
        measures.append(measure(f"{variant}.{slug}.max_gap_ms", worst, "ms", GAP_TARGET))
        if worst is not None:
            verdict = "ok" if measures[-1].met else f"MISSED ({GAP_TARGET} ms)"
            text += (
                f"; longest gap {worst:.1f} ms [{verdict}] over {len(run.gaps)} ticks (in "
                f"epoch {run.longest_gap_epoch} of its block {run.longest_gap_round})"
            )
    text += f"; longest draw {run.longest_draw * 1000:.1f} ms"
    if run.threads:
        text += f"; threads {'/'.join(str(n) for n in sorted(run.threads))}"
    print(text + (f"; NOTE: {run.problem}" if run.problem else ""), flush=True)
    return measures


def run_pages(
    variant: str, default_per_page: int, probe: bool, ratio_target: str, busy: int = 0
) -> list[Measure]:
    """Measure each page in turn in one run (``busy`` spinning processes during the run)."""
    per_page, pages = epochs_setting(default_per_page), pages_setting()
    busy = busy_setting(busy) if busy else 0
    import torch

    from designer.app import create_application, create_window

    plain, size = _plain_loop()
    create_application(offscreen="QT_QPA_PLATFORM" not in os.environ)
    window = create_window(session=False)
    window.resize(1500, 1000)
    window.show()
    run_root = Path(tempfile.mkdtemp(prefix=f"bench-{variant}-"))
    window.training.run_root = run_root
    try:
        dashboard = window.training.host.ensure_dashboard()
        found = page_titles(dashboard)
        present = [
            (slug, title) for slug, title in pages if can_show(window, dashboard, slug, title)
        ]
        missing = [page for page in pages if page not in present]
        slugs = tuple(slug for slug, _ in present)
        plan = Plan(slugs, per_page, probe, rounds_for(per_page))
        load = f", {busy} busy processes spinning throughout" if busy else ""
        print(
            f"  LeNet-5 on Digits 1×32×32, batch {BATCH}, {torch.get_num_threads()} threads, "
            f"one run of {plan.epochs} epochs, {plan.rounds * plan.block} with each page in "
            f"front ({plan.rounds} turn{'s' if plan.rounds != 1 else ''} of {plan.block}){load}; "
            "per page, the ratio of paired epochs (plain loop / run, Hodges–Lehmann)",
            flush=True,
        )
        runs: dict[str, PageRun] = {}
        status = "not started: no page to show"
        if present and busy:
            with busy_processes(busy, run_limit_seconds(plan.epochs) + 90):
                runs, status = run_pages_once(window, plain, present, plan)
        elif present:
            runs, status = run_pages_once(window, plain, present, plan)
    finally:
        window.training.shutdown()
        window.document.undo_stack.setClean()
        window.close()
        shutil.rmtree(run_root, ignore_errors=True)  # checkpoints and metrics of a throwaway run
    for slug, title in missing:
        problem = f"the dashboard has no page {title!r} (its pages: {', '.join(found)})"
        runs[slug] = PageRun(problem=problem)
    measures: list[Measure] = []
    for slug, title in pages:
        measures += _report(
            variant, slug, title, runs.get(slug, PageRun()), size, probe, ratio_target
        )
    print(f"  run {status}", flush=True)
    return measures


def main() -> list[Measure]:
    return run_pages("dashboard", EPOCHS, probe=True, ratio_target=RATIO_TARGET)


if __name__ == "__main__":
    main()
