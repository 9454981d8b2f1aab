"""Model-side set-up of a run: rebuild the graph, check it against the data, device, optimiser, loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.catalog import fmt_shape
from engine.diagnostics import Fix, FixAction
from engine.errors import DesignerError
from engine.graph import Graph
from engine.inference import InferenceResult
from engine.project import FORMAT, VERSION, project_from_data
from engine.training.settings import TrainingSettings


class TrainingError(DesignerError, RuntimeError):
    """A run cannot start or continue; the message says why and what to do."""


def graph_from_data(data: dict[str, Any]) -> Graph:
    """Rebuild a graph from ``Graph.to_data()`` (the form that crosses process boundaries)."""
    return project_from_data({"format": FORMAT, "version": VERSION, "graph": data}, "graph").graph


def input_node(graph: Graph) -> tuple[str, tuple[int, ...]]:
    """The single Input block's name and shape."""
    inputs = graph.nodes_of_type("input")
    if len(inputs) != 1:
        raise TrainingError(
            f"training needs exactly one Input block; the graph has {len(inputs)}. "
            "Keep one Input block fed by the images"
        )
    return inputs[0].name, tuple(int(s) for s in inputs[0].params.get("shape", ()))


@dataclass(frozen=True)
class ClassCheck:
    """Whether the network's output has one score per class; else a message and a fix."""

    ok: bool
    message: str = ""
    fix: Fix | None = None


def check_classes(graph: Graph, result: InferenceResult, classes: int) -> ClassCheck:
    """The Output block must receive one score per class (F = number of classes)."""
    outputs = graph.nodes_of_type("output")
    if not outputs:
        return ClassCheck(False, "the graph has no Output block: add one after the last layer")
    name = outputs[0].name
    shape = result.nodes[name].inputs[0] if result.nodes[name].inputs else None
    if shape is not None and len(shape) == 1 and shape[0] == classes:
        return ClassCheck(True)
    edge = graph.edge_into(name, "in")
    source = graph.node(edge.src) if edge else None
    if shape is not None and len(shape) == 1 and source is not None and source.type_id == "linear":
        return ClassCheck(
            False,
            f"the network gives {shape[0]} scores per image but the data set has {classes} "
            f"classes: set out_features of {source.name!r} to {classes}",
            Fix(
                f"Set {source.name}.out_features to {classes}",
                FixAction.SET_PARAMS,
                source.name,
                {"out_features": classes},
            ),
        )
    got = fmt_shape(shape) if shape is not None else "an unknown shape"
    return ClassCheck(
        False,
        f"the network gives {got} per image but a classifier of {classes} classes must end in "
        f"{classes} scores: end with Flatten and Linear(out_features={classes}) before the Output block",
    )


def choose_device(request: str) -> torch.device:
    """auto: CUDA, then Apple MPS, then CPU; an explicit device must exist."""
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps and mps.is_available())
    if request == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_ok else torch.device("cpu")
    if request.startswith("cuda"):
        index = int(request.partition(":")[2] or 0)
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise TrainingError(
                f"device {request!r} is not available (CUDA devices: "
                f"{torch.cuda.device_count() if torch.cuda.is_available() else 0}). Use device auto or cpu"
            )
    if request == "mps" and not mps_ok:
        raise TrainingError("device 'mps' is not available here. Use device auto or cpu")
    return torch.device(request)


def device_label(device: torch.device) -> str:
    """A person's name for the device."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def make_optimizer(model: nn.Module, s: TrainingSettings) -> torch.optim.Optimizer:
    """The optimiser named in the settings; TrainingError for a network without weights."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainingError(
            "the network has no weights to train: its layers (such as Flatten, Dropout, "
            "pooling and activations) have no parameters. Add a layer with weights, such as "
            "Linear or Conv2d, before the Output block"
        )
    if s.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=s.lr, momentum=s.momentum, nesterov=s.nesterov, weight_decay=s.weight_decay
        )
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)
    return torch.optim.RMSprop(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)


def loss_function(name: str, classes: int) -> Any:
    """cross-entropy on the scores, or the lecture's E = 1/P Σ (t − a)² against one-hot t."""
    if name == "cross_entropy":
        return F.cross_entropy

    def mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(target, classes).to(output.dtype)
        return ((onehot - output) ** 2).sum(1).mean()

    return mse


def layer_names(model: nn.Module) -> tuple[list[str], list[str], list[str]]:
    """Names of (every leaf layer, convolutions, ReLUs) in the compiled module."""
    leaves, convs, relus = [], [], []
    for name, module in model.named_modules():
        if not name or list(module.children()):
            continue
        leaves.append(name)
        if isinstance(module, nn.Conv2d):
            convs.append(name)
        if isinstance(module, nn.ReLU | nn.ReLU6):
            relus.append(name)
    return leaves, convs, relus


def start_weights(
    module: nn.Module,
    graph: Graph,
    s: TrainingSettings,
    initial_weights: Any,
    freeze: tuple[str, ...],
    resuming: bool,
) -> tuple[tuple[str, ...], list[str]]:
    """Load the pretrained weights into ``module`` and freeze the blocks asked for; returns the
    blocks frozen and notes (how many parameters are trainable and frozen). Without
    ``initial_weights``, a new run starts from the settings' ``weights`` file (a resumed run
    continues from its checkpoint); without ``freeze``, the settings' ``freeze`` applies.
    Raises ``TransferError`` for a weights file that does not fit."""
    notes: list[str] = []
    weights = initial_weights
    if weights is None and s.weights and not resuming:
        from engine.transfer import load_pretrained

        weights, report = load_pretrained(graph, s.weights)
        notes.append(report.headline())
    if weights:
        module.load_state_dict(dict(weights), strict=False)
    if not freeze and s.freeze:  # kept in the project: blocks may be gone since
        known = {*graph.groups(), *graph.names}
        gone = [n for n in s.freeze if n not in known]
        if gone:
            notes.append(
                f"freeze: {', '.join(gone)} no longer in the design (renamed or deleted): "
                "not frozen"
            )
        freeze = tuple(n for n in s.freeze if n in known)
    if freeze:
        from engine.transfer import freeze as freeze_blocks

        trainable, frozen = freeze_blocks(module, graph, freeze)
        notes.append(
            f"{trainable:,} parameters trainable, {frozen:,} frozen (--freeze {', '.join(freeze)})"
        )
    return freeze, notes
