"""Small networks for the 8×8 Digits images, shared by the training tests."""

from __future__ import annotations

import itertools

from engine import Graph


def _chain(steps: list[tuple[str, str, dict]]) -> Graph:
    g = Graph()
    for type_id, name, params in steps:
        g.add_node(type_id, name, params)
    names = [name for _, name, _ in steps]
    for a, b in itertools.pairwise(names):
        g.connect(a, b)
    return g


def digits_cnn(filters: int = 8, classes: int = 10) -> Graph:
    """Input 1×8×8 → conv 3×3 (``filters``) → ReLU → Flatten → Linear(``classes``) → Output."""
    return _chain(
        [
            ("input", "input", {"shape": [1, 8, 8]}),
            ("conv2d", "conv1", {"out_channels": filters, "kernel_size": 3, "padding": 1}),
            ("relu", "relu1", {}),
            ("flatten", "flatten", {}),
            ("linear", "fc", {"out_features": classes}),
            ("output", "output", {}),
        ]
    )


def digits_mlp() -> Graph:
    """Input 1×8×8 → Flatten → Linear(10) → Output: no convolution, no ReLU."""
    return _chain(
        [
            ("input", "input", {"shape": [1, 8, 8]}),
            ("flatten", "flatten", {}),
            ("linear", "fc", {"out_features": 10}),
            ("output", "output", {}),
        ]
    )
