"""Small networks that train in about a minute on a CPU on the built-in data sets.

``lenet5_digits`` for the Digits set (8×8 digits resized to 32×32), ``small_vgg``, ``resnet8``
and ``resnet20`` for the 32×32 RGB Shapes set.
"""

from __future__ import annotations

from functools import partial

from engine import Graph
from presets.blocks import classes_option, conv_bn_act, resolution_option
from presets.builder import GraphBuilder
from presets.lenet import build_lenet5
from presets.registry import Preset, PresetOption
from presets.resnet import residual_block


def build_lenet5_digits(
    classes: int = 10, activation: str = "relu", pooling: str = "max", resolution: int = 32
) -> Graph:
    """LeNet-5 with ReLU and max pooling by default, which train faster than tanh and averages."""
    return build_lenet5(classes, activation, pooling, resolution)


# a number is a 3×3 convolution + BatchNorm + ReLU with that many filters, "M" a 2×2 max pool
SMALL_VGG = [32, 32, "M", 64, 64, "M", 128, 128, "M"]


# The built-in Shapes set's class count (len(engine.data.SHAPE_CLASSES)), written out so that
# importing the presets stays free of numpy; tests/test_presets.py checks that they agree.
SHAPES_CLASSES = 6


def build_small_vgg(
    classes: int = SHAPES_CLASSES, batch_norm: bool = True, resolution: int = 32
) -> Graph:
    """Three VGG stages of two 3×3 convolutions, global average pooling and one linear layer."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    stage, index = 1, 0
    for layer in SMALL_VGG:
        with b.group(f"stage{stage}"):
            if layer == "M":
                x = b.add("maxpool2d", "pool", x, kernel_size=2, stride=2)
                stage, index = stage + 1, 0
            else:
                index += 1
                x = conv_bn_act(b, f"conv{index}", x, int(layer), 3, 1, 1, batch_norm=batch_norm)
    x = b.add("global_avgpool", "avgpool", x)
    x = b.add("dropout", "dropout", x, p=0.3)
    b.output(b.add("linear", "fc", x, out_features=classes))
    return b.graph


def build_cifar_resnet(blocks: int, classes: int = SHAPES_CLASSES, resolution: int = 32) -> Graph:
    """He et al.'s CIFAR ResNet of 6n+2 layers: 16, 32, 64 filters, n basic blocks per stage."""
    b = GraphBuilder()
    x = b.input((3, resolution, resolution))
    x = conv_bn_act(b, "stem", x, 16, 3, 1, 1, names=("conv1", "bn1", "relu"))
    channels = 16
    for stage, planes in enumerate((16, 32, 64), 1):
        for index in range(blocks):
            stride = 2 if stage > 1 and index == 0 else 1
            with b.group(f"layer{stage}", str(index)):
                x = residual_block(b, x, "basic", channels, planes, stride)
            channels = planes
    x = b.add("global_avgpool", "avgpool", x)
    b.output(b.add("linear", "fc", x, out_features=classes))
    return b.graph


def _options(resolution: int = 32) -> tuple[PresetOption, ...]:
    return (classes_option(SHAPES_CLASSES), resolution_option(resolution, 8))


LENET5_DIGITS = Preset(
    name="lenet5_digits",
    display_name="LeNet-5 for Digits",
    authors="Y. LeCun, L. Bottou, Y. Bengio, P. Haffner",
    year=1998,
    paper="Gradient-Based Learning Applied to Document Recognition",
    description=(
        "LeNet-5 ready to train on the built-in Digits set (8×8 scans resized to 32×32). ReLU and "
        "max pooling instead of tanh and average pooling make it converge in a few epochs."
    ),
    build=build_lenet5_digits,
    input_shape=(1, 32, 32),
    classes=10,
    dataset="digits",
    options=(
        classes_option(10),
        PresetOption(
            "activation", "relu", ("relu", "tanh"), "ReLU (default here) or the paper's tanh."
        ),
        PresetOption(
            "pooling", "max", ("max", "avg"), "Max pooling (default here) or the paper's average."
        ),
        PresetOption(
            "resolution", 32, (28, 32), "Input size: the Digits images are resized to it.", False
        ),
    ),
    deviations="ReLU and max pooling by default (the paper: tanh and trainable average pooling).",
    family="LeNet",
    reference="61,706 parameters on 1×32×32, as lenet5",
)

SMALL_VGG_PRESET = Preset(
    name="small_vgg",
    display_name="Small VGG",
    authors="after K. Simonyan, A. Zisserman",
    year=2014,
    paper="Very Deep Convolutional Networks for Large-Scale Image Recognition",
    description=(
        "VGG's recipe scaled to 32×32 images: stacks of 3×3 convolutions with BatchNorm and a 2×2 "
        "max pool halving the size after each stage. Global average pooling replaces the "
        "large fully connected layers. Set for the built-in Shapes set (6 classes)."
    ),
    build=build_small_vgg,
    input_shape=(3, 32, 32),
    classes=SHAPES_CLASSES,
    dataset="shapes",
    options=(
        classes_option(SHAPES_CLASSES),
        PresetOption("batch_norm", True, (False, True), "BatchNorm after every convolution."),
        resolution_option(32, 8),
    ),
    deviations="Not a paper model: 32-64-128 filters, BatchNorm, global average pooling, dropout 0.3.",
    family="VGG",
    reference="no published reference (counted by torch in the tests)",
)


def _cifar_resnet(depth: int) -> Preset:
    blocks = (depth - 2) // 6
    return Preset(
        name=f"resnet{depth}",
        display_name=f"ResNet-{depth} (CIFAR)",
        authors="K. He, X. Zhang, S. Ren, J. Sun",
        year=2015,
        paper="Deep Residual Learning for Image Recognition",
        description=(
            f"The paper's CIFAR-10 ResNet with n={blocks}: three stages of {blocks} residual "
            "basic block(s) with 16, 32 and 64 filters on 32×32 inputs. Skip connections let it "
            "train quickly and stably from scratch on small images. Set for the built-in "
            "Shapes set (6 classes); use classes=10 for CIFAR-10."
        ),
        build=partial(build_cifar_resnet, blocks),
        input_shape=(3, 32, 32),
        classes=SHAPES_CLASSES,
        dataset="shapes",
        options=_options(),
        deviations=(
            "Projection shortcuts (1×1 convolution + BatchNorm, the paper's option B) where the "
            "shape changes; the paper's CIFAR nets pad the identity with zeros (option A), "
            "which no block expresses. Adds 2,752 parameters."
        ),
        family="ResNet",
        reference="He et al. 2015, Table 6: ResNet-20 0.27M parameters (option A)",
    )


SMALL = (LENET5_DIGITS, SMALL_VGG_PRESET, _cifar_resnet(8), _cifar_resnet(20))
