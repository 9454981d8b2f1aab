"""The data side of a run's set-up: load, fit to the Input block, split, normalise, batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from engine.catalog import fmt_shape
from engine.data import check_input_shape, load_source
from engine.data.pipeline import BatchLoader, Split, channel_stats, make_splits
from engine.training.distributed import DistContext
from engine.training.model import TrainingError
from engine.training.settings import TrainingSettings


@dataclass
class PreparedData:
    """Everything the trainer needs from the data set."""

    name: str
    classes: tuple[str, ...]
    train: Split
    val: Split | None
    loader: BatchLoader
    val_loader: BatchLoader | None  # this process's shard of the validation split
    mean: torch.Tensor
    std: torch.Tensor
    notes: list[str]


def prepare_data(
    s: TrainingSettings,
    input_shape: tuple[int, ...],
    input_name: str,
    device: torch.device,
    dist: DistContext,
) -> PreparedData:
    """Load the data set and make it fit ``input_shape`` (or raise TrainingError saying how)."""
    data = load_source(s.data, input_shape, s.seed)
    notes = list(data.notes)  # a sampled subset, an empty class folder, a download
    channels, size = s.data.channels, s.data.resize
    agreement = check_input_shape(input_shape, data.sample_shape, data.name, input_name)
    if not agreement.ok and s.data.fit_input and agreement.data_fix_possible:
        channels = channels or agreement.channels
        size = size or agreement.resize
        notes.append(
            f"{data.name} images {fmt_shape(agreement.sample_shape)} converted to "
            f"{fmt_shape(input_shape)} to fit the Input block"
        )
    if _conformed_shape(data.sample_shape, channels, size) != input_shape:
        agreement = check_input_shape(
            input_shape, data.sample_shape, data.name, input_name, channels=channels, resize=size
        )
        raise TrainingError(agreement.message)
    train, val = make_splits(data, s.data.val_split, s.seed, channels, size, device)
    mean, std = channel_stats(train.images, s.data.normalize)
    loader = BatchLoader(
        train,
        s.batch_size,
        mean,
        std,
        shuffle=True,
        seed=s.seed,
        crop_padding=s.data.crop_padding,
        flip=s.data.flip,
        rank=dist.rank,
        world_size=dist.world_size,
    )
    val_loader = None
    if len(val):
        shard = Split(
            val.images[dist.rank :: dist.world_size], val.labels[dist.rank :: dist.world_size]
        )
        val_loader = BatchLoader(shard, max(s.batch_size, 256), mean, std, shuffle=False)
    return PreparedData(
        data.name,
        data.classes,
        train,
        val if len(val) else None,
        loader,
        val_loader,
        mean,
        std,
        notes,
    )


def _conformed_shape(shape: tuple[int, ...], channels: int | None, size: Any) -> tuple[int, ...]:
    c, h, w = shape
    if size is not None:
        h, w = int(size[0]), int(size[1])
    return (channels or c, h, w)
