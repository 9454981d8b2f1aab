"""``cnn-designer train``: train a project or preset headless, with a terminal progress bar.

Uses the same trainer and run folder as the designer; exits 1 with the reason when the run
fails, 2 on bad arguments. Under ``torchrun --nproc_per_node=N`` it trains data-parallel.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from pathlib import Path
from typing import Any

from designer.cli.check import preflight_refusal, preset_training
from designer.cli.common import add_source_arguments, fail, invalid_design, load_graph
from designer.cli.train_signals import RunEnded, SignalEnding
from engine import DesignerError, infer, load_project
from engine.data.settings import DATASETS, NORMALIZATIONS
from engine.training.settings import LOSSES, OPTIMIZERS, SCHEDULES

# command-line flag -> (settings key, type); data settings are keys "data.<name>"
OVERRIDES: dict[str, tuple[str, Any]] = {
    "data": ("data.dataset", str),
    "data_dir": ("data.root", str),
    "val_split": ("data.val_split", float),
    "normalize": ("data.normalize", str),
    "crop_padding": ("data.crop_padding", int),
    "limit": ("data.limit", int),
    "epochs": ("epochs", int),
    "batch_size": ("batch_size", int),
    "lr": ("lr", float),
    "optimizer": ("optimizer", str),
    "momentum": ("momentum", float),
    "weight_decay": ("weight_decay", float),
    "schedule": ("schedule", str),
    "loss": ("loss", str),
    "seed": ("seed", int),
    "device": ("device", str),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a project or preset on a data set, headless",
        description=(
            "Train with the settings stored in the project (or the defaults), overridden by the "
            "options given. Writes a run folder (settings.json, metrics.jsonl, result.json, "
            "last.pt, best.pt). Run it under torchrun for data-parallel training."
        ),
    )
    add_source_arguments(parser)
    add_training_options(parser)
    parser.add_argument(
        "--weights",
        metavar="PATH",
        help="start from pretrained weights: a state dict (torchvision, timm) or a checkpoint "
        "or run folder of ours, matched by name; the classifier may differ (it is trained "
        "anew); a report says what matched (default: random initial weights)",
    )
    parser.add_argument(
        "--freeze",
        action="append",
        default=[],
        metavar="GROUP",
        help="do not train the parameters of this group or block, e.g. --freeze layer1 "
        "(repeatable; default: train all)",
    )
    parser.set_defaults(run=run)


def add_training_options(parser: argparse.ArgumentParser, resume: bool = True) -> None:
    """The options that set a run's training (shared with ``sweep`` and ``repeat``, which
    take them for what they do not vary); ``resume`` adds --resume (train only)."""
    d = _defaults()
    add = parser.add_argument
    add("--data", metavar="NAME", help=f"data set: {', '.join(DATASETS)} {d['data.dataset']}")
    add(
        "--data-dir",
        metavar="DIR",
        help="folder to read the data set from; imagefolder needs it (default: the project's "
        "setting, else the download cache)",
    )
    add("--epochs", type=int, metavar="N", help=f"epochs to train {d['epochs']}")
    add(
        "--batch-size",
        type=int,
        metavar="N",
        help=f"samples per batch, per process (global = × processes) {d['batch_size']}",
    )
    add("--lr", type=float, metavar="RATE", help=f"learning rate {d['lr']}")
    add("--optimizer", metavar="NAME", help=f"{', '.join(OPTIMIZERS)} {d['optimizer']}")
    add(
        "--momentum",
        type=float,
        metavar="M",
        help=f"momentum of sgd and rmsprop, from 0 up to (not including) 1 {d['momentum']}",
    )
    add(
        "--nesterov",
        action="store_true",
        default=None,
        help="Nesterov momentum, with sgd (default: the project's setting, else off)",
    )
    add(
        "--weight-decay",
        type=float,
        metavar="WD",
        help=f"L2 penalty on the weights, e.g. 5e-4 {d['weight_decay']}",
    )
    add(
        "--schedule",
        metavar="NAME",
        help=f"learning-rate schedule: {', '.join(SCHEDULES)} {d['schedule']}",
    )
    add("--loss", metavar="NAME", help=f"{' or '.join(LOSSES)} {d['loss']}")
    add(
        "--seed",
        type=int,
        metavar="N",
        help="seed of the validation split, the sample of --limit, the initial weights and the "
        f"shuffles {d['seed']}",
    )
    add(
        "--device",
        metavar="NAME",
        help=f"auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps {d['device']}",
    )
    add(
        "--val-split",
        type=float,
        metavar="SHARE",
        help=f"share of the data held out for validation, e.g. 0.2 {d['data.val_split']}",
    )
    add(
        "--normalize",
        metavar="HOW",
        help=f"{', '.join(NORMALIZATIONS)} {d['data.normalize']}",
    )
    add(
        "--crop-padding",
        type=int,
        metavar="PX",
        help="augmentation: pad by PX pixels, then crop at random; at most half the input's "
        f"height and width {d['data.crop_padding']}",
    )
    add(
        "--flip",
        action="store_true",
        default=None,
        help="augmentation: mirror half the images left to right (default: the project's "
        "setting, else off)",
    )
    add(
        "--augment",
        metavar="LIST",
        help="augmentation, each image its own random draw: flip, vflip, crop=PX (pad, then "
        "crop), scale=S (random resized crop keeping at least S of the area), rotate=DEG, "
        "brightness=B, contrast=C, saturation=S, hue=H (RGB only), comma-separated, e.g. "
        "flip,rotate=15,brightness=0.2; 'none' turns all off (default: the project's setting, "
        "else none)",
    )
    add(
        "--no-amp",
        action="store_true",
        help="no mixed precision on CUDA (default: mixed precision on CUDA, as the project sets)",
    )
    add(
        "--tensorboard",
        action="store_true",
        default=None,
        help="also write TensorBoard event files in the run folder's tensorboard/ (needs the "
        "tensorboard package; default: the project's setting, else off)",
    )
    add(
        "--limit",
        type=int,
        metavar="N",
        help="train on a seeded sample of N images, each class keeping its share (default: "
        "the project's setting, else all images)",
    )
    add(
        "--out",
        metavar="DIR",
        help="folder for the run folders (default: NAME.runs beside the project file, or "
        "runs/PRESET)",
    )
    if resume:
        add(
            "--resume",
            metavar="RUN",
            help="continue a run folder (in place) or a checkpoint file (in a new run folder) "
            "(default: start a new run)",
        )
    add(
        "--quiet",
        action="store_true",
        help="print only the final line (default: a progress bar and a line per epoch)",
    )


def _defaults() -> dict[str, str]:
    """ "(default: ...)" for each settings key of ``OVERRIDES``, from TrainingSettings."""
    from engine.training.settings import TrainingSettings

    settings = TrainingSettings().to_dict()
    texts: dict[str, str] = {}
    for key, _kind in OVERRIDES.values():
        value: Any = settings
        for part in key.split("."):
            value = value[part]
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        texts[key] = f"(default: the project's setting, else {shown})"
    return texts


def build_settings(args: argparse.Namespace, stored: dict[str, Any]) -> Any:
    """The project's stored settings with the command line's overrides applied (validated)."""
    from engine.training.settings import TrainingSettings

    if not isinstance(stored, dict) or not isinstance(stored.get("data") or {}, dict):
        return TrainingSettings.from_dict(stored)  # raises SettingsError naming the field
    data = {**stored}
    data["data"] = dict(stored.get("data") or {})
    for flag, (key, _kind) in OVERRIDES.items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        if key.startswith("data."):
            data["data"][key[5:]] = value
        else:
            data[key] = value
    if args.nesterov:
        data["nesterov"] = True
    if args.flip:
        data["data"]["flip"] = True
    if getattr(args, "augment", None) is not None:
        from engine.data.augment_spec import parse_augment

        data["data"].update(parse_augment(args.augment))
    if args.no_amp:
        data["mixed_precision"] = False
    if getattr(args, "tensorboard", None):
        data["tensorboard"] = True
    settings = TrainingSettings.from_dict(data)
    if settings.tensorboard:
        from engine.training.settings import SettingsError
        from engine.training.tensorboard import missing_message

        if (missing := missing_message()) is not None:
            raise SettingsError(missing)
    return settings


def run(args: argparse.Namespace) -> int:
    try:
        graph = load_graph(args)
        if (refusal := invalid_design(args, infer(graph), "trained")) is not None:
            return fail(refusal)
        stored = load_project(args.file).training if args.file else preset_training(args.preset)
        settings = build_settings(args, stored)
        initial, report = _pretrained(args, graph)
        settings = recorded_transfer(args, settings)
    except DesignerError as error:
        return fail(str(error))
    if (refusal := preflight_refusal(args, graph, settings)) is not None:
        fail(refusal)  # the quick pre-flight checks: before any process or run folder
        return 1  # as the run would have failed
    from engine.training import run_record, runs
    from engine.training.control import TrainingControl
    from engine.training.distributed import (
        from_environment,
        launched_by_torchrun,
        leave_process,
        shutdown,
    )
    from engine.training.trainer import Trainer

    root = Path(args.out) if args.out else runs.default_run_root(args.file, args.preset)
    ctx = from_environment(settings.device) if launched_by_torchrun() else None
    main = ctx is None or ctx.is_main
    if report is not None and main and not args.quiet:
        print(report.text(), flush=True)
    control = TrainingControl()
    trainer = Trainer(
        graph,
        settings,
        run_root=root,
        resume=args.resume,
        control=control,
        dist=ctx,
        snapshots=False,
        initial_weights=initial,
        freeze=tuple(getattr(args, "freeze", None) or ()),
    )
    events = trainer.run()
    ending = SignalEnding(trainer, control, lambda text: _say(text) if main else None)
    bar = ProgressBar(quiet=args.quiet or not main)
    status = 1
    ending.install()
    try:
        for event in events:
            with contextlib.suppress(OSError):  # the terminal is gone (SIGHUP): train on
                bar.show(event)
            if event.kind == "finished":
                status = 0 if event.status == "completed" else ending.exit_status
                if main and (event.extra or {}).get("stopped_by"):
                    _say(f"cnn-designer: {event.extra['message']}")
            elif event.kind == "failed":
                if main:
                    _say(f"cnn-designer: error: {event.message}")
                status = 1
    except RunEnded as ended:
        ending.armed = False
        message = run_record.record_ended(trainer, ended.name)
        if trainer.run_dir is None:
            message = f"stopped by {ended.name} during set-up, before the run started"
        if main:
            folder = f"; run folder {trainer.run_dir}" if trainer.run_dir else ""
            _say(f"cnn-designer: {message}{folder}")
        status = ending.exit_status
    finally:
        ending.armed = False  # a signal from here on is noted only: the end is recorded
        events.close()
        ending.restore()
        if ctx is not None:
            shutdown()
    if ctx is not None:
        leave_process(status)  # never returns: see its docstring
    return status


def _pretrained(args: argparse.Namespace, graph: Any) -> tuple[Any, Any]:
    """(the tensors of --weights that fit the design, the report), or (None, None); checks the
    --freeze names. Raises DesignerError (after printing the report) when they cannot be used."""
    from engine.transfer import TransferError, freeze_targets, load_pretrained

    if getattr(args, "freeze", None):
        freeze_targets(graph, args.freeze)
    weights = getattr(args, "weights", None)
    if not weights:
        return None, None
    if args.resume:
        raise DesignerError(
            f"--weights {weights} and --resume {args.resume}: a resumed run continues from "
            "its own checkpoint. Give one of them"
        )
    try:
        return load_pretrained(graph, weights)
    except TransferError as error:
        if error.report is not None:
            print(error.report.text(), file=sys.stderr)
        raise


def recorded_transfer(args: argparse.Namespace, settings: Any) -> Any:
    """``settings`` with --weights (an absolute path) and --freeze, so that the run folder's
    settings.json records what the run started from and what it did not train."""
    changes: dict[str, Any] = {}
    if getattr(args, "weights", None):
        changes["weights"] = str(Path(args.weights).expanduser().resolve())
    if getattr(args, "freeze", None):
        changes["freeze"] = tuple(dict.fromkeys(args.freeze))
    return settings.updated(**changes) if changes else settings


def _say(text: str) -> None:
    """A line on stderr; nothing when the terminal is gone (after SIGHUP)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


def _time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    return (
        f"{minutes}:{secs:02d}"
        if minutes < 60
        else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"
    )


class ProgressBar:
    """Terminal output: a redrawn bar on a terminal, epoch lines always."""

    def __init__(self, quiet: bool = False, stream: Any = None, width: int = 24) -> None:
        self.quiet, self.width = quiet, width
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.epochs = 0
        self.smoothed: float | None = None

    def _print(self, text: str, out: Any = None) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        print(text, file=out or sys.stdout, flush=True)

    def show(self, event: Any) -> None:
        if event.kind == "run_started":
            self.epochs = event.epochs
            if not self.quiet:
                world = (
                    f" × {event.world_size} processes = {event.global_batch_size}"
                    if event.world_size > 1
                    else ""
                )
                self._print(
                    f"training {event.param_count:,} parameters on {event.dataset} "
                    f"({event.train_size} train / {event.val_size} val) on {event.device}; "
                    f"batch {event.batch_size}{world}, lr {event.lr:g}"
                    + (f"\nrun folder: {event.run_dir}" if event.run_dir else "")
                )
                for note in event.notes:
                    self._print(f"note: {note}")
        elif event.kind == "step" and not self.quiet:
            for loss in event.losses:
                self.smoothed = loss if self.smoothed is None else 0.9 * self.smoothed + 0.1 * loss
            if self.tty:
                filled = int(self.width * event.progress)
                bar = "#" * filled + "." * (self.width - filled)
                self.stream.write(
                    f"\r\033[Kepoch {event.epoch}/{self.epochs} [{bar}] {event.progress:4.0%} "
                    f"loss {self.smoothed:.4f} lr {event.lr:.3g} {event.images_per_second:,.0f} img/s "
                    f"eta {_time(event.eta)}"
                )
                self.stream.flush()
        elif event.kind == "epoch_end" and not self.quiet:
            val = (
                f"val_loss {event.val_loss:.4f}  val_acc {event.val_accuracy:.2%}"
                if event.val_accuracy is not None
                else "no validation split"
            )
            best = "  (best)" if event.is_best else ""
            self._print(
                f"epoch {event.epoch}/{self.epochs}  train_loss {event.train_loss:.4f}  "
                f"train_acc {event.train_accuracy:.2%}  {val}  {event.seconds:.1f} s{best}"
            )
        elif event.kind == "finished":
            if self.tty:
                self.stream.write("\r\033[K")
            if not (self.quiet and event.run_dir is None):
                train_best = (event.extra or {}).get("best_train_accuracy")
                if event.best_val_accuracy is not None:
                    best = f"best val accuracy {event.best_val_accuracy:.2%}"
                elif train_best is not None:
                    best = f"best training accuracy {train_best:.2%} (no validation split)"
                else:
                    best = "best val accuracy n/a"
                print(
                    f"{event.status}: {event.epochs_done} epoch(s), {best}, "
                    f"{event.seconds:.1f} s"
                    + (f"; run folder {event.run_dir}" if event.run_dir else ""),
                    flush=True,
                )
