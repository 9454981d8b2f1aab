"""``cnn-designer repeat``: the same design and settings trained with N seeds, and the
per-epoch mean ± standard deviation of the validation accuracy and loss.

    cnn-designer repeat --preset lenet5_digits --data digits --epochs 3 --seeds 5

Seeds run from --seed (the project's seed, else 0) upwards. The bands are printed and written
as repeat.json in the runs folder; each run is an ordinary run folder.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from designer.cli.common import add_source_arguments, fail, invalid_design, load_graph
from designer.cli.train import add_training_options, build_settings
from engine import DesignerError, infer, load_project


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "repeat",
        help="train the same design with N seeds and report the mean ± standard deviation",
        description=(
            "Train N runs with seeds --seed .. --seed+N-1 (each an ordinary run folder), then "
            "print the per-epoch mean ± standard deviation of the validation accuracy and loss "
            "and write them as repeat.json in the runs folder."
        ),
    )
    add_source_arguments(parser)
    parser.add_argument("--seeds", type=int, metavar="N", help="number of runs (at least 2)")
    parser.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="P",
        help="runs at once in separate processes, at most the CPU cores (default: 1)",
    )
    parser.add_argument("--json", action="store_true", help="print repeat.json's data on stdout")
    add_training_options(parser, resume=False)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from designer.cli.sweep import _interruptible, _make_folder
    from engine.experiments.repeats import repeat_runs
    from engine.experiments.stopping import Interrupted, StopRequest
    from engine.training import runs

    cores = os.cpu_count() or 1
    if args.seeds is None or args.seeds < 2:
        return fail(
            f"--seeds: must be at least 2. Received: --seeds={args.seeds}. Give the number of "
            "runs, e.g. --seeds 5"
        )
    if not 1 <= args.parallel <= cores:
        return fail(
            f"--parallel: must be from 1 to the {cores} CPU core(s). Received: "
            f"--parallel={args.parallel}. Use {min(cores, args.seeds)} or less"
        )
    try:
        graph = load_graph(args)
        if (refusal := invalid_design(args, infer(graph), "trained")) is not None:
            return fail(refusal)
        stored = load_project(args.file).training if args.file else {}
        settings = build_settings(args, stored)
        root = Path(args.out) if args.out else runs.default_run_root(args.file, args.preset)
        _make_folder(root)
    except DesignerError as error:
        return fail(str(error))
    out = sys.stderr if args.json else sys.stdout
    last = settings.seed + args.seeds - 1
    print(f"{args.seeds} runs, seeds {settings.seed}..{last}, in {root}", file=out, flush=True)

    def on_run(r: Any) -> None:
        best = f"best val accuracy {r.best_val_accuracy:.2%}" if r.best_val_accuracy else r.message
        print(f"seed {r.seed} {r.status}: {best}; run folder {r.run_dir}", file=out, flush=True)

    stop = StopRequest()
    try:
        with _interruptible(stop):
            summary = repeat_runs(
                graph,
                settings,
                args.seeds,
                root,
                workers=min(args.parallel, args.seeds),
                on_run=on_run,
                stop=stop,
            )
    except Interrupted as ended:
        print(
            f"cnn-designer: repeat stopped by {ended.name}: the run going records the stop; "
            "no repeat.json was written",
            file=sys.stderr,
        )
        return 128 + int(getattr(signal.Signals, ended.name, signal.SIGINT))
    except OSError as error:
        return fail(f"{root}: repeat.json cannot be written ({error.strerror or error})")
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        for row in summary["epochs"]:
            print(
                f"epoch {row['epoch']} ({row['runs']} runs): {_band(row, 'val_accuracy', True)}  {_band(row, 'val_loss')}"
            )
        print(f"bands written to {root / 'repeat.json'}")
    failed = [r for r in summary["runs"] if r["status"] != "completed"]
    if failed:
        seeds = ", ".join(str(r["seed"]) for r in failed)
        return fail(
            f"the run(s) with seed {seeds} did not complete; the bands leave them out where they stopped"
        )
    return 0


def _band(row: dict[str, Any], key: str, percent: bool = False) -> str:
    band = row.get(key)
    if band is None:
        return f"{key} n/a"
    if percent:
        return f"{key} {band['mean']:.2%} ± {band['std']:.2%}"
    return f"{key} {band['mean']:.4f} ± {band['std']:.4f}"
