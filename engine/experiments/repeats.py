"""Repeated runs: one design and its settings trained with seeds s, s+1, ..., s+N-1, and the
per-epoch mean ± standard deviation of their curves (the bands a plot draws).

Runs go one after another, or in ``workers`` processes at once (each with its share of the CPU
threads). Every run is an ordinary run folder; ``repeat.json`` in the run root records the
seeds, the runs and the bands. The standard deviation is the sample one (N − 1); an epoch that
only one run reached has a deviation of 0.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.experiments.stopping import StopRequest
from engine.training import runs

STOP_LOOK_SECONDS = 0.2  # with workers, how often a stop request is looked for
BAND_KEYS = ("val_accuracy", "val_loss", "train_accuracy", "train_loss")


@dataclass(frozen=True)
class RepeatRun:
    seed: int
    run_dir: str | None
    status: str  # completed, stopped, failed
    best_val_accuracy: float | None
    message: str | None = None


def bands(
    curves: Sequence[Sequence[dict[str, Any]]], keys: Sequence[str] = BAND_KEYS
) -> list[dict[str, Any]]:
    """Per epoch, over the runs' metric records: ``{"epoch", "runs", key: {"mean", "std"}}``
    (a key no run recorded for that epoch is None)."""
    by_epoch: dict[int, list[dict[str, Any]]] = {}
    for records in curves:
        for record in records:
            epoch = record.get("epoch")
            if isinstance(epoch, int):
                by_epoch.setdefault(epoch, []).append(record)
    result = []
    for epoch in sorted(by_epoch):
        records = by_epoch[epoch]
        row: dict[str, Any] = {"epoch": epoch, "runs": len(records)}
        for key in keys:
            values = [float(r[key]) for r in records if isinstance(r.get(key), int | float)]
            values = [v for v in values if math.isfinite(v)]
            if not values:
                row[key] = None
                continue
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            row[key] = {"mean": statistics.fmean(values), "std": std, "n": len(values)}
        result.append(row)
    return result


def _train_one(
    graph: Any,
    settings: Any,
    run_root: Path,
    on_event: Callable[[int, Any], None] | None = None,
    stop: StopRequest | None = None,
) -> RepeatRun:
    """One run in this process. A ``stop`` asked ends it after its batch (the run records the
    signal), then Interrupted rises; a KeyboardInterrupt records the stop, then rises."""
    from engine.training import run_record
    from engine.training.control import TrainingControl
    from engine.training.trainer import Trainer

    control = TrainingControl()
    trainer = Trainer(graph, settings, run_root=run_root, control=control, snapshots=False)
    events: Any = trainer.run()
    if stop is not None:
        stop.watch(control)
    status, message, best = "failed", None, None
    try:
        for event in events:
            if on_event is not None:
                on_event(settings.seed, event)
            if event.kind == "failed":
                message = event.message
            elif event.kind == "finished":
                status, best = event.status, event.best_val_accuracy
    except KeyboardInterrupt as error:
        run_record.record_ended(trainer, getattr(error, "name", "SIGINT"))
        raise
    finally:
        events.close()
        if stop is not None:
            stop.watch(None)
    if stop is not None:
        stop.raise_if_requested()
    folder = str(trainer.run_dir) if trainer.run_dir is not None else None
    return RepeatRun(settings.seed, folder, status, best, message)


def _worker(
    graph_data: dict[str, Any], settings_data: dict[str, Any], root: str, threads: int
) -> RepeatRun:
    """A worker process's run (plain data in and out)."""
    import torch

    from engine.training.settings import TrainingSettings

    torch.set_num_threads(max(1, threads))
    settings = TrainingSettings.from_dict(settings_data)
    return _train_one(graph_data, settings, Path(root))


def repeat_runs(
    graph: Any,
    settings: Any,
    count: int,
    run_root: str | os.PathLike[str],
    workers: int = 1,
    on_event: Callable[[int, Any], None] | None = None,
    on_run: Callable[[RepeatRun], None] | None = None,
    stop: StopRequest | None = None,
) -> dict[str, Any]:
    """Train ``count`` runs with seeds settings.seed .. settings.seed + count - 1; returns (and
    writes as repeat.json in ``run_root``) the runs and the per-epoch bands. A ``stop`` asked
    raises Interrupted once the run training in this process has recorded it (with workers:
    at once, within a fifth of a second, as a Ctrl-C there always did)."""
    root = Path(run_root).expanduser()
    stop = stop if stop is not None else StopRequest()
    seeds = [settings.seed + i for i in range(count)]
    done: list[RepeatRun] = []
    if workers <= 1:
        for seed in seeds:
            stop.raise_if_requested()
            run = _train_one(graph, settings.updated(seed=seed), root, on_event, stop)
            done.append(run)
            if on_run is not None:
                on_run(run)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, wait

        threads = max(1, (os.cpu_count() or 1) // workers)
        graph_data = graph.to_data()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(
                    _worker, graph_data, settings.updated(seed=s).to_dict(), str(root), threads
                )
                for s in seeds
            ]
            for future in futures:
                while not wait([future], timeout=STOP_LOOK_SECONDS).done:
                    stop.raise_if_requested()
                run = future.result()
                done.append(run)
                if on_run is not None:
                    on_run(run)
    curves = [runs.read_metrics(r.run_dir) for r in done if r.run_dir is not None]
    summary = {
        "seeds": seeds,
        "settings": {**settings.to_dict(), "seed": None},
        "runs": [r.__dict__ for r in done],
        "epochs": bands(curves),
    }
    runs.write_json(root / "repeat.json", summary)
    return summary
