"""Training: settings, the event generator, run folders, the process runner, torchrun support.

Torch-free to import: ``TrainingSettings``, the events, ``TrainingControl``, ``lr_at``. The rest
imports torch when used:

- ``engine.training.trainer.train(graph, settings, run_root=...)``: the event generator;
- ``engine.training.runner.start_training(graph_data, settings, run_root)``: the same in a
  separate process, returning a handle with ``poll_events()``, ``stop()``, ``pause()``,
  ``resume()``, ``is_alive()``;
- ``engine.training.runs``: run folders, ``list_runs``, ``read_metrics``, checkpoints.
"""

from engine.training.control import TrainingControl
from engine.training.events import (
    TERMINAL,
    EpochEnd,
    Event,
    Failed,
    FeatureMaps,
    Finished,
    Misclassified,
    Paused,
    Resumed,
    RunStarted,
    Snapshot,
    Step,
)
from engine.training.schedule import lr_at
from engine.training.settings import LOSSES, OPTIMIZERS, SCHEDULES, SettingsError, TrainingSettings

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "TERMINAL",
    "EpochEnd",
    "Event",
    "Failed",
    "FeatureMaps",
    "Finished",
    "Misclassified",
    "Paused",
    "Resumed",
    "RunStarted",
    "SettingsError",
    "Snapshot",
    "Step",
    "TrainingControl",
    "TrainingSettings",
    "lr_at",
]
