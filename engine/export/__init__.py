"""Export a design: readable PyTorch code, TorchScript or ONNX, optionally with trained weights.

``export_model(graph, "python", "model.py", weights="run/best.pt")`` writes the file and returns
its path. Formats: ``python`` (a standalone ``nn.Module`` file needing only torch, weights beside
it as ``model.pt``), ``torchscript`` (for ``torch.jit.load``) and ``onnx`` (dynamic batch axis;
needs the ``onnx`` package).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from engine.export.class_names import DEFAULT_CLASS, class_name_problem
from engine.export.files import (
    Weights,
    check_output_path,
    read_state_dict,
    write_onnx,
    write_python,
    write_torchscript,
)
from engine.export.layers import supported
from engine.export.literals import ExportError
from engine.export.preprocess import Preprocessing, preprocessing_for
from engine.export.python_code import python_source
from engine.graph import Graph

FORMATS: dict[str, str] = {"python": ".py", "torchscript": ".pt", "onnx": ".onnx"}


def export_model(
    graph: Graph,
    format: str,
    out_path: str | os.PathLike[str],
    weights: Weights | None = None,
    class_name: str = "DesignedNet",
    on_note: Callable[[str], None] | None = None,
    preprocessing: Preprocessing | None = None,
) -> Path:
    """Write ``graph`` as ``format`` to ``out_path`` (weights: a state dict or checkpoint file).

    ``preprocessing`` (``engine.export.preprocess``): a python file holds it as constants and
    ``preprocess(image)``; TorchScript and ONNX files get ``NAME.preprocess.json`` beside them.

    ``on_note`` receives what the person exporting should know about the file written, such as
    a TorchScript file traced (frozen in evaluation mode) because torch could not script it."""
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r}. Choose one of {', '.join(FORMATS)}")
    if not os.fspath(out_path).strip():  # Path("") would read as the current folder
        raise ExportError(
            "export path: names no file. Received: ''. Give a file name such as "
            f"model{FORMATS[format]}"
        )
    out = Path(out_path)
    check_output_path(out, "model" + FORMATS[format])
    if format == "python":
        if out.suffix != ".py":
            raise ExportError(
                f"a python export must end in .py to run as a script. Received: {out.name}. "
                f"Use {out.with_suffix('.py').name}"
            )
        return write_python(graph, out, weights, class_name, preprocessing)
    if format == "torchscript":
        return write_torchscript(graph, out, weights, on_note, preprocessing)
    try:
        import onnx  # noqa: F401  (torch.onnx.export needs it)
    except ImportError as error:
        raise ExportError(
            "ONNX export needs the onnx package: pip install 'cnn-designer[onnx]'"
        ) from error
    return write_onnx(graph, out, weights, preprocessing)


__all__ = [
    "DEFAULT_CLASS",
    "FORMATS",
    "ExportError",
    "Preprocessing",
    "class_name_problem",
    "export_model",
    "preprocessing_for",
    "python_source",
    "read_state_dict",
    "supported",
]
