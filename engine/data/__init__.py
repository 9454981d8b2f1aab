"""Data sets for training: built-in Digits and Shapes, MNIST, Fashion-MNIST, CIFAR-10, image folders.

Torch-free here (``engine.data.pipeline`` holds the torch side: conform, split, batches, augment):

- ``DataSettings``: which set, where from, split, normalisation, augmentation;
- ``load_source(settings, input_shape)``: the training pool as ``ImageData`` (uint8 N×C×H×W);
- ``check_input_shape(input_shape, sample_shape)``: agreement with the Input block, with fixes;
- ``load_digits``, ``make_shapes`` and the file-format readers in ``engine.data.formats``.
"""

from importlib import import_module
from typing import Any

from engine.data.agreement import ShapeAgreement, check_input_shape
from engine.data.settings import DATASETS, NORMALIZATIONS, DataSettings

# numpy-backed parts load on first use, so that importing the package (the designer does at
# start-up, for the shape check) stays cheap
_LAZY = {
    "SHAPE_CLASSES": "engine.data.builtin",
    "ImageData": "engine.data.builtin",
    "load_digits": "engine.data.builtin",
    "make_shapes": "engine.data.builtin",
    "DataFormatError": "engine.data.formats",
    "read_cifar10_folder": "engine.data.formats",
    "read_image_folder": "engine.data.formats",
    "read_mnist_folder": "engine.data.formats",
    "default_cache_dir": "engine.data.sources",
    "load_source": "engine.data.sources",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'engine.data' has no attribute {name!r}")


__all__ = [
    "DATASETS",
    "NORMALIZATIONS",
    "SHAPE_CLASSES",
    "DataFormatError",
    "DataSettings",
    "ImageData",
    "ShapeAgreement",
    "check_input_shape",
    "default_cache_dir",
    "load_digits",
    "load_source",
    "make_shapes",
    "read_cifar10_folder",
    "read_image_folder",
    "read_mnist_folder",
]
