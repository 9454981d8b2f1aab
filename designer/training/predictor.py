"""Class probabilities from a run's checkpoint (Qt-free; imports torch).

The checkpoint (best.pt, else last.pt) is read and checked by ``runs.load_checkpoint`` (safely:
tensors and plain data only, never torch's advice to load unsafely, no warning printed); it holds
the graph and settings it was trained with, so the engine's ``Trainer.setup`` rebuilds the same
model, data split and normalisation on the CPU, then the weights are loaded into it. A run that
is still training can be used: its checkpoints are replaced whole (written to a temporary file,
then renamed), so a read gets one epoch's complete file; ``checkpoint_stamp`` tells when a newer
one has replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Prediction:
    """What the network says about one image."""

    image: np.ndarray  # uint8 C×H×W as fed (after conversion to the Input block's shape)
    probabilities: np.ndarray  # one per class, summing to 1 (softmax of the scores)
    classes: tuple[str, ...]
    label: int | None = None  # the true class of a validation sample
    source: str = ""
    epoch: int | None = None  # the epoch whose weights answered
    checkpoint: str = ""  # the file they came from (best.pt or last.pt)
    inputs: Any = None  # the normalised 1×C×H×W tensor the network took (for the saliency)

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))


@dataclass(frozen=True)
class Saliency:
    """Where the network looked for one class: Grad-CAM on ``layer`` and the input gradient,
    each H×W at the input's size, scaled to [0, 1] (``cam`` None without a convolution)."""

    cam: np.ndarray | None
    gradient: np.ndarray
    target: int
    layer: str
    score: float


def checkpoint_of(run_dir: str | Path) -> Path:
    """The run's best checkpoint, else its last; FileNotFoundError naming the folder."""
    folder = Path(run_dir)
    for name in ("best.pt", "last.pt"):
        try:
            if (folder / name).is_file():
                return folder / name
        except OSError:  # an unreadable folder has no checkpoint to offer
            continue
    raise FileNotFoundError(
        f"run {folder}: no checkpoint (best.pt or last.pt). Train at least one epoch first"
    )


def checkpoint_stamp(run_dir: str | Path) -> tuple[str, int, int, int]:
    """Which checkpoint file ``run_dir`` offers now (path, inode, size, modification time): it
    changes when a running run writes a newer one. FileNotFoundError when there is none."""
    path = checkpoint_of(run_dir)
    info = path.stat()
    return str(path), info.st_ino, info.st_size, info.st_mtime_ns


class Predictor:
    """A trained model in evaluation mode on the CPU, with its validation split."""

    def __init__(self, run_dir: str | Path) -> None:
        import torch

        from engine.training import runs
        from engine.training.model import TrainingError
        from engine.training.trainer import Trainer

        self.stamp = checkpoint_stamp(run_dir)
        self.path = Path(self.stamp[0])
        state = runs.load_checkpoint(self.path)
        settings = dict(state["settings"])
        settings.update(device="cpu", mixed_precision=False)
        self.trainer = Trainer(state["graph"], settings, snapshots=False)
        self.trainer.setup()
        try:
            self.trainer.module.load_state_dict(state["model"])
        except RuntimeError as error:
            raise TrainingError(
                f"checkpoint {self.path}: its weights do not fit the graph it records (the "
                "file is damaged). Predict with another run"
            ) from error
        self.trainer.module.eval()
        self.classes = tuple(self.trainer.classes)
        self.epoch = int(state.get("epoch", 0))
        val = self.trainer.val_split or self.trainer.train_split
        self.sample_count = len(val)
        self.input_shape = tuple(int(s) for s in self.trainer.train_split.images.shape[1:])
        self._torch = torch
        from engine.analysis.saliency import conv_layers

        self.conv_layers = conv_layers(self.trainer.module)

    def saliency(self, inputs: Any, target: int, layer: str | None = None) -> Saliency:
        """Grad-CAM of class ``target`` on ``layer`` (default: the last convolution) and the
        input gradient, for the normalised image ``inputs`` of a Prediction."""
        from engine.analysis.saliency import grad_cam, input_saliency, scaled

        module = self.trainer.module
        gradient = scaled(input_saliency(module, inputs, target)).numpy()
        if not self.conv_layers:  # a design without convolutions: the input gradient alone
            return Saliency(None, gradient, target, "", float("nan"))
        name = layer if layer in self.conv_layers else self.conv_layers[-1]
        cam = grad_cam(module, inputs, target, name)
        return Saliency(scaled(cam.cam).numpy(), gradient, target, name, cam.score)

    def _probabilities(self, x: Any) -> np.ndarray:
        torch = self._torch
        with torch.no_grad():
            scores = self.trainer.module(x).float()
        return torch.softmax(scores[0], 0).numpy()

    def predict_sample(self, index: int) -> Prediction:
        """A validation sample (index taken modulo the split's size)."""
        x, image, label = self.trainer._feature_source(index)
        return Prediction(
            np.asarray(image),
            self._probabilities(x),
            self.classes,
            label,
            f"validation {index}",
            self.epoch,
            self.path.name,
            x,
        )

    def predict_image(self, image: np.ndarray, source: str = "") -> Prediction:
        """Any uint8 C×H×W image (1 or 3 channels, any size), converted to the Input shape."""
        torch = self._torch
        from engine.data.pipeline import conform

        c, h, w = self.input_shape
        batch = torch.from_numpy(np.ascontiguousarray(image, dtype=np.uint8))[None]
        fitted = conform(batch, c, (h, w))
        x = self.trainer.loader.normalize(fitted)
        return Prediction(
            fitted[0].numpy(),
            self._probabilities(x),
            self.classes,
            None,
            source,
            self.epoch,
            self.path.name,
            x,
        )
