"""``cnn-designer export``: a design as PyTorch code, TorchScript or ONNX, optionally with weights."""

from __future__ import annotations

import argparse

from designer.cli.common import add_source_arguments, fail, invalid_design, load_graph
from engine import DesignerError, infer


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a project or preset as PyTorch code, TorchScript or ONNX",
        description=(
            "python: one standalone .py file (needs only torch; `python FILE.py` runs it), with "
            "the weights beside it as FILE.pt when --weights is given. torchscript: a file for "
            "torch.jit.load. onnx: a file with a dynamic batch axis (needs the onnx package)."
        ),
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--format", required=True, choices=("python", "torchscript", "onnx"), help="what to write"
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write")
    parser.add_argument(
        "--weights",
        metavar="CKPT",
        help="trained weights: a checkpoint, a state dict file or a training run folder",
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


def run(args: argparse.Namespace) -> int:
    from engine.export import export_model

    notes: list[str] = []  # what the file written cannot do (a traced TorchScript file)
    try:
        graph = load_graph(args)
        result = infer(graph)
        if (refusal := invalid_design(args, result, "exported")) is not None:
            return fail(refusal)
        path = export_model(
            graph,
            args.format,
            args.output,
            args.weights,
            class_name=_class_name(args),
            on_note=notes.append,
        )
    except DesignerError as error:
        return fail(str(error))
    extra = ""
    if args.format == "python" and args.weights:
        extra = f" (weights: {path.with_suffix('.pt')})"
    print(f"wrote {path}{extra}: {result.total_params:,} parameters, {args.format}")
    for note in notes:
        print(f"note: {note}")
    return 0
