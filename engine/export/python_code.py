"""Readable, standalone PyTorch code for a design: one ``nn.Module`` class that needs only torch.

Submodules keep the compiled model's names (``layer2.0.conv1`` becomes ``self.layer2[0].conv1``
through ``nn.ModuleList``/``nn.ModuleDict`` containers), so the generated class and
``compile_graph(graph)`` have identical state-dict keys and load each other's weights strictly.
``forward`` follows the design's own order (the order its blocks were added, as in a lecture),
one line per block, each with the shape it produces. Only sanitised identifiers
(``engine.identifiers``) and literals checked by ``engine.export.literals`` are written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import networkx as nx

from engine.bypass import has_bypassed, without_bypassed
from engine.catalog import CATALOG
from engine.export.class_names import class_name_problem
from engine.export.layers import GRAPH_TYPES, INLINE_TYPES, constructor, helper_sources, inline
from engine.export.literals import ExportError, literal, shape_text
from engine.export.preprocess import Preprocessing, python_lines
from engine.graph import Graph
from engine.identifiers import safe_identifier
from engine.inference import InferenceResult, infer

_INDEX = re.compile(r"[0-9]+")


@functools.cache
def _dict_attributes() -> frozenset[str]:
    """Names a ModuleDict child cannot be reached by as an attribute (the container's own)."""
    from torch import nn

    return frozenset(dir(nn.ModuleDict))


@dataclass
class _Container:
    """A group of submodules: an ``nn.ModuleList`` when keyed 0..n-1, else an ``nn.ModuleDict``."""

    children: dict[str, _Container | str] = field(default_factory=dict)

    @property
    def is_list(self) -> bool:
        # only 0, 1, ... n-1 as written: ``01`` is a key of its own (a ModuleDict's), not 1
        return sorted(self.children) == sorted(str(i) for i in range(len(self.children)))

    def ordered(self) -> list[tuple[str, _Container | str]]:
        if self.is_list:
            return sorted(self.children.items(), key=lambda item: int(item[0]))
        return list(self.children.items())  # insertion = first use in forward

    def access(self, key: str) -> str:
        if self.is_list:
            return f"[{int(key)}]"
        if key.isidentifier() and key not in _dict_attributes():
            return f".{key}"
        if _INDEX.fullmatch(key):  # a key such as "01" stays as written: "1" is another one
            return f'["{key}"]'
        return f"[{literal(key)}]"


def module_paths(graph: Graph, result: InferenceResult) -> dict[str, str]:
    """{node: submodule path} exactly as ``compile_graph`` names them (compiled on 'meta')."""
    import torch

    from engine.compiler import compile_graph

    with torch.device("meta"):
        module = compile_graph(graph, result)
    return {
        n.meta["designer_node"]: str(n.target)
        for n in module.graph.nodes
        if n.op == "call_module" and "designer_node" in n.meta
    }


def design_order(graph: Graph) -> list[str]:
    """Topological order that keeps the order blocks were added wherever the wiring allows."""
    index = {name: i for i, name in enumerate(graph.names)}
    wiring = nx.DiGraph()
    wiring.add_nodes_from(graph.names)
    wiring.add_edges_from((e.src, e.dst) for e in graph.edges)
    return list(nx.lexicographical_topological_sort(wiring, key=index.__getitem__))


class _Variables:
    """Names for the tensors alive in ``forward``: x, then x1, x2, ... as branches need them."""

    def __init__(self, graph: Graph) -> None:
        self.remaining: dict[tuple[str, str], int] = {}
        self.pinned: set[tuple[str, str]] = set()
        for edge in graph.edges:
            key = (edge.src, edge.src_port)
            if graph.node(edge.dst).type_id == "output":
                self.pinned.add(key)  # returned at the end: never reuse its name
            self.remaining[key] = self.remaining.get(key, 0) + 1
        self.names: dict[tuple[str, str], str] = {}
        self.live: set[str] = set()

    def consume(self, key: tuple[str, str]) -> str:
        name = self.names[key]
        self.remaining[key] -= 1
        if self.remaining[key] == 0 and key not in self.pinned:
            self.live.discard(name)
        return name

    def define(self, key: tuple[str, str]) -> str:
        if not self.remaining.get(key):
            return "_"
        # bounded: len(live) + 1 different candidates, so one is free
        candidates = ("x" if n == 0 else f"x{n}" for n in range(len(self.live) + 1))
        name = next(c for c in candidates if c not in self.live)
        self.live.add(name)
        self.names[key] = name
        return name


def _tree(order: list[str], paths: dict[str, str]) -> _Container:
    root = _Container()
    for name in order:
        if name not in paths:
            continue
        *parents, leaf = paths[name].split(".")
        container = root
        for part in parents:
            child = container.children.setdefault(part, _Container())
            assert isinstance(child, _Container), f"{paths[name]} nests under a layer"
            container = child
        container.children[leaf] = name
    return root


def _access(root: _Container, path: str) -> str:
    parts = path.split(".")
    text, container = f"self.{parts[0]}", root.children[parts[0]]
    for part in parts[1:]:
        assert isinstance(container, _Container)
        text += container.access(part)
        container = container.children[part]
    return text


def _render(item: _Container | str, layers: dict[str, str], indent: str) -> list[str]:
    """An expression building ``item`` (multi-line for containers), first line unindented."""
    if isinstance(item, str):
        return [layers[item]]
    inner = indent + "    "
    lines = ["nn.ModuleList([" if item.is_list else "nn.ModuleDict({"]
    for key, child in item.ordered():
        body = _render(child, layers, inner)
        prefix = "" if item.is_list else f'"{key}": '
        lines.append(f"{inner}{prefix}{body[0]}")
        lines.extend(body[1:])
        lines[-1] += ","
    lines.append(f"{indent}])" if item.is_list else f"{indent}}})")
    return lines


def python_source(
    graph: Graph,
    class_name: str = "DesignedNet",
    result: InferenceResult | None = None,
    preprocessing: Preprocessing | None = None,
) -> str:
    """The text of a standalone ``.py`` file defining the design as an ``nn.Module``, with the
    evaluation ``preprocessing`` as constants and a ``preprocess(image)`` function when given."""
    result = result or infer(graph)
    if result.ok and has_bypassed(graph):  # a bypassed block is identity: the code leaves it out
        graph = without_bypassed(graph)
        result = infer(graph)
    paths = module_paths(graph, result)  # raises CompileError on an invalid design
    if (problem := class_name_problem(class_name)) is not None:
        raise ExportError(problem)
    order = design_order(graph)
    inputs = [n for n in result.order if graph.node(n).type_id == "input"]
    outputs = [n for n in result.order if graph.node(n).type_id == "output"]
    layers: dict[str, str] = {}
    for name in order:
        node = graph.node(name)
        if node.type_id not in GRAPH_TYPES | INLINE_TYPES:
            shapes = [s for s in result.nodes[name].inputs if s is not None]
            layers[name] = constructor(paths[name], node.type_id, node.params, shapes)
    tree = _tree([n for n in order if n in layers], paths)

    init = []
    for key, child in tree.ordered():
        body = _render(child, layers, " " * 8)
        init.append(f"        self.{key} = {body[0]}")
        init.extend(body[1:])

    variables = _Variables(graph)
    arguments = [variables.define((name, "out")) for name in inputs]
    arguments = [a if a != "_" else f"unused{i}" for i, a in enumerate(arguments)]
    signature = ", ".join(f"{a}: torch.Tensor" for a in arguments)
    returns = "torch.Tensor" if len(outputs) == 1 else "tuple[torch.Tensor, ...]"
    shapes_in = ", ".join(
        f"{a}: {shape_text(graph.node(n).params['shape'])}"
        for a, n in zip(arguments, inputs, strict=True)
    )
    forward = [f"    def forward(self, {signature}) -> {returns}:  # {shapes_in}"]
    for name in order:
        node = graph.node(name)
        if node.type_id in GRAPH_TYPES:
            continue
        args = [variables.consume((e.src, e.src_port)) for e in graph.in_edges(name)]
        ports = CATALOG.get(node.type_id).outputs(node.params)
        targets = [variables.define((name, port)) for port in ports]
        if node.type_id in INLINE_TYPES:
            call = inline(paths.get(name, safe_identifier(name)), node.type_id, node.params, args)
        else:
            call = f"{_access(tree, paths[name])}({', '.join(args)})"
        comment = ", ".join(shape_text(result.nodes[name].outputs.get(p)) for p in ports)
        forward.append(f"        {', '.join(targets)} = {call}  # {comment}")
    returned = [variables.names[(e.src, e.src_port)] for n in outputs for e in graph.in_edges(n)]
    comment = ", ".join(shape_text(result.nodes[n].inputs[0]) for n in outputs)
    forward.append(f"        return {', '.join(returned)}  # {comment}")
    helpers = helper_sources({graph.node(n).type_id for n in order})
    return _file(
        class_name, graph, inputs, len(outputs), result, init, forward, helpers, preprocessing
    )


def _file(
    class_name: str,
    graph: Graph,
    inputs: list[str],
    n_outputs: int,
    result: InferenceResult,
    init: list[str],
    forward: list[str],
    helpers: str = "",
    preprocessing: Preprocessing | None = None,
) -> str:
    shapes = [tuple(int(s) for s in graph.node(n).params["shape"]) for n in inputs]
    shape_lines = ", ".join(literal(s) for s in shapes)
    batch = "*(torch.randn(1, *shape) for shape in INPUT_SHAPES)"
    show = (
        'print(f"output shape: {tuple(output.shape)}")'
        if n_outputs == 1
        else 'print(f"output shapes: {[tuple(o.shape) for o in output]}")'
    )
    header = f'''"""{class_name}: a network designed in CNN Designer, as plain PyTorch (needs only torch).

Input per sample (without the batch axis): {", ".join(shape_text(s) for s in shapes)}.
Parameters: {result.total_params:,}. Multiply-accumulates per sample: {result.total_macs:,}.
Run this file as a script to build the model, load trained weights saved beside it (same
name, ``.pt``) if there are any, and print the output shape for a random input.
"""

import warnings
from pathlib import Path

import torch
from torch import nn

INPUT_SHAPES = [{shape_lines}]  # one sample each, without the batch axis
{python_lines(preprocessing)}

{helpers}class {class_name}(nn.Module):
    """The designed network; layer names match the designer's, so state dicts load as saved."""

    def __init__(self) -> None:
        super().__init__()
'''
    footer = f'''

def main() -> None:
    """Build the model, load weights saved beside this file if any, run one random input."""
    model = {class_name}()
    weights = Path(__file__).with_suffix(".pt")
    if weights.exists():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                state = torch.load(weights, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except Exception:
            # one line, without torch's text: that advises loading the file unsafely
            raise SystemExit(
                f"{{weights}}: not weights for {class_name} (a state dict saved with torch.save "
                "that fits this model). Export the weights again with this file, or move the "
                "file away to run without weights"
            ) from None
        print(f"loaded weights: {{weights.name}}")
    model.eval()
    with torch.no_grad():
        output = model({batch})
    {show}
    print(f"parameters: {{sum(p.numel() for p in model.parameters()):,}}")


if __name__ == "__main__":
    main()
'''
    body = init if init else ["        pass  # no layers with weights or settings"]
    return header + "\n".join(body) + "\n\n" + "\n".join(forward) + "\n" + footer


__all__ = ["design_order", "module_paths", "python_source"]
