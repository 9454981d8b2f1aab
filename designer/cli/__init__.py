"""The ``cnn-designer`` command line: headless subcommands, and the GUI when none is given.

Each subcommand lives in its own module with ``register(subparsers)``; the ones listed in
``COMMANDS`` are loaded. Headless commands never import Qt, and torch only when they need it.
A bare ``cnn-designer`` opens the window without building the parser at all: argparse and the
six subcommand modules would add about 10 ms to the designer's start-up (issue 4).
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

COMMANDS = (
    "summary",
    "explain",
    "presets",
    "train",
    "sweep",
    "repeat",
    "runs",
    "export",
    "import_",
    "diff",
    "memory",
    "check",
    "gui",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="cnn-designer",
        description="Design, check and train convolutional neural networks.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"designer.cli.{name}")
        module.register(subparsers)
    return parser


def _empty_option(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Why the command line holds an empty value (``--file ""``), or None."""
    import argparse

    from designer.cli.common import empty_option_problem

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            command = action.choices.get(args.command)
            if command is not None:
                return empty_option_problem(command, args)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    command: Callable[[], object]
    if not args_list:  # bare `cnn-designer`: the window with LeNet-5, at once
        from designer.app import run_app

        command = run_app
    else:
        parser = build_parser()
        # only GUI flags (such as --preset or --screenshot) open the window too
        if args_list[0].startswith("-") and args_list[0] not in ("-h", "--help"):
            args_list = ["gui", *args_list]
        args = parser.parse_args(args_list)
        if (problem := _empty_option(parser, args)) is not None:
            print(f"cnn-designer: error: {problem}", file=sys.stderr)
            return 2
        command = functools.partial(args.run, args)
    try:
        return int(command() or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as error:  # a file or folder the commands could not read or write
        where = f": {error.filename}" if error.filename else ""
        print(
            f"cnn-designer: error: {error.strerror or error}{where}. Check the path and that it "
            "can be written (or read) there",
            file=sys.stderr,
        )
        return 1
