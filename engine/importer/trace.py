"""Trace a PyTorch module with torch.fx and rebuild it as a designer graph.

``symbolic_trace`` records the module's ``forward`` as fx nodes; ``ShapeProp`` (on fake or
'meta' tensors, so nothing is computed) gives every value its shape, which sets the Input
block. Each fx node becomes a catalog block named after the module's qualified name
(``layer2.0.conv1``, grouped as ("layer2", "0")), so state dicts line up. What has no block is
listed in ``ImportResult.unmapped`` by name and reason, never dropped silently.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.catalog import CATALOG, Shape, fmt_shape
from engine.errors import DesignerError
from engine.graph import Graph
from engine.identifiers import name_problem, safe_module_path
from engine.importer.functions import convert_call
from engine.importer.modules import Block, UnmappableError, convert_module, is_global_avgpool
from engine.inference import infer

if TYPE_CHECKING:
    import torch.fx
    from torch import nn


class ModelImportError(DesignerError, ValueError):
    """A model that cannot be imported at all (not traceable, wrong input shape, bad file)."""


@dataclass
class ImportResult:
    """The imported graph, what could not be mapped (by name) and other differences found."""

    graph: Graph
    unmapped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source_params: int = 0  # parameters of the original module

    @property
    def complete(self) -> bool:
        """Whether every operation became a block and nothing differs from the original."""
        return not self.unmapped and not self.warnings


def _shapes(input_shape: Sequence[int] | Sequence[Sequence[int]]) -> list[Shape]:
    if input_shape and all(isinstance(s, int) for s in input_shape):
        return [tuple(input_shape)]  # type: ignore[arg-type]
    return [tuple(s) for s in input_shape]  # type: ignore[arg-type, union-attr]


def _tracer_class() -> type:
    import torch.fx

    class DesignerTracer(torch.fx.Tracer):
        """torch.fx's tracer, keeping ``Sequential(AdaptiveAvgPool2d(1), Flatten())`` whole."""

        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            return is_global_avgpool(m) or super().is_leaf_module(m, qualname)

    return DesignerTracer


def trace(module: nn.Module, shapes: list[Shape]) -> torch.fx.GraphModule:
    """The fx graph of ``module`` (in eval mode) with ``tensor_meta`` shapes on every node."""
    import torch
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    kind = type(module).__name__
    was_training = module.training
    module.eval()
    try:
        tracer = _tracer_class()()
        try:
            fx_graph = tracer.trace(module)
        except (Exception, SystemExit) as error:  # SystemExit: a forward that calls exit()
            raise ModelImportError(
                f"{kind}: torch.fx cannot trace its forward ({type(error).__name__}: {error}). "
                "Python if/for on tensor values cannot be traced: make forward's control flow "
                "independent of the data"
            ) from error
        traced = torch.fx.GraphModule(tracer.root, fx_graph, class_name=kind)
        placeholders = [n for n in fx_graph.nodes if n.op == "placeholder"]
        if len(placeholders) != len(shapes):
            raise ModelImportError(
                f"{kind}: forward takes {len(placeholders)} input(s) but {len(shapes)} shape(s) "
                "were given. Give one C×H×W shape per input"
            )
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
        examples = [torch.zeros(1, *s, device=device) for s in shapes]
        # ShapeProp prints the traceback of a failing node itself: the error below says it
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                if device.type == "meta":
                    ShapeProp(traced).propagate(*examples)
                else:
                    from torch._subclasses.fake_tensor import FakeTensorMode

                    mode = FakeTensorMode(allow_non_fake_inputs=True)
                    ShapeProp(traced, fake_mode=mode).propagate(*examples)
        except (Exception, SystemExit) as error:
            given = ", ".join(fmt_shape(s) for s in shapes)
            raise ModelImportError(
                f"{kind}: running it on an input of {given} failed ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}). Give the input shape the "
                "model expects (e.g. --input 3x224x224)"
            ) from error
    finally:
        module.train(was_training)
    return traced


def _meta_shape(node: Any) -> Shape | None:
    meta = node.meta.get("tensor_meta") if hasattr(node, "meta") else None
    return tuple(meta.shape[1:]) if meta is not None and hasattr(meta, "shape") else None


class _Builder:
    """Turns traced fx nodes into graph nodes and wires, collecting what cannot be mapped."""

    def __init__(self, traced: torch.fx.GraphModule) -> None:
        self.traced = traced
        self.graph = Graph()
        self.values: dict[Any, tuple[str, str] | None] = {}
        self.unmapped: list[str] = []
        self.warnings: list[str] = []
        self.called: set[str] = set()
        self.origin: dict[str, Any] = {}  # designer node -> fx node (for the shape check)

    def unique(self, name: str) -> str:
        if name_problem(name) is not None:
            name = safe_module_path(name)
        # one of the first len(graph) + 1 suffixes is free: the search is bounded
        suffixed = (f"{name}_{n}" for n in range(1, len(self.graph) + 2))
        return next(c for c in itertools.chain([name], suffixed) if c not in self.graph)

    def add(self, node: Any, name: str, block: Block, sources: list[Any]) -> None:
        assert block.type_id is not None
        name = self.unique(name)
        group = tuple(name.split(".")[:-1])
        self.graph.add_node(block.type_id, name, block.params, group)
        spec = CATALOG.get(block.type_id)
        ports = [f"in{i}" for i in range(len(sources))] if spec.variadic else list(spec.inputs)
        for port, source in zip(ports, sources, strict=False):
            value = self.values.get(source)
            if value is not None:
                self.graph.connect(value[0], name, value[1], port)
        outputs = spec.outputs(self.graph.node(name).params)
        self.values[node] = (name, outputs[0]) if outputs else None
        self.origin[name] = node

    def skip(self, node: Any, label: str, reason: str) -> None:
        self.unmapped.append(f"{label}: {reason}")
        self.values[node] = None

    def placeholder(self, node: Any, count: int) -> None:
        shape = _meta_shape(node)
        name = "input" if count == 1 else self.unique(node.name)
        self.add(node, name, Block("input", {"shape": list(shape or ())}), [])

    def call_module(self, node: Any) -> None:
        target = str(node.target)
        module = self.traced.get_submodule(target)
        shapes = [s for a in node.args if (s := _meta_shape(a)) is not None]
        try:
            block = convert_module(module, shapes)
        except UnmappableError as reason:
            return self.skip(node, f"{target} ({type(module).__name__})", str(reason))
        if block.type_id is None:
            self.values[node] = self.values.get(node.args[0])
            return None
        if target in self.called and any(True for _ in module.parameters()):
            self.warnings.append(
                f"{target} ({type(module).__name__}) is called more than once: its weights are "
                "shared in the original, the designer gives each call its own"
            )
        self.called.add(target)
        sources = [a for a in node.args if hasattr(a, "op")]
        return self.add(node, target, block, sources)

    def call(self, node: Any) -> None:
        import operator

        if node.target is operator.getitem and self._is_port(node):
            return None
        if _meta_shape(node) is None and "tensor_meta" not in node.meta:
            self.values[node] = None  # sizes and other non-tensor values are not layers
            return None
        try:
            block, sources = convert_call(node)
        except UnmappableError as reason:
            return self.skip(node, f"{self._local_name(node)} ({self._what(node)})", str(reason))
        if block.type_id is None:
            self.values[node] = self.values.get(sources[0])
            return None
        if block.warning:
            self.warnings.append(f"{self._local_name(node)} ({self._what(node)}): {block.warning}")
        return self.add(node, self._local_name(node), block, sources)

    def _is_port(self, node: Any) -> bool:
        """``pool(x)[1]`` on a block with several outputs (MaxPool2d's indices)."""
        source, index = node.args
        value = self.values.get(source)
        if source.op != "call_module" or value is None or not isinstance(index, int):
            return False
        outputs = CATALOG.get(self.graph.node(value[0]).type_id).outputs(
            self.graph.node(value[0]).params
        )
        if len(outputs) < 2:
            return False
        self.values[node] = (value[0], outputs[index])
        return True

    @staticmethod
    def _what(node: Any) -> str:
        if isinstance(node.target, str):
            return f"Tensor.{node.target}"
        return getattr(node.target, "__name__", str(node.target))

    @staticmethod
    def _local_name(node: Any) -> str:
        """``layer1.0.add`` for an add inside the module ``layer1.0`` (from nn_module_stack)."""
        stack = node.meta.get("nn_module_stack") or {}
        base = re.sub(r"_\d+$", "", node.name)
        if stack:
            path = list(stack.values())[-1][0]
            return f"{path}.{base}" if path else base
        return base

    def output(self, node: Any) -> None:
        results = node.args[0]
        flat = list(results) if isinstance(results, list | tuple) else [results]
        for index, value in enumerate(flat):
            if not hasattr(value, "op"):
                self.unmapped.append(f"output {index}: not a tensor ({type(value).__name__})")
                continue
            name = "output" if index == 0 else f"output{index}"
            self.add(node, name, Block("output"), [value])


def build_graph(traced: torch.fx.GraphModule) -> _Builder:
    """The designer graph of a traced, shape-propagated module."""
    builder = _Builder(traced)
    nodes = list(traced.graph.nodes)
    count = sum(n.op == "placeholder" for n in nodes)
    for node in nodes:
        if node.op == "placeholder":
            builder.placeholder(node, count)
        elif node.op == "call_module":
            builder.call_module(node)
        elif node.op in ("call_function", "call_method"):
            builder.call(node)
        elif node.op == "get_attr":
            used = [u for u in node.users if u.op != "output"]
            if used:
                builder.skip(node, str(node.target), "a tensor used directly, outside any layer")
        elif node.op == "output":
            builder.output(node)
    return builder


def import_module(
    module: nn.Module, input_shape: Sequence[int] | Sequence[Sequence[int]]
) -> ImportResult:
    """Rebuild ``module`` as a graph; ``input_shape`` is C×H×W (or one per input) without batch."""
    shapes = _shapes(input_shape)
    traced = trace(module, shapes)
    builder = build_graph(traced)
    result = infer(builder.graph)
    for name, fx_node in builder.origin.items():
        actual, node_result = _meta_shape(fx_node), result.nodes.get(name)
        designed = node_result.output if node_result is not None else None
        kind = builder.graph.node(name).type_id
        if (
            kind not in ("input", "output")
            and None not in (actual, designed)
            and actual != designed
        ):
            builder.warnings.append(
                f"{name}: the designer computes {fmt_shape(designed)} but PyTorch gives "
                f"{fmt_shape(actual)}"
            )
    original = sum(p.numel() for p in module.parameters())
    if result.ok and result.total_params != original:
        builder.warnings.append(
            f"the graph has {result.total_params:,} parameters, the module {original:,} "
            "(unused, shared or unmapped layers)"
        )
    return ImportResult(builder.graph, builder.unmapped, builder.warnings, original)
