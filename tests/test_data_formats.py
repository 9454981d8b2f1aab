"""The real data sets' file formats, written small in temporary folders (no network).

MNIST/Fashion-MNIST idx-ubyte (.gz), CIFAR-10 python batches, an image folder of PNGs.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from engine.data import (
    DataFormatError,
    DataSettings,
    load_source,
    read_cifar10_folder,
    read_image_folder,
    read_mnist_folder,
)


def write_idx(path: Path, array: np.ndarray) -> None:
    """An idx-ubyte file as LeCun's MNIST: magic 0x08 (ubyte) + dims, big-endian sizes."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


def make_mnist(folder: Path, count: int = 12, gz: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    end = ".gz" if gz else ""
    for prefix in ("train", "t10k"):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{end}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{end}", labels)
    return images, labels


def test_mnist_gz_files_are_read_with_torchvision_reader(tmp_path: Path) -> None:
    images, labels = make_mnist(tmp_path / "MNIST" / "raw")
    data = read_mnist_folder(tmp_path)
    assert data.images.shape == (12, 1, 28, 28)
    assert np.array_equal(data.images[:, 0], images) and np.array_equal(data.labels, labels)
    assert not (
        tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    ).exists()  # user folder untouched
    fashion = read_mnist_folder(tmp_path / "MNIST" / "raw", fashion=True)
    assert fashion.classes[9] == "Ankle boot" and fashion.name == "fashion_mnist"


def test_our_idx_writer_matches_torchvision_mnist_class(tmp_path: Path) -> None:
    """torchvision's MNIST (download=False) accepts the same unpacked files: MNIST checks only
    that the files exist, not their md5, so the tiny files are a faithful format test."""
    from torchvision.datasets import MNIST

    _images, _labels = make_mnist(tmp_path / "MNIST" / "raw", gz=False)
    ours = read_mnist_folder(tmp_path, train=False)
    theirs = MNIST(str(tmp_path), train=False, download=False)
    assert np.array_equal(theirs.data.numpy(), ours.images[:, 0])
    assert np.array_equal(theirs.targets.numpy(), ours.labels)


def test_mnist_settings_read_a_user_folder(tmp_path: Path) -> None:
    make_mnist(tmp_path)
    data = load_source(DataSettings(dataset="mnist", root=str(tmp_path), download=False))
    assert len(data) == 12 and data.sample_shape == (1, 28, 28)


def test_mnist_missing_or_corrupt_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(
        DataFormatError, match=r"no train-images-idx3-ubyte or train-images-idx3-ubyte\.gz"
    ):
        read_mnist_folder(tmp_path)
    make_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08"))
    with pytest.raises(DataFormatError, match="not a valid idx-ubyte file"):
        read_mnist_folder(tmp_path)


def write_cifar(folder: Path, per_batch: int = 4) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    all_images, all_labels = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        entry = {
            "batch_label": name,
            "labels": labels,
            "data": data,
            "filenames": ["x.png"] * per_batch,
        }
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        if name != "test_batch":
            all_images.append(data)
            all_labels += labels
    return np.concatenate(all_images).reshape(-1, 3, 32, 32), np.array(all_labels)


def test_cifar10_python_batches(tmp_path: Path) -> None:
    images, labels = write_cifar(tmp_path / "cifar-10-batches-py")
    data = read_cifar10_folder(tmp_path)
    assert data.images.shape == (20, 3, 32, 32)
    assert np.array_equal(data.images, images) and np.array_equal(data.labels, labels)
    assert len(read_cifar10_folder(tmp_path, train=False)) == 4
    assert data.classes[0] == "airplane"


def test_torchvision_cifar10_refuses_files_that_are_not_the_original(tmp_path: Path) -> None:
    """Why we read CIFAR-10 folders ourselves: torchvision checks every batch's md5 against the
    official archive, so any other folder (a tiny test set, a re-packed copy) is rejected."""
    from torchvision.datasets import CIFAR10

    write_cifar(tmp_path / "cifar-10-batches-py")
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        CIFAR10(str(tmp_path), train=True, download=False)


def test_cifar_reader_refuses_code_in_a_pickle(tmp_path: Path) -> None:
    class Hostile:
        def __reduce__(self):
            return (print, ("owned",))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": Hostile(), "labels": [0]}))
    with pytest.raises(DataFormatError, match=r"refusing to load builtins\.print"):
        read_cifar10_folder(folder)


def test_image_folder_of_pngs(tmp_path: Path) -> None:
    from PIL import Image

    colours = {"cats": (200, 30, 30), "dogs": (20, 20, 220)}
    for name, colour in colours.items():
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (20 + i, 16), colour).save(tmp_path / name / f"{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    data = read_image_folder(tmp_path, channels=3, size=(8, 8))
    assert data.classes == ("cats", "dogs") and data.images.shape == (6, 3, 8, 8)
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert tuple(data.images[0, :, 4, 4]) == (200, 30, 30)
    grey = read_image_folder(tmp_path, channels=1, size=(4, 4))
    assert grey.images.shape == (6, 1, 4, 4)
    settings = DataSettings(dataset="imagefolder", root=str(tmp_path))
    assert load_source(settings, (3, 12, 10)).sample_shape == (3, 12, 10)


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="needs one subfolder per class"):
        read_image_folder(tmp_path)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    (tmp_path / "a" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataFormatError, match=r"one holds no images .*: 'b'"):
        read_image_folder(tmp_path)  # an empty class folder is named before any image is read
    from PIL import Image

    Image.new("L", (4, 4)).save(tmp_path / "b" / "fine.png")
    with pytest.raises(DataFormatError, match=r"broken\.png: cannot be read as an image"):
        read_image_folder(tmp_path)
