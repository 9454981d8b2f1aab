"""Bad or unusual data gives a clear DataFormatError (file, value, fix) or a note, never a
silently wrong data set: --limit on class-ordered folders, damaged MNIST files, huge, 16-bit and
float images, offline downloads, shape errors caused by data settings, hidden files and partial
CIFAR-10 folders. Every file is written tiny in tmp_path; nothing reaches the network."""

from __future__ import annotations

import gzip
import pickle
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from engine.data import (
    DataFormatError,
    DataSettings,
    ImageData,
    check_input_shape,
    load_source,
    read_cifar10_folder,
    read_image_folder,
    read_mnist_folder,
)
from engine.errors import DesignerError


def write_png_classes(root: Path, counts: dict[str, int], size: int = 4) -> None:
    """One folder per class; image ``i`` of class ``k`` is flat grey ``10 * k + i``."""
    from PIL import Image

    for k, (name, count) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.new("L", (size, size), 10 * k + i).save(root / name / f"{i:02d}.png")


def write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)


def write_mnist(folder: Path, labels: np.ndarray) -> None:
    images = np.random.default_rng(0).integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    write_idx(folder / "train-images-idx3-ubyte.gz", images)
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)


# ---- 1. --limit keeps every class -----------------------------------------------------------


def test_limit_on_an_image_folder_samples_every_class_deterministically(tmp_path: Path) -> None:
    write_png_classes(tmp_path, {f"class {k}": 20 for k in range(10)})
    settings = DataSettings(dataset="imagefolder", root=str(tmp_path), limit=60)
    data = load_source(settings, (1, 4, 4), seed=0)
    assert len(data) == 60 and np.bincount(data.labels, minlength=10).tolist() == [6] * 10
    again = load_source(settings, (1, 4, 4), seed=0)
    assert np.array_equal(data.images, again.images) and np.array_equal(data.labels, again.labels)
    other = load_source(settings, (1, 4, 4), seed=1)
    assert not np.array_equal(data.images, other.images)  # a sample, not the first 6 per class
    assert any("data.limit=60" in note and "stratified by class" in note for note in data.notes)


def test_subset_keeps_class_shares_and_notes_classes_it_leaves_out() -> None:
    labels = np.array([0] * 80 + [1] * 20, dtype=np.int64)
    images = np.arange(100, dtype=np.uint8).reshape(100, 1, 1, 1)  # image i holds i
    data = ImageData("pool", images, labels, ("a", "b", "c"))
    part = data.subset(10, seed=3)
    assert np.bincount(part.labels).tolist() == [8, 2]
    assert np.all(np.diff(part.images.ravel().astype(int)) > 0)  # the pool's order is kept
    one = data.subset(1, seed=0)
    assert len(one) == 1 and "no images of class 'b'" in one.notes[-1]
    assert data.subset(None) is data and data.subset(100) is data


def test_empty_class_folder_is_refused_by_name(tmp_path: Path) -> None:
    write_png_classes(tmp_path, {"cat": 2, "dog": 2})
    (tmp_path / "zebra").mkdir()
    with pytest.raises(DataFormatError) as caught:
        read_image_folder(tmp_path, channels=1, size=(4, 4))
    message = str(caught.value)
    assert "one holds no images" in message and "'zebra'" in message
    assert str(tmp_path / "zebra") in message and "Add images to it, or move it out" in message


# ---- 2. raw Python errors become DataFormatError naming the file and the fix -----------------


def test_data_format_error_is_a_designer_error() -> None:
    assert issubclass(DataFormatError, DesignerError) and issubclass(DataFormatError, ValueError)


def test_truncated_mnist_gz_names_the_file(tmp_path: Path) -> None:
    write_mnist(tmp_path, np.arange(12, dtype=np.uint8) % 10)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(DataFormatError, match=r"train-images-idx3-ubyte\.gz: .*ends early"):
        read_mnist_folder(tmp_path)


def test_mnist_labels_outside_0_to_9_are_refused(tmp_path: Path) -> None:
    write_mnist(tmp_path, np.array([0, 1, 254, 3], dtype=np.uint8))
    with pytest.raises(DataFormatError) as caught:
        read_mnist_folder(tmp_path)
    message = str(caught.value)
    assert "train-labels-idx1-ubyte.gz" in message and "0..9" in message and "254" in message


def test_image_over_pillows_size_limit_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    write_png_classes(tmp_path, {"a": 1, "b": 1}, size=32)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 32×32 is over twice the limit
    with pytest.raises(DataFormatError, match=r"a[/\\]00\.png: too large to read.*Shrink"):
        read_image_folder(tmp_path)


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ("mnist", "train-images-idx3-ubyte.gz"),
        ("fashion_mnist", "t10k-labels-idx1-ubyte.gz"),
        ("cifar10", "cifar-10-batches-py"),
    ],
)
def test_offline_download_says_so_and_suggests_data_dir(
    dataset: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tried: list[str] = []

    def offline(request: object, *args: object, **kwargs: object) -> None:
        tried.append(getattr(request, "full_url", str(request)))
        raise urllib.error.URLError("offline in this test")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("CNN_DESIGNER_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataFormatError) as caught:
        load_source(DataSettings(dataset=dataset))
    message = str(caught.value)
    assert tried  # the download was attempted (through the stub: no network)
    assert "downloading" in message and "--data-dir" in message and expected in message
    assert "(data.root)" not in message and "Data folder in the training settings" in message
    assert str(tmp_path / "cache") in message
    assert f"{dataset}: not in" in capsys.readouterr().err  # said before reaching out


# ---- 3. 16-bit and float images are scaled, not clipped --------------------------------------


def test_16_bit_and_float_images_are_scaled_to_8_bit(tmp_path: Path) -> None:
    from PIL import Image

    ramp16 = np.linspace(0, 65535, 16).astype(np.uint16).reshape(4, 4)
    ramp01 = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    for name in ("png", "tif"):
        (tmp_path / name).mkdir()
    Image.fromarray(ramp16).save(tmp_path / "png" / "i16.png")  # mode I;16
    Image.fromarray(ramp16.astype(np.int32)).save(tmp_path / "tif" / "i32.tif")  # mode I
    Image.fromarray(ramp01).save(tmp_path / "tif" / "f.tif")  # mode F
    data = read_image_folder(tmp_path, channels=1, size=(4, 4))
    expected = np.rint(np.linspace(0, 255, 16)).reshape(4, 4)
    for image in data.images:
        assert np.abs(image[0].astype(int) - expected).max() <= 1, image[0]
    rgb = read_image_folder(tmp_path, channels=3, size=(4, 4))
    assert np.abs(rgb.images[0, 2].astype(int) - expected).max() <= 1


def test_float_image_outside_0_to_1_is_refused(tmp_path: Path) -> None:
    from PIL import Image

    write_png_classes(tmp_path, {"a": 1, "b": 1})
    Image.fromarray(np.full((4, 4), 200.0, np.float32)).save(tmp_path / "b" / "f.tif")
    with pytest.raises(DataFormatError) as caught:
        read_image_folder(tmp_path)
    message = str(caught.value)
    assert "f.tif" in message and "200" in message and "0..1" in message


# ---- 4. a shape mismatch caused by data settings names them ----------------------------------


def test_shape_mismatch_from_data_channels_names_the_setting() -> None:
    verdict = check_input_shape((1, 32, 32), (1, 8, 8), "digits", channels=3, resize=(32, 32))
    assert not verdict.ok
    assert "data.channels=3" in verdict.message and "1×8×8" in verdict.message
    assert "colour images to grayscale" not in verdict.message
    assert "clear data.channels (or set it to 1)" in verdict.message
    fixed = DataSettings(dataset="digits", channels=3, resize=(32, 32)).with_fit(verdict)
    assert fixed.channels == 1
    both = check_input_shape((1, 32, 32), (1, 8, 8), "digits", channels=3, resize=(16, 16))
    assert "data.channels=3 and data.resize=16×16" in both.message
    assert "set data.resize to 32×32" in both.message
    ok = check_input_shape((1, 32, 32), (3, 8, 8), "digits", channels=1, resize=(32, 32))
    assert ok.ok
    # without settings the message is unchanged
    plain = check_input_shape((1, 32, 32), (3, 32, 32), "cifar10")
    assert plain.message.startswith("Input block 'input' expects 1×32×32 but cifar10 gives")


# ---- 5. hidden files, partial CIFAR-10 -------------------------------------------------------


def test_hidden_files_and_folders_in_a_class_folder_are_skipped(tmp_path: Path) -> None:
    from PIL import Image

    write_png_classes(tmp_path, {"cat": 2, "dog": 2})
    (tmp_path / "cat" / ".ipynb_checkpoints").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "cat" / ".ipynb_checkpoints" / "00-checkpoint.png")
    Image.new("L", (4, 4)).save(tmp_path / "cat" / ".thumb.png")
    (tmp_path / "cat" / "more").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "cat" / "more" / "kept.png")
    data = read_image_folder(tmp_path, channels=1, size=(4, 4))
    assert np.bincount(data.labels).tolist() == [3, 2]


def test_partial_cifar_folder_is_refused(tmp_path: Path) -> None:
    entry = {"data": np.zeros((3, 3072), np.uint8), "labels": [0, 1, 2]}
    (tmp_path / "data_batch_3").write_bytes(pickle.dumps(entry, protocol=2))
    with pytest.raises(DataFormatError) as caught:
        read_cifar10_folder(tmp_path)
    message = str(caught.value)
    assert "data_batch_1, data_batch_2, data_batch_4, data_batch_5 missing" in message
    assert "data_batch_3 found" in message and "--limit" in message


def test_a_download_that_succeeds_is_noted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.data.sources as sources

    def fake_download(cache: Path, fashion: bool = False) -> Path:
        folder = cache / "MNIST" / "raw"
        folder.mkdir(parents=True)
        write_mnist(folder, np.arange(10, dtype=np.uint8))
        return folder

    monkeypatch.setattr(sources, "download_mnist", fake_download)
    monkeypatch.setenv("CNN_DESIGNER_CACHE", str(tmp_path / "cache"))
    data = load_source(DataSettings(dataset="mnist"))
    assert len(data) == 10 and data.notes == (f"mnist downloaded into {tmp_path / 'cache'}",)
