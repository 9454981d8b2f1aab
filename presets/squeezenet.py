"""SqueezeNet 1.0 and 1.1 (Iandola et al., 2016), named like torchvision's ``squeezenet1_*``."""

from __future__ import annotations

from functools import partial

from engine import Graph
from presets.blocks import classes_option, conv, resolution_option
from presets.builder import GraphBuilder
from presets.registry import Preset

# features: ("conv", filters, kernel), "M" (3×3/2 max pool, ceil mode) or
# ("fire", squeeze, expand1x1, expand3x3).
Layer = tuple | str
CONFIGS: dict[str, list[Layer]] = {
    "1_0": [
        ("conv", 96, 7),
        "M",
        ("fire", 16, 64, 64),
        ("fire", 16, 64, 64),
        ("fire", 32, 128, 128),
        "M",
        ("fire", 32, 128, 128),
        ("fire", 48, 192, 192),
        ("fire", 48, 192, 192),
        ("fire", 64, 256, 256),
        "M",
        ("fire", 64, 256, 256),
    ],
    # 1.1: a 3×3 first convolution and earlier pooling, 2.4× less computation, same accuracy
    "1_1": [
        ("conv", 64, 3),
        "M",
        ("fire", 16, 64, 64),
        ("fire", 16, 64, 64),
        "M",
        ("fire", 32, 128, 128),
        ("fire", 32, 128, 128),
        "M",
        ("fire", 48, 192, 192),
        ("fire", 48, 192, 192),
        ("fire", 64, 256, 256),
        ("fire", 64, 256, 256),
    ],
}


def fire(b: GraphBuilder, x: str, squeeze: int, expand1x1: int, expand3x3: int) -> str:
    """Fire module: a 1×1 squeeze, then 1×1 and 3×3 expands side by side, concatenated."""
    s = b.add("relu", "squeeze_activation", conv(b, "squeeze", x, squeeze, 1))
    e1 = b.add("relu", "expand1x1_activation", conv(b, "expand1x1", s, expand1x1, 1))
    e3 = b.add("relu", "expand3x3_activation", conv(b, "expand3x3", s, expand3x3, 3, 1, 1))
    return b.add("concat", "concat", e1, e3)


def build_squeezenet(version: str, classes: int = 1000, resolution: int = 224) -> Graph:
    """torchvision's SqueezeNet ``version`` ("1_0" or "1_1")."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    index = 0  # torchvision's module index in ``features`` (the first ReLU takes one)
    with b.group("features"):
        for layer in CONFIGS[version]:
            if layer == "M":
                x = b.add("maxpool2d", str(index), x, kernel_size=3, stride=2, ceil_mode=True)
            elif layer[0] == "conv":
                x = conv(b, str(index), x, layer[1], layer[2], 2)
                index += 1
                x = b.add("relu", str(index), x)
            else:
                with b.group(str(index)):
                    x = fire(b, x, *layer[1:])
            index += 1
    with b.group("classifier"):
        x = b.add("dropout", "0", x, p=0.5)
        x = conv(b, "1", x, classes, 1)  # final_conv: class scores per position, no FC layer
        x = b.add("relu", "2", x)
        x = b.add("adaptive_avgpool2d", "3", x, output_size=1)
    b.output(b.add("flatten", "flatten", x))
    return b.graph


def _preset(version: str) -> Preset:
    return Preset(
        name=f"squeezenet{version}",
        display_name=f"SqueezeNet {version.replace('_', '.')}",
        authors="F. N. Iandola, S. Han, M. W. Moskewicz, K. Ashraf, W. J. Dally, K. Keutzer",
        year=2016,
        paper="SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
        description=(
            "Fire modules squeeze the channels with 1×1 convolutions and expand them again with a "
            "mix of 1×1 and 3×3 filters. A final 1×1 convolution with global average pooling "
            "replaces the fully connected layers: AlexNet's accuracy with 50× fewer parameters."
        ),
        build=partial(build_squeezenet, version),
        input_shape=(3, 224, 224),
        # the least input whose last Fire module still has a pixel: 21 (1.0), 17 (1.1)
        options=(classes_option(), resolution_option(224, 21 if version == "1_0" else 17)),
        deviations=(
            "torchvision's form: the first convolution has no padding and the pools use ceil mode"
            + (
                "; version 1.1 is from the authors' repository, not the paper."
                if version == "1_1"
                else "."
            )
        ),
        family="SqueezeNet",
        reference=f"torchvision squeezenet{version}",
    )


SQUEEZENETS = (_preset("1_0"), _preset("1_1"))
