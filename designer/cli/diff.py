"""``cnn-designer diff A B``: what changed between two designs (project files or presets).

A and B are project files or ``preset:NAME[?KEY=VALUE&...]`` (the options of ``--option``).
Exit status as ``diff``'s: 0 when the designs are the same, 1 when they differ, 2 when one of
them cannot be read.
"""

from __future__ import annotations

import argparse
import json
import shlex
from urllib.parse import unquote

from designer.cli.common import fail, parse_options
from engine import DesignerError, Graph, load_project

PRESET_PREFIX = "preset:"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="list the blocks, settings and wires that differ between two designs",
        description=(
            "Blocks added, removed, renamed, retyped, re-parametrised and regrouped, wires "
            "added and removed, and the parameter and MAC totals of both designs. Each design "
            "is a project file or preset:NAME[?KEY=VALUE&...], e.g. preset:resnet18 or "
            "'preset:vgg?depth=11&classes=10'. Exits 0 when the designs are the same, 1 when "
            "they differ, 2 when one cannot be read."
        ),
    )
    parser.add_argument("a", metavar="A", help="the design before: a project file or preset:NAME")
    parser.add_argument("b", metavar="B", help="the design after: a project file or preset:NAME")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def load_design(text: str) -> Graph:
    """The design ``text`` names; DesignerError says what is wrong and how to name it."""
    if not text.startswith(PRESET_PREFIX):
        try:
            return load_project(text).graph
        except (DesignerError, OSError) as error:
            raise DesignerError(
                f"{error} (a design is a project file or preset:NAME; `cnn-designer presets` "
                "lists the presets)"
            ) from error
    from presets import PRESETS

    name, _, query = text.removeprefix(PRESET_PREFIX).partition("?")
    items = [unquote(item) for item in query.split("&") if item] if query else []
    try:
        for item in items:
            if "=" not in item:
                raise DesignerError(
                    f"option {item!r} is not KEY=VALUE. Write it as {PRESET_PREFIX}{name}?"
                    f"{item}=VALUE, e.g. preset:resnet18?classes=10"
                )
        return PRESETS.get(name).create(**parse_options(name, items))
    except DesignerError as error:
        raise DesignerError(
            f"{text}: {error} (`cnn-designer presets` lists the presets and their options)"
        ) from error


def run(args: argparse.Namespace) -> int:
    from engine.diff import diff_graphs
    from engine.diff_report import diff_text, diff_to_json

    try:
        before, after = load_design(args.a), load_design(args.b)
    except DesignerError as error:
        return fail(str(error))
    diff = diff_graphs(before, after)
    if args.json:
        print(json.dumps(diff_to_json(diff), indent=1, default=repr))
    else:
        print(f"--- {shlex.quote(args.a)}\n+++ {shlex.quote(args.b)}")
        print(diff_text(diff))
    return 0 if diff.empty else 1
