"""``cnn-designer import``: open a PyTorch model (torchvision name or a class in a file) as a project.

Only the file named with --file is executed (as a module: its ``__main__`` block does not run).
Operations without a catalog block are listed; the project is written anyway so they can be
fixed in the designer. Exit status 1 when something was not mapped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from designer.cli.common import fail, parse_shape
from engine import DesignerError, Project, infer, save_project


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="turn a PyTorch model (torchvision or your own nn.Module) into a project file",
        description=(
            "Traces the model with torch.fx and maps its layers to blocks. With --file, only "
            "that file is executed, to define the class; the class must build without arguments."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--torchvision", metavar="NAME", help="a torchvision model, e.g. resnet18")
    source.add_argument("--file", metavar="MODEL.py", help="a Python file defining the model")
    parser.add_argument("--class", dest="class_name", metavar="NAME", help="the class in --file")
    parser.add_argument(
        "--input", metavar="CxHxW", help="one input sample's shape (default 3x224x224)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT.cnnd", help="project file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.importer import DEFAULT_IMAGE_SHAPE, import_file, import_torchvision

    try:
        shape = parse_shape(args.input) if args.input is not None else list(DEFAULT_IMAGE_SHAPE)
        if args.file is not None:  # "" is refused before (cnn-designer's empty-option check)
            if not args.class_name:
                raise DesignerError("--file needs --class NAME: the nn.Module class to import")
            imported = import_file(args.file, args.class_name, shape)
            origin = f"{Path(args.file).name}:{args.class_name}"
        else:
            imported = import_torchvision(args.torchvision, shape)
            origin = f"torchvision {args.torchvision}"
        result = infer(imported.graph)
        metadata = {"title": origin, "imported_from": origin}
        save_project(Project(graph=imported.graph, metadata=metadata), args.output)
    except DesignerError as error:
        return fail(str(error))
    print(
        f"wrote {args.output}: {len(imported.graph)} blocks, {result.total_params:,} parameters "
        f"(the module has {imported.source_params:,})"
    )
    for item in imported.unmapped:
        print(f"  not mapped: {item}")
    for item in imported.warnings:
        print(f"  warning: {item}")
    return 1 if imported.unmapped else 0
