"""Augmentation on the training device, one batch at a time, with random parameters per image.

The transforms are torchvision.transforms.v2's (``engine.data.augment_spec`` lists them with
their ranges): given the same parameters, each function here gives what the v2 functional does
to one image (``tests/test_augment.py`` compares them). torchvision's v2 transforms applied to a
batch draw one set of parameters for the whole batch (every image turned by the same angle);
here each image gets its own, and each transform is still one tensor operation on the batch
(the resized crop and the rotation together are one ``grid_sample``), so augmenting costs a small
share of a training step, on the GPU as on the CPU, without worker processes.

Order: colour jitter on [0, 1] pixels (brightness, contrast, saturation, hue: torchvision draws
their order at random, here it is fixed), normalisation, then the geometric transforms (random
crop with padding, random resized crop and rotation, horizontal and vertical flips) on the
normalised batch, so that the empty corners are the data set's mean colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from engine.data.settings import DataSettings

_GREY = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights
_RATIO = (math.log(3 / 4), math.log(4 / 3))  # RandomResizedCrop's default aspect ratios


@dataclass(frozen=True)
class Augmenter:
    """The augmentation of one run (every field off by default)."""

    crop_padding: int = 0
    flip: bool = False
    vflip: bool = False
    crop_scale: float = 1.0
    rotation: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0

    @classmethod
    def from_settings(cls, d: DataSettings) -> Augmenter:
        return cls(**{f.name: getattr(d, f.name) for f in fields(cls)})

    @property
    def colour(self) -> bool:
        return bool(self.brightness or self.contrast or self.saturation or self.hue)

    @property
    def active(self) -> bool:
        return self != Augmenter()

    def jitter(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Colour jitter of a B×C×H×W batch in [0, 1], a factor per image and property."""
        b = x.shape[0]
        if self.brightness:
            x = adjust_brightness(x, _factors(b, self.brightness, generator, x.device))
        if self.contrast:
            x = adjust_contrast(x, _factors(b, self.contrast, generator, x.device))
        if self.saturation:
            x = adjust_saturation(x, _factors(b, self.saturation, generator, x.device))
        if self.hue:
            shift = (torch.rand(b, generator=generator) * 2 - 1) * self.hue
            x = adjust_hue(x, shift.to(x.device))
        return x

    def geometry(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Crops, rotation and flips of a normalised B×C×H×W batch (empty corners 0)."""
        if self.crop_padding:
            x = random_crop(x, self.crop_padding, generator)
        if self.crop_scale < 1 or self.rotation:
            x = random_crop_rotate(x, self.crop_scale, self.rotation, generator)
        if self.flip:
            x = random_flip(x, generator, dim=3)
        if self.vflip:
            x = random_flip(x, generator, dim=2)
        return x

    def apply(
        self,
        images: torch.Tensor,
        scale: torch.Tensor,
        shift: torch.Tensor,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """uint8 images as augmented, normalised float: ``x / 255`` jittered, then
        ``x * 255 * scale - shift`` (scale = 1 / (255 std), shift = mean / std), then moved."""
        if self.colour:
            x = self.jitter(images.float().div_(255.0), generator)
            x = x.mul_(255.0 * scale).sub_(shift)
        else:
            x = images.float().mul_(scale).sub_(shift)
        return self.geometry(x, generator)


def _factors(
    count: int, spread: float, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """ColorJitter's factors: uniform in [max(0, 1 - spread), 1 + spread], one per image."""
    low, high = max(0.0, 1.0 - spread), 1.0 + spread
    return (low + (high - low) * torch.rand(count, generator=generator)).to(device)


def _per_image(f: torch.Tensor) -> torch.Tensor:
    return f.view(-1, 1, 1, 1)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """B×3×H×W → B×1×H×W with torchvision's weights."""
    r, g, b = x.unbind(1)
    return (_GREY[0] * r + _GREY[1] * g + _GREY[2] * b).unsqueeze(1)


def _blend(x: torch.Tensor, other: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    ratio = _per_image(f)
    return (ratio * x + (1.0 - ratio) * other).clamp_(0.0, 1.0)


def adjust_brightness(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """v2.functional.adjust_brightness per image (``f``: B factors)."""
    return (x * _per_image(f)).clamp_(0.0, 1.0)


def adjust_contrast(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """v2.functional.adjust_contrast per image: blend with the image's mean grey."""
    grey = grayscale(x) if x.shape[1] == 3 else x
    return _blend(x, grey.mean((1, 2, 3), keepdim=True), f)


def adjust_saturation(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """v2.functional.adjust_saturation per image: blend with the grey image (3 channels)."""
    return _blend(x, grayscale(x), f)


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """v2.functional.adjust_hue per image: the hue turned by ``shift`` of the colour circle."""
    h, s, v = _rgb_to_hsv(x)
    h = torch.remainder(h + _per_image(shift)[:, 0], 1.0)
    return _hsv_to_rgb(h, s, v)


def _rgb_to_hsv(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # masks multiply rather than select: torch.where costs several times more on the CPU
    r, g, b = x.unbind(1)
    maxc = x.amax(1)
    chroma = maxc - x.amin(1)
    grey = chroma == 0
    s = chroma / (maxc + (maxc == 0))
    c = chroma + grey
    is_r = maxc == r  # the first channel holding the maximum decides, as in torchvision
    is_g = (maxc == g) & ~is_r
    is_b = ~(is_r | is_g)
    h = (is_r * (g - b) + is_g * (b - r + 2 * c) + is_b * (r - g + 4 * c)) / c * ~grey
    return torch.remainder(h / 6.0, 1.0), s, maxc


_HSV_OFFSETS = torch.tensor([5.0, 3.0, 1.0]).view(1, 3, 1, 1)


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    # each channel is v - v s clamp(min(k, 4 - k), 0, 1) with k = (n + 6 h) mod 6, n = 5, 3, 1
    k = torch.remainder(_HSV_OFFSETS.to(h.device, h.dtype) + 6.0 * h.unsqueeze(1), 6.0)
    ramp = torch.minimum(k, 4.0 - k).clamp_(0.0, 1.0)
    v = v.unsqueeze(1)
    return v - v * s.unsqueeze(1) * ramp


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator | None) -> torch.Tensor:
    """Pad by ``padding`` zeros and cut a random H×W window per image (one gather)."""
    b, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None, :])[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None, :])[:, None, None, :]
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows, cols]


def random_flip(x: torch.Tensor, generator: torch.Generator | None, dim: int = 3) -> torch.Tensor:
    """Mirror a random half of the images (``dim`` 3: left to right, 2: top to bottom)."""
    mask = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    return torch.where(mask[:, None, None, None], x.flip(dim), x)


def random_crop_rotate(
    x: torch.Tensor, scale: float, degrees: float, generator: torch.Generator | None
) -> torch.Tensor:
    """RandomResizedCrop(scale=(scale, 1), ratio=(3/4, 4/3)) then RandomRotation(degrees), per
    image, as one bilinear resampling. A crop larger than the image is shrunk to fit (where
    torchvision draws again)."""
    b, _, h, w = x.shape
    area = scale + (1.0 - scale) * torch.rand(b, generator=generator)
    log_ratio = _RATIO[0] + (_RATIO[1] - _RATIO[0]) * torch.rand(b, generator=generator)
    ratio = torch.exp(log_ratio)
    share_w = torch.sqrt(area * ratio).clamp(max=1.0)  # crop width / image width
    share_h = torch.sqrt(area / ratio).clamp(max=1.0)
    left = torch.rand(b, generator=generator) * (1.0 - share_w)
    top = torch.rand(b, generator=generator) * (1.0 - share_h)
    angle = (torch.rand(b, generator=generator) * 2 - 1) * degrees
    if scale >= 1:
        share_w, share_h = torch.ones(b), torch.ones(b)
        left, top = torch.zeros(b), torch.zeros(b)
    centre = torch.stack((2 * left + share_w - 1, 2 * top + share_h - 1), 1)
    theta = crop_rotate_matrix(centre, torch.stack((share_w, share_h), 1), angle, h, w)
    return resample(x, theta.to(x.device, x.dtype))


def crop_rotate_matrix(
    centre: torch.Tensor, share: torch.Tensor, degrees: torch.Tensor, h: int, w: int
) -> torch.Tensor:
    """B×2×3 ``affine_grid`` matrices: the output is the crop (centre and width/height shares in
    normalised coordinates) resized to the image, turned by ``degrees`` counter-clockwise."""
    rad = degrees.double() * math.pi / 180.0
    cos, sin = torch.cos(rad), torch.sin(rad)
    aspect = h / w
    # the inverse rotation in pixel units, expressed in normalised coordinates
    rot = torch.stack(
        (torch.stack((cos, -sin * aspect), 1), torch.stack((sin / aspect, cos), 1)), 1
    )
    scaled = share.double()[:, :, None] * rot
    return torch.cat((scaled, centre.double()[:, :, None]), 2).float()


def resample(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """``x`` sampled (bilinear, zeros outside) through the B×2×3 matrices ``theta``."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@dataclass(frozen=True)
class Preview:
    """Augmented samples for the data settings' preview: ``grid[i, 0]`` sample i as the network
    takes it (conformed), ``grid[i, 1:]`` augmented copies; float N×(1+copies)×C×H×W in
    [0, 1] (the normalisation undone)."""

    grid: torch.Tensor
    labels: tuple[str, ...]  # the class of each row
    dataset: str
    notes: tuple[str, ...]


def preview(
    data: DataSettings,
    input_shape: tuple[int, int, int] | None,
    seed: int,
    *,
    data_seed: int = 0,
    samples: int = 6,
    copies: int = 5,
) -> Preview:
    """``copies`` augmentations of ``samples`` training images (one per class, the first ones
    in the pool), drawn from ``seed``: the same seed gives the same grid. The images are
    converted to ``input_shape`` (the Input block) as a run converts them; the mean and spread
    that a run normalises with come from up to 2,048 of them. Raises DesignerError (the data
    set cannot be read, colour jitter on grey images) with what to do."""
    from engine.data.augment_spec import colour_problem
    from engine.data.pipeline import channel_stats, conform
    from engine.data.sources import load_source
    from engine.errors import DesignerError

    pool = load_source(data, input_shape, data_seed)
    channels, size = data.channels, data.resize
    if input_shape is not None and data.fit_input:
        channels = channels or input_shape[0]
        size = size or (input_shape[1], input_shape[2])
    if channels not in (None, 1, 3) or (channels is None and pool.sample_shape[0] not in (1, 3)):
        channels = 3
    images = torch.from_numpy(pool.images)
    rows = _one_per_class(pool.labels, samples)
    shown = conform(images[rows], channels, size)
    if (problem := colour_problem(data, shown.shape[1], f"{pool.name} as fed")) is not None:
        raise DesignerError(problem)
    step = max(1, len(images) // 2048)
    mean, std = channel_stats(conform(images[::step][:2048], channels, size), data.normalize)
    scale = (1.0 / (255.0 * std)).view(1, -1, 1, 1)
    shift = (mean / std).view(1, -1, 1, 1)
    generator = torch.Generator().manual_seed(int(seed))
    batch = shown.repeat_interleave(copies, 0)
    out = Augmenter.from_settings(data).apply(batch, scale, shift, generator)
    out = (out * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)).clamp_(0.0, 1.0)
    grid = torch.cat(
        (shown.float().div(255.0)[:, None], out.view(len(rows), copies, *out.shape[1:])), 1
    )
    labels = tuple(pool.classes[int(pool.labels[i])] for i in rows)
    return Preview(grid, labels, pool.name, tuple(pool.notes))


def _one_per_class(labels: Any, count: int) -> list[int]:
    """Indices of the first image of each class (classes in order), then of the rest."""
    firsts: dict[int, int] = {}
    for i, label in enumerate(labels.tolist()):
        firsts.setdefault(int(label), i)
        if len(firsts) >= count:
            break
    rows = [firsts[k] for k in sorted(firsts)][:count]
    taken = set(rows)
    rest = (i for i in range(len(labels)) if i not in taken)
    return rows + [next(rest) for _ in range(min(count, len(labels)) - len(rows))]
