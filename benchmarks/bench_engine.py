"""Engine speed: inference of a 500-node graph, and compiled module vs hand-written torch.

Targets (issue 2): full shape and cost inference of 500 nodes under 5 ms; a compiled module's
forward+backward step within 2 % of the same network written by hand (same batch, same
process, interleaved repeats, medians).
"""

from __future__ import annotations

import statistics
import time

from benchmarks.results import Measure, measure
from engine import Graph, compile_graph, infer


def residual_graph(blocks: int, channels: int = 16, size: int = 32) -> Graph:
    """A ResNet-like chain: stem conv/bn/relu, then ``blocks`` basic blocks with Add skips."""
    g = Graph()
    g.add_node("input", "input", {"shape": [3, size, size]})

    def add(type_id: str, name: str, source: str, **params: object) -> str:
        group = tuple(name.split(".")[:-1])
        g.add_node(type_id, name, params, group)
        g.connect(source, name)
        return name

    x = add("conv2d", "conv1", "input", out_channels=channels, padding=1, bias=False)
    x = add("batchnorm", "bn1", x)
    x = add("relu", "relu", x)
    for i in range(blocks):
        p = f"layer.{i}"
        y = add("conv2d", f"{p}.conv1", x, out_channels=channels, padding=1, bias=False)
        y = add("batchnorm", f"{p}.bn1", y)
        y = add("relu", f"{p}.relu1", y)
        y = add("conv2d", f"{p}.conv2", y, out_channels=channels, padding=1, bias=False)
        y = add("batchnorm", f"{p}.bn2", y)
        y = add("add", f"{p}.add", y)
        g.connect(x, f"{p}.add")
        x = add("relu", f"{p}.relu2", y)
    x = add("global_avgpool", "pool", x)
    x = add("linear", "fc", x, out_features=10)
    add("output", "output", x)
    return g


def bench_inference() -> list[Measure]:
    g = residual_graph(blocks=70)  # 7 nodes a block: 497 + the stem and head
    nodes = len(g)
    infer(g)  # warm caches (catalog, evaluation order)
    times = []
    for _ in range(50):
        g.set_params("conv1", {"out_channels": 16})  # an edit, as the designer re-infers after
        started = time.perf_counter()
        result = infer(g)
        times.append(time.perf_counter() - started)
    assert result.ok
    median = statistics.median(times)
    print(
        f"inference of {nodes} nodes: {median * 1e3:.2f} ms median "
        f"({median * 1e6 / nodes:.1f} µs per node; target < 5 ms) "
        f"{'OK' if median < 5e-3 else 'SLOW'}"
    )
    return [measure("engine.inference_500_nodes.ms", median * 1e3, "ms", "< 5")]


def _hand_written(blocks: int, channels: int):
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.relu2 = nn.ReLU()

        def forward(self, x):
            y = self.relu1(self.bn1(self.conv1(x)))
            return self.relu2(self.bn2(self.conv2(y)) + x)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.relu = nn.ReLU()
            self.layer = nn.Sequential(*(Block() for _ in range(blocks)))
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.fc = nn.Linear(channels, 10)

        def forward(self, x):
            x = self.layer(self.relu(self.bn1(self.conv1(x))))
            return self.fc(self.pool(x))

    return Net()


def bench_compiled_vs_hand_written(
    blocks: int = 4, channels: int = 16, batch: int = 16
) -> list[Measure]:
    import torch

    torch.manual_seed(0)
    compiled = compile_graph(residual_graph(blocks, channels))
    hand = _hand_written(blocks, channels)
    assert sum(p.numel() for p in compiled.parameters()) == sum(
        p.numel() for p in hand.parameters()
    )
    x = torch.randn(batch, 3, 32, 32)
    target = torch.randint(0, 10, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(model: torch.nn.Module) -> float:
        started = time.perf_counter()
        model.zero_grad(set_to_none=True)
        loss_fn(model(x), target).backward()
        return time.perf_counter() - started

    for _ in range(3):  # warm-up
        step(compiled)
        step(hand)
    ours, theirs = [], []
    for i in range(40):  # interleaved, alternating who goes first
        pair = (compiled, hand) if i % 2 == 0 else (hand, compiled)
        for model in pair:
            (ours if model is compiled else theirs).append(step(model))
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(
        f"forward+backward, batch {batch}: compiled {statistics.median(ours) * 1e3:.2f} ms, "
        f"hand-written {statistics.median(theirs) * 1e3:.2f} ms, ratio {ratio:.3f} "
        f"(target <= 1.02) {'OK' if ratio <= 1.02 else 'SLOW'}"
    )
    return [measure("engine.compiled_vs_hand_written.ratio", ratio, "ratio", "<= 1.02")]


def main() -> list[Measure]:
    return bench_inference() + bench_compiled_vs_hand_written()


if __name__ == "__main__":
    main()
