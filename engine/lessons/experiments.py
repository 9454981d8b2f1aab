"""The lecture's experiments, reproduced in one click (issue 18 point 7), torch-free.

Each experiment trains variants of one base design (the open one when it suits,
``engine.lessons.base``) (``engine.lessons.variants``) as ordinary
runs and compares them: (a) dropout p = 0 vs p = 0.5, first-layer filters and validation
curves; (b) sigmoid vs tanh vs ReLU, gradient norms per layer; (c) BatchNorm on and off,
curves; (d) locally connected vs convolution, curves, parameters and time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from engine.graph import Graph
from engine.lessons import variants
from engine.lessons.base import BASE_PRESET

__all__ = ["BASE_PRESET", "EXPERIMENTS", "TRAIN_ARGS", "Experiment", "experiment_graphs"]

DROPOUT_PS = (0.0, 0.5)  # the lecture's "Effects of using dropout"
ACTIVATION_TYPES = ("sigmoid", "tanh", "relu")
# what the window starts an experiment with besides the data set (``engine.lessons.base``
# chooses the design and its built-in set): a sample, a few epochs
TRAIN_ARGS = ("--epochs", "5", "--limit", "800", "--seed", "0")


@dataclass(frozen=True)
class Experiment:
    """Variants of a base design trained alike, and what the comparison shows."""

    key: str
    title: str
    variants: tuple[tuple[str, Callable[[Graph], Graph]], ...]
    shows: tuple[str, ...]  # "curves", "filters", "grad_norms", "params"


def _same(base: Graph) -> Graph:
    return base.copy()


EXPERIMENTS: dict[str, Experiment] = {
    e.key: e
    for e in (
        Experiment(
            "dropout",
            "Dropout " + " vs ".join(f"p = {p:g}" for p in DROPOUT_PS),
            tuple((f"p = {p:g}", partial(variants.with_dropout, p=p)) for p in DROPOUT_PS),
            ("filters", "curves"),
        ),
        Experiment(
            "activations",
            " vs ".join(ACTIVATION_TYPES) + ": vanishing gradients",
            tuple((t, partial(variants.with_activation, type_id=t)) for t in ACTIVATION_TYPES),
            ("grad_norms", "curves"),
        ),
        Experiment(
            "batchnorm",
            "BatchNorm on vs off",
            (
                ("BatchNorm on", variants.with_batchnorm),
                ("BatchNorm off", variants.without_batchnorm),
            ),
            ("curves",),
        ),
        Experiment(
            "lc_vs_conv",
            "Locally connected vs convolution",
            (("convolution", _same), ("locally connected", variants.with_local)),
            ("curves", "params"),
        ),
    )
}


def experiment_graphs(key: str, base: Graph) -> list[tuple[str, Graph]]:
    """The labelled variant graphs of experiment ``key`` made from ``base`` (GraphError when
    the base cannot give one; KeyError naming the experiments for an unknown key)."""
    if key not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {key!r}. Use one of {', '.join(EXPERIMENTS)}")
    return [(label, make(base)) for label, make in EXPERIMENTS[key].variants]
