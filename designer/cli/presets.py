"""``cnn-designer presets``: every architecture with its input, parameters, MACs and options."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from engine import fmt_shape, infer

if TYPE_CHECKING:
    from presets import PresetOption


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("presets", help="list the architecture presets")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(run=run)


def _describe(option: PresetOption) -> str:
    """``resolution=299 (at least 75, or 299 with aux_logits=True)``, ``width=1.0 (1.0|0.5)``."""
    text = f"{option.name}={option.default}"
    if option.choices:
        return text + f" ({'|'.join(map(str, option.choices))})"
    if option.minimum > 1 or option.minimum_when:
        return text + f" ({option.describe_minimum()})"
    return text


def run(args: argparse.Namespace) -> int:
    from presets import PRESETS

    rows = []
    for preset in PRESETS:
        result = infer(preset.create())
        options = ", ".join(_describe(o) for o in preset.options)
        rows.append(
            {
                "name": preset.name,
                "display_name": preset.display_name,
                "year": preset.year,
                "input": list(preset.input_shape),
                "params": result.total_params,
                "macs": result.total_macs,
                "options": options,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    width = max(len(r["name"]) for r in rows)
    print(f"{'name'.ljust(width)}  {'input':>11}  {'params':>12}  {'MACs':>15}  options")
    for r in rows:
        print(
            f"{r['name'].ljust(width)}  {fmt_shape(tuple(r['input'])):>11}  {r['params']:>12,}  "
            f"{r['macs']:>15,}  {r['options']}"
        )
    return 0
