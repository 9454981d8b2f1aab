"""A recorded run shown in the dashboard (the Train view of a screenshot): the newest run of
the project, its per-epoch metrics drawn as the live run drew them."""

from __future__ import annotations

import math
from typing import Any

from engine.training.runs import RunInfo, list_runs


def _number(value: Any, default: float = math.nan) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


def recorded_events(run: RunInfo) -> tuple[list[object], list[tuple[int, float, float]]]:
    """The events a dashboard draws for ``run`` (an EpochEnd per recorded epoch, then Finished
    with the run's status) and each epoch's (step, training loss, learning rate)."""
    from engine.training.events import EpochEnd, Finished

    events: list[object] = []
    per_epoch: list[tuple[int, float, float]] = []
    seconds, step = 0.0, 0
    for index, record in enumerate(run.metrics()):
        epoch = int(_number(record.get("epoch"), index + 1))
        step = int(_number(record.get("step"), step + 1))
        lr = _number(record.get("lr"))
        seconds += _number(record.get("seconds"), 0.0)
        loss = _number(record.get("train_loss"))
        per_epoch.append((step, loss, lr))
        val_loss, val_acc = record.get("val_loss"), record.get("val_accuracy")
        events.append(
            EpochEnd(
                epoch=epoch,
                step=step,
                train_loss=loss,
                train_accuracy=_number(record.get("train_accuracy")),
                val_loss=None if val_loss is None else _number(val_loss),
                val_accuracy=None if val_acc is None else _number(val_acc),
                lr=lr,
                seconds=_number(record.get("seconds"), 0.0),
                confusion=None,
                per_class_accuracy=None,
            )
        )
    status = run.status if run.status in ("completed", "stopped") else "stopped"
    events.append(
        Finished(
            status=status,
            epochs_done=run.epochs,
            steps=step,
            best_val_accuracy=run.best_val_accuracy,
            final_val_accuracy=run.final_val_accuracy,
            seconds=seconds,
            run_dir=str(run.path),
        )
    )
    return events, per_epoch


def show_newest_run(window: Any) -> RunInfo | None:
    """Draw the newest run of ``window``'s project in its dashboard; None (the dashboard left
    in its empty state) when the project has no run with recorded epochs."""
    controller = window.training
    runs = [run for run in list_runs(controller.default_run_root()) if run.epochs > 0]
    dashboard = controller.host.ensure_dashboard()
    if not runs:
        return None
    newest = runs[-1]
    events, per_epoch = recorded_events(newest)
    dashboard.begin(f"Run {newest.name}")
    # the record keeps one training loss per epoch: drawn as the loss curve's points (the
    # smoothed curve, meant for per-step losses, stays empty), the learning rate likewise
    for step, loss, lr in per_epoch:
        dashboard.loss.append(step, loss)
        dashboard.lrs.append(step, lr)
    dashboard.apply(events)
    dashboard.set_banner("")
    return newest
