"""``cnn-designer check``: the pre-flight checks of a design against a data set, headless.

The quick checks (the network's output against the data set's classes, the Input block against
its images, how the network ends) need no torch; ``--deep`` adds the checks that run the design
on a small batch (initial loss against ln C, overfitting one batch, gradients, the chosen
learning rate, a learning-rate range test). Exit 0 when nothing refuses a run, 1 when a check
does, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import shlex
from typing import Any

from designer.cli.common import add_source_arguments, fail, invalid_design, load_graph
from engine import DesignerError, infer, load_project


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check a design against a data set before training (pre-flight)",
        description=(
            "Check that the design can train on the data set: its output against the data "
            "set's classes, its Input block against the images, and (with --deep) a few "
            "seconds of training on a small batch. Each finding comes with its fix."
        ),
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--deep",
        action="store_true",
        help="also run the design on a small batch: initial loss against ln C, overfit one "
        "batch, gradients, the learning rate, a learning-rate range test",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    from designer.cli.train import add_training_options

    add_training_options(parser, resume=False)
    parser.set_defaults(run=run)


def quick_findings(args: argparse.Namespace, graph: Any, settings: Any) -> list[Any]:
    """The quick checks as the command line names its fixes (``--option classes=10``)."""
    from engine.preflight import check_design
    from presets import PRESETS

    preset = PRESETS.get(args.preset) if args.preset else None
    return check_design(graph, settings, preset=preset, source=args.file)


def preset_training(preset: str | None) -> dict[str, Any]:
    """A preset's training settings: the built-in data set it is meant for (digits, shapes)."""
    from presets import PRESETS

    if preset is None or preset not in PRESETS:
        return {}
    meant = PRESETS.get(preset).dataset
    return {"data": {"dataset": meant}} if meant in ("digits", "shapes") else {}


def preflight_refusal(args: argparse.Namespace, graph: Any, settings: Any) -> str | None:
    """``train``'s refusal by the quick pre-flight checks (the class count, the Input block
    against the data), with the command line's fixes, or None when nothing refuses the run."""
    from engine.preflight import errors

    found = errors(quick_findings(args, graph, settings))
    if not found:
        return None
    source = f"--preset {args.preset}" if args.preset else shlex.quote(str(args.file))
    again = f"cnn-designer check {source} --data {settings.data.dataset}"
    return "\n".join(
        [*(f.text(cli=True) for f in found), f"Nothing was started; `{again}` checks again"]
    )


def run(args: argparse.Namespace) -> int:
    from designer.cli.train import build_settings

    try:
        graph = load_graph(args)
        result = infer(graph)
        if (refusal := invalid_design(args, result, "checked")) is not None:
            return fail(refusal)
        stored = load_project(args.file).training if args.file else preset_training(args.preset)
        settings = build_settings(args, stored)
    except DesignerError as error:
        return fail(str(error))
    findings = quick_findings(args, graph, settings)
    if args.deep and not any(f.severity == "error" for f in findings):
        from engine.preflight_deep import deep_checks

        findings += deep_checks(graph, settings)
    failed = any(f.severity == "error" for f in findings)
    if args.json:
        print(json.dumps({"ok": not failed, "findings": [f.to_dict() for f in findings]}, indent=2))
        return 1 if failed else 0
    for finding in findings:
        print(f"{finding.severity}: {finding.message}")
        for fix in finding.fixes:
            print(f"  fix: {fix.cli}")
    verdict = "refused: fix the errors above before training" if failed else "ready to train"
    print(f"{verdict} ({settings.data.dataset})")
    return 1 if failed else 0
