"""Helpers shared by the subcommands: loading a graph from a file or a preset."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import TYPE_CHECKING, Any

from engine import DesignerError, Graph, load_project
from engine.params import ParamKind, ParamSpec

if TYPE_CHECKING:
    from engine.inference import InferenceResult

MAX_LISTED_PROBLEMS = 20  # a refusal lists this many problems, then says how many more


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


def source_label(args: argparse.Namespace) -> str:
    """The file or preset the command line names, as a person would recognise it."""
    if args.preset:
        options = f" with {', '.join(args.option)}" if args.option else ""
        return f"preset {args.preset}{options}"
    return str(args.file)


def invalid_design(args: argparse.Namespace, result: InferenceResult, doing: str) -> str | None:
    """The refusal of an invalid design, or None when it has no errors: first one line naming
    the file (or preset) and what to do, then one line per problem (at most
    MAX_LISTED_PROBLEMS). ``doing`` is what the command would have done ("exported")."""
    errors = result.errors
    if not errors:
        return None
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    if args.preset:
        fix = (
            "choose other --option values (see `cnn-designer presets`), or open the preset in "
            "the designer and fix it there"
        )
        again = f"cnn-designer summary --preset {shlex.quote(args.preset)}"
    else:
        quoted = shlex.quote(str(args.file))
        fix = f"fix it in the designer (cnn-designer open {quoted}) or in the file"
        again = f"cnn-designer summary {quoted}"
    lines = [f"{source_label(args)}: the design has {count}, so it cannot be {doing}; {fix}:"]
    lines += [f"  {' '.join(d.message.split())}" for d in errors[:MAX_LISTED_PROBLEMS]]
    if len(errors) > MAX_LISTED_PROBLEMS:
        lines.append(f"  … and {len(errors) - MAX_LISTED_PROBLEMS} more (`{again}` lists them all)")
    return "\n".join(lines)


def empty_option_problem(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """The refusal of an option or argument given as an empty string (``--file ""``), which no
    option of this program accepts, or None."""
    for action in parser._actions:  # argparse keeps no public list of a parser's arguments
        value = getattr(args, action.dest, None)
        if value != "" and not (isinstance(value, list) and "" in value):
            continue
        flag = action.option_strings[-1] if action.option_strings else action.dest.upper()
        wanted = action.metavar or action.dest.upper()
        what = f": {action.help}" if action.help else ""
        return f"{flag}: must not be empty. Received: {flag}=''. Give {wanted}{what}"
    return None
