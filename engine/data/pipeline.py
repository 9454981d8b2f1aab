"""Tensors ready for training: conform images to the network, split, normalise, batch, augment.

Images stay uint8 in memory (on the training device when it is a GPU); each batch is converted
to float, normalised and augmented as one tensor operation, so the pipeline costs a small
fraction of a training step and needs no worker processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from engine.data.augment import (  # random_crop and random_flip: their old home
    Augmenter,
    random_crop,  # noqa: F401
    random_flip,  # noqa: F401
)
from engine.data.builtin import ImageData

_LUMA = (0.299, 0.587, 0.114)


def conform(
    images: torch.Tensor, channels: int | None, size: tuple[int, int] | None
) -> torch.Tensor:
    """uint8 N×C×H×W converted to ``channels`` (1↔3) and resized to ``size`` (bilinear)."""
    have = images.shape[1]
    if channels not in (None, have) and (have, channels) not in ((1, 3), (3, 1)):
        raise ValueError(f"cannot convert {have}-channel images to {channels} channels")
    resize = size is not None and tuple(images.shape[2:]) != tuple(size)
    if channels in (None, have) and not resize:
        return images
    parts = []
    for chunk in images.split(2048):
        x = chunk.float()
        if channels == 1 and have == 3:
            weights = torch.tensor(_LUMA, device=x.device).view(1, 3, 1, 1)
            x = (x * weights).sum(1, keepdim=True)
        elif channels == 3 and have == 1:
            x = x.expand(-1, 3, -1, -1).clone()  # rounded in place below: 3 real channels
        if resize and size is not None:
            x = F.interpolate(
                x, size=tuple(size), mode="bilinear", align_corners=False, antialias=True
            )
        parts.append(x.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(parts)


def split_indices(count: int, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle of ``range(count)`` cut into training and validation indices."""
    order = np.random.default_rng(seed).permutation(count)
    n_val = round(count * val_split)
    if val_split > 0:
        n_val = min(max(n_val, 1), count - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def channel_stats(images: torch.Tensor, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation per channel (on the [0, 1] scale) for normalisation ``mode``."""
    c = images.shape[1]
    if mode == "none":
        return torch.zeros(c), torch.ones(c)
    if mode == "symmetric":
        return torch.full((c,), 0.5), torch.full((c,), 0.5)
    total = torch.zeros(c, dtype=torch.float64)
    squares = torch.zeros(c, dtype=torch.float64)
    for chunk in images.split(4096):
        x = chunk.to(torch.float64) / 255.0
        total += x.sum((0, 2, 3)).cpu()
        squares += (x * x).sum((0, 2, 3)).cpu()
    n = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / max(n, 1)
    std = (squares / max(n, 1) - mean * mean).clamp_min(1e-12).sqrt().clamp_min(1e-3)
    return mean.float(), std.float()


@dataclass
class Split:
    """The conformed images of one split (uint8, on the device) and their labels."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def make_splits(
    data: ImageData,
    val_split: float,
    seed: int,
    channels: int | None,
    size: tuple[int, int] | None,
    device: torch.device,
) -> tuple[Split, Split]:
    """Conform the images, then split them (seeded) into training and validation."""
    images = conform(torch.from_numpy(data.images), channels, size)
    labels = torch.from_numpy(data.labels)
    train_idx, val_idx = split_indices(len(data), val_split, seed)
    train = Split(images[train_idx].to(device), labels[train_idx].to(device))
    val = Split(images[val_idx].to(device), labels[val_idx].to(device))
    return train, val


NORMALIZED_CACHE_BYTES = 64 * 2**20  # a split's float copy, at most (Digits: 6 MB, Shapes: 37 MB)


class BatchLoader:
    """Batches of one split: shuffled per epoch (seeded), normalised, optionally augmented
    (``augment``, or the older ``crop_padding`` and ``flip`` alone).

    With ``world_size`` > 1 each process gets its shard from ``DistributedSampler``.
    """

    def __init__(
        self,
        split: Split,
        batch_size: int,
        mean: torch.Tensor,
        std: torch.Tensor,
        *,
        shuffle: bool = True,
        seed: int = 0,
        crop_padding: int = 0,
        flip: bool = False,
        augment: Augmenter | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.split = split
        self.batch_size = batch_size
        device = split.images.device
        self.scale = (1.0 / (255.0 * std)).view(1, -1, 1, 1).to(device)
        self.shift = (mean / std).view(1, -1, 1, 1).to(device)
        self.shuffle, self.seed = shuffle, seed
        self.augment = augment or Augmenter(crop_padding=crop_padding, flip=flip)
        # the split normalised once, when it is small and no colour jitter comes before the
        # normalisation: a batch is then one index, as in a hand-written loop (the same
        # element-wise operations on the same values: the same numbers as per batch)
        self.normalized: torch.Tensor | None = None
        if not self.augment.colour and split.images.numel() * 4 <= NORMALIZED_CACHE_BYTES:
            self.normalized = self.normalize(split.images)
        self.epoch = 0
        self.sampler: Any = None
        if world_size > 1:
            from torch.utils.data.distributed import DistributedSampler

            self.sampler = DistributedSampler(
                range(len(split)),  # type: ignore[arg-type]  # any Sized works: it samples indices
                world_size,
                rank,
                shuffle=shuffle,
                seed=seed,
            )

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch's shuffle (and the sampler's, when distributed)."""
        self.epoch = epoch
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def indices(self) -> torch.Tensor:
        """This epoch's sample order (this process's shard when distributed)."""
        if self.sampler is not None:
            return torch.tensor(list(iter(self.sampler)), dtype=torch.long)
        if not self.shuffle:
            return torch.arange(len(self.split))
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return torch.randperm(len(self.split), generator=generator)

    def sample_count(self) -> int:
        """Samples this process sees per epoch."""
        return len(self.sampler) if self.sampler is not None else len(self.split)

    def __len__(self) -> int:
        return -(-self.sample_count() // self.batch_size)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images as normalised float."""
        return images.float().mul_(self.scale).sub_(self.shift)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.indices().to(self.split.images.device)
        generator = torch.Generator().manual_seed(self.seed * 7_919 + self.epoch + 1)
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            if self.normalized is not None:
                x = self.augment.geometry(self.normalized[index], generator)
            else:
                x = self.augment.apply(self.split.images[index], self.scale, self.shift, generator)
            yield x, self.split.labels[index]
