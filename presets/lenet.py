"""LeNet-5 (LeCun et al., 1998) in its common modern form."""

from __future__ import annotations

from engine import Graph
from presets.builder import GraphBuilder
from presets.registry import Preset, PresetOption


def build_lenet5(
    classes: int = 10, activation: str = "tanh", pooling: str = "avg", resolution: int = 32
) -> Graph:
    """conv 6@5×5, pool 2, conv 16@5×5, pool 2, FC 120, FC 84, FC classes on 1×32×32."""
    b = GraphBuilder()
    pool = "avgpool2d" if pooling == "avg" else "maxpool2d"
    x = b.input((1, resolution, resolution))
    x = b.add("conv2d", "conv1", x, out_channels=6, kernel_size=5)  # C1: 6×28×28
    x = b.add(activation, "act1", x)
    x = b.add(pool, "pool1", x, kernel_size=2)  # S2: 6×14×14
    x = b.add("conv2d", "conv2", x, out_channels=16, kernel_size=5)  # C3: 16×10×10
    x = b.add(activation, "act2", x)
    x = b.add(pool, "pool2", x, kernel_size=2)  # S4: 16×5×5
    x = b.add("flatten", "flatten", x)
    x = b.add("linear", "fc1", x, out_features=120)  # C5
    x = b.add(activation, "act3", x)
    x = b.add("linear", "fc2", x, out_features=84)  # F6
    x = b.add(activation, "act4", x)
    x = b.add("linear", "fc3", x, out_features=classes)
    b.output(x)
    return b.graph


LENET5 = Preset(
    name="lenet5",
    display_name="LeNet-5",
    authors="Y. LeCun, L. Bottou, Y. Bengio, P. Haffner",
    year=1998,
    paper="Gradient-Based Learning Applied to Document Recognition",
    description=(
        "The first convolutional network trained end to end with backpropagation to read "
        "handwritten digits. Local receptive fields, shared weights and subsampling are the "
        "ideas every later CNN builds on."
    ),
    build=build_lenet5,
    input_shape=(1, 32, 32),
    classes=10,
    dataset="digits",
    options=(
        PresetOption("classes", 10, help="Number of classes."),
        PresetOption("activation", "tanh", ("tanh", "relu"), "tanh as in the paper, or ReLU."),
        PresetOption("pooling", "avg", ("avg", "max"), "Average pooling as in the paper, or max."),
        PresetOption(
            "resolution", 32, (28, 32), "Input size; the paper pads 28×28 digits to 32×32.", False
        ),
    ),
    deviations=(
        "Modern form: C3 is fully connected to S2 (the paper used a sparse connection table), "
        "S2 and S4 are plain average pools (the paper's had a trainable scale and bias), and the "
        "output is a linear layer instead of RBF units. About 61.7k parameters (paper: ~60k)."
    ),
    family="LeNet",
    reference="61,706 parameters on 1×32×32 (plain torch, the common modern form)",
)
