"""The architectures lesson's numbers, computed from the designs (torch-free).

Parameters and MACs of each classic architecture (the caller passes the graphs, built from the
presets); the saving of a 1×1 bottleneck (a 1×1 convolution that reduces the channels before a
k×k one, against the k×k convolution on all the channels); the saving of a depthwise separable
convolution against a standard one, measured from the design's counts and equal to the paper's
1/N + 1/D_K²; and a multiplier table (width α, resolution ρ) from a builder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from engine.graph import Graph
from engine.inference import InferenceResult, infer
from engine.lessons.lessons import LessonText
from engine.params import pair

PASS_THROUGH = frozenset({"batchnorm", "relu", "relu6", "leaky_relu", "elu", "gelu", "silu"})


@dataclass(frozen=True)
class ArchitectureRow:
    label: str
    params: int
    macs: int


@dataclass(frozen=True)
class Saving:
    """Two blocks (``first`` then ``second``) against the one convolution they replace."""

    first: str
    second: str
    replaced_params: int
    replaced_macs: int
    params: int  # of the two blocks
    macs: int
    formula: float | None = None  # 1/N + 1/D_K² for a depthwise separable pair

    @property
    def ratio(self) -> float:
        """The pair's MACs as a share of the replaced convolution's."""
        return self.macs / self.replaced_macs


def architecture_rows(designs: Iterable[tuple[str, Graph]]) -> list[ArchitectureRow]:
    """Parameters and MACs of each labelled design (inferred here)."""
    rows = []
    for label, graph in designs:
        result = infer(graph)
        rows.append(ArchitectureRow(label, result.total_params, result.total_macs))
    return rows


def _conv_before(graph: Graph, name: str) -> str | None:
    """The Conv2d feeding ``name`` through BatchNorm and activations only."""
    current = name
    while True:
        into = graph.in_edges(current)
        if len(into) != 1:
            return None
        current = into[0].src
        type_id = graph.node(current).type_id
        if type_id == "conv2d":
            return current
        if type_id not in PASS_THROUGH:
            return None


def _conv_facts(graph: Graph, result: InferenceResult, name: str) -> tuple[int, int, int, int, int]:
    """(in channels, out channels, kernel height, kernel width, groups) of Conv2d ``name``."""
    params = graph.node(name).spec.with_defaults(graph.node(name).params)
    kh, kw = pair(params["kernel_size"])
    found = result.nodes[name]
    return found.inputs[0][0], found.output[0], kh, kw, params["groups"]  # type: ignore[index]


def _conv_pairs(graph: Graph, result: InferenceResult) -> Iterator[tuple[str, str]]:
    """(first, second) for each inferred Conv2d ``second``, in order, that another Conv2d
    ``first`` feeds through BatchNorm and activations only."""
    for name in graph.topological_order():
        if graph.node(name).type_id != "conv2d" or not result.nodes[name].known:
            continue
        before = _conv_before(graph, name)
        if before is not None:
            yield before, name


def _saving(
    result: InferenceResult,
    blocks: tuple[str, str],
    replaced: int,
    at: str,
    params: int,
    formula: float | None = None,
) -> Saving:
    """The pair against one convolution of ``replaced`` weights giving ``at``'s output size."""
    first, second = blocks
    _, oh, ow = result.nodes[at].output  # type: ignore[misc]
    macs = (result.nodes[first].macs or 0) + (result.nodes[second].macs or 0)
    return Saving(first, second, replaced, replaced * oh * ow, params, macs, formula)


def bottleneck_saving(graph: Graph, result: InferenceResult | None = None) -> Saving | None:
    """The first k×k convolution fed by a 1×1 that reduces the channels, against a k×k
    convolution straight from the 1×1's input (weights only, bias excluded as MACs are)."""
    result = result or infer(graph)
    for reduce, name in _conv_pairs(graph, result):
        cin, cout, kh, kw, groups = _conv_facts(graph, result, name)
        if groups != 1 or (kh, kw) == (1, 1):
            continue
        rin, rout, rh, rw, rgroups = _conv_facts(graph, result, reduce)
        if (rh, rw) != (1, 1) or rgroups != 1 or rout >= rin:
            continue
        params = rin * rout + cin * cout * kh * kw
        return _saving(result, (reduce, name), rin * cout * kh * kw, name, params)
    return None


def separable_saving(graph: Graph, result: InferenceResult | None = None) -> Saving | None:
    """The first depthwise convolution (groups = channels) followed by a 1×1 pointwise one,
    against a standard D_K×D_K convolution from M to N channels; ``formula`` = 1/N + 1/D_K²."""
    result = result or infer(graph)
    for depthwise, name in _conv_pairs(graph, result):
        _, n, ph, pw, pgroups = _conv_facts(graph, result, name)
        if (ph, pw) != (1, 1) or pgroups != 1:
            continue
        m, dout, kh, kw, groups = _conv_facts(graph, result, depthwise)
        if groups != m or dout != m or kh != kw or kh == 1:
            continue
        params, formula = kh * kw * m + m * n, 1 / n + 1 / (kh * kw)
        return _saving(result, (depthwise, name), kh * kw * m * n, depthwise, params, formula)
    return None


@dataclass(frozen=True)
class MultiplierRow:
    width: float
    resolution: int
    params: int
    macs: int


def multiplier_table(
    build: Callable[..., Graph], widths: Iterable[float], resolutions: Iterable[int]
) -> list[MultiplierRow]:
    """Each width at the first resolution, then each further resolution at the first width
    (the paper's Tables 6 and 7): ``build(width=, resolution=)`` gives each design."""
    widths, resolutions = list(widths), list(resolutions)
    pairs = [(w, resolutions[0]) for w in widths]
    pairs += [(widths[0], r) for r in resolutions[1:]]
    rows = []
    for width, resolution in pairs:
        result = infer(build(width=width, resolution=resolution))
        rows.append(MultiplierRow(width, resolution, result.total_params, result.total_macs))
    return rows


def _short(count: int) -> str:
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= size:
            return f"{count / size:,.1f}{unit}"
    return f"{count:,}"


def architectures_text(
    rows: list[ArchitectureRow],
    bottleneck: Saving | None,
    separable: Saving | None,
    table: list[MultiplierRow],
) -> LessonText:
    """The architectures lesson's text from its computed parts; every number is in
    ``numbers`` by name."""
    lines = ["Parameters and MACs per image, in the order the architectures came:"]
    lines += [f"  {r.label}: {r.params:,} parameters, {r.macs:,} MACs" for r in rows]
    numbers: dict[str, float] = {}
    for r in rows:
        numbers[f"params:{r.label}"], numbers[f"macs:{r.label}"] = r.params, r.macs
    if bottleneck is not None:
        lines.append(
            f"1×1 bottleneck ({bottleneck.first} then {bottleneck.second}): "
            f"{bottleneck.params:,} weights and {bottleneck.macs:,} MACs instead of "
            f"{bottleneck.replaced_params:,} and {bottleneck.replaced_macs:,} for the "
            f"convolution on all channels: {bottleneck.ratio:.1%} of the cost."
        )
        numbers.update(
            bottleneck_macs=bottleneck.macs, bottleneck_replaced=bottleneck.replaced_macs
        )
    if separable is not None and separable.formula is not None:
        lines.append(
            f"Depthwise separable ({separable.first} then {separable.second}): "
            f"{separable.macs:,} MACs instead of {separable.replaced_macs:,}: "
            f"{separable.ratio:.4f} of the cost, which is 1/N + 1/D_K² = {separable.formula:.4f}."
        )
        numbers.update(separable_ratio=separable.ratio, separable_formula=separable.formula)
    if table:
        lines.append("Width α and resolution ρ multipliers:")
        for row in table:
            lines.append(
                f"  α = {row.width:g}, {row.resolution}×{row.resolution}: "
                f"{_short(row.params)} parameters, {_short(row.macs)} MACs"
            )
            numbers[f"table:{row.width:g}:{row.resolution}"] = row.macs
    lines.append(
        "Try: open each architecture with File ▸ New from preset and compare its layer summary."
    )
    return LessonText(lines, numbers)
