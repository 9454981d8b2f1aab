"""Synthetic training events for dashboard tests and benchmarks (no torch, no process)."""

from __future__ import annotations

import numpy as np

from engine.training.events import (
    EpochEnd,
    FeatureMaps,
    Finished,
    Misclassified,
    RunStarted,
    Snapshot,
    Step,
)

CLASSES = tuple(str(i) for i in range(10))
CONVS = ("conv1", "conv2")
RELUS = ("relu1", "relu2")
LAYERS = ("conv1", "relu1", "pool1", "conv2", "relu2", "flatten", "fc")


def run_started(epochs: int = 2, steps_per_epoch: int = 20) -> RunStarted:
    return RunStarted(
        run_dir=None,
        device="cpu",
        dataset="digits",
        classes=CLASSES,
        input_shape=(1, 32, 32),
        train_size=1437,
        val_size=360,
        epochs=epochs,
        start_epoch=0,
        steps_per_epoch=steps_per_epoch,
        total_steps=epochs * steps_per_epoch,
        batch_size=64,
        global_batch_size=64,
        world_size=1,
        lr=1e-3,
        param_count=61706,
        settings={"optimizer": "adam", "feature_layer": None, "feature_image": 0},
        conv_layers=CONVS,
        relu_layers=RELUS,
        layers=LAYERS,
        notes=("digits 1×8×8 converted to 1×32×32",),
    )


def step(n: int, count: int = 5, total: int = 40, epoch: int = 1) -> Step:
    losses = tuple(2.3 * np.exp(-0.05 * np.arange(n - count + 1, n + 1)))
    return Step(n, epoch, losses, 1e-3, 1500.0, n / total, n * 0.01, (total - n) * 0.01)


def snapshot(n: int, in_channels: int = 1) -> Snapshot:
    rng = np.random.default_rng(n)
    return Snapshot(
        step=n,
        epoch=1,
        filters={
            "conv1": rng.normal(size=(6, in_channels, 5, 5)).astype(np.float32),
            "conv2": rng.normal(size=(16, 6, 5, 5)).astype(np.float32),
        },
        grad_norms={"conv1": 0.5, "conv2": 0.05, "fc": 1e-4},
        dead_relu={"relu1": 0.1, "relu2": 0.4},
        histograms={
            "conv1": (rng.integers(0, 9, 40).astype(np.float32), np.linspace(-1, 1, 41)),
            "fc": (rng.integers(0, 9, 40).astype(np.float32), np.linspace(-2, 2, 41)),
        },
        feature_maps=FeatureMaps(
            "conv1",
            3,
            rng.integers(0, 255, (1, 32, 32), dtype=np.uint8),
            7,
            rng.normal(size=(6, 28, 28)).astype(np.float32),
        ),
        cost_seconds=0.001,
    )


def epoch_end(epoch: int, step_: int) -> EpochEnd:
    rng = np.random.default_rng(epoch)
    confusion = np.diag(np.full(10, 30)) + rng.integers(0, 3, (10, 10))
    wrong = tuple(
        Misclassified(
            i, rng.integers(0, 255, (1, 32, 32), dtype=np.uint8), i % 10, (i + 1) % 10, 0.6
        )
        for i in range(5)
    )
    return EpochEnd(
        epoch=epoch,
        step=step_,
        train_loss=1.0 / epoch,
        train_accuracy=0.5 + 0.2 * epoch,
        val_loss=1.1 / epoch,
        val_accuracy=0.45 + 0.2 * epoch,
        lr=1e-3,
        seconds=1.0,
        confusion=confusion,
        per_class_accuracy=np.diag(confusion) / confusion.sum(1),
        misclassified=wrong,
        is_best=True,
    )


def finished(epochs: int = 2, steps: int = 40) -> Finished:
    return Finished("completed", epochs, steps, 0.85, 0.85, 4.0, None)
