"""The evaluation preprocessing an export carries: how an image becomes what the network takes.

Training conforms each data set image to the Input block (channels 1↔3, a bilinear antialiased
resize, rounded back to whole pixel values 0–255: ``engine.data.pipeline.conform``), then scales
it to [0, 1] and normalises it per channel (``BatchLoader.normalize``). ``Preprocessing`` holds
those settings: the input shape, and the mean, standard deviation and class names when known,
from a checkpoint of ours (what the run used) or else from the project's training settings (the
data set is read, never downloaded, and its training split's statistics computed as a run
would). Python exports hold it as constants and a ``preprocess(image)`` function (torch only);
TorchScript and ONNX exports write it beside the model as ``NAME.preprocess.json``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.export.literals import literal
from engine.graph import Graph

_LUMA = (0.299, 0.587, 0.114)  # as engine.data.pipeline converts colour to grey


@dataclass(frozen=True)
class Preprocessing:
    """How one image is prepared for the network (see the module's docstring)."""

    input_shape: tuple[int, int, int]
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    classes: tuple[str, ...] | None = None
    dataset: str | None = None
    normalize: str | None = None  # the training setting: dataset, symmetric or none
    origin: str = "the design's Input block only"

    @property
    def channels(self) -> int:
        return self.input_shape[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.input_shape[1], self.input_shape[2]

    def to_json(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "channels": self.channels,
            "resize": list(self.size),
            "resize_mode": "bilinear, antialiased, rounded to whole pixel values 0-255",
            "grayscale_weights": list(_LUMA),
            "scale": "pixel values 0-255 divided by 255",
            "mean": list(self.mean) if self.mean is not None else None,
            "std": list(self.std) if self.std is not None else None,
            "classes": list(self.classes) if self.classes is not None else None,
            "dataset": self.dataset,
            "normalize": self.normalize,
            "from": self.origin,
        }


def json_path(model: Path) -> Path:
    """``model.pt`` → ``model.preprocess.json`` (beside the model)."""
    return model.with_name(model.stem + ".preprocess.json")


def json_bytes(pre: Preprocessing) -> bytes:
    return (json.dumps(pre.to_json(), indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _floats(value: Any) -> tuple[float, ...] | None:
    """A per-channel list (a tensor or numbers) as floats, or None."""
    try:
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        return tuple(float(v) for v in items)
    except (TypeError, ValueError):
        return None


def _input(graph: Graph) -> tuple[str, tuple[int, int, int]] | None:
    inputs = graph.nodes_of_type("input")
    if len(inputs) != 1:
        return None
    shape = tuple(int(s) for s in inputs[0].params.get("shape", ()))
    return (inputs[0].name, shape) if len(shape) == 3 else None  # type: ignore[return-value]


def preprocessing_for(
    graph: Graph,
    settings: Any = None,
    checkpoint: Mapping[str, Any] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> Preprocessing | None:
    """The design's preprocessing (None unless it has one Input block of C×H×W images).

    ``checkpoint``: a checkpoint of ours (its normalization, classes and settings win);
    ``settings``: the project's ``TrainingSettings``. ``on_note`` hears what stays unknown."""
    found = _input(graph)
    if found is None:
        return None
    name, shape = found
    pre = Preprocessing(shape)
    if checkpoint is not None:
        norm = checkpoint.get("normalization") or {}
        data = (checkpoint.get("settings") or {}).get("data") or {}
        classes = checkpoint.get("classes")
        mean, std = _floats(norm.get("mean", ())), _floats(norm.get("std", ()))
        if mean and std and len(mean) == len(std) == shape[0]:
            return dataclasses.replace(
                pre,
                mean=mean,
                std=std,
                classes=tuple(str(c) for c in classes) if isinstance(classes, list) else None,
                dataset=str(data.get("dataset")) if data.get("dataset") else None,
                normalize=str(data.get("normalize")) if data.get("normalize") else None,
                origin="the checkpoint the weights came from",
            )
    if settings is None:
        if on_note is not None:
            on_note(
                "the normalisation is not known (no project training settings, no checkpoint "
                "of ours): preprocess() scales pixels to [0, 1] only. Export a project file or "
                "weights from a run to carry its mean and std"
            )
        return pre
    return _from_settings(pre, settings, name, on_note)


def export_preprocessing(
    graph: Graph,
    settings: Any = None,
    weights: Any = None,
    on_note: Callable[[str], None] | None = None,
) -> Preprocessing | None:
    """``preprocessing_for`` an export with ``weights`` (a path: a checkpoint of ours gives its
    normalisation and classes; an unreadable file is left for the export itself to name)."""
    checkpoint = None
    if weights is not None and not isinstance(weights, Mapping):
        from engine.errors import DesignerError
        from engine.transfer import read_weights

        try:
            checkpoint = read_weights(weights).checkpoint
        except DesignerError:
            checkpoint = None
    return preprocessing_for(graph, settings, checkpoint, on_note)


def _from_settings(
    pre: Preprocessing, settings: Any, input_name: str, on_note: Callable[[str], None] | None
) -> Preprocessing:
    """The mean and std a run with ``settings`` would use: the data set is read (never
    downloaded) and split as the trainer splits it."""
    import torch

    from engine.training.data_setup import prepare_data
    from engine.training.distributed import DistContext

    data = settings.data
    pre = dataclasses.replace(
        pre,
        dataset=data.dataset,
        normalize=data.normalize,
        origin="the project's training settings",
    )
    offline = dataclasses.replace(settings, data=dataclasses.replace(data, download=False))
    try:
        prepared = prepare_data(
            offline, pre.input_shape, input_name, torch.device("cpu"), DistContext()
        )
    except Exception as error:  # the export goes on: only the statistics stay unknown
        if on_note is not None:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            on_note(
                f"the normalisation of data set {data.dataset} is not known, as it cannot be "
                f"read here ({first}): preprocess() scales pixels to [0, 1] only"
            )
        return pre
    return dataclasses.replace(
        pre,
        mean=_floats(prepared.mean),
        std=_floats(prepared.std),
        classes=tuple(prepared.classes),
    )


def python_lines(pre: Preprocessing | None) -> str:
    """The constants and ``preprocess(image)`` of a python export (empty without one)."""
    if pre is None:
        return ""
    classes = (
        "("
        + ", ".join(repr(str(c)) for c in pre.classes)
        + ("," if len(pre.classes) == 1 else "")
        + ")"
        if pre.classes is not None
        else "None"
    )
    known = "" if pre.mean is not None else "  # not known: preprocess() does not normalise"
    return f'''

# Evaluation preprocessing: how an image becomes the model's input.
# From {pre.origin}.
DATASET = {literal(pre.dataset) if pre.dataset and pre.dataset.isidentifier() else None}
CLASSES = {classes}  # the class of each output score, in order
INPUT_CHANNELS = {literal(pre.channels)}
INPUT_SIZE = {literal(pre.size)}  # height, width
MEAN = {literal(pre.mean)}{known}
STD = {literal(pre.std)}  # per channel, on the [0, 1] scale


def preprocess(image) -> torch.Tensor:
    """One image (C×H×W or H×W, pixel values 0-255, e.g. uint8) as the model's batch of one:
    channels converted, resized (bilinear, antialiased, rounded to whole pixel values as in
    training), scaled to [0, 1] and normalised with MEAN and STD."""
    x = torch.as_tensor(image)
    if x.dim() == 2:
        x = x.unsqueeze(0)
    if x.dim() != 3:
        raise ValueError(f"preprocess: one image C×H×W or H×W. Received: shape {{tuple(x.shape)}}")
    x = x.unsqueeze(0).float()
    converted = False
    if x.shape[1] != INPUT_CHANNELS:
        if (x.shape[1], INPUT_CHANNELS) == (3, 1):
            x = (x * torch.tensor({literal(_LUMA)}).view(1, 3, 1, 1)).sum(1, keepdim=True)
        elif (x.shape[1], INPUT_CHANNELS) == (1, 3):
            x = x.expand(-1, 3, -1, -1)
        else:
            raise ValueError(
                f"preprocess: cannot convert {{x.shape[1]}} channels to {{INPUT_CHANNELS}}"
            )
        converted = True
    if tuple(x.shape[2:]) != INPUT_SIZE:
        x = nn.functional.interpolate(
            x, size=INPUT_SIZE, mode="bilinear", align_corners=False, antialias=True
        )
        converted = True
    if converted:
        x = x.round().clamp(0, 255)
    if MEAN is None or STD is None:
        return x / 255.0
    std = torch.tensor(STD).view(1, -1, 1, 1)
    return x * (1.0 / (255.0 * std)) - torch.tensor(MEAN).view(1, -1, 1, 1) / std
'''[1:]


__all__ = [
    "Preprocessing",
    "export_preprocessing",
    "json_bytes",
    "json_path",
    "preprocessing_for",
    "python_lines",
]
