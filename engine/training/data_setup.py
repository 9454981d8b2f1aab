"""The data side of a run's set-up: load, fit to the Input block, split, normalise, batch.

A model with BatchNorm over one value per channel (after Flatten or a 1×1 map) cannot train on a
batch of one sample: when the training set leaves a last batch of 1, that batch is skipped each
epoch (the run says so in a note); a batch size of 1 is refused (``trainable_batches``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from engine.catalog import fmt_shape
from engine.data import check_input_shape, load_source
from engine.data.augment import Augmenter
from engine.data.augment_spec import colour_problem
from engine.data.pipeline import BatchLoader, Split, channel_stats, make_splits
from engine.graph import Graph
from engine.inference import InferenceResult
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
    check_crop_padding(s.data.crop_padding, input_shape, input_name)
    if problem := colour_problem(
        s.data, input_shape[0], f"{input_name} ({fmt_shape(input_shape)})"
    ):
        raise TrainingError(problem)
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
        augment=Augmenter.from_settings(s.data),
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


def check_crop_padding(padding: int, input_shape: tuple[int, ...], input_name: str) -> None:
    """TrainingError unless the random crop's padding is at most half the Input block's height
    and width: a crop padded more is mostly padding (and a huge padding fills the memory)."""
    h, w = input_shape[-2:]
    most = min(h, w) // 2
    if padding > most:
        raise TrainingError(
            f"training setting data.crop_padding: at most half the height and width of the "
            f"images the network takes ({input_name}: {fmt_shape(input_shape)}), so that a "
            f"crop is never mostly padding. Received: data.crop_padding={padding}. Use 0 to "
            f"{most} (e.g. {max(min(most, h // 8), 1) if most else 0})"
        )


def trainable_batches(
    graph: Graph,
    result: InferenceResult,
    loader: BatchLoader,
    batch_size: int,
    notes: list[str],
    per_process: bool,
) -> int:
    """The batches trained per epoch: all, but a last batch of one sample when a BatchNorm
    layer sees one value per channel (it cannot train on a single sample; ``notes`` then says so).
    Raises TrainingError when no batch of 2 samples can be made."""
    batches = len(loader)
    single = [
        node.name
        for node in graph.nodes_of_type("batchnorm")
        if (shape := next(iter(result.nodes[node.name].inputs), None)) is not None
        and math.prod(shape[1:]) == 1
    ]
    if not single:
        return batches
    names = ", ".join(single)
    count, size = loader.sample_count(), batch_size
    where = " per process" if per_process else ""
    if count < 2:
        raise TrainingError(
            f"BatchNorm ({names}) needs batches of at least 2 samples to train, but the "
            f"training split has {count} sample{where}: use more data (data.limit, "
            "data.val_split)"
        )
    if size < 2:
        raise TrainingError(
            f"BatchNorm ({names}) normalises over the batch and cannot train on batches of "
            "1 sample: set batch_size to 2 or more"
        )
    if count % size == 1:
        notes.append(
            f"{count} training samples{where} in batches of {size} leave a last batch of 1 "
            f"sample, on which BatchNorm ({names}) cannot train: that batch is skipped in "
            "each epoch (a different sample each time, as the order is shuffled). Choose a "
            "batch size that leaves no single sample over to use them all"
        )
        return batches - 1
    return batches


def _conformed_shape(shape: tuple[int, ...], channels: int | None, size: Any) -> tuple[int, ...]:
    c, h, w = shape
    if size is not None:
        h, w = int(size[0]), int(size[1])
    return (channels or c, h, w)
