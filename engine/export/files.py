"""Writing exports to disk: python source (+ weights), TorchScript and ONNX files.

Weights come from a state dict or a checkpoint file, always read with
``torch.load(..., weights_only=True)`` (tensors and plain containers only, nothing executed), and
must fit the design exactly (strict ``load_state_dict``).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.compiler import compile_graph, example_inputs
from engine.export.literals import ExportError
from engine.export.python_code import python_source
from engine.graph import Graph
from engine.inference import infer
from engine.project import write_atomic

if TYPE_CHECKING:
    import torch

# keys under which checkpoints commonly keep the model's state dict
_CHECKPOINT_KEYS = ("model_state", "model_state_dict", "state_dict", "model")

Weights = Mapping[str, Any] | str | os.PathLike[str]


def read_state_dict(weights: Weights) -> dict[str, torch.Tensor]:
    """A state dict given directly, or read from a weights/checkpoint file (weights_only)."""
    import torch

    if isinstance(weights, Mapping):
        data: Any = weights
    else:
        path = Path(weights).expanduser()
        if path.is_dir():  # a training run folder: its best epoch, else its last
            path = path / "best.pt" if (path / "best.pt").is_file() else path / "last.pt"
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError as error:
            raise ExportError(f"weights file {path}: not found. Check the path") from error
        except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError...
            raise ExportError(
                f"weights file {path}: cannot be read as PyTorch weights ({error}). "
                "Give a state dict or a checkpoint saved with torch.save"
            ) from error
    for key in _CHECKPOINT_KEYS:
        if isinstance(data, Mapping) and isinstance(data.get(key), Mapping):
            data = data[key]
            break
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()
    ):
        raise ExportError(
            "weights: expected a state dict (names → tensors) or a checkpoint holding one under "
            f"{', '.join(repr(k) for k in _CHECKPOINT_KEYS)}"
        )
    return dict(data)


def load_into(module: torch.nn.Module, weights: Weights) -> None:
    """Load ``weights`` into ``module`` strictly; ExportError lists what does not fit."""
    state = read_state_dict(weights)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ExportError(
            f"the weights do not fit this design: {str(error).strip()}. Export with the design "
            "the weights were trained on"
        ) from error


def compiled_with_weights(graph: Graph, weights: Weights | None) -> torch.fx.GraphModule:
    """The compiled design in evaluation mode, with ``weights`` loaded when given."""
    module = compile_graph(graph)
    if weights is not None:
        load_into(module, weights)
    return module.eval()


def write_python(
    graph: Graph, out: Path, weights: Weights | None = None, class_name: str = "DesignedNet"
) -> Path:
    """The standalone ``.py`` file, and ``<same name>.pt`` beside it when weights are given."""
    import torch

    source = python_source(graph, class_name)
    if weights is not None:
        module = compiled_with_weights(graph, weights)
        weights_path = out.with_suffix(".pt")
        temp = weights_path.with_name(f".{weights_path.name}.tmp")
        torch.save(module.state_dict(), temp)
        os.replace(temp, weights_path)
    write_atomic(out, source)
    return out


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _names(graph: Graph, kind: str) -> list[str]:
    """ONNX value names of the Input or Output blocks (their node names, sanitised)."""
    names = [n for n in infer(graph).order if graph.node(n).type_id == kind]
    return [re.sub(r"[^0-9A-Za-z_.]", "_", n) for n in names]


def write_torchscript(graph: Graph, out: Path, weights: Weights | None = None) -> Path:
    """A TorchScript file (scripted; traced when scripting fails) for ``torch.jit.load``."""
    import torch

    module = compiled_with_weights(graph, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is marked deprecated; the format is not
        try:
            scripted = torch.jit.script(module)
        except Exception as script_error:  # a layer TorchScript cannot compile: trace one run
            try:
                scripted = torch.jit.trace(module, tuple(example_inputs(graph, batch=2)))
            except Exception as error:
                raise ExportError(
                    "TorchScript export failed: torch can neither script nor trace this design "
                    f"({_first_line(script_error)}; {_first_line(error)}). Export it as python "
                    "or onnx instead"
                ) from error
        out.parent.mkdir(parents=True, exist_ok=True)
        scripted.save(str(out))
    return out


def write_onnx(graph: Graph, out: Path, weights: Weights | None = None) -> Path:
    """An ONNX file with a dynamic batch axis (torch's TorchScript-based exporter)."""
    import torch

    module = compiled_with_weights(graph, weights)
    inputs, outputs = _names(graph, "input"), _names(graph, "output")
    axes = {name: {0: "batch"} for name in [*inputs, *outputs]}
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter announces its own deprecation
        try:
            torch.onnx.export(
                module,
                tuple(example_inputs(graph, batch=2)),
                str(out),
                dynamo=False,
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=17,
            )
        except Exception as error:
            raise ExportError(f"ONNX export failed: {_first_line(error)}") from error
    return out
