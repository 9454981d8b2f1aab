"""``cnn-designer export``: a design as PyTorch code, TorchScript or ONNX, optionally with weights."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from designer.cli.common import add_source_arguments, fail, invalid_design, load_graph
from engine import DesignerError, infer, load_project


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a project or preset as PyTorch code, TorchScript or ONNX",
        description=(
            "python: one standalone .py file (needs only torch; `python FILE.py` runs it), with "
            "the weights beside it as FILE.pt when --weights is given. torchscript: a file for "
            "torch.jit.load. onnx: a file with a dynamic batch axis (needs the onnx package). "
            "Every export carries the evaluation preprocessing (resize, channels, normalisation "
            "from the project's training settings or the checkpoint): python as preprocess(), "
            "torchscript and onnx as NAME.preprocess.json beside the file."
        ),
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--format", required=True, choices=("python", "torchscript", "onnx"), help="what to write"
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write")
    parser.add_argument(
        "--weights",
        metavar="PATH",
        help="weights: a checkpoint or run folder of ours, or a state dict file (torchvision, "
        "timm), matched by name; all of the design's tensors must match (a report says which "
        "do not)",
    )
    parser.add_argument(
        "--class-name", metavar="NAME", help="the Python class name (default: from the preset)"
    )
    parser.set_defaults(run=run)


def _class_name(args: argparse.Namespace) -> str:
    if args.class_name:
        return args.class_name
    if args.preset:
        from presets import PRESETS

        return "".join(ch for ch in PRESETS.get(args.preset).display_name if ch.isalnum())
    return "DesignedNet"


def _settings(args: argparse.Namespace) -> Any:
    """The project's training settings (a project file that stores some), or None."""
    if not args.file:
        return None
    from engine.training.settings import TrainingSettings

    try:
        stored = load_project(args.file).training
        return TrainingSettings.from_dict(stored) if stored else None
    except DesignerError:
        return None


def run(args: argparse.Namespace) -> int:
    from engine.export import export_model, preprocessing_for
    from engine.transfer import TransferError, load_pretrained, read_weights

    notes: list[str] = []  # what the file written cannot do (a traced TorchScript file)
    try:
        graph = load_graph(args)
        result = infer(graph)
        if (refusal := invalid_design(args, result, "exported")) is not None:
            return fail(refusal)
        weights, checkpoint = None, None
        if args.weights:
            found = read_weights(args.weights)
            try:
                weights, report = load_pretrained(graph, found, strict=True)
            except TransferError as error:
                if error.report is not None:
                    print(error.report.text(), file=sys.stderr)
                return fail(str(error))
            print(report.headline())
            checkpoint = found.checkpoint
        pre = preprocessing_for(graph, _settings(args), checkpoint, on_note=notes.append)
        path = export_model(
            graph,
            args.format,
            args.output,
            weights,
            class_name=_class_name(args),
            on_note=notes.append,
            preprocessing=pre,
        )
    except DesignerError as error:
        return fail(str(error))
    extra = ""
    if args.format == "python" and args.weights:
        extra = f" (weights: {path.with_suffix('.pt')})"
    if pre is not None and args.format != "python":
        from engine.export.preprocess import json_path

        extra = f" (preprocessing: {json_path(path)})"
    print(f"wrote {path}{extra}: {result.total_params:,} parameters, {args.format}")
    for note in notes:
        print(f"note: {note}")
    return 0
