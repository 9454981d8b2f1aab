"""Issue 20, point 5: the augmentation pipeline.

- each batched transform gives what torchvision.transforms.v2's functional gives one image for
  the same parameters, and each image of a batch gets its own parameters;
- the training CLI takes ``--augment``, records it in the run folder, and refuses out-of-range
  values, unknown words and colour jitter on grey images with one message naming the value;
- old settings (crop padding and flip) give the batches they gave before;
- a project file keeps the augmentation; one written without it loads with none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as tvf

from engine.data import augment as aug
from engine.data.augment import Augmenter
from engine.data.pipeline import BatchLoader, Split

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def _images() -> torch.Tensor:
    torch.manual_seed(0)
    x = torch.rand(1, 3, 20, 28)
    x[..., :4, :4] = 0.5  # grey pixels (no hue) and black ones
    x[..., 4:6, :4] = 0.0
    return x


@pytest.mark.parametrize("factor", [0.0, 0.4, 1.7])
@pytest.mark.parametrize("name", ["brightness", "contrast", "saturation"])
def test_colour_jitter_equals_torchvision_v2(name: str, factor: float) -> None:
    x = _images()
    mine = getattr(aug, f"adjust_{name}")(x, torch.tensor([factor]))
    theirs = getattr(tvf, f"adjust_{name}")(x, factor)
    torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=0)


def test_contrast_of_a_grey_image_equals_torchvision_v2() -> None:
    x = _images()[:, :1]
    torch.testing.assert_close(
        aug.adjust_contrast(x, torch.tensor([0.3])), tvf.adjust_contrast(x, 0.3), atol=1e-6, rtol=0
    )


@pytest.mark.parametrize("shift", [-0.5, -0.2, 0.05, 0.33, 0.5])
def test_hue_equals_torchvision_v2(shift: float) -> None:
    x = _images()
    torch.testing.assert_close(
        aug.adjust_hue(x, torch.tensor([shift])), tvf.adjust_hue(x, shift), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("degrees", [30.0, -75.0, 180.0])
def test_rotation_equals_torchvision_v2(degrees: float) -> None:
    x = _images()
    theta = aug.crop_rotate_matrix(
        torch.zeros(1, 2), torch.ones(1, 2), torch.tensor([degrees]), 20, 28
    )
    theirs = tvf.rotate(x, degrees, interpolation=InterpolationMode.BILINEAR)
    torch.testing.assert_close(aug.resample(x, theta), theirs, atol=1e-5, rtol=0)


def test_resized_crop_equals_torchvision_v2_inside_the_border() -> None:
    x = _images()
    top, left, h, w = 4, 6, 10, 14
    theirs = tvf.resized_crop(
        x, top, left, h, w, [20, 28], interpolation=InterpolationMode.BILINEAR, antialias=False
    )
    centre = torch.tensor([[(2 * left + w) / 28 - 1, (2 * top + h) / 20 - 1]])
    theta = aug.crop_rotate_matrix(centre, torch.tensor([[w / 28, h / 20]]), torch.zeros(1), 20, 28)
    # torchvision cuts the crop out first, so its outermost pixels repeat the crop's edge
    inner = (..., slice(1, -1), slice(1, -1))
    torch.testing.assert_close(aug.resample(x, theta)[inner], theirs[inner], atol=1e-5, rtol=0)


def test_each_image_of_a_batch_gets_its_own_parameters() -> None:
    one = torch.rand(1, 3, 16, 16)
    batch = (one.expand(32, -1, -1, -1) * 255).round().to(torch.uint8)
    full = Augmenter(rotation=40, crop_scale=0.5, brightness=0.5, hue=0.2)
    out = full.apply(batch, torch.ones(1, 3, 1, 1) / 255, torch.zeros(1, 3, 1, 1), None)
    distinct = {tuple(img.flatten()[:64].tolist()) for img in out}
    assert len(distinct) == 32
    assert out.shape == (32, 3, 16, 16)


def test_crop_padding_and_flip_batches_are_unchanged_by_the_new_pipeline() -> None:
    gen = torch.Generator().manual_seed(3)
    images = torch.randint(0, 256, (10, 1, 8, 8), dtype=torch.uint8, generator=gen)
    split = Split(images, torch.arange(10))
    mean, std = torch.tensor([0.4]), torch.tensor([0.3])
    old = BatchLoader(split, 4, mean, std, seed=2, crop_padding=2, flip=True)
    new = BatchLoader(split, 4, mean, std, seed=2, augment=Augmenter(crop_padding=2, flip=True))
    # what the loader did before the pipeline grew: normalise, crop, flip, one generator
    g = torch.Generator().manual_seed(2 * 7_919 + 0 + 1)
    order = old.indices()
    for (a, _), (b, _), start in zip(old, new, range(0, 10, 4), strict=True):
        x = old.normalize(images[order[start : start + 4]])
        expected = aug.random_flip(aug.random_crop(x, 2, g), g)
        torch.testing.assert_close(a, expected)
        torch.testing.assert_close(b, expected)


def _settings(run_root: Path) -> dict:
    (run,) = [p for p in run_root.iterdir() if p.is_dir()]
    return json.loads((run / "settings.json").read_text())


def test_train_cli_applies_and_records_the_augmentation(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    done = cli(
        "train", "--preset", "resnet8", "--data", "shapes", "--limit", "64", "--epochs", "1",
        "--batch-size", "32", "--augment",
        "flip,vflip,crop=2,scale=0.6,rotate=15,brightness=0.2,contrast=0.3,saturation=0.4,hue=0.05",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = _settings(out)["settings"]["data"]
    assert data["flip"] and data["vflip"] and data["crop_padding"] == 2
    assert (data["crop_scale"], data["rotation"], data["hue"]) == (0.6, 15.0, 0.05)
    assert (data["brightness"], data["contrast"], data["saturation"]) == (0.2, 0.3, 0.4)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("rotate=400", "data.rotation: value out of range. Received: data.rotation=400.0. "
         "Use degrees in [0, 180]"),
        ("hue=0.7", "Received: data.hue=0.7. Use a share of the colour circle in [0, 0.5]"),
        ("scale=0", "Received: data.crop_scale=0.0. Use the smallest share"),
        ("brightness=-1", "Received: data.brightness=-1.0. Use a value in [0, 1]"),
        ("rotat=3", "unknown augmentation 'rotat'. Did you mean 'rotate'?"),
        ("crop=2.5", "crop takes a number. Received: crop=2.5. Write a whole number of pixels"),
        ("rotate=lots", "rotate takes a number. Received: rotate=lots. Write rotate=VALUE"),
        ("hue=0.1", "data.hue: colour jitter of hue needs 3-channel (RGB) images, and input "
         "(1×32×32) has 1 channel. Received: data.hue=0.1. Use 0"),
    ],
)  # fmt: skip
def test_bad_augmentation_is_refused_with_the_value_and_the_fix(
    tmp_path: Path, spec: str, expected: str
) -> None:
    out = tmp_path / "runs"
    done = cli(
        "train", "--preset", "lenet5_digits", "--data", "digits", "--limit", "64",
        "--epochs", "1", "--augment", spec, "--out", str(out),
    )  # fmt: skip
    assert done.returncode in (1, 2)
    assert expected in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not any(out.glob("*/best.pt"))


def test_the_project_file_keeps_the_augmentation_and_old_files_have_none(tmp_path: Path) -> None:
    from engine import Project, load_project, save_project
    from engine.training.settings import TrainingSettings
    from presets import PRESETS

    path = tmp_path / "net.cnnd"
    settings = TrainingSettings().updated(data__rotation=20.0, data__hue=0.1, data__vflip=True)
    save_project(Project(graph=PRESETS.get("lenet5").create(), training=settings.to_dict()), path)
    loaded = TrainingSettings.from_dict(load_project(path).training)
    assert loaded == settings
    old = json.loads(path.read_text())
    old["training"]["data"] = {"dataset": "digits", "crop_padding": 4, "flip": True}
    path.write_text(json.dumps(old))
    data = TrainingSettings.from_dict(load_project(path).training).data
    assert (data.crop_padding, data.flip, data.vflip, data.rotation, data.hue) == (
        4, True, False, 0.0, 0.0,
    )  # fmt: skip
