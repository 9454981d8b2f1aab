"""What a TorchScript export made by tracing cannot do, said to the person exporting.

A scripted file keeps the design's behaviour in both modes: after ``.train()`` Dropout drops and
BatchNorm normalises with the batch's statistics and updates its running ones. When torch cannot
script a layer, the export traces one run in evaluation mode instead, and the traced file replays
that run whatever its mode. ``trace_note`` says so, naming the layers torch refused and the
blocks whose training behaviour the file lost.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from engine.catalog import CATALOG
from engine.graph import Graph

if TYPE_CHECKING:
    import torch.fx

# blocks that compute differently while training, which a trace taken in evaluation mode freezes
_TRAINING_TYPES = ("dropout", "dropout2d", "batchnorm")
_SHOWN = 5  # names listed before "and N more"


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown} and {len(names) - _SHOWN:,} more"


def unscriptable_layers(graph: Graph, module: torch.fx.GraphModule) -> list[str]:
    """``node (Type)`` for each layer of ``module`` that torch.jit.script refuses on its own."""
    import torch

    refused = []
    for fx_node in module.graph.nodes:
        if fx_node.op != "call_module" or "designer_node" not in fx_node.meta:
            continue
        name = fx_node.meta["designer_node"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit is marked deprecated
            try:
                torch.jit.script(module.get_submodule(str(fx_node.target)))
            except Exception:  # torch raises many kinds, internal asserts included
                refused.append(f"{name} ({CATALOG.get(graph.node(name).type_id).display_name})")
    return refused


def script_failure(graph: Graph, module: torch.fx.GraphModule, error: BaseException) -> str:
    """Why ``torch.jit.script(module)`` failed: the layers it refuses, else torch's first line."""
    refused = unscriptable_layers(graph, module)
    if refused:
        return f"{_listed(refused)} cannot be scripted"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def trace_note(graph: Graph, module: torch.fx.GraphModule, script_error: BaseException) -> str:
    """The note for a TorchScript file that was traced because ``torch.jit.script`` failed."""
    why = script_failure(graph, module, script_error)
    frozen = [n.name for n in graph if n.type_id in _TRAINING_TYPES]
    if frozen:
        loses = (
            f"after .train() its Dropout and BatchNorm blocks ({_listed(frozen)}) still behave as "
            "in evaluation mode: Dropout zeroes nothing and BatchNorm neither uses the batch's "
            "statistics nor updates its running ones, so the file cannot be trained further"
        )
    else:
        loses = "it replays that run, whatever its mode"
    return (
        f"TorchScript: torch could not script this design ({why}), so the file was traced "
        f"from one run in evaluation mode instead; {loses}. Use it for inference at the design's input size, or export as python to "
        "train the model further"
    )
