"""A convolution beside its dense and locally connected equivalents (the lecture's CNN vs MLP).

For one Conv2d with its input and output shapes: the dense layer that connects every input
value to every output value (MLNN: m × n weights), the locally connected layer with the same
windows but its own weights and bias at every output position (MLNN-LC: k × n), and the
convolution itself (MLNN-LC-PS: k). Biases follow the convolution's ``bias`` setting: one per
output value for dense, one per output channel and position for LC, one per channel for conv.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.catalog.spec import Shape
from engine.graph import Graph
from engine.inference import InferenceResult
from engine.params import Params, pair


@dataclass(frozen=True)
class Counts:
    """Weights, biases and multiply-accumulates (per sample) of one layer."""

    weights: int
    biases: int
    macs: int

    @property
    def params(self) -> int:
        return self.weights + self.biases

    def as_dict(self) -> dict[str, int]:
        return {
            "weights": self.weights,
            "biases": self.biases,
            "params": self.params,
            "macs": self.macs,
        }


@dataclass(frozen=True)
class Equivalents:
    """The three rows, and how many times more the dense and LC rows cost than the conv."""

    dense: Counts
    locally_connected: Counts
    convolution: Counts

    def ratios(self) -> dict[str, float]:
        conv = self.convolution

        def over(a: int, b: int) -> float:
            return a / b if b else math.inf

        return {
            "dense_over_conv_params": over(self.dense.params, conv.params),
            "lc_over_conv_params": over(self.locally_connected.params, conv.params),
            "dense_over_conv_macs": over(self.dense.macs, conv.macs),
            "dense_over_lc_macs": over(self.dense.macs, self.locally_connected.macs),
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "dense": self.dense.as_dict(),
            "locally_connected": self.locally_connected.as_dict(),
            "convolution": self.convolution.as_dict(),
            "ratios": {
                k: round(v, 4) if math.isfinite(v) else None for k, v in self.ratios().items()
            },
        }

    def rows(self) -> list[tuple[str, Counts]]:
        return [
            ("dense (MLNN)", self.dense),
            ("locally connected (MLNN-LC)", self.locally_connected),
            ("convolution (MLNN-LC-PS)", self.convolution),
        ]


def conv_equivalents(params: Params, input_shape: Shape, output_shape: Shape) -> Equivalents:
    """The three rows for a Conv2d with ``params`` (defaults filled in) between these shapes."""
    cin = input_shape[0]
    cout, oh, ow = output_shape
    kh, kw = pair(params["kernel_size"])
    per_output = (cin // params["groups"]) * kh * kw  # the window one output value reads
    positions = oh * ow
    in_values, out_values = math.prod(input_shape), math.prod(output_shape)
    bias = bool(params["bias"])
    dense = Counts(in_values * out_values, out_values if bias else 0, in_values * out_values)
    local = Counts(
        positions * cout * per_output, positions * cout if bias else 0, out_values * per_output
    )
    conv = Counts(cout * per_output, cout if bias else 0, out_values * per_output)
    return Equivalents(dense, local, conv)


def node_equivalents(graph: Graph, result: InferenceResult, name: str) -> Equivalents | None:
    """The rows for node ``name`` when it is a Conv2d whose shapes are known, else None."""
    node = graph.node(name)
    if node.type_id != "conv2d":
        return None
    found = result.nodes.get(name)
    if found is None or not found.inputs or found.inputs[0] is None or found.output is None:
        return None
    params = node.spec.with_defaults(node.params)
    return conv_equivalents(params, found.inputs[0], found.output)
