"""The live dashboard's cost (issue 5): training throughput with the designer window and its
dashboard drawing every event, against a plain PyTorch loop on the same model (LeNet-5), data
(Digits at 1×32×32) and batch size in this process; and the longest gap between event-loop
ticks of the window while it trains (target ≤ 50 ms).

The run trains in its own process (as in the designer); the plain loop runs here before and
after it, and the fastest epoch of each side is compared (so a burst of load on a shared
machine does not decide), with the ratio of medians beside it.

It runs on the platform QT_QPA_PLATFORM names (offscreen when unset). Note that Qt's offscreen
platform repaints the whole window for every small update (a label, a curve), which a real
display does not; `QT_QPA_PLATFORM=minimal` repaints only what changed.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

EPOCHS = 20
BATCH = 64
TICK_MS = 5


def _plain_epochs(count: int) -> tuple[list[float], int]:
    """Seconds of ``count`` epochs of a hand-written loop; and the training split's size."""
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
    return [plain_epoch(model, opt, x, y, BATCH, i) for i in range(count)], len(split)


def _dashboard_run() -> tuple[list[float], list[float], float, str]:
    """Train LeNet-5 from a shown main window; (epoch seconds, tick gaps, max poll+draw, status)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from designer.app import create_application, create_window

    create_application(offscreen="QT_QPA_PLATFORM" not in os.environ)
    window = create_window(session=False)
    window.resize(1500, 1000)
    window.show()
    controller = window.training
    controller.run_root = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    window.document.project.training = {
        "data": {"dataset": "digits"},
        "epochs": EPOCHS,
        "batch_size": BATCH,
    }
    epochs: list[float] = []
    gaps: list[float] = []
    last = [time.perf_counter()]
    measuring = [False]

    def tick() -> None:
        now = time.perf_counter()
        if measuring[0]:
            gaps.append(now - last[0])
        last[0] = now

    def on_events() -> None:
        dashboard = controller.host.dashboard
        if dashboard is not None and dashboard.started is not None and not measuring[0]:
            measuring[0] = True  # from the first event on: the child has loaded torch
            last[0] = time.perf_counter()

    ticker = QTimer()
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(tick)
    ticker.timeout.connect(on_events)
    ticker.start()
    original = controller.host.ensure_dashboard().apply

    def recording(events: list) -> None:
        original(events)
        epochs.extend(e.seconds for e in events if e.kind == "epoch_end")

    controller.host.dashboard.apply = recording
    status: list[str] = []
    controller.run_ended.connect(status.append)
    loop = QEventLoop()  # block in Qt's own loop, as app.exec() does, not in a polling loop
    controller.run_ended.connect(lambda *_: loop.quit())
    controller.train()
    if controller.is_running():
        loop.exec()
    ticker.stop()
    message = controller.host.dashboard.message.text()
    controller.shutdown()
    window.document.undo_stack.setClean()
    window.close()
    return epochs, gaps, controller.max_tick_seconds, (status or ["?"])[0] + " " + message


def main() -> None:
    import torch

    before, size = _plain_epochs(5)
    ours, gaps, max_tick, status = _dashboard_run()
    after, _ = _plain_epochs(5)
    if not ours:
        print(f"  dashboard run did not train: {status}")
        return
    plain = before + after
    ratio = min(plain) / min(ours)
    median_ratio = statistics.median(plain) / statistics.median(ours)
    verdict = "ok" if ratio >= 0.95 else "below the 0.95 target"
    print(
        f"  LeNet-5 on Digits 1×32×32, batch {BATCH}, {torch.get_num_threads()} threads: plain loop "
        f"{size / min(plain):,.0f} img/s, with the dashboard live {size / min(ours):,.0f} img/s "
        f"(fastest epochs), ratio {ratio:.3f} [{verdict}], ratio of medians {median_ratio:.3f}"
    )
    gaps_ms = sorted(g * 1000 for g in gaps)
    worst = gaps_ms[-1] if gaps_ms else float("nan")
    p99 = gaps_ms[int(0.99 * (len(gaps_ms) - 1))] if gaps_ms else float("nan")
    verdict = "ok" if worst <= 50 else "above the 50 ms target"
    print(
        f"  event loop while training: longest gap between {TICK_MS} ms ticks {worst:.1f} ms "
        f"[{verdict}], 99th percentile {p99:.1f} ms over {len(gaps_ms)} ticks; longest "
        f"poll+draw {max_tick * 1000:.1f} ms; run {status.strip()}"
    )


if __name__ == "__main__":
    main()
