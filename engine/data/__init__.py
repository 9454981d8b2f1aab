"""Data sets for training: built-in Digits and Shapes, MNIST, Fashion-MNIST, CIFAR-10, image folders.

Torch-free here (``engine.data.pipeline`` holds the torch side: conform, split, batches, augment):

- ``DataSettings``: which set, where from, split, normalisation, augmentation;
- ``load_source(settings, input_shape)``: the training pool as ``ImageData`` (uint8 N×C×H×W);
- ``check_input_shape(input_shape, sample_shape)``: agreement with the Input block, with fixes;
- ``load_digits``, ``make_shapes`` and the file-format readers in ``engine.data.formats``.
"""

from engine.data.agreement import ShapeAgreement, check_input_shape
from engine.data.builtin import SHAPE_CLASSES, ImageData, load_digits, make_shapes
from engine.data.formats import (
    DataFormatError,
    read_cifar10_folder,
    read_image_folder,
    read_mnist_folder,
)
from engine.data.settings import DATASETS, NORMALIZATIONS, DataSettings
from engine.data.sources import default_cache_dir, load_source

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
