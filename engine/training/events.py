"""The plain-data events a training run yields (picklable dataclasses; arrays are numpy).

A consumer dispatches on the class (or on ``event.kind``). Order: ``RunStarted``, then ``Step``
(about every ``step_interval`` seconds), ``Snapshot`` (rate-limited to ``snapshot_budget`` of the
time), ``Paused``/``Resumed``, ``EpochEnd`` after each epoch, and exactly one of ``Finished`` or
``Failed`` last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # arrays arrive at run time; importing numpy here would slow the designer's start
    import numpy as np


@dataclass(frozen=True)
class RunStarted:
    """The run is set up: what is trained, on what, how (honest global batch and lr)."""

    kind: ClassVar[str] = "run_started"
    run_dir: str | None
    device: str
    dataset: str
    classes: tuple[str, ...]
    input_shape: tuple[int, ...]
    train_size: int
    val_size: int
    epochs: int
    start_epoch: int
    steps_per_epoch: int
    total_steps: int
    batch_size: int  # per process
    global_batch_size: int  # batch_size × world_size
    world_size: int
    lr: float  # the base learning rate (not scaled with the world size)
    param_count: int
    settings: dict[str, Any]
    conv_layers: tuple[str, ...]  # layers whose filters can be shown
    relu_layers: tuple[str, ...]
    layers: tuple[str, ...]  # every layer (module) name, for the feature-map picker
    notes: tuple[str, ...] = ()  # e.g. "digits 1×8×8 resized to 1×32×32 to fit the Input block"


@dataclass(frozen=True)
class Step:
    """Training progress since the previous Step event; ``losses`` has one value per step."""

    kind: ClassVar[str] = "step"
    step: int  # global step of the last loss in ``losses`` (1-based)
    epoch: int  # 1-based
    losses: tuple[float, ...]
    lr: float
    images_per_second: float
    progress: float  # 0..1 over the whole run
    elapsed: float
    eta: float  # seconds left (estimated)


@dataclass(frozen=True)
class Misclassified:
    """A validation image the network got wrong: uint8 C×H×W as fed (before normalising)."""

    index: int
    image: np.ndarray
    true: int
    predicted: int
    confidence: float


@dataclass(frozen=True)
class EpochEnd:
    """Validation results after one epoch (the same numbers go to metrics.jsonl)."""

    kind: ClassVar[str] = "epoch_end"
    epoch: int
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    lr: float
    seconds: float  # wall time of this epoch
    confusion: np.ndarray | None  # rows: true class, columns: predicted
    per_class_accuracy: np.ndarray | None
    misclassified: tuple[Misclassified, ...] = ()
    is_best: bool = False
    threads: int = 0  # torch's CPU threads at the epoch's end (engine.training.cores); 0: unknown


@dataclass(frozen=True)
class FeatureMaps:
    """Activations of one layer for one validation image."""

    layer: str
    image_index: int
    image: np.ndarray  # uint8 C×H×W
    label: int
    maps: np.ndarray  # float32 C×H×W (or F for a flat layer)


@dataclass(frozen=True)
class Snapshot:
    """What the dashboard draws besides curves, sampled at a limited rate."""

    kind: ClassVar[str] = "snapshot"
    step: int
    epoch: int
    filters: dict[str, np.ndarray]  # conv layer -> weights out×in×kh×kw (float32)
    grad_norms: dict[str, float]  # layer -> L2 norm of its parameters' gradients
    dead_relu: dict[str, float]  # ReLU layer -> share of units zero for the whole batch
    histograms: dict[str, tuple[np.ndarray, np.ndarray]]  # layer -> (counts, bin edges)
    feature_maps: FeatureMaps | None
    cost_seconds: float
    # the parts taken (the others are empty): "filters", "feature_maps", "gradients" (gradient
    # norms, dead ReLUs and histograms); only those of the page in front while one is shown
    parts: tuple[str, ...] = ("filters", "feature_maps", "gradients")


@dataclass(frozen=True)
class Paused:
    kind: ClassVar[str] = "paused"
    step: int


@dataclass(frozen=True)
class Resumed:
    kind: ClassVar[str] = "resumed"
    step: int


@dataclass(frozen=True)
class Finished:
    """The run ended normally: all epochs done ("completed") or stopped on request ("stopped")."""

    kind: ClassVar[str] = "finished"
    status: str
    epochs_done: int
    steps: int
    best_val_accuracy: float | None
    final_val_accuracy: float | None
    seconds: float
    run_dir: str | None
    # world_size, global_batch_size (and replicas_max_abs_diff under torchrun); with a run folder
    # "checkpoint": the epoch and step last.pt holds, and a "note" when a stop during an epoch
    # left steps after it (``steps`` counts them, a resume continues from the checkpoint)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    """The run failed; ``message`` says what happened and what to try. ``run_dir`` is None
    when the run never started in a folder (e.g. a refused resume, whose folder is untouched)."""

    kind: ClassVar[str] = "failed"
    message: str
    step: int | None = None  # the step the message names ("at step N", "after step N")
    reason: str = "error"  # "nan", "error", "crash", "setup"
    details: str = ""  # traceback text, for a "details" box
    run_dir: str | None = None


Event = RunStarted | Step | Snapshot | EpochEnd | Paused | Resumed | Finished | Failed
TERMINAL = (Finished, Failed)
