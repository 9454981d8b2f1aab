"""The ``cnn-designer`` command line: headless subcommands, and the GUI when none is given.

Each subcommand lives in its own module with ``register(subparsers)``; the ones listed in
``COMMANDS`` are loaded. Headless commands never import Qt, and torch only when they need it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("summary", "presets", "train", "export", "import_", "gui")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="cnn-designer",
        description="Design, check and train convolutional neural networks.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"designer.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # bare `cnn-designer` (or only GUI flags such as --preset/--screenshot) opens the window
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help")):
        args_list = ["gui", *args_list]
    args = parser.parse_args(args_list)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
