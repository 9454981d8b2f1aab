"""Helpers shared by the subcommands: loading a graph from a file or a preset."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine import DesignerError, Graph, load_project
from engine.params import ParamKind, ParamSpec


def add_source_arguments(parser: argparse.ArgumentParser, file_required: bool = False) -> None:
    """FILE or --preset NAME [--option KEY=VALUE ...]."""
    parser.add_argument("file", nargs="?", help="a project file (.cnnd)")
    parser.add_argument("--preset", metavar="NAME", help="start from a preset instead of a file")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a preset option, e.g. --option width=0.5 (repeatable)",
    )


def parse_options(preset_name: str, items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings parsed with the preset's option types."""
    from presets import PRESETS

    preset = PRESETS.get(preset_name)
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise DesignerError(f"--option {item!r}: write it as KEY=VALUE, e.g. classes=10")
        options[key.strip()] = preset.option(key.strip()).parse(value)
    return options


def load_graph(args: argparse.Namespace) -> Graph:
    """The graph named on the command line (a file or a preset with options)."""
    if args.preset and args.file:
        raise DesignerError("give either a FILE or --preset NAME, not both")
    if args.preset:
        from presets import PRESETS

        return PRESETS.get(args.preset).create(**parse_options(args.preset, args.option))
    if args.option:
        raise DesignerError("--option only applies to --preset")
    if not args.file:
        raise DesignerError("name a project FILE or a --preset NAME (see `cnn-designer presets`)")
    return load_project(args.file).graph


def parse_shape(text: str) -> list[int]:
    """``3x224x224`` as [3, 224, 224], with the Input block's own check."""
    spec = ParamSpec("input", ParamKind.SHAPE, None, "")
    value = spec.parse(text)
    if (problem := spec.problem(value)) is not None:
        raise DesignerError(problem)
    return list(value)


def fail(message: str) -> int:
    """Print an error for a person and return exit status 2."""
    print(f"cnn-designer: error: {message}", file=sys.stderr)
    return 2
