"""``cnn-designer`` (no command), ``cnn-designer gui`` and ``cnn-designer open FILE``."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, help_text in (
        ("gui", "open the designer window"),
        ("open", "open a project file in the designer"),
    ):
        parser = subparsers.add_parser(name, help=help_text)
        parser.add_argument("file", nargs="?", help="a project file to open")
        parser.add_argument("--preset", metavar="NAME", help="open a preset instead of LeNet-5")
        parser.add_argument(
            "--screenshot", metavar="PNG", help="render the window offscreen to PNG and exit"
        )
        parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from designer.app import run_app  # Qt is imported only here

    return run_app(file=args.file, preset=args.preset, screenshot=args.screenshot)
