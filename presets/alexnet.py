"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), named like torchvision's ``alexnet``."""

from __future__ import annotations

from engine import Graph
from presets.blocks import classes_option, conv, resolution_option
from presets.builder import GraphBuilder, Numbered
from presets.registry import Preset, PresetOption

# (filters, kernel, stride, padding, groups, LRN after, max pool after) for conv1..conv5
TORCHVISION = [
    (64, 11, 4, 2, 1, False, True),
    (192, 5, 1, 2, 1, False, True),
    (384, 3, 1, 1, 1, False, False),
    (256, 3, 1, 1, 1, False, False),
    (256, 3, 1, 1, 1, False, True),
]
# The 2012 paper: 96-256-384-384-256 filters; conv2, conv4 and conv5 only see the half of the
# previous layer on their own GPU (groups=2); LRN (k=2, n=5, α=1e-4, β=0.75) after conv1, conv2.
PAPER = [
    (
        96,
        11,
        4,
        2,
        1,
        True,
        True,
    ),  # paper: 227×227 input, no padding; 224 + padding 2 gives the same 55×55
    (256, 5, 1, 2, 2, True, True),
    (384, 3, 1, 1, 1, False, False),
    (384, 3, 1, 1, 2, False, False),
    (256, 3, 1, 1, 2, False, True),
]


def build_alexnet(classes: int = 1000, lrn: bool = False, resolution: int = 224) -> Graph:
    """torchvision's AlexNet, or the 2012 paper's two-tower form with LRN when ``lrn``."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    seq = Numbered(b)
    with b.group("features"):
        for filters, kernel, stride, padding, groups, norm, pool in PAPER if lrn else TORCHVISION:
            x = conv(b, seq.next_name(), x, filters, kernel, stride, padding, groups)
            x = seq.add("relu", x)
            if norm:
                x = seq.add("local_response_norm", x, size=5, alpha=1e-4, beta=0.75, k=2.0)
            if pool:
                x = seq.add("maxpool2d", x, kernel_size=3, stride=2)  # overlapping pooling
    x = b.add("adaptive_avgpool2d", "avgpool", x, output_size=6)  # 6×6 at 224 (torchvision)
    x = b.add("flatten", "flatten", x)
    seq = Numbered(b)
    with b.group("classifier"):
        x = seq.add("dropout", x, p=0.5)
        x = seq.add("linear", x, out_features=4096)
        x = seq.add("relu", x)
        x = seq.add("dropout", x, p=0.5)
        x = seq.add("linear", x, out_features=4096)
        x = seq.add("relu", x)
        x = seq.add("linear", x, out_features=classes)
    b.output(x)
    return b.graph


ALEXNET = Preset(
    name="alexnet",
    display_name="AlexNet",
    authors="A. Krizhevsky, I. Sutskever, G. E. Hinton",
    year=2012,
    paper="ImageNet Classification with Deep Convolutional Neural Networks",
    description=(
        "The network that won ImageNet 2012 by a wide margin and started the deep learning era. "
        "ReLU activations trained several times faster than tanh, dropout in the fully connected "
        "layers curbed overfitting, and two GPUs made the 60M-parameter model trainable."
    ),
    build=build_alexnet,
    input_shape=(3, 224, 224),
    options=(
        classes_option(),
        PresetOption(
            "lrn",
            False,
            (False, True),
            "The 2012 paper's form (96-256-384-384-256 filters, two GPU towers as groups=2, LRN) "
            "instead of torchvision's (64-192-384-256-256, no LRN).",
        ),
        resolution_option(224, 63),
    ),
    deviations=(
        "Default is torchvision's variant (Krizhevsky 2014, 'One weird trick'): 64-192-384-256-256 "
        "filters, no LRN, one tower, an adaptive 6×6 average pool before the classifier. lrn=True "
        "builds the 2012 paper's layers on one device: its two-GPU split is expressed as groups=2."
    ),
    family="AlexNet",
    reference="torchvision alexnet",
)
