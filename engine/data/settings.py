"""Data settings: which data set, where from, split, normalisation and augmentation (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.data.agreement import ShapeAgreement

DATASETS = ("digits", "shapes", "mnist", "fashion_mnist", "cifar10", "imagefolder")
NORMALIZATIONS = ("dataset", "none", "symmetric")


@dataclass(frozen=True)
class DataSettings:
    """How images reach the network.

    ``normalize``: "dataset" subtracts the training split's per-channel mean and divides by its
    standard deviation, "symmetric" maps pixels to [-1, 1], "none" keeps [0, 1].
    ``fit_input``: resize and convert channels to the Input block's shape when they differ.
    ``resize``/``channels``: an explicit transform (overrides ``fit_input``).
    ``limit``: use only N samples of the training pool (quick experiments): a seeded sample
    stratified by class, so that every class keeps its share.
    """

    dataset: str = "digits"
    root: str | None = None  # folder to read (imagefolder: required; others: else the cache)
    download: bool = True
    val_split: float = 0.2
    normalize: str = "dataset"
    # augmentation (torchvision.transforms.v2's; ranges and meanings in engine.data.augment_spec)
    crop_padding: int = 0  # random crop after padding by this many pixels
    flip: bool = False  # random horizontal flip
    vflip: bool = False  # random vertical flip
    crop_scale: float = 1.0  # random resized crop keeping at least this share of the area
    rotation: float = 0.0  # random rotation within ± this many degrees
    brightness: float = 0.0  # colour jitter: factors in [1 - v, 1 + v]
    contrast: float = 0.0
    saturation: float = 0.0  # (3-channel images)
    hue: float = 0.0  # shift within ± this share of the colour circle (3-channel images)
    fit_input: bool = True
    resize: tuple[int, int] | None = None
    channels: int | None = None
    limit: int | None = None
    shapes_count: int = 3000

    def with_fit(self, agreement: ShapeAgreement) -> DataSettings:
        """These settings with the data-side fix of ``agreement`` applied."""
        return replace(
            self,
            resize=agreement.resize or self.resize,
            channels=agreement.channels or self.channels,
        )
