"""Load the training pool of the data set a ``DataSettings`` names."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from engine.data.builtin import ImageData, load_digits, make_shapes
from engine.data.formats import (
    DataFormatError,
    download_cifar10,
    download_mnist,
    read_cifar10_folder,
    read_image_folder,
    read_mnist_folder,
)
from engine.data.settings import DATASETS, DataSettings


def default_cache_dir() -> Path:
    """Where downloads go: $CNN_DESIGNER_CACHE, else $XDG_CACHE_HOME/cnn-designer, else ~/.cache."""
    if env := os.environ.get("CNN_DESIGNER_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnn-designer"


def load_source(
    settings: DataSettings, input_shape: Sequence[int] | None = None, seed: int = 0
) -> ImageData:
    """The training pool (before the train/validation split) of ``settings.dataset``.

    ``input_shape`` (the Input block's C×H×W) sizes the images of an image folder. With
    ``settings.limit``, a sample stratified by class and seeded by ``seed``. Raises
    DataFormatError saying what is wrong and how to fix it; says so on stderr before it
    downloads. ``ImageData.notes`` holds what the person should hear about the data.
    """
    name = settings.dataset
    if name == "digits":
        data = load_digits()
    elif name == "shapes":
        data = make_shapes(settings.shapes_count, 32, seed)
    elif name in ("mnist", "fashion_mnist"):
        data = _mnist(settings, fashion=name == "fashion_mnist")
    elif name == "cifar10":
        data = _cifar10(settings)
    elif name == "imagefolder":
        if not settings.root:
            raise DataFormatError(
                "data set imagefolder: no folder to read. Give the folder that holds one "
                "subfolder per class (--data-dir, or Data folder in the training settings)"
            )
        shape = tuple(input_shape or (3, 32, 32))
        channels = settings.channels or (shape[0] if shape[0] in (1, 3) else 3)
        size = settings.resize or (shape[1:3] if len(shape) == 3 else (32, 32))
        data = read_image_folder(settings.root, channels, (int(size[0]), int(size[1])))
    else:
        raise DataFormatError(f"unknown data set {name!r}. Choose one of {', '.join(DATASETS)}")
    return data.subset(settings.limit, seed)


def _mnist(settings: DataSettings, fashion: bool) -> ImageData:
    if settings.root:
        return read_mnist_folder(settings.root, train=True, fashion=fashion)
    cache = default_cache_dir()
    try:
        return read_mnist_folder(cache, train=True, fashion=fashion)
    except DataFormatError:
        if not settings.download:
            raise
    data = read_mnist_folder(download_mnist(cache, fashion), train=True, fashion=fashion)
    return replace(data, notes=(*data.notes, f"{data.name} downloaded into {cache}"))


def _cifar10(settings: DataSettings) -> ImageData:
    if settings.root:
        return read_cifar10_folder(settings.root, train=True)
    cache = default_cache_dir()
    try:
        return read_cifar10_folder(cache, train=True)
    except DataFormatError:
        if not settings.download:
            raise
    data = read_cifar10_folder(download_cifar10(cache), train=True)
    return replace(data, notes=(*data.notes, f"{data.name} downloaded into {cache}"))
