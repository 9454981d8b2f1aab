"""Transfer learning: pretrained weights into a design, frozen blocks, a new classifier.

``load_pretrained(graph, path)`` reads a weights file (always with
``engine.torch_files.load_torch_file``: tensors and plain data only, nothing executed) and
matches its tensors to the compiled design's by name: a torchvision or timm state dict, a
checkpoint of ours (its ``model`` field) or one that keeps its state dict under
``state_dict``/``model_state_dict``; a ``module.`` prefix (a DistributedDataParallel save) is
dropped. Presets name their blocks as torchvision names its modules, so torchvision's keys match
directly. The ``TransferReport`` lists what matched, what is missing (in the design, not in the
file), unexpected (in the file, not in the design) and what differs in shape, each with why.

``strict``: every tensor must match (an export: the file written must compute what the weights
do). Otherwise (fine-tuning) missing and unexpected tensors are reported and left alone, and the
classifier (the last Linear layer) may differ in shape: it keeps its initial weights, to be
trained for the new classes. A file that is not a state dict, matches nothing, or differs in
shape elsewhere is refused with a ``TransferError`` naming it and the fix; nothing is changed.

``freeze(model, graph, names)`` stops the training of the parameters under groups or blocks;
``replace_classifier(graph, classes)`` sets the last Linear layer's ``out_features``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import DesignerError
from engine.graph import Graph, group_prefixes
from engine.torch_files import TorchFileError, load_torch_file

if TYPE_CHECKING:
    import torch

# keys under which checkpoints commonly keep the model's state dict (ours: "model")
CHECKPOINT_KEYS = ("model", "state_dict", "model_state_dict", "model_state")
_DDP_PREFIX = "module."
_LISTED = 12  # names listed per kind in a report; then how many more
_FILE_FIX = (
    "Give a training run folder, its last.pt or best.pt, or a state dict saved with "
    "torch.save(model.state_dict(), FILE) (as torchvision and timm models give)"
)


class TransferError(DesignerError, ValueError):
    """Weights that cannot be loaded into the design; ``report`` is the match when one was made."""

    def __init__(self, message: str, report: TransferReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ShapeMismatch:
    """A tensor both have, with other shapes."""

    name: str
    file_shape: tuple[int, ...]
    design_shape: tuple[int, ...]


@dataclass(frozen=True)
class WeightsFile:
    """What a weights file holds: its state dict (prefix removed) and, for a checkpoint of
    ours, the rest of it (settings, classes, normalization)."""

    source: str
    state: dict[str, Any]
    checkpoint: dict[str, Any] | None = None
    stripped_prefix: str | None = None


@dataclass(frozen=True)
class TransferReport:
    """How a file's tensors matched the design's (names sorted as the design lists them)."""

    source: str
    matched: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[ShapeMismatch, ...]
    classifier: tuple[str, ...] = field(default=())  # the design's classifier tensors
    stripped_prefix: str | None = None

    @property
    def complete(self) -> bool:
        """Every tensor of the design and of the file matched, with its shape."""
        return not (self.missing or self.unexpected or self.mismatched)

    def counts(self) -> dict[str, int]:
        return {
            "matched": len(self.matched),
            "missing": len(self.missing),
            "unexpected": len(self.unexpected),
            "mismatched": len(self.mismatched),
        }

    def headline(self) -> str:
        total = len(self.matched) + len(self.missing) + len(self.mismatched)
        c = self.counts()
        return (
            f"weights {self.source}: {c['matched']} of the design's {total} tensors matched; "
            f"{c['missing']} missing, {c['unexpected']} unexpected, {c['mismatched']} of "
            "another shape"
        )

    def text(self) -> str:
        """The headline, then a line per tensor that did not match, saying why."""
        lines = [self.headline()]
        if self.stripped_prefix:
            lines.append(f"  (the file's names start with {self.stripped_prefix!r}: dropped)")
        for item in self.mismatched[:_LISTED]:
            role = " (the classifier: trained anew)" if item.name in self.classifier else ""
            lines.append(
                f"  shape   {item.name}: file {_shape(item.file_shape)}, design "
                f"{_shape(item.design_shape)}{role}"
            )
        lines += _more(len(self.mismatched))
        for name in self.missing[:_LISTED]:
            lines.append(f"  missing {name}: in the design, not in the file (kept as initialised)")
        lines += _more(len(self.missing))
        for name in self.unexpected[:_LISTED]:
            lines.append(f"  unexpected {name}: in the file, not in the design (not used)")
        lines += _more(len(self.unexpected))
        return "\n".join(lines)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"


def _more(count: int) -> list[str]:
    return [f"  … and {count - _LISTED} more"] if count > _LISTED else []


def _weights_path(path: Path) -> Path:
    """``path``, or for a training run folder its best epoch's checkpoint, else its last."""
    if not path.is_dir():
        return path
    for name in ("best.pt", "last.pt"):
        if (path / name).is_file():
            return path / name
    raise TransferError(
        f"training run folder {path}: holds no best.pt or last.pt (no epoch finished). Give a "
        "run that finished at least one epoch, or a weights file"
    )


def read_weights(path: str | os.PathLike[str]) -> WeightsFile:
    """The state dict a weights file holds (see the module's docstring); TransferError if none."""
    import torch

    file = _weights_path(Path(path).expanduser())
    source = str(file)
    try:
        data: Any = load_torch_file(file)
    except TorchFileError as error:
        what = error.reason
        if error.content:
            what = (
                "not a CNN Designer checkpoint or a state dict, so it cannot be read as "
                f"PyTorch weights ({error.reason})"
            )
        raise TransferError(f"weights file {source}: {what}. {_FILE_FIX}") from None
    checkpoint = None
    if isinstance(data, Mapping):
        for key in CHECKPOINT_KEYS:
            if isinstance(data.get(key), Mapping):
                checkpoint = dict(data)
                data = data[key]
                break
    if (
        not isinstance(data, Mapping)
        or not data
        or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items())
    ):
        what = type(data).__name__ if not isinstance(data, Mapping) else "a dict of other values"
        raise TransferError(
            f"weights file {source}: not a state dict (names → tensors) but {what}. {_FILE_FIX}"
        )
    state = dict(data)
    stripped = None
    if all(k.startswith(_DDP_PREFIX) for k in state):
        state = {k[len(_DDP_PREFIX) :]: v for k, v in state.items()}
        stripped = _DDP_PREFIX
    return WeightsFile(source, state, checkpoint, stripped)


def design_shapes(graph: Graph) -> dict[str, tuple[int, ...]]:
    """The compiled design's state-dict names and shapes (compiled on 'meta': no memory)."""
    import torch

    from engine.compiler import compile_graph

    with torch.device("meta"):
        module = compile_graph(graph)
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def classifier_prefix(graph: Graph) -> str | None:
    """The module path of the design's classifier: the last Linear layer (None without one)."""
    from engine.export.python_code import module_paths
    from engine.inference import infer

    result = infer(graph)
    linears = [n for n in result.order if graph.node(n).type_id == "linear"]
    if not linears:
        return None
    return module_paths(graph, result).get(linears[-1])


def match(
    weights: WeightsFile, shapes: Mapping[str, tuple[int, ...]], classifier: str | None = None
) -> TransferReport:
    """How ``weights`` fits a design whose state dict has ``shapes``."""
    matched, missing, mismatched = [], [], []
    for name, shape in shapes.items():
        if name not in weights.state:
            missing.append(name)
        elif tuple(weights.state[name].shape) != shape:
            got = tuple(int(s) for s in weights.state[name].shape)
            mismatched.append(ShapeMismatch(name, got, shape))
        else:
            matched.append(name)
    unexpected = [name for name in weights.state if name not in shapes]
    head = tuple(n for n in shapes if classifier and n.startswith(classifier + "."))
    return TransferReport(
        weights.source,
        tuple(matched),
        tuple(missing),
        tuple(unexpected),
        tuple(mismatched),
        head,
        weights.stripped_prefix,
    )


def check_report(report: TransferReport, strict: bool) -> None:
    """TransferError (carrying the report) when the match cannot be loaded."""
    if not report.matched:
        raise TransferError(
            f"weights file {report.source}: none of its "
            f"{len(report.unexpected) + len(report.mismatched)} tensors fits the design by name "
            "and shape (it was saved from another network). Give weights saved from the same "
            "architecture (for a preset: torchvision's model of that name)",
            report,
        )
    if strict and not report.complete:
        raise TransferError(
            f"weights file {report.source}: does not fit the design exactly (an export must "
            "compute what the weights do). Export with the design the weights were saved from, "
            "or fine-tune it first (cnn-designer train --weights FILE), then export the run",
            report,
        )
    other = [m for m in report.mismatched if m.name not in report.classifier]
    if other:
        raise TransferError(
            f"weights file {report.source}: {len(other)} tensor(s) have another shape than the "
            f"design's, beyond the classifier (first: {other[0].name}, file "
            f"{_shape(other[0].file_shape)}, design {_shape(other[0].design_shape)}). Give "
            "weights saved from the same architecture with the same options (width, channels)",
            report,
        )


def load_pretrained(
    graph: Graph, path: str | os.PathLike[str] | WeightsFile, strict: bool = False
) -> tuple[dict[str, torch.Tensor], TransferReport]:
    """The file's tensors that fit the compiled design (for ``load_state_dict(strict=False)``;
    all of them with ``strict``), and the report. Raises TransferError (see the docstring)."""
    weights = path if isinstance(path, WeightsFile) else read_weights(path)
    report = match(weights, design_shapes(graph), classifier_prefix(graph))
    check_report(report, strict)
    return {name: weights.state[name] for name in report.matched}, report


def _module_paths(model: torch.nn.Module) -> dict[str, str]:
    """{node: submodule path} of a compiled design (an fx GraphModule)."""
    graph = getattr(model, "graph", None)
    nodes = getattr(graph, "nodes", ())
    return {
        n.meta["designer_node"]: str(n.target)
        for n in nodes
        if n.op == "call_module" and "designer_node" in n.meta
    }


def freeze_targets(graph: Graph, names: Iterable[str]) -> list[str]:
    """The blocks under ``names`` (groups or blocks); TransferError for a name of neither."""
    groups = set(graph.groups())
    blocks: list[str] = []
    for name in names:
        if name in groups:
            blocks += graph.group_members(name)
        elif name in graph.names:
            blocks.append(name)
        else:
            shown = ", ".join(sorted(g for g in groups if "." not in g)[:12]) or "none"
            raise TransferError(
                f"--freeze {name}: no group or block of that name in the design. Received: "
                f"{name!r}. Name a group (top level: {shown}) or a block"
            )
    return list(dict.fromkeys(blocks))


def freeze(model: torch.nn.Module, graph: Graph, names: Iterable[str]) -> tuple[int, int]:
    """Stop training the parameters of the blocks under ``names`` (groups or blocks) in the
    compiled ``model``; returns (trainable, frozen) parameter counts."""
    paths = _module_paths(model)
    for block in freeze_targets(graph, names):
        if block in paths:
            for parameter in model.get_submodule(paths[block]).parameters():
                parameter.requires_grad_(False)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, frozen


def frozen_blocks(graph: Graph, names: Iterable[str]) -> set[str]:
    """The blocks drawn as frozen for ``names`` (groups or blocks; unknown names ignored)."""
    chosen = set(names)
    return {n.name for n in graph if n.name in chosen or chosen & set(group_prefixes(n.group))}


def replace_classifier(graph: Graph, classes: int) -> str:
    """Set the last Linear layer's out_features to ``classes`` (one engine call); its name."""
    from engine.inference import infer

    if classes < 1:
        raise TransferError(
            f"classifier: needs at least 1 class. Received: classes={classes}. Give 2 or more"
        )
    order = infer(graph).order
    linears = [n for n in order if graph.node(n).type_id == "linear"]
    if not linears:
        raise TransferError(
            "classifier: the design has no Linear layer to replace. End it with Flatten and "
            f"Linear(out_features={classes}) before the Output block"
        )
    graph.set_params(linears[-1], {"out_features": classes})
    return linears[-1]


__all__ = [
    "CHECKPOINT_KEYS",
    "ShapeMismatch",
    "TransferError",
    "TransferReport",
    "WeightsFile",
    "freeze",
    "freeze_targets",
    "frozen_blocks",
    "load_pretrained",
    "read_weights",
    "replace_classifier",
]
