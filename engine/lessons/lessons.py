"""The lessons of the lecture's sections, each a design, a block to look at, a view and a text.

No number of a text is written here: ``lesson_text`` fills each template from the open design
(inference, ``engine.analysis.equivalents``, ``engine.arithmetic``, ``engine.shapes``), so the
text follows the user's edits; a design that no longer validates gives a message instead of
numbers. ``LessonText.numbers`` holds every number the text shows, by name, for the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.analysis.equivalents import node_equivalents
from engine.arithmetic import size_lines
from engine.graph import Graph
from engine.inference import InferenceResult
from engine.lessons.experiments import EXPERIMENTS
from engine.params import pair
from engine.shapes import conv_output_size

Numbers = dict[str, float]


@dataclass(frozen=True)
class Lesson:
    """One section of the lecture: what opens and which block the views show."""

    key: str
    title: str
    design: str  # "preset:NAME" or "designs:FUNCTION" (engine.lessons.designs)
    focus: str  # the type of the block the text and the view are about (its first one)
    view: str | None  # "step", "backprop", "batchnorm", "dropout", "architectures" or None
    experiment: str | None = None  # the one-click experiment of this lesson


@dataclass(frozen=True)
class LessonText:
    """A lesson's paragraphs (plain text) and the numbers in them; ``problem`` instead when
    the design cannot give them."""

    lines: list[str] = field(default_factory=list)
    numbers: Numbers = field(default_factory=dict)
    problem: str | None = None


LESSONS: tuple[Lesson, ...] = (
    Lesson("cnn_vs_mlp", "CNN vs MLP", "preset:lenet5", "conv2d", None, "lc_vs_conv"),
    Lesson("convolution", "Convolution and its arithmetic", "preset:lenet5", "conv2d", "step"),
    Lesson("padding_stride", "Padding and stride", "designs:padding_stride", "conv2d", "step"),
    Lesson("pooling", "Pooling and unpooling", "designs:pooling_unpooling", "maxpool2d", "step"),
    Lesson(
        "transposed", "Transposed convolution", "designs:transposed", "conv_transpose2d", "step"
    ),
    Lesson("backprop", "Backprop in conv and pooling", "preset:lenet5", "conv2d", "backprop"),
    Lesson(
        "activations",
        "Activations and vanishing gradients",
        "preset:lenet5",
        "tanh",
        None,
        "activations",
    ),
    Lesson("batchnorm", "BatchNorm", "preset:small_vgg", "batchnorm", "batchnorm", "batchnorm"),
    Lesson("dropout", "Dropout", "preset:small_vgg", "dropout", "dropout", "dropout"),
    Lesson("architectures", "The architectures", "preset:lenet5", "conv2d", "architectures"),
)
LESSONS_BY_KEY = {lesson.key: lesson for lesson in LESSONS}


def focus_node(graph: Graph, lesson: Lesson) -> str | None:
    """The first block (in evaluation order) of the lesson's focus type, or None."""
    try:
        order = graph.topological_order()
    except Exception:  # a cycle: fall back to insertion order
        order = graph.names
    return next((n for n in order if graph.node(n).type_id == lesson.focus), None)


def _shape(shape: object) -> str:
    return "×".join(str(int(s)) for s in shape)  # type: ignore[attr-defined]


def _times(value: float) -> str:
    return f"{value:,.1f}×" if math.isfinite(value) else "∞"


# ----- the texts, one function per lesson: (graph, result, focus) -> (lines, numbers) -----------
def _cnn_vs_mlp(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    rows = node_equivalents(graph, result, name)
    if rows is None:
        raise LookupError(f"{name}: its input and output shapes are unknown")
    d, lc, c = rows.dense, rows.locally_connected, rows.convolution
    found = result.nodes[name]
    _, oh, ow = found.output  # type: ignore[misc]
    kh, kw = pair(graph.node(name).params["kernel_size"])
    ratios = rows.ratios()
    lines = [
        f"{name} maps {_shape(found.inputs[0])} to {_shape(found.output)}. A dense layer "
        f"joining every input value to every output value needs {d.weights:,} weights and "
        f"{d.biases:,} biases: {d.params:,} parameters, {d.macs:,} MACs.",
        f"Locally connected (the same {kh}×{kw} windows, unshared): {lc.params:,} parameters, "
        f"{lc.macs:,} MACs.",
        f"The convolution shares one kernel per output channel over all {oh * ow:,} positions: "
        f"{c.params:,} parameters, {c.macs:,} MACs; dense needs "
        f"{_times(ratios['dense_over_conv_params'])} its parameters, locally connected "
        f"{_times(ratios['lc_over_conv_params'])}.",
        "Try: select the convolution and click Replace with locally connected, or Replace with "
        "dense equivalent, in the inspector; watch the totals; Undo brings it back. Run the "
        "experiment to train LC against conv.",
    ]
    numbers = {
        "dense_params": d.params,
        "dense_macs": d.macs,
        "lc_params": lc.params,
        "lc_macs": lc.macs,
        "conv_params": c.params,
        "conv_macs": c.macs,
        "positions": oh * ow,
    }
    return lines, numbers


def _arithmetic(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    node = graph.node(name)
    found = result.nodes[name]
    params = node.spec.with_defaults(node.params)
    lines = [f"{name} turns {_shape(found.inputs[0])} into {_shape(found.output)}:"]
    lines += [
        f"  output size = {line}" for line in size_lines(node.type_id, params, found.inputs[0])
    ]
    lines.append(f"It has {found.params:,} parameters and takes {found.macs:,} MACs per image.")
    numbers: Numbers = {"params": found.params or 0, "macs": found.macs or 0}
    numbers["out_h"], numbers["out_w"] = found.output[1], found.output[2]  # type: ignore[index]
    return lines, numbers


def _convolution(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    lines, numbers = _arithmetic(graph, result, name)
    lines.append(
        "Try: open the step-through and play it; change kernel_size or stride in the inspector "
        "and the output size and the arithmetic follow."
    )
    return lines, numbers


def _padding_stride(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    lines, numbers = _arithmetic(graph, result, name)
    params = graph.node(name).params
    _, h, _ = result.nodes[name].inputs[0]  # type: ignore[misc]
    k, s = pair(params["kernel_size"])[0], pair(params["stride"])[0]
    unpadded = conv_output_size(h, k, s, 0)
    unit = conv_output_size(h, k, 1, (k - 1) // 2)
    lines.append(
        f"Without padding the same window gives {unpadded} per side; with stride 1 and padding "
        f"{(k - 1) // 2} it keeps all {unit}."
    )
    lines.append("Try: set padding and stride in the inspector and step through the new path.")
    numbers.update(unpadded=unpadded, same=unit)
    return lines, numbers


def _pooling(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    lines, numbers = _arithmetic(graph, result, name)
    k = pair(graph.node(name).params["kernel_size"])
    window = k[0] * k[1]
    lines.append(
        f"Each output is the maximum of {window} values and has no parameters. Unpooling puts "
        f"each maximum back where it came from and fills the other {window - 1} of every "
        f"{window} cells with zeros."
    )
    for other in graph.names_of_type("maxunpool2d"):
        out = result.nodes[other].output
        if out is not None:
            lines.append(f"{other} gives {_shape(out)} again.")
            numbers["unpool_h"] = out[1]
    lines.append("Try: step through the pooling, then the unpooling, and follow the indices.")
    numbers["window"] = window
    return lines, numbers


def _transposed(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    lines, numbers = _arithmetic(graph, result, name)
    lines.append(
        "Each input value scales the whole kernel, added into the output at stride steps. "
        "Try: step through it and change the stride."
    )
    return lines, numbers


def _backprop(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    found = result.nodes[name]
    params = graph.node(name).spec.with_defaults(graph.node(name).params)
    kh, kw = pair(params["kernel_size"])
    cin, cout = found.inputs[0][0], found.output[0]  # type: ignore[index]
    weights = cout * (cin // params["groups"]) * kh * kw
    inputs, upstream = math.prod(found.inputs[0]), math.prod(found.output)  # type: ignore[arg-type]
    lines = [
        f"{name}: the upstream gradient has the output's shape {_shape(found.output)} "
        f"({upstream:,} values). The input gradient ({inputs:,} values) is the full "
        f"convolution of it with the kernel rotated by 180°; the weight gradient ({weights:,} "
        "values) is the correlation of the input with it.",
    ]
    numbers: Numbers = {"upstream": upstream, "input_grad": inputs, "weight_grad": weights}
    pools = [n for n in graph.names if graph.node(n).type_id in ("maxpool2d", "avgpool2d")]
    if pools and result.nodes[pools[0]].output is not None:
        k = pair(graph.node(pools[0]).params["kernel_size"])
        lines.append(
            f"{pools[0]}: max pooling sends each gradient to the one position of its maximum "
            f"among {k[0] * k[1]}; average pooling spreads it evenly, 1/{k[0] * k[1]} each."
        )
        numbers["pool_window"] = k[0] * k[1]
    lines.append("Try: open the backprop view and compare each grid with autograd's.")
    return lines, numbers


def _activations(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    acts = [n for n in graph.names if graph.node(n).type_id in ("sigmoid", "tanh", "relu")]
    depth = len(acts)
    sigmoid = 1 / (1 + math.exp(0.0))
    slope = sigmoid * (1 - sigmoid)  # the sigmoid's largest derivative, at 0
    tanh_slope = 1 - math.tanh(0.0) ** 2
    bound = slope**depth
    lines = [
        f"This design has {depth} activation layers ({', '.join(acts)}). The sigmoid's derivative is at most "
        f"{slope:g} (at 0), tanh's {tanh_slope:g}, ReLU's 1 for every positive input.",
        f"Backprop multiplies one such factor per layer: through {depth} sigmoids a gradient "
        f"keeps at most {bound:.3g} of its size by the time it reaches the first layer.",
        f"Try: run the experiment ({EXPERIMENTS['activations'].title}): the same network "
        "trained with each, gradient norms per layer side by side.",
    ]
    return lines, {"depth": depth, "sigmoid_slope": slope, "bound": bound}


def _batchnorm(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    found = result.nodes[name]
    c, h, w = found.inputs[0]  # type: ignore[misc]
    count = len(graph.names_of_type("batchnorm"))
    lines = [
        f"{name} normalises each of its {c} channels over the batch and all {h}×{w} = "
        f"{h * w:,} positions: mean and variance per channel, then y = γx̂ + β. It learns "
        f"{found.params:,} parameters (γ and β) and keeps {2 * c} running statistics for "
        "inference.",
        f"The design has {count} BatchNorm layers. Try: open the BatchNorm view for training "
        f"vs inference, and run the experiment ({EXPERIMENTS['batchnorm'].title}).",
    ]
    return lines, {"channels": c, "params": found.params or 0, "positions": h * w, "count": count}


def _dropout(graph: Graph, result: InferenceResult, name: str) -> tuple[list[str], Numbers]:
    p = float(graph.node(name).params["p"])
    features = math.prod(result.nodes[name].inputs[0])  # type: ignore[arg-type]
    keep = 1 - p
    lines = [
        f"{name} zeroes each of its {features:,} inputs with probability p = {p:g} while "
        f"training: {p * features:,.1f} on average. The lecture multiplies by the keep "
        f"probability {keep:g} at test time; torch instead scales by 1/(1 − p) = "
        f"{1 / keep:.4g} while training and does nothing at test: the same expected "
        "activation.",
        f"Try: open the dropout view, then run the experiment ({EXPERIMENTS['dropout'].title}).",
    ]
    return lines, {"p": p, "features": features, "dropped": p * features, "scale": 1 / keep}


TEXTS: dict[str, Callable[[Graph, InferenceResult, str], tuple[list[str], Numbers]]] = {
    "cnn_vs_mlp": _cnn_vs_mlp,
    "convolution": _convolution,
    "padding_stride": _padding_stride,
    "pooling": _pooling,
    "transposed": _transposed,
    "backprop": _backprop,
    "activations": _activations,
    "batchnorm": _batchnorm,
    "dropout": _dropout,
    "architectures": _arithmetic,
}


def lesson_text(lesson: Lesson, graph: Graph, result: InferenceResult) -> LessonText:
    """The lesson's text for the design as it is now (a ``problem`` when it does not validate
    or lacks the block the lesson is about)."""
    if not result.ok:
        first = result.errors[0]
        return LessonText(
            problem=f"{lesson.title}: the design no longer validates, so this lesson cannot "
            f"compute its numbers. Received: {first.node or 'design'}: {first.message} Fix "
            "it (Problems tab), undo your edits, or open the lesson again."
        )
    name = focus_node(graph, lesson)
    if name is None:
        return LessonText(
            problem=f"{lesson.title}: the lesson is about a {lesson.focus} block and the design "
            f"has none. Received: {lesson.focus} blocks=0. Undo your edits or open the lesson "
            "again."
        )
    try:
        lines, numbers = TEXTS[lesson.key](graph, result, name)
    except (LookupError, TypeError, ValueError, ZeroDivisionError) as error:
        return LessonText(
            problem=f"{lesson.title}: {name} cannot be explained as it is. Received: {error}. "
            "Undo your edits or open the lesson again."
        )
    return LessonText(lines, numbers)
