"""VGG configurations A, A-LRN, B, C, D and E (Simonyan and Zisserman, 2014).

Named like torchvision's ``vgg*``: ``features.0`` … ``classifier.6``, so the compiled module's
state dict is torchvision's. Configurations are rows of the paper's Table 1.
"""

from __future__ import annotations

from functools import partial

from engine import Graph
from presets.blocks import batch_norm_option, classes_option, conv, resolution_option
from presets.builder import GraphBuilder, Numbered
from presets.registry import Preset

# Table 1 of the paper: a number is a 3×3 convolution with that many filters, (n, 1) a 1×1
# convolution (config C), "M" a 2×2 max pool, "LRN" local response normalisation (A-LRN).
Layer = int | tuple[int, int] | str
CONFIGS: dict[str, list[Layer]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        (256, 1),
        "M",
        512,
        512,
        (512, 1),
        "M",
        512,
        512,
        (512, 1),
        "M",
    ],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ],
}


def build_vgg(
    config: str, classes: int = 1000, batch_norm: bool = False, resolution: int = 224
) -> Graph:
    """VGG of the given configuration: torchvision's ``features``/``avgpool``/``classifier``."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    seq = Numbered(b)
    with b.group("features"):
        for layer in CONFIGS[config]:
            if layer == "M":
                x = seq.add("maxpool2d", x, kernel_size=2, stride=2)
            elif layer == "LRN":
                # the paper gives no LRN constants for VGG; these are AlexNet's (k=2, n=5)
                x = seq.add("local_response_norm", x, size=5, alpha=1e-4, beta=0.75, k=2.0)
            else:
                width, kernel = layer if isinstance(layer, tuple) else (layer, 3)
                x = conv(b, seq.next_name(), x, width, kernel, 1, kernel // 2)
                if batch_norm:
                    x = seq.add("batchnorm", x)
                x = seq.add("relu", x)
    x = b.add("adaptive_avgpool2d", "avgpool", x, output_size=7)  # 7×7 at 224 (torchvision)
    x = b.add("flatten", "flatten", x)
    seq = Numbered(b)
    with b.group("classifier"):
        x = seq.add("linear", x, out_features=4096)
        x = seq.add("relu", x)
        x = seq.add("dropout", x, p=0.5)
        x = seq.add("linear", x, out_features=4096)
        x = seq.add("relu", x)
        x = seq.add("dropout", x, p=0.5)
        x = seq.add("linear", x, out_features=classes)
    b.output(x)
    return b.graph


WHY = (
    "VGG showed that depth matters when every convolution is a small 3×3: two stacked 3×3 layers "
    "see a 5×5 field and three see 7×7, with fewer parameters and more non-linearities than one "
    "large filter. Its uniform, deep design became the standard backbone and feature extractor."
)

VARIANTS = (  # preset name, configuration, display name, reference
    ("vgg11", "A", "VGG-11 (A)", "torchvision vgg11 / vgg11_bn"),
    ("vgg11_lrn", "A-LRN", "VGG-11-LRN (A-LRN)", "paper Table 1, config A-LRN (133M in Table 2)"),
    ("vgg13", "B", "VGG-13 (B)", "torchvision vgg13 / vgg13_bn"),
    (
        "vgg16_c",
        "C",
        "VGG-16 (C, with 1×1 convolutions)",
        "paper Table 1, config C (134M in Table 2)",
    ),
    ("vgg16", "D", "VGG-16 (D)", "torchvision vgg16 / vgg16_bn"),
    ("vgg19", "E", "VGG-19 (E)", "torchvision vgg19 / vgg19_bn"),
)


def _preset(name: str, config: str, display: str, reference: str) -> Preset:
    return Preset(
        name=name,
        display_name=display,
        authors="K. Simonyan, A. Zisserman",
        year=2014,
        paper="Very Deep Convolutional Networks for Large-Scale Image Recognition",
        description=WHY,
        build=partial(build_vgg, config),
        input_shape=(3, 224, 224),
        options=(
            classes_option(),
            batch_norm_option(
                False,
                "BatchNorm after every convolution (torchvision's _bn models; not in the paper).",
            ),
            resolution_option(224, 32),
        ),
        deviations=(
            "torchvision's form: an adaptive 7×7 average pool before the classifier (an identity "
            "at 224×224) lets other input sizes through; the paper's dense evaluation turned the "
            "fully connected layers into convolutions instead."
        ),
        family="VGG",
        reference=reference,
    )


VGGS = tuple(_preset(*variant) for variant in VARIANTS)
