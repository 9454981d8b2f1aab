"""Writing exports to disk: python source (+ weights), TorchScript and ONNX files.

Weights come from a state dict or a checkpoint file, always read with
``engine.torch_files.load_torch_file`` (tensors and plain containers only, nothing executed; the
archive's sizes checked first), and must fit the design exactly (strict ``load_state_dict``).

Only regular files are written over: a FIFO, a device or a socket at the path is refused.
Every file is saved atomically: written in full to a temporary file beside its target, flushed to
disk, then renamed over the target, so a full disk or an unwritable folder leaves the previous
export as it was (an ExportError says which path, why, and what to do). TorchScript and weights
are serialised in memory first: torch's own file writer aborts the whole process (an uncatchable
C++ error) when the disk fills up.
"""

from __future__ import annotations

import errno
import io
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.atomic_files import Content, NotRegularFileError, not_regular_target, write_files_atomic
from engine.compiler import compile_graph, example_inputs
from engine.export.literals import ExportError, shape_text
from engine.export.preprocess import Preprocessing, json_bytes, json_path
from engine.export.python_code import python_source
from engine.export.tracing import script_failure, trace_note
from engine.graph import Graph
from engine.inference import infer
from engine.torch_files import TorchFileError, load_torch_file

if TYPE_CHECKING:
    import torch

_WEIGHTS_FIX = (
    "Give a training run folder, its last.pt or best.pt, or a state dict saved with torch.save"
)
# keys under which checkpoints commonly keep the model's state dict
_CHECKPOINT_KEYS = ("model_state", "model_state_dict", "state_dict", "model")
_EXAMPLE_BATCH = 2  # samples in the example run that tracing and the ONNX exporter make

Weights = Mapping[str, Any] | str | os.PathLike[str]


def read_state_dict(weights: Weights) -> dict[str, torch.Tensor]:
    """A state dict given directly, or read from a weights/checkpoint file (safely)."""
    import torch

    if isinstance(weights, Mapping):
        data: Any = weights
        source = "weights"
    else:
        path = _weights_file(Path(weights).expanduser())
        source = f"weights file {path}"
        try:
            data = load_torch_file(path)
        except TorchFileError as error:
            what = error.reason
            if error.content:
                what = (
                    "not a CNN Designer checkpoint or a state dict, so it cannot be read as "
                    f"PyTorch weights ({error.reason})"
                )
            raise ExportError(f"{source}: {what}. {_WEIGHTS_FIX}") from None
    for key in _CHECKPOINT_KEYS:
        if isinstance(data, Mapping) and isinstance(data.get(key), Mapping):
            data = data[key]
            break
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()
    ):
        raise ExportError(
            f"{source}: expected a state dict (names → tensors) or a checkpoint holding one under "
            f"{', '.join(repr(k) for k in _CHECKPOINT_KEYS)}. Give a training run folder, its "
            "last.pt or best.pt"
        )
    return dict(data)


def _weights_file(path: Path) -> Path:
    """``path``, or for a training run folder its best epoch's checkpoint, else its last."""
    if not path.is_dir():
        return path
    for name in ("best.pt", "last.pt"):
        if (path / name).is_file():
            return path / name
    raise ExportError(
        f"training run folder {path}: holds no best.pt or last.pt (no epoch finished). Give a run "
        "that finished at least one epoch, or a checkpoint file"
    )


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


def check_output_path(out: Path, example: str) -> None:
    """ExportError unless ``out`` names a file (not empty, not a folder)."""
    if out.name in ("", ".", ".."):
        raise ExportError(
            f"export path: names no file. Received: {str(out)!r}. Give a file name such as "
            f"{example}"
        )
    if out.is_dir():
        raise ExportError(
            f"export path {out}: is a folder. Give a file name inside it, such as {out / example}"
        )
    if (refusal := not_regular_target(out)) is not None:  # early: before compiling the design
        raise _write_error(out, refusal)


def _write_error(target: Path, error: OSError) -> ExportError:
    """An ExportError naming the file that could not be written, the reason and the fix."""
    if isinstance(error, NotRegularFileError):
        fix = "Export to a file name that is free or names a regular file"
    elif error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        fix = "Free some disk space or export to another drive"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "Export to a folder you can write to"
    else:
        fix = "Check the path and that its folder can be written"
    reason = error.strerror or _first_line(error)
    if isinstance(error, FileExistsError | NotADirectoryError):  # from mkdir, or on the way
        blocking = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
        if blocking is not None:
            reason = f"{blocking} is a file, not a folder"
            fix = "Export to a path inside a folder"
    return ExportError(
        f"export file {target}: cannot be written ({reason}); any previous file there is kept. "
        f"{fix}"
    )


def _save_files(files: Sequence[tuple[Path, Content]]) -> None:
    """``write_files_atomic(files)``, a failure becoming an ExportError naming the file."""
    try:
        write_files_atomic(files)
    except OSError as error:
        raise _write_error(Path(error.filename or files[0][0]), error) from error


def write_python(
    graph: Graph,
    out: Path,
    weights: Weights | None = None,
    class_name: str = "DesignedNet",
    preprocessing: Preprocessing | None = None,
) -> Path:
    """The standalone ``.py`` file (with ``preprocess(image)`` when ``preprocessing`` is
    given), and ``<same name>.pt`` beside it when weights are given."""
    import torch

    check_output_path(out, "model.py")
    files: list[tuple[Path, Content]] = []
    source = python_source(graph, class_name, preprocessing=preprocessing)
    if weights is not None:
        module = compiled_with_weights(graph, weights)
        buffer = io.BytesIO()
        torch.save(module.state_dict(), buffer)  # in memory: see the module's docstring
        files.append((out.with_suffix(".pt"), buffer.getbuffer()))
    files.append((out, source.encode("utf-8")))
    _save_files(files)
    return out


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _names(graph: Graph, kind: str) -> list[str]:
    """ONNX value names of the Input or Output blocks (their node names, sanitised)."""
    names = [n for n in infer(graph).order if graph.node(n).type_id == kind]
    return [re.sub(r"[^0-9A-Za-z_.]", "_", n) for n in names]


def _out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is torch (or Python) failing to allocate memory."""
    import torch

    return isinstance(error, MemoryError | torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "can't allocate memory" in str(error)
    )


def _memory_error(graph: Graph, what: str, error: BaseException) -> ExportError:
    """ExportError for an example run that does not fit in memory, naming the input shapes."""
    shapes = [
        (name, shape_text(graph.node(name).params["shape"]))
        for name in graph.names
        if graph.node(name).type_id == "input"
    ]
    received = (
        f"input shape {shapes[0][1]}"
        if len(shapes) == 1
        else "input shapes " + ", ".join(f"{name}: {shape}" for name, shape in shapes)
    )
    needed = re.search(r"allocate (\d+) bytes", str(error))
    gigabytes = int(needed.group(1)) / 1e9 if needed else 0.0
    detail = f" ({gigabytes:,.{0 if gigabytes >= 10 else 1}f} GB for one tensor)" if needed else ""
    return ExportError(
        f"{what} export runs the design once on {_EXAMPLE_BATCH} random samples, and that run "
        f"does not fit in memory{detail}. Received: {received}. Export with a smaller "
        "input size (the Input block's shape)"
    )


def _example_inputs(graph: Graph, what: str) -> tuple[torch.Tensor, ...]:
    """The example batch the exporters run; ExportError when it does not fit in memory."""
    try:
        return tuple(example_inputs(graph, batch=_EXAMPLE_BATCH))
    except (RuntimeError, MemoryError) as error:
        if not _out_of_memory(error):
            raise
        raise _memory_error(graph, what, error) from error


def write_torchscript(
    graph: Graph,
    out: Path,
    weights: Weights | None = None,
    on_note: Callable[[str], None] | None = None,
    preprocessing: Preprocessing | None = None,
) -> Path:
    """A TorchScript file (scripted; traced when scripting fails) for ``torch.jit.load``, and
    ``NAME.preprocess.json`` beside it when ``preprocessing`` is given.

    A traced file is frozen in evaluation mode: ``on_note`` receives a note saying so."""
    import torch

    check_output_path(out, "model.pt")
    module = compiled_with_weights(graph, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is marked deprecated; the format is not
        try:
            scripted = torch.jit.script(module)
        except Exception as script_error:  # a layer TorchScript cannot compile: trace one run
            inputs = _example_inputs(graph, "TorchScript")
            try:
                scripted = torch.jit.trace(module, inputs)
            except Exception as error:
                if _out_of_memory(error):
                    raise _memory_error(graph, "TorchScript", error) from error
                raise ExportError(
                    "TorchScript export failed: torch can neither script nor trace this design "
                    f"({script_failure(graph, module, script_error)}; {_first_line(error)}). "
                    "Export it as python or onnx instead"
                ) from error
            if on_note is not None:
                on_note(trace_note(graph, module, script_error))
        buffer = io.BytesIO()
        torch.jit.save(scripted, buffer)  # in memory: see the module's docstring
    _save_files([(out, buffer.getbuffer()), *_preprocess_file(out, preprocessing)])
    return out


def write_onnx(
    graph: Graph,
    out: Path,
    weights: Weights | None = None,
    preprocessing: Preprocessing | None = None,
) -> Path:
    """An ONNX file with a dynamic batch axis (torch's TorchScript-based exporter), and
    ``NAME.preprocess.json`` beside it when ``preprocessing`` is given."""
    import torch

    check_output_path(out, "model.onnx")
    module = compiled_with_weights(graph, weights)
    inputs, outputs = _names(graph, "input"), _names(graph, "output")
    axes = {name: {0: "batch"} for name in [*inputs, *outputs]}
    example = _example_inputs(graph, "ONNX")

    def export(path: str) -> None:
        # to a path, not a buffer: a model over 2 GB keeps its weights in files beside it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter announces its own deprecation
            try:
                torch.onnx.export(
                    module,
                    example,
                    path,
                    dynamo=False,
                    input_names=inputs,
                    output_names=outputs,
                    dynamic_axes=axes,
                    opset_version=17,
                )
            except OSError:
                raise  # writing the file failed: _save_files names the path
            except Exception as error:
                if _out_of_memory(error):
                    raise _memory_error(graph, "ONNX", error) from error
                raise ExportError(f"ONNX export failed: {_first_line(error)}") from error

    _save_files([(out, export), *_preprocess_file(out, preprocessing)])
    return out


def _preprocess_file(out: Path, pre: Preprocessing | None) -> list[tuple[Path, Content]]:
    """``NAME.preprocess.json`` beside the model ``out`` (nothing without preprocessing)."""
    return [] if pre is None else [(json_path(out), json_bytes(pre))]
