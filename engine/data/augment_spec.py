"""The augmentation settings as data (no torch): their ranges, the ``--augment`` syntax, and
what a run must leave out to see its data as it is.

The augmentations are torchvision.transforms.v2's, with its parameters and meanings
(``engine.data.augment`` applies them per image, a batch at a time):

=============  ==========================================  =====================================
setting        v2 transform                                range
=============  ==========================================  =====================================
flip           RandomHorizontalFlip(0.5)                   on / off
vflip          RandomVerticalFlip(0.5)                     on / off
crop_padding   RandomCrop(size, padding=crop_padding)      pixels ≥ 0 (≤ half the input's side)
crop_scale     RandomResizedCrop(size, scale=(s, 1))       share of the area in (0, 1]; 1: off
rotation       RandomRotation(rotation)                    degrees in [0, 180]; 0: off
brightness     ColorJitter(brightness=b)                   [0, 1]: factor in [1 - b, 1 + b]
contrast       ColorJitter(contrast=c)                     [0, 1]
saturation     ColorJitter(saturation=s)                   [0, 1]; 3-channel images only
hue            ColorJitter(hue=h)                          [0, 0.5]; 3-channel images only
=============  ==========================================  =====================================

Normalisation (``normalize``: the training split's mean and standard deviation by default)
follows the colour jitter and precedes the geometric transforms, whose empty corners are thus
the data set's mean colour.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import replace
from typing import Any

from engine.data.settings import DataSettings
from engine.errors import DesignerError

# --augment word -> (DataSettings field, kind)
WORDS: dict[str, tuple[str, type]] = {
    "flip": ("flip", bool),
    "hflip": ("flip", bool),
    "vflip": ("vflip", bool),
    "crop": ("crop_padding", int),
    "scale": ("crop_scale", float),
    "rotate": ("rotation", float),
    "brightness": ("brightness", float),
    "contrast": ("contrast", float),
    "saturation": ("saturation", float),
    "hue": ("hue", float),
}
AUGMENT_FIELDS = (
    "flip",
    "vflip",
    "crop_padding",
    "crop_scale",
    "rotation",
    "brightness",
    "contrast",
    "saturation",
    "hue",
)
COLOUR_ONLY = ("saturation", "hue")  # need 3 channels
AUGMENT_SYNTAX = (
    "comma-separated, e.g. flip,vflip,crop=4,scale=0.5,rotate=15,brightness=0.2,contrast=0.2,"
    "saturation=0.2,hue=0.05 (none: no augmentation)"
)


class AugmentSyntaxError(DesignerError, ValueError):
    """An ``--augment`` text that cannot be read."""


def augment_rules(d: DataSettings) -> list[tuple[bool, str, Any, str]]:
    """(ok, setting, value, fix) for each augmentation setting, as ``TrainingSettings.check``
    lists its rules."""
    return [
        (_within(d.crop_scale, 0.0, 1.0, low_open=True), "data.crop_scale", d.crop_scale,
         "Use the smallest share of the image area a crop keeps, in (0, 1], e.g. 0.5 (1: off)"),
        (_within(d.rotation, 0.0, 180.0), "data.rotation", d.rotation,
         "Use degrees in [0, 180], e.g. 15 (0: off)"),
        (_within(d.brightness, 0.0, 1.0), "data.brightness", d.brightness,
         "Use a value in [0, 1], e.g. 0.2 (0: off)"),
        (_within(d.contrast, 0.0, 1.0), "data.contrast", d.contrast,
         "Use a value in [0, 1], e.g. 0.2 (0: off)"),
        (_within(d.saturation, 0.0, 1.0), "data.saturation", d.saturation,
         "Use a value in [0, 1], e.g. 0.2 (0: off)"),
        (_within(d.hue, 0.0, 0.5), "data.hue", d.hue,
         "Use a share of the colour circle in [0, 0.5], e.g. 0.05 (0: off)"),
    ]  # fmt: skip


def _within(value: float, low: float, high: float, low_open: bool = False) -> bool:
    if not math.isfinite(value):
        return False
    return (low < value if low_open else low <= value) and value <= high


def without_augmentation(d: DataSettings) -> DataSettings:
    """``d`` with every augmentation off (the data as it is)."""
    return replace(
        d,
        flip=False,
        vflip=False,
        crop_padding=0,
        crop_scale=1.0,
        rotation=0.0,
        brightness=0.0,
        contrast=0.0,
        saturation=0.0,
        hue=0.0,
    )


def is_augmented(d: DataSettings) -> bool:
    """Whether any augmentation is on."""
    return without_augmentation(d) != d


def colour_problem(d: DataSettings, channels: int, where: str) -> str | None:
    """Why saturation or hue cannot apply to ``channels``-channel images (None when they can)."""
    if channels == 3:
        return None
    for name in COLOUR_ONLY:
        value = getattr(d, name)
        if value:
            return (
                f"training setting data.{name}: colour jitter of {name} needs 3-channel (RGB) "
                f"images, and {where} has {channels} channel{'s' if channels != 1 else ''}. "
                f"Received: data.{name}={value:g}. Use 0, or train on RGB images (an Input "
                "block with 3 channels)"
            )
    return None


def parse_augment(text: str) -> dict[str, Any]:
    """``--augment`` text as data settings: {"flip": True, "rotation": 15.0, ...}. "none" turns
    every augmentation off. AugmentSyntaxError naming the word, the value and the fix."""
    words = [w.strip() for w in text.split(",") if w.strip()]
    if not words:
        raise AugmentSyntaxError(
            f"--augment: no augmentation given. Received: --augment={text!r}. "
            f"Write them {AUGMENT_SYNTAX}"
        )
    if [w.lower() for w in words] == ["none"]:
        return {name: getattr(DataSettings(), name) for name in AUGMENT_FIELDS}
    values: dict[str, Any] = {}
    for word in words:
        name, has_value, raw = word.partition("=")
        name = name.strip().lower().replace("-", "_")
        if name not in WORDS:
            close = difflib.get_close_matches(name, list(WORDS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise AugmentSyntaxError(
                f"--augment: unknown augmentation {name!r}.{hint} Received: --augment={text!r}. "
                f"Known: {', '.join(WORDS)}"
            )
        key, kind = WORDS[name]
        values[key] = _value(name, kind, raw.strip() if has_value else None)
    return values


def _value(name: str, kind: type, raw: str | None) -> Any:
    if kind is bool:
        if raw is None or raw.lower() in ("1", "on", "true", "yes"):
            return True
        if raw.lower() in ("0", "off", "false", "no"):
            return False
        fix = f"Write {name} alone to turn it on"
    else:
        example = {"crop": "4", "scale": "0.5", "rotate": "15", "hue": "0.05"}.get(name, "0.2")
        fix = f"Write {name}=VALUE, e.g. {name}={example}"
        if raw is not None:
            try:
                number = float(raw)
                if kind is int and number.is_integer():
                    return int(number)
                if kind is float:
                    return number
            except ValueError:
                pass
            if kind is int:
                fix = f"Write a whole number of pixels, e.g. {name}={example}"
    raise AugmentSyntaxError(
        f"--augment: {name} takes {'no value' if kind is bool else 'a number'}. "
        f"Received: {name}={raw if raw is not None else ''!s}. {fix}"
    )
