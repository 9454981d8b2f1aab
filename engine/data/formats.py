"""Readers for the real data sets' file formats: MNIST idx files, CIFAR-10 batches, image folders.

- MNIST and Fashion-MNIST: the four idx-ubyte files (gzip-compressed or not) are found in the
  folder, its ``raw/`` or ``MNIST/raw`` (``FashionMNIST/raw``), unpacked when compressed and read
  with torchvision's own idx reader. Downloads go through ``torchvision.datasets.MNIST`` (which
  checks every archive's md5) into the user cache, then are read the same way.
- CIFAR-10: the "python version" batches are pickles. torchvision's ``CIFAR10`` refuses any file
  whose md5 differs from the official archive's, so it cannot read a folder that is not the exact
  original. We read the batches ourselves, with an unpickler that only accepts the few numpy
  globals an array needs: a hostile file cannot run code. Downloads use torchvision's ``CIFAR10``
  (md5-checked), then this reader.
- Image folder: one subfolder per class, images that Pillow opens; every image is converted to
  the requested channels and resized to the requested size when loaded.
"""

from __future__ import annotations

import gzip
import io
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np

from engine.data.builtin import ImageData

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class DataFormatError(ValueError):
    """A data folder that is missing files or holds files in the wrong format."""


def _find_idx(folder: Path, stem: str, subfolder: str) -> Path:
    for place in (folder, folder / "raw", folder / subfolder / "raw"):
        for candidate in (place / stem, place / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    raise DataFormatError(
        f"{folder}: no {stem} or {stem}.gz (looked in the folder, raw/ and {subfolder}/raw/). "
        "Point at the folder holding the four idx-ubyte files, or let the program download them"
    )


def _read_idx(path: Path, images: bool) -> np.ndarray:
    """Read one idx file with torchvision's reader (a .gz is unpacked to a temporary file)."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    reader = read_image_file if images else read_label_file
    try:
        if path.suffix != ".gz":
            return reader(str(path)).numpy()
        with tempfile.TemporaryDirectory() as temp:
            plain = Path(temp) / path.stem
            with gzip.open(path, "rb") as source, open(plain, "wb") as target:
                shutil.copyfileobj(source, target)
            return reader(str(plain)).numpy()
    except (AssertionError, RuntimeError, ValueError, OSError, KeyError) as error:
        raise DataFormatError(f"{path}: not a valid idx-ubyte file ({error})") from error


def read_mnist_folder(folder: str | Path, train: bool = True, fashion: bool = False) -> ImageData:
    """MNIST or Fashion-MNIST from a folder of idx-ubyte files (.gz or unpacked)."""
    root = Path(folder).expanduser()
    prefix = "train" if train else "t10k"
    subfolder = "FashionMNIST" if fashion else "MNIST"
    images_path = _find_idx(root, f"{prefix}-images-idx3-ubyte", subfolder)
    labels_path = _find_idx(root, f"{prefix}-labels-idx1-ubyte", subfolder)
    images = _read_idx(images_path, images=True)
    labels = _read_idx(labels_path, images=False).astype(np.int64)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataFormatError(
            f"{images_path.parent}: expected N×H×W images and N labels. "
            f"Received: images={images.shape}, labels={labels.shape}"
        )
    name = "fashion_mnist" if fashion else "mnist"
    classes = FASHION_CLASSES if fashion else MNIST_CLASSES
    return ImageData(name, np.ascontiguousarray(images[:, None]), labels, classes)


def download_mnist(cache: Path, fashion: bool = False) -> Path:
    """Download (md5-checked, with progress) into ``cache``; returns the folder to read."""
    from torchvision import datasets

    kind = datasets.FashionMNIST if fashion else datasets.MNIST
    for train in (True, False):
        kind(str(cache), train=train, download=True)
    return cache / ("FashionMNIST" if fashion else "MNIST") / "raw"


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only plain containers and numpy arrays: no other global can be loaded."""

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return super().find_class(module, name)


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        entry = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    except Exception as error:
        raise DataFormatError(f"{path}: not a CIFAR-10 python batch ({error})") from error
    if not isinstance(entry, dict):
        raise DataFormatError(f"{path}: not a CIFAR-10 python batch (expected a dict)")
    data = entry.get("data", entry.get(b"data"))
    labels = entry.get("labels", entry.get(b"labels"))
    if not isinstance(data, np.ndarray) or labels is None:
        raise DataFormatError(f"{path}: a CIFAR-10 batch needs 'data' and 'labels'")
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise DataFormatError(
            f"{path}: 'data' must be N×3072 with one label each. Received: shape={data.shape}, "
            f"labels={len(labels)}"
        )
    return data.reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64)


def read_cifar10_folder(folder: str | Path, train: bool = True) -> ImageData:
    """CIFAR-10 from the python-version batches (``data_batch_1..5``, ``test_batch``)."""
    root = Path(folder).expanduser()
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    found = [root / n for n in names if (root / n).is_file()]
    if not found:
        raise DataFormatError(
            f"{root}: no CIFAR-10 batches ({', '.join(names)}). Point at the "
            "cifar-10-batches-py folder, or let the program download it"
        )
    parts = [_read_cifar_batch(p) for p in found]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES):
        raise DataFormatError(f"{root}: labels must be 0..9. Received: max={labels.max()}")
    return ImageData("cifar10", np.ascontiguousarray(images), labels, CIFAR10_CLASSES)


def download_cifar10(cache: Path) -> Path:
    """Download and md5-check with torchvision; returns the batches folder."""
    from torchvision import datasets

    datasets.CIFAR10(str(cache), train=True, download=True)
    return cache / "cifar-10-batches-py"


def read_image_folder(
    folder: str | Path, channels: int = 3, size: tuple[int, int] = (32, 32)
) -> ImageData:
    """One subfolder per class (sorted names are the classes); images resized to ``size``."""
    from PIL import Image

    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DataFormatError(f"image folder {root}: does not exist or is not a folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataFormatError(
            f"image folder {root}: needs one subfolder per class (at least 2). "
            f"Received: {len(classes)} subfolder(s)"
        )
    mode = "L" if channels == 1 else "RGB"
    images: list[np.ndarray] = []
    labels: list[int] = []
    for index, name in enumerate(classes):
        for path in sorted((root / name).rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(path) as image:
                    picture = image.convert(mode).resize(
                        (size[1], size[0]), Image.Resampling.BILINEAR
                    )
            except OSError as error:
                raise DataFormatError(f"{path}: cannot be read as an image ({error})") from error
            array = np.asarray(picture, dtype=np.uint8)
            images.append(array[None] if array.ndim == 2 else array.transpose(2, 0, 1))
            labels.append(index)
    if not images:
        raise DataFormatError(f"image folder {root}: the class subfolders hold no images")
    return ImageData(
        "imagefolder", np.stack(images), np.asarray(labels, dtype=np.int64), tuple(classes)
    )
