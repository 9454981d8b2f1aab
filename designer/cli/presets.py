"""``cnn-designer presets``: every architecture with its input, parameters, MACs and options."""

from __future__ import annotations

import argparse
import json

from engine import fmt_shape, infer


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("presets", help="list the architecture presets")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from presets import PRESETS

    rows = []
    for preset in PRESETS:
        result = infer(preset.create())
        options = ", ".join(
            f"{o.name}={o.default}" + (f" ({'|'.join(map(str, o.choices))})" if o.choices else "")
            for o in preset.options
        )
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
