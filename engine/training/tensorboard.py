"""TensorBoard event files of a run (setting ``tensorboard``), through torch's own
``torch.utils.tensorboard.SummaryWriter``; needs the optional ``tensorboard`` package.

The trainer (rank 0, with a run folder) writes at each epoch's end only, under
``<run folder>/tensorboard``, at global step = epoch:

- scalars ``train/loss``, ``train/accuracy``, ``val/loss``, ``val/accuracy`` and ``lr``, the
  very numbers of that epoch's metrics.jsonl line (val/* only with a validation split);
- a histogram ``weights/<parameter>`` of every parameter of the model;
- once, the graph (``add_graph``, which traces the compiled fx GraphModule on one validation
  image in evaluation mode: no batch-norm statistics change and no random numbers are drawn).
  A design that cannot be traced gets no graph, and result.json says why.

A resumed run continues in the same folder and drops events past its checkpoint (purge_step).
Writing never stops a run: the first failure ends the event files and is noted in result.json.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

INSTALL = 'pip install "cnn-designer[tensorboard]"  (or: pip install tensorboard)'
SCALARS = (
    ("train/loss", "train_loss"),
    ("train/accuracy", "train_accuracy"),
    ("val/loss", "val_loss"),
    ("val/accuracy", "val_accuracy"),
    ("lr", "lr"),
)


def available() -> bool:
    """Whether the ``tensorboard`` package is installed (torch's writer needs it)."""
    try:
        return importlib.util.find_spec("tensorboard") is not None
    except (ImportError, ValueError):
        return False


def missing_message() -> str | None:
    """Why TensorBoard event files cannot be written, with the fix; None when they can."""
    if available():
        return None
    return (
        "training setting tensorboard: the tensorboard package is not installed. Received: "
        f"tensorboard=True. Install it with {INSTALL}, or train without --tensorboard"
    )


def open_for(t: Trainer) -> EventWriter | None:
    """The writer of a run that asked for event files (rank 0, with a run folder), or None."""
    if not t.s.tensorboard or t.run_dir is None or not t.dist.is_main:
        return None

    def example() -> Any:
        return t._feature_source(0)[0]

    # a resumed run whose folder has the graph already does not write it again
    again = t.start_epoch > 0 and (t.run_dir / "tensorboard").is_dir()
    return EventWriter(t.run_dir, t.module, None if again else example, t.start_epoch)


def finish(writer: EventWriter | None, extra: dict[str, Any]) -> None:
    """Close the event files; what went wrong with them goes into result.json's extra."""
    if writer is None:
        return
    writer.close()
    extra["tensorboard"] = str(writer.folder)
    if writer.notes:
        extra["tensorboard_notes"] = list(writer.notes)


class EventWriter:
    """One run's TensorBoard writer (see the module's docstring)."""

    def __init__(
        self,
        run_dir: Path,
        module: Any,
        example: Callable[[], Any] | None,
        start_epoch: int = 0,
    ) -> None:
        self.folder = run_dir / "tensorboard"
        self.module = module
        self.example = example  # the input add_graph traces with (None: no graph)
        self.graph_done = example is None
        self.notes: list[str] = []
        self.writer: Any = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            purge = start_epoch + 1 if start_epoch > 0 else None
            self.writer = SummaryWriter(log_dir=str(self.folder), purge_step=purge)
        except Exception as error:  # no package after all, a folder that cannot be made
            self.notes.append(f"TensorBoard events not written: {_first_line(error)}")

    def epoch(self, record: dict[str, Any]) -> None:
        """Write one epoch's scalars and weight histograms (and, the first time, the graph)."""
        if self.writer is None:
            return
        step = int(record["epoch"])
        try:
            if not self.graph_done:
                self.graph_done = True
                self._graph()
            for tag, key in SCALARS:
                value = record.get(key)
                if value is not None:
                    self.writer.add_scalar(tag, float(value), step)
            for name, parameter in self.module.named_parameters():
                self.writer.add_histogram(f"weights/{name}", parameter.detach().float().cpu(), step)
            self.writer.flush()
        except Exception as error:  # a full disk, a removed folder: the run goes on
            self.notes.append(
                f"TensorBoard events stopped at epoch {step}: {_first_line(error)}. "
                "metrics.jsonl holds every epoch"
            )
            self.close()

    def _graph(self) -> None:
        import torch

        module, example = self.module, self.example
        assert example is not None
        was_training = module.training
        module.eval()
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                self.writer.add_graph(module, example())
        except Exception as error:  # a design torch.jit.trace cannot follow
            self.notes.append(f"TensorBoard graph not written: {_first_line(error)}")
        finally:
            module.train(was_training)

    def close(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            try:
                writer.close()
            except Exception as error:
                self.notes.append(f"TensorBoard events not closed: {_first_line(error)}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
