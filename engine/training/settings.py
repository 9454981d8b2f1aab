"""Training settings: a dataclass stored as a plain dict in ``Project.training`` (no torch).

``TrainingSettings.from_dict`` checks every field and names it in the message, with the value
and what to do; unknown keys suggest the closest known ones. ``to_dict`` is JSON-ready.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from engine.data.augment_spec import augment_rules
from engine.data.settings import DATASETS, NORMALIZATIONS, DataSettings
from engine.errors import DesignerError

MAX_SEED = 2**32 - 1  # numpy's generators take no more; the loaders' seeds stay in int64

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
LOSSES = ("cross_entropy", "mse")


class SettingsError(DesignerError, ValueError):
    """A training setting that is missing, of the wrong type or out of range."""


@dataclass(frozen=True)
class TrainingSettings:
    """Everything a run needs besides the graph.

    ``batch_size`` is per process: under torchrun the global batch is ``batch_size × processes``
    (reported by the run). ``loss="mse"`` is E = 1/P Σ_p Σ_k (t_pk − a_pk)² against one-hot
    targets, with a the network's outputs as they are. ``mixed_precision`` applies on CUDA only.
    """

    data: DataSettings = field(default_factory=DataSettings)
    batch_size: int = 64
    epochs: int = 10
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9  # SGD momentum; RMSprop momentum
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "constant"
    step_epochs: int = 10  # "step": multiply the lr by gamma every step_epochs epochs
    gamma: float = 0.1
    loss: str = "cross_entropy"
    seed: int = 0
    device: str = "auto"  # auto: CUDA, then Apple MPS, then CPU
    mixed_precision: bool = True
    snapshot_budget: float = 0.02  # at most this share of the time goes to dashboard snapshots
    step_interval: float = 0.1  # seconds between step events
    feature_layer: str | None = None  # layer whose feature maps are shown (None: first conv)
    feature_image: int = 0  # validation image whose feature maps are shown
    misclassified: int = 16  # misclassified validation samples sent per epoch
    tensorboard: bool = False  # also write TensorBoard event files (engine.training.tensorboard)
    weights: str | None = None  # pretrained weights a new run starts from (engine.transfer)
    freeze: tuple[str, ...] = ()  # groups or blocks whose parameters are not trained

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (the form kept in the project file)."""
        data = asdict(self)
        for key in ("resize",):
            if data["data"][key] is not None:
                data["data"][key] = list(data["data"][key])
        data["freeze"] = list(self.freeze)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrainingSettings:
        """Settings from plain data; missing keys take defaults, wrong ones raise SettingsError."""
        if not isinstance(data, dict | None):
            raise SettingsError(
                f"training settings must be an object ({{...}}). Received: training={data!r:.60}. "
                "Write them as an object of settings, or leave them out for the defaults"
            )
        data = dict(data or {})
        data_part = data.pop("data", {}) or {}
        if not isinstance(data_part, dict):
            raise SettingsError(
                f"training.data must be an object ({{...}}). Received: data={data_part!r:.60}. "
                'Write it as an object, e.g. {"dataset": "digits"}'
            )
        values = _read(cls, data, "training", skip={"data"})
        data_values = _read(DataSettings, data_part, "training.data")
        if data_values.get("resize") is not None:
            data_values["resize"] = tuple(data_values["resize"])
        if "freeze" in values:
            values["freeze"] = tuple(values["freeze"])
        settings = cls(data=DataSettings(**data_values), **values)
        settings.check()
        return settings

    def updated(self, **changes: Any) -> TrainingSettings:
        """A copy with ``changes`` (keys of the data part as ``data__name``), checked."""
        data_changes = {k[6:]: v for k, v in changes.items() if k.startswith("data__")}
        top = {k: v for k, v in changes.items() if not k.startswith("data__")}
        result = replace(self, data=replace(self.data, **data_changes), **top)
        result.check()
        return result

    def check(self) -> None:
        """Raise SettingsError naming the first value out of range."""
        d = self.data
        rules: list[tuple[bool, str, Any, str]] = [
            (
                self.batch_size >= 1,
                "batch_size",
                self.batch_size,
                "Use a whole number ≥ 1, e.g. 64",
            ),
            (self.epochs >= 1, "epochs", self.epochs, "Use a whole number ≥ 1"),
            (
                self.optimizer in OPTIMIZERS,
                "optimizer",
                self.optimizer,
                f"Choose one of {', '.join(OPTIMIZERS)}",
            ),
            (
                0 < self.lr < math.inf,
                "lr",
                self.lr,
                "Use a positive learning rate, e.g. 0.001 for Adam or 0.01 for SGD",
            ),
            (0 <= self.momentum < 1, "momentum", self.momentum, "Use a value in [0, 1), e.g. 0.9"),
            (
                not self.nesterov or (self.optimizer == "sgd" and self.momentum > 0),
                "nesterov",
                self.nesterov,
                "Nesterov needs optimizer sgd with momentum > 0",
            ),
            (
                0 <= self.weight_decay < math.inf,
                "weight_decay",
                self.weight_decay,
                "Use 0 or a small positive value, e.g. 5e-4",
            ),
            (
                self.schedule in SCHEDULES,
                "schedule",
                self.schedule,
                f"Choose one of {', '.join(SCHEDULES)}",
            ),
            (self.step_epochs >= 1, "step_epochs", self.step_epochs, "Use a whole number ≥ 1"),
            (0 < self.gamma <= 1, "gamma", self.gamma, "Use a factor in (0, 1], e.g. 0.1"),
            (self.loss in LOSSES, "loss", self.loss, f"Choose one of {', '.join(LOSSES)}"),
            (
                0 <= self.seed <= MAX_SEED,
                "seed",
                self.seed,
                f"Use a whole number from 0 to {MAX_SEED:,} (2^32 - 1), e.g. 0",
            ),
            (_device_ok(self.device), "device", self.device, "Use auto, cpu, cuda, cuda:N or mps"),
            (
                0 < self.snapshot_budget <= 0.5,
                "snapshot_budget",
                self.snapshot_budget,
                "Use a share in (0, 0.5], e.g. 0.03",
            ),
            (
                self.step_interval >= 0,
                "step_interval",
                self.step_interval,
                "Use seconds ≥ 0, e.g. 0.1",
            ),
            (
                self.weights is None or bool(self.weights.strip()),
                "weights",
                self.weights,
                "Give the path of a weights file, or nothing to start from random weights",
            ),
            (
                self.feature_image >= 0,
                "feature_image",
                self.feature_image,
                "Use a validation sample index ≥ 0",
            ),
            (self.misclassified >= 0, "misclassified", self.misclassified, "Use a count ≥ 0"),
            (
                d.dataset in DATASETS,
                "data.dataset",
                d.dataset,
                f"Choose one of {', '.join(DATASETS)}",
            ),
            (
                0 <= d.val_split < 1,
                "data.val_split",
                d.val_split,
                "Use a share in [0, 1), e.g. 0.2",
            ),
            (
                d.normalize in NORMALIZATIONS,
                "data.normalize",
                d.normalize,
                f"Choose one of {', '.join(NORMALIZATIONS)}",
            ),
            (d.crop_padding >= 0, "data.crop_padding", d.crop_padding, "Use pixels ≥ 0, e.g. 4"),
            (
                d.channels in (None, 1, 3),
                "data.channels",
                d.channels,
                "Use 1 (grayscale), 3 (RGB) or nothing",
            ),
            (
                d.resize is None or (len(d.resize) == 2 and min(d.resize) >= 1),
                "data.resize",
                d.resize,
                "Use [height, width] with both ≥ 1, or nothing",
            ),
            (
                d.limit is None or d.limit >= 2,
                "data.limit",
                d.limit,
                "Use a count ≥ 2, or nothing for all samples",
            ),
            (d.shapes_count >= 12, "data.shapes_count", d.shapes_count, "Use a count ≥ 12"),
            (
                d.dataset != "imagefolder" or bool(d.root),
                "data.root",
                d.root,
                "The imagefolder data set needs the folder to read",
            ),
        ]
        rules += augment_rules(d)
        for ok, name, value, fix in rules:
            if not ok:
                raise SettingsError(
                    f"training setting {name}: value out of range. Received: {name}={value!r}. {fix}"
                )


def _device_ok(device: str) -> bool:
    if device in ("auto", "cpu", "cuda", "mps"):
        return True
    head, _, index = device.partition(":")
    return head == "cuda" and index.isdigit()


_OPTIONAL = {"root", "resize", "channels", "limit", "feature_layer", "weights"}


def _read(
    cls: type, data: dict[str, Any], where: str, skip: set[str] | None = None
) -> dict[str, Any]:
    known = {f.name: f for f in fields(cls) if f.name not in (skip or set())}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            if cls is TrainingSettings and key in {f.name for f in fields(DataSettings)}:
                hint = f" It is a data setting: write it under 'data' ({where}.data.{key})."
            raise SettingsError(
                f"{where}: unknown setting {key!r}.{hint} Known: {', '.join(known)}"
            )
        default = getattr(cls(), key)
        if value is None and key in _OPTIONAL:
            values[key] = None
            continue
        values[key] = _coerce(value, default, key, f"{where}.{key}")
    return values


def _coerce(value: Any, default: Any, key: str, where: str) -> Any:
    if key == "resize":
        if isinstance(value, list | tuple) and len(value) == 2 and all(_is_int(v) for v in value):
            return [int(v) for v in value]
        raise SettingsError(f"{where} must be [height, width]. Received: {value!r}")
    if key == "freeze":
        if isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value):
            return list(dict.fromkeys(value))
        raise SettingsError(
            f"{where} must be a list of group or block names. Received: {value!r:.60}. "
            'Write e.g. ["layer1", "conv1"], or [] to train every block'
        )
    if key in ("root", "feature_layer", "weights"):
        kind: type = str
    elif key in ("channels", "limit"):
        kind = int
    else:
        kind = type(default)
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if _is_int(value):
            return int(value)
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, kind):
        return value
    raise SettingsError(
        f"{where} must be {kind.__name__}. Received: {key}={value!r} ({type(value).__name__})"
    )


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )
