"""Which design an experiment trains: the one open in the window when it suits, else the
lesson's own (LeNet-5 for Digits), with a sentence saying which and why (torch-free).

The lecture trains "the same network" several ways. An experiment starts from the open design
when every variant can be made from it (``engine.lessons.experiments``), it validates, it can
learn a built-in data set (Digits, or Shapes when the project trains on it: no download) and its
variants are small enough to train in the background in seconds on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.data.agreement import check_input_shape
from engine.errors import DesignerError
from engine.graph import Graph
from engine.inference import infer

BASE_PRESET = "lenet5_digits"  # small enough to train in seconds on a CPU
BUILTIN = {"digits": ((1, 8, 8), 10), "shapes": ((3, 32, 32), 6)}  # sample shape, classes
MAX_MACS = 60_000_000  # per image, per variant (a small VGG at 32×32 is about 40 million)
MAX_PARAMS = 5_000_000  # per variant


@dataclass(frozen=True)
class BaseChoice:
    """The base design of an experiment, the data set it trains on, and what to tell."""

    graph: Graph
    dataset: str
    own: bool  # True: the design open in the window
    note: str


def _dataset(training: dict[str, Any] | None) -> str:
    data = (training or {}).get("data") or {}
    name = data.get("dataset") if isinstance(data, dict) else None
    return name if name in BUILTIN else "digits"


def _problem(key: str, graph: Graph, dataset: str) -> str | None:
    """Why ``graph`` cannot be experiment ``key``'s base (None: it can)."""
    from engine.lessons.experiments import experiment_graphs

    result = infer(graph)
    if not result.ok:
        return f"it does not validate ({result.errors[0].message})"
    inputs = graph.nodes_of_type("input")
    outputs = graph.nodes_of_type("output")
    if len(inputs) != 1 or len(outputs) != 1:
        return f"it has {len(inputs)} Input and {len(outputs)} Output blocks (one of each needed)"
    sample, classes = BUILTIN[dataset]
    shape = tuple(inputs[0].params.get("shape") or ())
    if not check_input_shape(shape, sample, dataset).data_fix_possible:
        return f"its input {list(shape)} cannot take {dataset} images"
    scores = result.nodes[outputs[0].name].inputs
    if not scores or tuple(scores[0] or ()) != (classes,):
        return f"it does not end in {classes} scores, one per {dataset} class"
    try:
        graphs = experiment_graphs(key, graph)
    except DesignerError as error:
        return str(error)
    for label, variant in graphs:
        found = infer(variant)
        if not found.ok:
            return f"its {label} variant does not validate ({found.errors[0].message})"
        if found.total_macs > MAX_MACS or found.total_params > MAX_PARAMS:
            return (
                f"its {label} variant has {found.total_params:,} parameters and "
                f"{found.total_macs:,} MACs, more than the {MAX_PARAMS:,} and {MAX_MACS:,} "
                "that train in seconds"
            )
    return None


def choose_base(
    key: str,
    graph: Graph | None,
    training: dict[str, Any] | None,
    name: str,
    fallback: Graph,
    fallback_name: str,
) -> BaseChoice:
    """The base design of experiment ``key``: ``graph`` (the open design, ``name`` for the
    message) trained on its project's built-in data set when it suits, else ``fallback`` (the
    lesson's design, ``BASE_PRESET`` from the presets) on Digits."""
    what = f"the open design {name}" if name else "the open design"
    if graph is not None and len(graph):
        dataset = _dataset(training)
        problem = _problem(key, graph, dataset)
        if problem is None:
            return BaseChoice(graph.copy(), dataset, True, f"Trained on {what} with {dataset}.")
    else:
        problem = "there is none"
    return BaseChoice(
        fallback,
        "digits",
        False,
        f"Not on {what}: {problem}. Trained on {fallback_name} with digits instead.",
    )
