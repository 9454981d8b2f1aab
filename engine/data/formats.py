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
  the requested channels and resized to the requested size when loaded. Hidden files and folders
  (``.ipynb_checkpoints``, ``.DS_Store``) are skipped. 16-bit images (Pillow modes ``I;16*`` and
  ``I``) are scaled from 0..65535 to 0..255; floating-point images (mode ``F``) are read as
  0..1 (0 black, 1 white) and refused when a value lies outside, since no other range is
  documented for them. Every error names the file and says what to do.
"""

from __future__ import annotations

import gzip
import io
import pickle
import shutil
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.data.builtin import ImageData
from engine.errors import DesignerError

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


class DataFormatError(DesignerError, ValueError):
    """A data folder that is missing files or holds files in the wrong format."""


MNIST_FILES = tuple(
    f"{prefix}-{kind}-idx{dims}-ubyte.gz"
    for prefix in ("train", "t10k")
    for kind, dims in (("images", 3), ("labels", 1))
)
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


def announce(message: str) -> None:
    """Tell the person before the program reaches for the network (stderr: a run shows it)."""
    print(message, file=sys.stderr, flush=True)


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
    except (EOFError, zlib.error) as error:
        raise DataFormatError(
            f"{path}: not a valid idx-ubyte file: the compressed file ends early or is damaged "
            f"({type(error).__name__}: {error}). Replace it with a complete copy (a download "
            "that was cut off leaves such a file)"
        ) from error
    except (AssertionError, RuntimeError, ValueError, OSError, KeyError, struct.error) as error:
        raise DataFormatError(
            f"{path}: not a valid idx-ubyte file ({error}). Replace it with a complete copy"
        ) from error


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
    bad = (labels < 0) | (labels >= len(classes))
    if bad.any():
        raise DataFormatError(
            f"{labels_path}: {name} labels must be 0..{len(classes) - 1}. Received: "
            f"{int(bad.sum())} of {len(labels)} labels outside, e.g. {int(labels[bad][0])} at "
            f"index {int(np.flatnonzero(bad)[0])}. The file is damaged or is not an {name} "
            "label file: replace it with the original"
        )
    return ImageData(name, np.ascontiguousarray(images[:, None]), labels, classes)


def _download(what: str, cache: Path, fetch: Callable[[], Any], offline_fix: str) -> None:
    """Say that ``what`` is being downloaded, run ``fetch``, and turn any failure into advice."""
    announce(f"{what}: not in {cache} yet; downloading it there (needs network access)")
    try:
        fetch()
    except Exception as error:  # any failure of the download is reported the same way
        raise DataFormatError(
            f"{what}: downloading it into {cache} failed ({type(error).__name__}: "
            f"{' '.join(str(error).split())}). Without network access, {offline_fix}"
        ) from error


def download_mnist(cache: Path, fashion: bool = False) -> Path:
    """Download (md5-checked) into ``cache``, saying so first; returns the folder to read."""
    from torchvision import datasets

    kind = datasets.FashionMNIST if fashion else datasets.MNIST
    name = "fashion_mnist" if fashion else "mnist"
    _download(
        name,
        cache,
        lambda: [kind(str(cache), train=train, download=True) for train in (True, False)],
        f"get the four files {', '.join(MNIST_FILES)} on another machine and give their "
        "folder as the data folder (--data-dir, or Data folder in the training settings)",
    )
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
    names = list(CIFAR10_TRAIN_BATCHES) if train else ["test_batch"]
    found = [root / n for n in names if (root / n).is_file()]
    if not found:
        raise DataFormatError(
            f"{root}: no CIFAR-10 batches ({', '.join(names)}). Point at the "
            "cifar-10-batches-py folder, or let the program download it"
        )
    parts = [_read_cifar_batch(p) for p in found]
    if len(found) < len(names):
        missing = [n for n in names if not (root / n).is_file()]
        raise DataFormatError(
            f"{root}: CIFAR-10 is incomplete: {', '.join(missing)} missing, only "
            f"{', '.join(p.name for p in found)} found (training on {len(found)} of "
            f"{len(names)} batches is not the data set). Copy the missing batches into the "
            "folder (or empty it to download again); use data.limit (--limit) to train on "
            "fewer images on purpose"
        )
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES):
        raise DataFormatError(
            f"{root}: labels must be 0..9. Received: min={labels.min()}, max={labels.max()}. "
            "A batch is damaged or is not CIFAR-10: replace it with the original"
        )
    return ImageData("cifar10", np.ascontiguousarray(images), labels, CIFAR10_CLASSES)


def download_cifar10(cache: Path) -> Path:
    """Download and md5-check with torchvision, saying so first; returns the batches folder."""
    from torchvision import datasets

    _download(
        "cifar10",
        cache,
        lambda: datasets.CIFAR10(str(cache), train=True, download=True),
        "get cifar-10-python.tar.gz on another machine, unpack it and give the "
        f"cifar-10-batches-py folder (holding {', '.join(CIFAR10_TRAIN_BATCHES)}, test_batch) "
        "as the data folder (--data-dir, or Data folder in the training settings)",
    )
    return cache / "cifar-10-batches-py"


def read_image_folder(
    folder: str | Path, channels: int = 3, size: tuple[int, int] = (32, 32)
) -> ImageData:
    """One subfolder per class (sorted names are the classes); images resized to ``size``.

    Hidden files and folders are skipped; a class folder without images is refused, named.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DataFormatError(f"image folder {root}: does not exist or is not a folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not _hidden(p.name))
    if len(classes) < 2:
        raise DataFormatError(
            f"image folder {root}: needs one subfolder per class (at least 2). "
            f"Received: {len(classes)} subfolder(s)"
        )
    mode = "L" if channels == 1 else "RGB"
    images: list[np.ndarray] = []
    labels: list[int] = []
    files = [_class_images(root / name) for name in classes]  # listed before any is read
    empty = [name for name, found in zip(classes, files, strict=True) if not found]
    if len(empty) == len(classes):
        raise DataFormatError(f"image folder {root}: the class subfolders hold no images")
    if empty:
        listed = ", ".join(repr(name) for name in empty[:5])
        more = f" and {len(empty) - 5} more" if len(empty) > 5 else ""
        holds, them = ("one holds", "it") if len(empty) == 1 else (f"{len(empty)} hold", "them")
        raise DataFormatError(
            f"image folder {root}: each subfolder is a class, and {holds} no images "
            f"({', '.join(IMAGE_SUFFIXES)}): {listed}{more}, so the network would learn a class "
            "it never sees. Received: "
            f"empty={[str(root / name) for name in empty[:3]]}. Add images to {them}, or move "
            f"{them} out of the image folder"
        )
    for index, paths in enumerate(files):
        for path in paths:
            picture = _load_image(path, mode, size)
            array = np.asarray(picture, dtype=np.uint8)
            images.append(array[None] if array.ndim == 2 else array.transpose(2, 0, 1))
            labels.append(index)
    return ImageData(
        "imagefolder", np.stack(images), np.asarray(labels, dtype=np.int64), tuple(classes)
    )


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _class_images(folder: Path) -> list[Path]:
    """The image files under ``folder`` (sorted), leaving out hidden files and folders."""
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.suffix.lower() in IMAGE_SUFFIXES
        and not any(_hidden(part) for part in path.relative_to(folder).parts)
        and path.is_file()
    ]


def _load_image(path: Path, mode: str, size: tuple[int, int]) -> Any:
    """One image as a Pillow image of ``mode`` ("L" or "RGB") and ``size`` (H, W)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            picture = _eight_bit(image, path)
            return picture.convert(mode).resize((size[1], size[0]), Image.Resampling.BILINEAR)
    except DataFormatError:
        raise
    except Image.DecompressionBombError as error:
        raise DataFormatError(
            f"{path}: too large to read; Pillow refuses it: {error} Shrink the image or move "
            "it out of the folder"
        ) from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as error:
        # Pillow reports damaged files with any of these
        raise DataFormatError(
            f"{path}: cannot be read as an image ({error}). Replace or remove the file"
        ) from error


def _eight_bit(image: Any, path: Path) -> Any:
    """``image`` with 8-bit channels: 16-bit scaled from 0..65535, float read as 0..1."""
    from PIL import Image

    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image, dtype=np.int64)
        low, high = int(values.min()), int(values.max())
        if low < 0 or high > 65535:
            raise DataFormatError(
                f"{path}: a 32-bit integer image (Pillow mode {image.mode}) with values "
                f"{low}..{high}; integer images are read as 16-bit, 0..65535. Save it as an "
                "8-bit or 16-bit image"
            )
        scaled = np.rint(values / 257.0).astype(np.uint8)
        return Image.fromarray(scaled)  # 2-D uint8: mode L
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        finite = bool(np.isfinite(values).all())
        least, most = (float(values.min()), float(values.max())) if finite else (0.0, 0.0)
        if not finite or least < 0.0 or most > 1.0:
            found = f"values {least:g}..{most:g}" if finite else "NaN or infinite values"
            raise DataFormatError(
                f"{path}: a floating-point image (Pillow mode F) with {found}; floating-point "
                "images are read as 0..1 (0 black, 1 white). Scale it to 0..1, or save it "
                "as an 8-bit image"
            )
        return Image.fromarray(np.rint(values * 255.0).astype(np.uint8))  # mode L
    return image
