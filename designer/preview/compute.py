"""The preview's computation (no Qt; torch): one sample of the data set through the compiled
design, in evaluation mode without gradients, and per block the mean and standard deviation
(population: ``unbiased=False``) of its output, a thumbnail of its first channels, and
whether it is dead or saturated.

- dead: every value is 0, or all values are equal (std 0): nothing flows on from the block;
- saturated: a Tanh/Sigmoid/Hardtanh/Hardsigmoid whose outputs sit at their limits for at
  least ``SATURATED_SHARE`` of the values (their gradient there is about 0).

The initial weights are seeded with the training settings' seed, so the preview shows what a
run would start from; with ``training.weights`` set, the file's matching tensors are loaded.
The sample (the first image of the data set, prepared as training prepares it) is cached by
the data settings and the Input block.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SATURATED_SHARE = 0.9
THUMB_CHANNELS = 4  # channels shown side by side
THUMB_WIDTH = 256  # a 1-D output longer than this is shown as its first values
_LIMITS = {  # type_id: (low, high, tolerance)
    "tanh": (-1.0, 1.0, 0.02),
    "sigmoid": (0.0, 1.0, 0.01),
    "hardtanh": (-1.0, 1.0, 1e-6),
    "hardsigmoid": (0.0, 1.0, 1e-6),
}
_SAMPLES: dict[str, Any] = {}  # key -> (the input tensor 1×C×H×W, its label)


@dataclass(frozen=True)
class BlockPreview:
    """One block's output for the sample."""

    shape: tuple[int, ...]
    mean: float
    std: float
    dead: bool
    saturated: bool
    thumb: np.ndarray = field(repr=False)  # uint8 H×W

    @property
    def mark(self) -> str:
        return "dead" if self.dead else "saturated" if self.saturated else ""


@dataclass(frozen=True)
class PreviewResult:
    """Every block's preview, or the reason there is none."""

    blocks: dict[str, BlockPreview]
    label: str = ""
    error: str = ""
    notes: tuple[str, ...] = ()


def thumbnail(values: Any) -> np.ndarray:
    """A uint8 image of one sample's output: the first channels of a map side by side, each
    scaled to its own range; a vector as one row (its first ``THUMB_WIDTH`` values)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 3:
        tiles = [_scaled(c) for c in array[:THUMB_CHANNELS]]
        gap = np.zeros((array.shape[1], 1), dtype=np.uint8)
        parts: list[np.ndarray] = []
        for tile in tiles:
            parts += [tile, gap]
        return np.ascontiguousarray(np.hstack(parts[:-1]))
    flat = array.reshape(-1)[:THUMB_WIDTH]
    row = _scaled(flat.reshape(1, -1))
    return np.ascontiguousarray(np.repeat(row, max(1, row.shape[1] // 8), axis=0))  # a band


def _scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.full(values.shape, 128 if high != 0 else 0, dtype=np.uint8)
    return np.round((values - low) / (high - low) * 255).astype(np.uint8)


def block_preview(type_id: str, output: Any) -> BlockPreview:
    """The preview of one block's output tensor (batch of one)."""
    import torch

    values = output.detach().float()
    mean = float(values.mean())
    std = float(values.std(unbiased=False)) if values.numel() > 0 else 0.0
    dead = values.numel() == 0 or bool((values == 0).all()) or std == 0.0
    saturated = False
    if type_id in _LIMITS and values.numel():
        low, high, tol = _LIMITS[type_id]
        at_limit = (values <= low + tol) | (values >= high - tol)
        saturated = float(at_limit.float().mean()) >= SATURATED_SHARE
    sample = values[0] if values.dim() > 1 else values
    with torch.no_grad():
        thumb = thumbnail(sample.cpu().numpy())
    return BlockPreview(tuple(values.shape[1:]), mean, std, dead, saturated and not dead, thumb)


def _sample(graph: Any, settings: Any) -> tuple[Any, str]:
    """The first image of the data set prepared for the Input block, and its class."""
    from engine.preflight_deep import small_batch
    from engine.training.model import input_node

    name, shape = input_node(graph)
    key = json.dumps([settings.to_dict()["data"], settings.seed, name, list(shape)])
    if key not in _SAMPLES:
        x, y, _classes = small_batch(graph, settings, 2)
        _SAMPLES.clear()
        _SAMPLES[key] = (x[:1].clone(), int(y[0]))
    x, label = _SAMPLES[key]
    return x, f"class {label}"


def outputs_of(module: Any, x: Any) -> dict[str, Any]:
    """Every designer block's output tensor when ``module`` runs on ``x`` (its "out" port,
    else its first)."""
    import torch.fx

    found: dict[str, Any] = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            value = super().run_node(n)
            name = n.meta.get("designer_node")
            first = name not in found or n.meta.get("designer_port") == "out"
            if name is not None and isinstance(value, torch.Tensor) and first:
                found[name] = value
            return value

    Recorder(module).run(x)
    return found


def compute_preview(graph_data: dict[str, Any], training: dict[str, Any]) -> PreviewResult:
    """The preview of the design ``graph_data`` under the training settings ``training``.
    Never raises for a design or data problem: ``error`` says what is wrong and what to do."""
    import torch

    from engine.compiler import compile_graph
    from engine.errors import DesignerError
    from engine.inference import infer
    from engine.training.model import graph_from_data
    from engine.training.settings import TrainingSettings

    try:
        graph = graph_from_data(graph_data)
        result = infer(graph)
        if not result.ok:
            return PreviewResult({}, error="the design has errors: fix them for a preview")
        settings = TrainingSettings.from_dict(training)
        x, label = _sample(graph, settings)
        torch.manual_seed(settings.seed)
        module = compile_graph(graph, result)
        notes: tuple[str, ...] = ()
        if settings.weights:
            from engine.transfer import load_pretrained

            tensors, report = load_pretrained(graph, settings.weights)
            module.load_state_dict(tensors, strict=False)
            notes = (report.headline(),)
        module.eval()
        with torch.no_grad():
            outputs = outputs_of(module, x)
    except (DesignerError, ValueError, OSError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return PreviewResult({}, error=f"no preview: {first}")
    blocks = {
        name: block_preview(graph.node(name).type_id, value)
        for name, value in outputs.items()
        if name in graph
    }
    return PreviewResult(blocks, label, notes=notes)
