"""Compile a valid graph into a real PyTorch module through torch.fx.

The result is a ``torch.fx.GraphModule`` whose submodules are named after the nodes (a node
``layer2.0.conv1`` becomes ``model.layer2[0].conv1``, so state dicts line up with torchvision's)
and whose ``code`` reads like hand-written PyTorch. Each fx node carries
``meta["designer_node"]`` and ``meta["designer_port"]`` so results map back to the graph.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.bypass import has_bypassed, without_bypassed
from engine.catalog import CATALOG, Shape
from engine.errors import CompileError
from engine.graph import Graph
from engine.identifiers import distinct_module_paths, safe_identifier
from engine.inference import InferenceResult, infer

if TYPE_CHECKING:
    import torch.fx


@functools.cache
def _module_attributes() -> frozenset[str]:
    """Names a submodule must not take: every attribute of a GraphModule (train, graph, code)."""
    import torch.fx

    return frozenset(dir(torch.fx.GraphModule(torch.nn.Module(), torch.fx.Graph())))


_INLINE = frozenset({"input", "output", "add", "concat"})  # written in forward, no module


def _fail_on_errors(result: InferenceResult) -> None:
    if result.ok:
        return
    listing = "\n".join(f"  - {d.message}" for d in result.errors)
    raise CompileError(
        f"the graph has {len(result.errors)} error(s) to fix before it can be compiled:\n{listing}"
    )


def _build_layer(
    name: str,
    type_id: str,
    build: Callable[[dict[str, Any], list[Shape]], torch.nn.Module],
    params: dict[str, Any],
    in_shapes: list[Shape],
    result: InferenceResult,
) -> torch.nn.Module:
    """``build(params, in_shapes)``; CompileError naming the layer when torch refuses it (a layer
    too large for memory, or sizes past what torch can count)."""
    try:
        return build(params, in_shapes)
    except (RuntimeError, ValueError, OverflowError, MemoryError) as error:
        count = result.nodes[name].params or 0
        size = ""
        if count * 4 >= 2**30:  # the likely cause: say how much memory the weights alone need
            size = f" It has {count:,} parameters ({count * 4 / 2**30:,.1f} GiB in float32)."
        raise CompileError(
            f"{name} ({type_id}): torch could not build this layer: {error}.{size} "
            "Lower the sizes that make it this large"
        ) from error


def compile_graph(graph: Graph, result: InferenceResult | None = None) -> torch.fx.GraphModule:
    """A torch module computing ``graph``; CompileError lists the problems of an invalid graph."""
    import torch
    import torch.fx

    result = result or infer(graph)
    _fail_on_errors(result)
    if has_bypassed(graph):  # a bypassed block is identity: compile the design without it
        graph = without_bypassed(graph)
        result = infer(graph)
    modules: dict[str, torch.nn.Module] = {}
    fx = torch.fx.Graph()
    values: dict[tuple[str, str], torch.fx.Node] = {}
    taken_vars: set[str] = set()
    layers = [n for n in result.order if graph.node(n).type_id not in _INLINE]
    targets = distinct_module_paths(layers, _module_attributes())
    outputs: dict[str, torch.fx.Node] = {}

    def tag(fx_node: torch.fx.Node, name: str, port: str) -> torch.fx.Node:
        fx_node.meta["designer_node"] = name
        fx_node.meta["designer_port"] = port
        return fx_node

    # arguments and returned values follow ``result.order`` (export relies on the same order)
    inputs = [n for n in result.order if graph.node(n).type_id == "input"]
    for name in inputs:
        values[(name, "out")] = tag(fx.placeholder(safe_identifier(name, taken_vars)), name, "out")
    for name in result.order:
        node = graph.node(name)
        spec = CATALOG.get(node.type_id)
        params = spec.with_defaults(node.params)
        in_shapes: list[Shape] = [s for s in result.nodes[name].inputs if s is not None]
        args = [values[(e.src, e.src_port)] for e in graph.in_edges(name)]
        ports = spec.outputs(params)
        if node.type_id == "input":
            continue
        if node.type_id == "output":
            outputs[name] = args[0]
            continue
        elif node.type_id == "add":
            value = args[0]
            for other in args[1:]:
                value = fx.call_function(operator.add, (value, other))
            tag(value, name, "out")
        elif node.type_id == "concat":
            value = tag(fx.call_function(torch.cat, (list(args), 1)), name, "out")
        else:
            if spec.build is None:
                raise CompileError(f"{name} ({node.type_id}): this block type has no torch module")
            target = targets[name]
            modules[target] = _build_layer(
                name, node.type_id, spec.build, params, in_shapes, result
            )
            value = tag(fx.call_module(target, tuple(args)), name, ports[0] if ports else "out")
        if len(ports) > 1:
            for index, port in enumerate(ports):
                values[(name, port)] = tag(
                    fx.call_function(operator.getitem, (value, index)), name, port
                )
        else:
            values[(name, "out")] = value
    if not outputs:
        raise CompileError("the graph has no Output block: add one after the last layer")
    returned = [outputs[n] for n in result.order if n in outputs]
    fx.output(returned[0] if len(returned) == 1 else tuple(returned))
    module = torch.fx.GraphModule(modules, fx, class_name="DesignedNet")
    module.designer_inputs = inputs  # type: ignore[assignment]
    return module


def example_inputs(graph: Graph, batch: int = 2, device: Any = None) -> list[Any]:
    """Random tensors for every Input block, in the order the compiled module takes them."""
    import torch

    tensors = []
    for name in graph.evaluation_order()[0]:
        node = graph.node(name)
        if node.type_id == "input":
            tensors.append(torch.randn(batch, *node.params["shape"], device=device))
    return tensors


def run_and_record_shapes(
    module: torch.fx.GraphModule, *inputs: Any
) -> dict[tuple[str, str], Shape]:
    """Run ``module`` and return the actual per-sample shape on every (node, port)."""
    import torch.fx

    shapes: dict[tuple[str, str], Shape] = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            value = super().run_node(n)
            if "designer_node" in n.meta and hasattr(value, "shape"):
                shapes[(n.meta["designer_node"], n.meta["designer_port"])] = tuple(value.shape[1:])
            return value

    Recorder(module).run(*inputs)
    return shapes
