"""``cnn-designer`` (no command), ``cnn-designer gui`` and ``cnn-designer open FILE``."""

from __future__ import annotations

import argparse
import sys

VIEWS = ("design", "train", "runs")  # designer.app.VIEWS (not imported: it loads the engine)


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
        parser.add_argument(
            "--view",
            choices=VIEWS,
            default="design",
            help="the view to show: design (default), train (the newest run of the project, "
            "in a screenshot) or runs",
        )
        parser.add_argument(
            "--window-size",
            metavar="WxH",
            help="the window's size in pixels, e.g. 1280x720 (a screenshot's default: 1600x1100)",
        )
        parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from designer.app import parse_window_size, run_app  # Qt is imported only here

    size = None
    if args.window_size is not None:
        try:
            size = parse_window_size(args.window_size)
        except ValueError as error:
            print(f"cnn-designer: error: {error}", file=sys.stderr)
            return 2
    return run_app(
        file=args.file,
        preset=args.preset,
        screenshot=args.screenshot,
        view=args.view,
        window_size=size,
    )
