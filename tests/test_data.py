"""Built-in data sets, shape agreement with the Input block, and the batch pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Graph, apply_fix, infer
from engine.data import DataSettings, check_input_shape, load_digits, load_source, make_shapes
from engine.data.augment import Augmenter
from engine.data.pipeline import (
    BatchLoader,
    Split,
    channel_stats,
    conform,
    make_splits,
    random_crop,
    random_flip,
    split_indices,
)


def test_digits_are_the_real_sklearn_set() -> None:
    data = load_digits()
    assert data.images.shape == (1797, 1, 8, 8) and data.images.dtype == np.uint8
    assert data.images.max() == 255 and set(data.labels.tolist()) == set(range(10))
    assert data.classes == tuple("0123456789")


def test_shapes_are_seeded_balanced_rgb_and_distinct() -> None:
    a, b, c = make_shapes(120, seed=1), make_shapes(120, seed=1), make_shapes(120, seed=2)
    assert a.images.shape == (120, 3, 32, 32)
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, c.images)
    assert np.bincount(a.labels).tolist() == [20] * 6
    # classes differ in shape: mean foreground area of rings is below that of circles
    per_class = [a.images[a.labels == k].std() for k in range(6)]
    assert min(per_class) > 10  # every image has a visible shape on its background


def test_agreement_offers_both_applicable_fixes() -> None:
    verdict = check_input_shape((3, 32, 32), (1, 28, 28), "mnist", "input")
    assert not verdict.ok
    assert "expects 3×32×32 but mnist gives 1×28×28" in verdict.message
    assert (
        "repeat the grey channel as RGB" in verdict.message
        and "resize the images to 32×32" in verdict.message
    )
    # data fix: settings + conform give exactly the Input block's shape
    fixed = DataSettings(dataset="mnist").with_fit(verdict)
    images = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    assert tuple(conform(images, fixed.channels, fixed.resize).shape[1:]) == (3, 32, 32)
    # graph fix: the Input block takes the data's shape
    g = Graph()
    g.add_node("input", "input", {"shape": [3, 32, 32]})
    g.add_node("flatten", "flatten")
    g.add_node("output", "output")
    g.connect("input", "flatten")
    g.connect("flatten", "output")
    apply_fix(g, verdict.input_fix)
    assert g.node("input").params["shape"] == [1, 28, 28]
    assert infer(g).ok


def test_agreement_without_a_channel_conversion_says_so() -> None:
    verdict = check_input_shape((4, 8, 8), (3, 8, 8))
    assert not verdict.data_fix_possible and "no conversion from 3 to 4 channels" in verdict.message
    assert check_input_shape((1, 8, 8), (1, 8, 8)).ok


def test_conform_grayscale_and_resize() -> None:
    rgb = torch.tensor([[[[255]], [[0]], [[0]]]], dtype=torch.uint8)  # pure red, 1×1
    grey = conform(rgb, 1, None)
    assert grey.shape == (1, 1, 1, 1) and int(grey) == round(0.299 * 255)
    big = conform(torch.full((1, 1, 8, 8), 100, dtype=torch.uint8), None, (32, 32))
    assert big.shape == (1, 1, 32, 32) and int(big.min()) == int(big.max()) == 100


def test_split_is_seeded_and_disjoint() -> None:
    train, val = split_indices(100, 0.2, seed=3)
    again, _ = split_indices(100, 0.2, seed=3)
    other, _ = split_indices(100, 0.2, seed=4)
    assert len(val) == 20 and not set(train) & set(val) and len(set(train) | set(val)) == 100
    assert np.array_equal(train, again) and not np.array_equal(train, other)


def test_normalisation_gives_zero_mean_unit_std() -> None:
    data = load_source(DataSettings(dataset="digits"))
    train, _ = make_splits(data, 0.2, 0, None, None, torch.device("cpu"))
    mean, std = channel_stats(train.images, "dataset")
    loader = BatchLoader(train, 4096, mean, std, shuffle=False)
    x, _ = next(iter(loader))
    assert abs(float(x.mean())) < 1e-3 and abs(float(x.std()) - 1) < 1e-2
    sym_mean, sym_std = channel_stats(train.images, "symmetric")
    y, _ = next(iter(BatchLoader(train, 4096, sym_mean, sym_std, shuffle=False)))
    assert float(y.min()) == -1.0 and float(y.max()) == 1.0


def test_shuffle_is_seeded_per_epoch_and_distributed_shards_partition() -> None:
    split = Split(torch.zeros(10, 1, 2, 2, dtype=torch.uint8), torch.arange(10))
    zero, one = torch.zeros(1), torch.ones(1)
    a = BatchLoader(split, 3, zero, one, seed=5)
    b = BatchLoader(split, 3, zero, one, seed=5)
    first = torch.cat([y for _, y in a])
    assert torch.equal(first, torch.cat([y for _, y in b])) and sorted(first.tolist()) == list(
        range(10)
    )
    a.set_epoch(1)
    assert not torch.equal(first, torch.cat([y for _, y in a]))
    shards = [BatchLoader(split, 3, zero, one, seed=5, rank=r, world_size=2) for r in (0, 1)]
    seen = [torch.cat([y for _, y in s]).tolist() for s in shards]
    assert len(seen[0]) == len(seen[1]) == 5 and sorted(seen[0] + seen[1]) == list(range(10))


def test_augmentation_crops_and_flips_real_pixels() -> None:
    x = torch.arange(16.0).view(1, 1, 4, 4).repeat(64, 1, 1, 1)
    gen = torch.Generator().manual_seed(0)
    cropped = random_crop(x, 1, gen)
    assert cropped.shape == x.shape
    assert (cropped == x).all(dim=(1, 2, 3)).any()  # some windows are the centre
    assert not (cropped == x).all(dim=(1, 2, 3)).all()  # others are shifted
    shifted = cropped[~(cropped == x).all(dim=(1, 2, 3))]
    assert (shifted == 0).any()  # the padding came in
    flipped = random_flip(x, gen)
    mirrored = (flipped == x.flip(3)).all(dim=(1, 2, 3))
    same = (flipped == x).all(dim=(1, 2, 3))
    assert bool((mirrored | same).all()) and 10 < int(mirrored.sum()) < 54


def test_unknown_dataset_message() -> None:
    with pytest.raises(ValueError, match="unknown data set 'mnits'"):
        load_source(DataSettings(dataset="mnits"))


@pytest.mark.parametrize(
    "augment",
    [Augmenter(), Augmenter(crop_padding=2, flip=True), Augmenter(rotation=10, crop_scale=0.8)],
)
def test_a_small_split_normalised_once_gives_the_same_batches_as_per_batch(
    augment: Augmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = load_source(DataSettings(dataset="digits"))
    train, _ = make_splits(data, 0.2, 0, None, None, torch.device("cpu"))
    mean, std = channel_stats(train.images, "dataset")
    cached = BatchLoader(train, 64, mean, std, seed=3, augment=augment)
    assert cached.normalized is not None  # Digits: 6 MB as floats
    monkeypatch.setattr("engine.data.pipeline.NORMALIZED_CACHE_BYTES", 0)
    per_batch = BatchLoader(train, 64, mean, std, seed=3, augment=augment)
    assert per_batch.normalized is None
    for epoch in (0, 1):
        cached.set_epoch(epoch)
        per_batch.set_epoch(epoch)
        for (x, y), (x2, y2) in zip(cached, per_batch, strict=True):
            assert torch.equal(x, x2) and torch.equal(y, y2)  # bit for bit


def test_colour_jitter_normalises_per_batch_after_the_jitter() -> None:
    split = Split(torch.zeros(10, 3, 2, 2, dtype=torch.uint8), torch.arange(10))
    loader = BatchLoader(split, 3, torch.zeros(3), torch.ones(3), augment=Augmenter(hue=0.1))
    assert loader.normalized is None
