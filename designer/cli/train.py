"""``cnn-designer train``: train a project or preset headless, with a terminal progress bar.

Uses the same trainer and run folder as the designer; exits 1 with the reason when the run
fails, 2 on bad arguments. Under ``torchrun --nproc_per_node=N`` it trains data-parallel.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
from pathlib import Path
from typing import Any

from designer.cli.common import add_source_arguments, fail, invalid_design, load_graph
from engine import DesignerError, infer, load_project

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
    parser.add_argument("--data", help="digits, shapes, mnist, fashion_mnist, cifar10, imagefolder")
    parser.add_argument("--data-dir", metavar="DIR", help="read the data set from this folder")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, help="per process (global = × processes)")
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--optimizer", help="sgd, adam, adamw, rmsprop")
    parser.add_argument("--momentum", type=float)
    parser.add_argument(
        "--nesterov", action="store_true", default=None, help="Nesterov momentum (sgd)"
    )
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--schedule", help="constant, step, cosine, onecycle")
    parser.add_argument("--loss", help="cross_entropy or mse")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps")
    parser.add_argument("--val-split", type=float, help="share of the data held out, e.g. 0.2")
    parser.add_argument("--normalize", help="dataset, symmetric or none")
    parser.add_argument("--crop-padding", type=int, help="augment: random crop after padding")
    parser.add_argument(
        "--flip", action="store_true", default=None, help="augment: horizontal flip"
    )
    parser.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    parser.add_argument(
        "--limit", type=int, help="use a seeded sample of N, each class keeping its share"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="folder for run folders (default: beside the project)"
    )
    parser.add_argument("--resume", metavar="RUN", help="continue a run folder or checkpoint")
    parser.add_argument("--quiet", action="store_true", help="only the final line")
    parser.set_defaults(run=run)


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
    if args.no_amp:
        data["mixed_precision"] = False
    return TrainingSettings.from_dict(data)


def run(args: argparse.Namespace) -> int:
    try:
        graph = load_graph(args)
        if (refusal := invalid_design(args, infer(graph), "trained")) is not None:
            return fail(refusal)
        stored = load_project(args.file).training if args.file else {}
        settings = build_settings(args, stored)
    except DesignerError as error:
        return fail(str(error))
    from engine.training import runs
    from engine.training.control import TrainingControl
    from engine.training.distributed import from_environment, launched_by_torchrun, shutdown
    from engine.training.trainer import train

    root = Path(args.out) if args.out else runs.default_run_root(args.file, args.preset)
    ctx = from_environment(settings.device) if launched_by_torchrun() else None
    main = ctx is None or ctx.is_main
    control = TrainingControl()
    previous = signal.getsignal(signal.SIGINT)

    def interrupt(_signum: int, _frame: Any) -> None:
        print("\nstopping after this batch (Ctrl-C again to abort)", file=sys.stderr)
        control.stop()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, interrupt)
    bar = ProgressBar(quiet=args.quiet or not main)
    status = 1
    try:
        for event in train(
            graph,
            settings,
            run_root=root,
            resume=args.resume,
            control=control,
            dist=ctx,
            snapshots=False,
        ):
            bar.show(event)
            if event.kind == "finished":
                status = 0
            elif event.kind == "failed":
                if main:
                    print(f"cnn-designer: error: {event.message}", file=sys.stderr)
                status = 1
    finally:
        signal.signal(signal.SIGINT, previous)
        if ctx is not None:
            shutdown()
    return status


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
