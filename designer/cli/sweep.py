"""``cnn-designer sweep``: an Optuna study whose trials are ordinary training runs.

    cnn-designer sweep --preset lenet5_digits --data digits --epochs 1 \\
        --param lr=log:1e-4..1e-1 --param batch_size=choice:32,64 --trials 8

The study is kept in ``sweep.db`` in the runs folder (or at ``--storage URL``): the same command
again continues it with N more trials. Every problem with the command line (a bad --param, an
unknown key, an empty range, a storage that cannot be opened) is refused before anything is
written. Ctrl-C or SIGTERM ends the trial running (marked FAIL in the study, its run folder
records the stop) after its current batch, a second signal at once; the finished trials stay,
and the next invocation goes on from there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from designer.cli.common import add_source_arguments, fail, invalid_design, load_graph
from designer.cli.train import add_training_options, build_settings
from engine import DesignerError, infer, load_project
from engine.experiments.space import SearchParam, SweepError, parse_param, resolve
from engine.experiments.stopping import StopRequest
from engine.experiments.sweep import SAMPLERS

ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="try variants of the training settings, preset options or block parameters "
        "(an Optuna study)",
        description=(
            "Run N trials of an Optuna study; each trial is an ordinary run folder (with "
            "trial.json). The study is stored in sweep.db in the runs folder (or --storage), so "
            "the same command again continues it. Options not varied by --param are the "
            "train command's."
        ),
    )
    add_source_arguments(parser)
    add = parser.add_argument
    add(
        "--param",
        action="append",
        default=[],
        metavar="KEY=SPEC",
        help="a key to vary and its values: log:LOW..HIGH, int:LOW..HIGH, float:LOW..HIGH or "
        "choice:A,B,C; KEY is a setting (lr, batch_size, optimizer, ...), option.NAME (a preset "
        "option) or NODE.PARAM (a block parameter) (repeatable, at least one)",
    )
    add("--trials", type=int, metavar="N", help="trials to run in this invocation (required)")
    add(
        "--sampler",
        metavar="NAME",
        default="tpe",
        help=f"Optuna sampler: {', '.join(SAMPLERS)} (default: tpe)",
    )
    add(
        "--storage",
        metavar="URL",
        help="Optuna storage URL shared by several machines, e.g. "
        "postgresql://user:password@host/db (default: sqlite sweep.db in the runs folder)",
    )
    add("--study", metavar="NAME", help="study name (default: the project's or preset's name)")
    add(
        "--prune",
        action="store_true",
        help="stop poor trials early (Optuna's MedianPruner on the validation accuracy per epoch)",
    )
    add("--json", action="store_true", help="print a JSON summary of the study on stdout")
    add_training_options(parser, resume=False)
    parser.set_defaults(run=run)


def setting_checker(base: dict[str, Any]) -> Any:
    """``check(key, value)``: raises SettingsError when the settings refuse ``value``."""
    from engine.training.settings import TrainingSettings

    def check(key: str, value: Any) -> None:
        TrainingSettings.from_dict(with_setting(base, key, value))

    return check


def with_setting(settings: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    data = {**settings, "data": dict(settings.get("data") or {})}
    if key.startswith("data."):
        data["data"][key[5:]] = value
    else:
        data[key] = value
    return data


def plan(args: argparse.Namespace) -> tuple[list[SearchParam], Any, Any]:
    """The resolved --param list, the base settings and the preset; raises DesignerError."""
    from designer.cli.train import OVERRIDES

    graph = load_graph(args)
    if (refusal := invalid_design(args, infer(graph), "trained")) is not None:
        raise DesignerError(refusal)
    stored = load_project(args.file).training if args.file else {}
    base = build_settings(args, stored)
    preset = None
    if args.preset:
        from presets import PRESETS

        preset = PRESETS.get(args.preset)
    if not args.param:
        raise SweepError(
            "--param: a sweep varies at least one key. Received: no --param. Add one, e.g. "
            "--param lr=log:1e-4..1e-1"
        )
    if args.trials is None or args.trials < 1:
        raise SweepError(
            f"--trials: must be at least 1. Received: --trials={args.trials}. Give the number of "
            "trials to run, e.g. --trials 20"
        )
    if args.sampler not in SAMPLERS:
        raise SweepError(
            f"--sampler: not a sampler. Received: --sampler={args.sampler!r}. Choose one of "
            f"{', '.join(SAMPLERS)}"
        )
    defaults = base.to_dict()
    check = setting_checker(defaults)
    flags = {key: flag for flag, (key, _kind) in OVERRIDES.items()}
    params: list[SearchParam] = []
    for item in args.param:
        param = resolve(parse_param(item), graph, defaults, preset, check)
        if any(p.key == param.key for p in params):
            raise SweepError(
                f"--param {param.label}: {param.key} is varied twice. Received: two --param "
                f"{param.key}=... Keep one"
            )
        flag = flags.get(param.key)
        if flag is not None and getattr(args, flag, None) is not None:
            option = "--" + flag.replace("_", "-")
            raise SweepError(
                f"--param {param.label}: {option} fixes the value the sweep varies. Received: "
                f"{option}={getattr(args, flag)}. Drop {option} or this --param"
            )
        params.append(param)
    if args.sampler == "grid":
        for param in params:
            param.grid_values()  # raises for a continuous range
    return params, base, preset


def base_fingerprint(args: argparse.Namespace, preset: Any) -> str:
    """The fingerprint of the design the sweep varies (before any varied value): a study is
    continued on this design only."""
    from designer.cli.common import parse_options
    from engine.experiments.tradeoff import design_fingerprint

    if preset is not None:
        graph = preset.create(**parse_options(args.preset, args.option))
    else:
        graph = load_project(args.file).graph
    return design_fingerprint(graph.to_data())


def trial_maker(args: argparse.Namespace, params: list[SearchParam], base: Any, preset: Any) -> Any:
    """``make(values)``: the (graph, settings) of one trial's values."""
    from designer.cli.common import parse_options
    from engine.training.settings import TrainingSettings

    fixed = parse_options(args.preset, args.option) if preset is not None else {}
    settings = base.to_dict()

    def make(values: dict[str, Any]) -> tuple[Any, Any]:
        options = dict(fixed)
        data = dict(settings)
        for param in params:
            if param.target == "option":
                options[param.key[len("option.") :]] = values[param.key]
            elif param.target == "setting":
                data = with_setting(data, param.key, values[param.key])
        graph = preset.create(**options) if preset is not None else load_project(args.file).graph
        for param in params:
            if param.target == "block":
                node, _dot, name = param.key.rpartition(".")
                if node not in graph:
                    raise DesignerError(f"{param.key}: the design has no block {node!r} here")
                graph.set_params(node, {name: values[param.key]})
        errors = infer(graph).errors
        if errors:
            shown = "; ".join(" ".join(d.message.split()) for d in errors[:3])
            raise DesignerError(f"the design with these values has errors: {shown}")
        return graph, TrainingSettings.from_dict(data)

    return make


def run(args: argparse.Namespace) -> int:
    from engine.experiments import sweep as sweeps
    from engine.training import runs

    try:
        params, base, preset = plan(args)
        root = Path(args.out) if args.out else runs.default_run_root(args.file, args.preset)
        url = args.storage or sweeps.default_storage(root)
        if args.storage:  # opened before the runs folder is made: a bad URL changes nothing
            storage = sweeps.open_storage(url)
        else:
            _make_folder(root)
            storage = sweeps.open_storage(url)
        name = args.study or (Path(args.file).stem if args.file else args.preset)
        sweep = sweeps.Sweep(
            params=params,
            make_trial=trial_maker(args, params, base, preset),
            run_root=root,
            study_name=name,
            sampler=args.sampler,
            storage=url,
            prune=args.prune,
            definition={
                "source": args.file
                or f"preset:{args.preset}" + ("?" + "&".join(args.option) if args.option else ""),
                "design": base_fingerprint(args, preset),
            },
        )
        out = sys.stderr if args.json else sys.stdout
        _say(f"study {name!r} in {url}: {args.trials} more trial(s), sampler {args.sampler}", out)
        with _interruptible(sweep.stop):
            study = sweeps.run_sweep(sweep, args.trials, storage, lambda r: _say(_line(r), out))
    except DesignerError as error:
        return fail(str(error))
    except sweeps.Interrupted as ended:
        _say(
            f"cnn-designer: sweep stopped by {ended.name}: the trial running is marked FAIL in "
            "the study and its run folder records the stop; the finished trials are kept. Run "
            "the same command again to continue",
            sys.stderr,
        )
        return 128 + int(getattr(signal.Signals, ended.name, signal.SIGINT))
    data = sweeps.summary(study)
    data["storage"] = url
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(data["counts"].items()))
    best = data["best"]
    if args.json:
        print(json.dumps(data, indent=1))
    else:
        print(f"study {name!r}: {len(data['trials'])} trial(s): {counts}")
        if best is not None:
            print(
                f"best: trial {best['number']}, value {best['value']:.4f}, "
                f"{_params(best['params'])}; run folder {best['run_dir']}"
            )
    if best is None:
        return fail(f"study {name!r}: no trial has completed yet; see the messages above")
    return 0


def _make_folder(root: Path) -> None:
    from engine.training.runs import _root_problem

    try:
        root.expanduser().mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SweepError(_root_problem(root, error)) from error


@contextlib.contextmanager
def _interruptible(stop: StopRequest) -> Any:
    """SIGINT, SIGTERM and SIGHUP ask ``stop`` to end the work where it is safe; a second
    signal raises Interrupted at once (for a run that never reaches its next batch); any
    later one is ignored."""
    from engine.experiments.stopping import Interrupted

    previous: dict[int, Any] = {}
    raised: list[str] = []

    def handle(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if not stop.requested:
            stop.request(name)  # sets flags only: no exception inside a storage write
        elif not raised:
            raised.append(name)
            raise Interrupted(stop.name or name)

    for number in ENDING_SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            previous[number] = signal.signal(number, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError, OSError):
                signal.signal(number, signal.SIG_IGN if stop.requested else handler)


def _params(params: dict[str, Any]) -> str:
    return " ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def _line(r: Any) -> str:
    value = f"value {r.value:.4f}" if r.value is not None else (r.message or "")
    folder = f"; run folder {r.run_dir}" if r.run_dir else ""
    return f"trial {r.number} {r.state.lower()}: {value}  {_params(r.params)}{folder}"


def _say(text: str, out: Any) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(text, file=out, flush=True)
