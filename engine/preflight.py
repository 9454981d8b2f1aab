"""Pre-flight checks: will this design train on this data set? Answered before any process starts.

``check_design(graph, settings)`` compares the network's output with the data set's classes and
the Input block with its images, and looks at how the network ends; it needs no torch (the class
counts and image shapes of the built-in sets are known here) and takes milliseconds. Each
``Finding`` carries its fixes, machine-applicable: a graph ``Fix`` (the last Linear's
out_features, the Input block's shape), a change to the data settings (another data set, a
resize) or to the training settings, and the same fix as a person types it on the command line
(``--option classes=10``, ``--data shapes``). The deeper checks that run the network on a small
batch (the initial loss against ln C, overfitting one batch, gradients, a learning-rate range
test) are in ``engine.preflight_deep``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.catalog import fmt_shape
from engine.data.agreement import check_input_shape
from engine.diagnostics import Fix, FixAction
from engine.graph import Graph
from engine.inference import InferenceResult, infer

# the number of classes and one image's C×H×W of each data set known without reading it
DATASET_CLASSES: dict[str, int] = {
    "digits": 10,
    "shapes": 6,
    "mnist": 10,
    "fashion_mnist": 10,
    "cifar10": 10,
}
SAMPLE_SHAPES: dict[str, tuple[int, int, int]] = {
    "digits": (1, 8, 8),
    "shapes": (3, 32, 32),
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
}
# blocks whose outputs are never negative (or are probabilities): cross-entropy wants raw scores
BOUNDED_ENDS = {"relu", "relu6", "sigmoid", "softmax", "hardsigmoid"}


@dataclass(frozen=True)
class PreflightFix:
    """One way to repair a finding, for the window (``graph_fix``/``data``/``settings`` applied
    in one click) and for the command line (``cli``, the text a person types)."""

    label: str  # a button's text: "Set fc.out_features to 10"
    cli: str  # the command line's fix: "--option classes=10"
    graph_fix: Fix | None = None  # applied with engine.apply_fix / Document.apply_fix
    data: dict[str, Any] = field(default_factory=dict)  # changes to settings.data
    settings: dict[str, Any] = field(default_factory=dict)  # changes to the training settings

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "cli": self.cli}
        if self.graph_fix is not None:
            out["graph"] = {"node": self.graph_fix.node, "params": dict(self.graph_fix.params)}
        if self.data:
            out["data"] = dict(self.data)
        if self.settings:
            out["settings"] = dict(self.settings)
        return out


@dataclass(frozen=True)
class Finding:
    """What a check found: ``severity`` error (training would fail or cannot learn), warning
    (it would run, badly) or info; ``check`` names the check; ``fixes`` repair it."""

    severity: str
    check: str
    message: str
    fixes: tuple[PreflightFix, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
            "fixes": [f.to_dict() for f in self.fixes],
        }

    def text(self, cli: bool = False) -> str:
        """The message with its fixes, as the window (labels) or the command line says them."""
        if not self.fixes:
            return self.message
        ways = [f.cli if cli else f.label for f in self.fixes]
        return f"{self.message}. Fix: {'; or '.join(ways)}"


def dataset_classes(settings: Any) -> int | None:
    """The number of classes of the settings' data set, when known without loading it (an
    image folder: its non-empty, non-hidden subfolders)."""
    data = settings.data
    if data.dataset in DATASET_CLASSES:
        return DATASET_CLASSES[data.dataset]
    if data.dataset == "imagefolder" and data.root:
        try:
            folders = [p for p in Path(data.root).iterdir() if p.is_dir()]
        except OSError:
            return None
        return len([p for p in folders if not p.name.startswith(".")]) or None
    return None


def check_design(
    graph: Graph,
    settings: Any,
    *,
    preset: Any = None,
    source: str | None = None,
    result: InferenceResult | None = None,
) -> list[Finding]:
    """The quick checks of ``graph`` against ``settings`` (a ``TrainingSettings``), no torch.

    ``preset``: the design is this ``presets.Preset`` as built (its ``classes`` option is then
    the command line's fix, the data set it is meant for another); ``source``: the project file the design comes from (named in the command line's
    fix). A design with inference errors gets no findings here: those are reported already.
    """
    result = result or infer(graph)
    if not result.ok:
        return []
    findings: list[Finding] = []
    findings += _check_input(graph, settings)
    findings += _check_classes(graph, result, settings, preset, source)
    findings += _check_ending(graph, settings)
    return findings


def _check_input(graph: Graph, settings: Any) -> list[Finding]:
    inputs = graph.nodes_of_type("input")
    data = settings.data
    sample = SAMPLE_SHAPES.get(data.dataset)
    if len(inputs) != 1:
        return [
            Finding(
                "error",
                "input",
                f"training needs exactly one Input block; the design has {len(inputs)}. Keep "
                "one Input block fed by the images",
            )
        ]
    if sample is None:  # an image folder is read at the Input block's size
        return []
    node = inputs[0]
    shape = tuple(int(s) for s in node.params.get("shape", ()))
    agreement = check_input_shape(
        shape, sample, data.dataset, node.name, channels=data.channels, resize=data.resize
    )
    if agreement.ok:
        return []
    explicit = data.channels is not None or data.resize is not None
    if data.fit_input and agreement.data_fix_possible and not explicit:
        bare = check_input_shape(shape, sample, data.dataset, node.name)
        return [
            Finding(
                "info",
                "input",
                f"{data.dataset} images {fmt_shape(bare.sample_shape)} are converted to "
                f"{fmt_shape(shape)} to fit the Input block {node.name!r} (data.fit_input)",
            )
        ]
    fixes = []
    if agreement.data_fix_possible:
        change: dict[str, Any] = {}
        if agreement.resize is not None:
            change["resize"] = list(agreement.resize)
        if agreement.channels is not None:
            change["channels"] = agreement.channels
        fixes.append(
            PreflightFix(
                "Convert the data to fit the Input block",
                "set "
                + " and ".join(f"data.{k} to {v}" for k, v in change.items())
                + " in the project's training settings (or data.fit_input to true)",
                data=change,
            )
        )
    if agreement.input_fix is not None:
        fixes.append(
            PreflightFix(
                agreement.input_fix.label,
                f"set the shape of {node.name!r} to {fmt_shape(agreement.sample_shape)} in the "
                "designer or the project file",
                graph_fix=agreement.input_fix,
            )
        )
    return [Finding("error", "input", agreement.message, tuple(fixes))]


def _check_classes(
    graph: Graph,
    result: InferenceResult,
    settings: Any,
    preset: Any,
    source: str | None,
) -> list[Finding]:
    classes = dataset_classes(settings)
    outputs = graph.nodes_of_type("output")
    if classes is None or not outputs:
        return []
    out = outputs[0].name
    shape = result.nodes[out].inputs[0] if result.nodes[out].inputs else None
    if shape is not None and len(shape) == 1 and shape[0] == classes:
        return []
    dataset = settings.data.dataset
    got = f"{shape[0]} scores" if shape is not None and len(shape) == 1 else fmt_shape(shape)
    message = (
        f"the network gives {got} per image but {dataset} has {classes} classes: the last "
        f"layer must give one score per class"
    )
    linear = _last_linear(graph, out)
    fixes: list[PreflightFix] = []
    if linear is not None and shape is not None and len(shape) == 1:
        graph_fix = Fix(
            f"Set {linear}.out_features to {classes}",
            FixAction.SET_PARAMS,
            linear,
            {"out_features": classes},
        )
        if preset is not None and any(o.name == "classes" for o in preset.options):
            cli = f"--option classes={classes}"
        elif source is not None:
            cli = (
                f"set out_features of {linear!r} to {classes} in the designer (cnn-designer "
                f"open {shlex.quote(source)}) or in the file"
            )
        else:
            cli = f"set out_features of {linear!r} to {classes}"
        fixes.append(PreflightFix(graph_fix.label, cli, graph_fix=graph_fix))
    else:
        message += f". End with Flatten and Linear(out_features={classes}) before the Output block"
    meant = getattr(preset, "dataset", None)
    if meant is not None and meant != dataset and shape == (DATASET_CLASSES.get(meant),):
        fixes.append(
            PreflightFix(
                f"Train on {meant} (the data set it is meant for)",
                f"--data {meant}",
                data={"dataset": meant},
            )
        )
    return [Finding("error", "classes", message, tuple(fixes))]


def _last_linear(graph: Graph, output: str) -> str | None:
    """The Linear block that feeds the Output block (through Dropout, Flatten or Identity)."""
    edge = graph.edge_into(output, "in")
    while edge is not None:
        node = graph.node(edge.src)
        if node.type_id == "linear":
            return node.name
        if node.type_id not in ("dropout", "flatten", "identity"):
            return None
        edge = graph.edge_into(node.name, "in")
    return None


def _check_ending(graph: Graph, settings: Any) -> list[Finding]:
    """A ReLU, Sigmoid or Softmax right before the Output block under cross-entropy."""
    outputs = graph.nodes_of_type("output")
    if not outputs or settings.loss != "cross_entropy":
        return []
    edge = graph.edge_into(outputs[0].name, "in")
    node = graph.node(edge.src) if edge is not None else None
    if node is None or node.type_id not in BOUNDED_ENDS or getattr(node, "bypassed", False):
        return []
    return [
        Finding(
            "warning",
            "ending",
            f"{node.name} ({node.type_id}) feeds the Output block: cross-entropy applies its own "
            f"softmax to raw scores, and a {node.type_id} before it limits them (scores of dead "
            "units get no gradient). Remove it so the last Linear feeds the Output block",
            (
                PreflightFix(
                    f"Bypass {node.name} so the last layer feeds the Output block",
                    f"remove {node.name!r} in the designer or the project file",
                    graph_fix=Fix(
                        f"Bypass {node.name}", FixAction.SET_BYPASSED, node.name, {"bypassed": True}
                    ),
                ),
            ),
        )
    ]


def errors(findings: list[Finding]) -> list[Finding]:
    """The findings that refuse a run."""
    return [f for f in findings if f.severity == "error"]
