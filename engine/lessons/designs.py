"""The small designs of the sliding-window lessons, built with the graph's public edits.

The lessons on padding and stride, pooling and unpooling, and transposed convolution each open
one of these tiny networks (one channel, a few pixels a side) so the step-through draws every
cell; the other lessons open presets (``engine.lessons.lessons.Lesson.design``). Each ends in a
small classifier (Flatten, Linear to the 10 Digits classes), so it runs on the Digits set and
the views can show a data set sample and the network's own activations.
"""

from __future__ import annotations

from engine.graph import Graph


def _chain(shape: list[int], blocks: list[tuple[str, str, dict]]) -> Graph:
    graph = Graph()
    graph.add_node("input", "input", {"shape": shape})
    previous = "input"
    for type_id, name, params in blocks:
        graph.add_node(type_id, name, params)
        graph.connect(previous, name)
        previous = name
    return _classifier(graph, previous)


def _classifier(graph: Graph, previous: str) -> Graph:
    """Flatten → Linear(10) → Output after ``previous``: the design runs on Digits."""
    graph.add_node("flatten", "flatten")
    graph.connect(previous, "flatten")
    graph.add_node("linear", "classifier", {"out_features": 10})
    graph.connect("flatten", "classifier")
    graph.add_node("output", "output")
    graph.connect("classifier", "output")
    return graph


def padding_stride() -> Graph:
    """A 7×7 image through a 3×3 convolution with stride 2 and padding 1."""
    return _chain(
        [1, 7, 7],
        [("conv2d", "conv", {"out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1})],
    )


def pooling_unpooling() -> Graph:
    """An 8×8 image (a Digits scan) max-pooled 2×2 (keeping the indices), then unpooled back to
    8×8."""
    graph = Graph()
    graph.add_node("input", "input", {"shape": [1, 8, 8]})
    graph.add_node("maxpool2d", "pool", {"kernel_size": 2, "return_indices": True})
    graph.connect("input", "pool")
    graph.add_node("maxunpool2d", "unpool", {"kernel_size": 2})
    graph.connect("pool", "unpool", "out", "in")
    graph.connect("pool", "unpool", "indices", "indices")
    return _classifier(graph, "unpool")


def transposed() -> Graph:
    """A 3×3 map upsampled by a 3×3 transposed convolution with stride 2."""
    return _chain(
        [1, 3, 3],
        [("conv_transpose2d", "up", {"out_channels": 1, "kernel_size": 3, "stride": 2})],
    )
