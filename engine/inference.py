"""Shape and cost inference: one pass over the graph that never raises on a user's mistake.

``infer(graph)`` gives every node its input and output shapes, parameter count and
multiply-accumulates (MACs: convolution and fully connected layers, bias excluded, the papers'
convention), and a list of diagnostics naming the node, the rule, the numbers and the fix.
Nodes downstream of an error get unknown (None) results.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from engine.catalog import CATALOG, RuleContext, Shape, ShapeRuleError, fmt_shape
from engine.catalog.spec import BlockSpec
from engine.diagnostics import Diagnostic, Fix, FixAction, Severity
from engine.digraph import cycle_through
from engine.errors import DesignerError
from engine.graph import Edge, Graph, GroupPath, Node, group_prefixes
from engine.inference_memo import (
    OUTCOMES,
    OUTCOMES_LIMIT,
    outcome_key,
    param_problem,
    remembered,
)
from engine.inference_memo import clear_memo as clear_memo  # re-exported for benchmarks

MACS_CONVENTION = (
    "MACs: multiply-accumulates of convolution and fully connected layers, bias excluded"
)

TORCH_COUNT_LIMIT = 2**63 - 1  # sizes and element counts are int64 in torch

# Inputs that must come from a particular block's output port: {type_id: {port: (type, port)}}
REQUIRED_SOURCES: dict[str, dict[str, tuple[str, str]]] = {
    "maxunpool2d": {"indices": ("maxpool2d", "indices")},
}
# ... and those outputs feed nothing else
_RESTRICTED_OUTPUTS = {source for ports in REQUIRED_SOURCES.values() for source in ports.values()}


_CONTEXT_CHECKED = {"maxunpool2d"}  # its result also depends on the pooling layer it undoes

CHOOSE_FIXES_UP_TO_NODES = 2_000  # graphs where a diagnostic's fixes are tried on the network
CHOOSE_FIXES_FOR = 3  # diagnostics per pass whose fixes are tried
_CYCLE_SHOWN = 8  # names of a cycle's path a message shows at most


def _short(name: str, limit: int = 40) -> str:
    """A node name cut to about ``limit`` characters, for a message that lists many."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


@dataclass
class NodeResult:
    """What inference found for one node. None means unknown (an error here or upstream)."""

    inputs: list[Shape | None] = field(default_factory=list)
    outputs: dict[str, Shape | None] = field(default_factory=dict)
    params: int | None = None
    macs: int | None = None
    error: bool = False

    @property
    def known(self) -> bool:
        """Whether the shapes and counts of this node could be computed."""
        return self.params is not None

    @property
    def output(self) -> Shape | None:
        """The shape on the main output port ("out"), or on the input of an Output block.

        Unknown (None) for a node that failed or whose inputs are unknown: its input shape is
        not its output, even where the two would often agree."""
        if "out" in self.outputs:
            return self.outputs["out"]
        if self.error or not self.known or self.outputs:
            return None
        return self.inputs[0] if self.inputs else None  # an Output block: it has no ports


@dataclass
class GroupTotal:
    """Parameter and MAC totals of a group (None when some member is unknown)."""

    params: int | None
    macs: int | None
    members: int


@dataclass
class InferenceResult:
    """Results for every node plus the diagnostics of the whole graph."""

    nodes: dict[str, NodeResult]
    diagnostics: list[Diagnostic]
    order: list[str]
    groups: dict[str, GroupTotal] = field(default_factory=dict)
    # Set by an incremental update (engine.incremental): the nodes whose result, diagnostics or
    # own settings may differ from those of ``base()``, the result it was derived from. None
    # after a full pass: anything may have changed.
    changed: frozenset[str] | None = field(default=None, compare=False, repr=False)
    base: Callable[[], InferenceResult | None] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error (the graph compiles)."""
        return not self.errors

    @property
    def errors(self) -> list[Diagnostic]:
        """The error diagnostics."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """The warning diagnostics."""
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    def for_node(self, name: str) -> list[Diagnostic]:
        """The diagnostics about one node."""
        return [d for d in self.diagnostics if d.node == name]

    def edge_shape(self, edge: Edge) -> Shape | None:
        """The tensor shape carried by a wire (None when unknown)."""
        result = self.nodes.get(edge.src)
        return None if result is None else result.outputs.get(edge.src_port)

    @property
    def total_params(self) -> int:
        """Sum of the parameters of the nodes whose count is known."""
        return sum(r.params or 0 for r in self.nodes.values())

    @property
    def total_macs(self) -> int:
        """Sum of the MACs of the nodes whose count is known."""
        return sum(r.macs or 0 for r in self.nodes.values())


class _Pass:
    """One inference pass; kept as an object so each step is a small method."""

    def __init__(self, graph: Graph, choose_fixes: bool = True) -> None:
        self.graph = graph
        self.results: dict[str, NodeResult] = {}
        self.diagnostics: list[Diagnostic] = []
        self.choose_fixes = choose_fixes
        # (index in diagnostics, candidate fixes in order of preference) to choose among
        self.choices: list[tuple[int, tuple[Fix, ...]]] = []

    def report(
        self,
        node: str | None,
        message: str,
        code: str,
        severity: Severity = Severity.ERROR,
        fix: Fix | None = None,
    ) -> None:
        prefix = ""
        if node is not None:
            prefix = f"{node} ({self.graph.node(node).type_id}): "
        self.diagnostics.append(Diagnostic(node, severity, prefix + message, code, fix))

    def run(self) -> InferenceResult:
        graph = self.graph
        order, in_cycles = graph.evaluation_order()
        for cycle in graph.cycles():
            self.report_cycle(cycle)
        for name in order:
            self.results[name] = self.visit(graph.node(name))
        self.check_whole_graph(in_cycles)
        if self.choose_fixes:
            self.choose_among_fixes()
        ordered = [n for n in order] + sorted(in_cycles)
        return InferenceResult(self.results, self.diagnostics, ordered, self.group_totals())

    def report_cycle(self, members: list[str]) -> None:
        """One diagnostic per cycle, on its first member, with a bounded excerpt of its path (a
        file may close a chain of 50,000 blocks into one); every member is unknown."""
        inside = set(members)
        successors = {
            name: [e.dst for e in self.graph.out_edges(name) if e.dst in inside] for name in members
        }
        path = cycle_through(successors, members[0], inside)
        shown = [_short(name) for name in path]
        if len(shown) > _CYCLE_SHOWN:
            shown = [*shown[: _CYCLE_SHOWN - 2], "…", *shown[-2:]]
        excerpt = " → ".join([*shown, _short(path[0])])
        if len(members) == len(path) <= _CYCLE_SHOWN:
            where = f"a cycle ({excerpt})"
        else:
            where = f"a cycle of {len(members):,} blocks feeding each other ({excerpt})"
        self.report(
            path[0],
            f"is part of {where}; a network must flow one way. Remove one of the wires of the "
            "cycle",
            "cycle",
        )
        for name in members:
            self.results[name] = NodeResult(error=True)

    # ----- one node ------------------------------------------------------------------------
    def visit(self, node: Node) -> NodeResult:
        result = self.visit_block(node)
        return bypassed_result(self, node, result) if node.bypassed else result

    def visit_block(self, node: Node) -> NodeResult:
        spec = CATALOG.get(node.type_id) if node.type_id in CATALOG else None
        if spec is None:
            self.report(
                node.name,
                f"unknown block type {node.type_id!r}: the file may come from a newer "
                "version of CNN Designer. Replace the block or update the program",
                "unknown_type",
            )
            return NodeResult(error=True)
        if node.type_id not in _CONTEXT_CHECKED:
            shapes = self.plain_inputs(node, spec)
            known = None
            if shapes is not None:
                known = remembered(outcome_key(node.type_id, node.params, shapes))
            if known is not None:  # checked and computed before: same parameters, same inputs
                outputs_known, count, macs = known
                return NodeResult(shapes, dict(outputs_known), count, macs)  # type: ignore[arg-type]
        return self.evaluate(node, spec)

    def plain_inputs(self, node: Node, spec: BlockSpec) -> list[Shape] | None:
        """The input shapes when every port is wired from the known "out" port of an ordinary
        block (nearly every node); None when ``gather_inputs`` has something to check or report."""
        edges = self.graph.in_edges(node.name)
        if spec.variadic:
            if len(edges) < spec.min_inputs:
                return None
        elif len(edges) == 1:
            if spec.inputs != (edges[0].dst_port,):
                return None
        elif tuple([edge.dst_port for edge in edges]) != spec.inputs:
            return None
        shapes = []
        results = self.results
        for edge in edges:
            source = results.get(edge.src) if edge.src_port == "out" else None
            shape = None if source is None else source.outputs.get("out")
            if shape is None:
                return None
            shapes.append(shape)
        return shapes

    def evaluate(self, node: Node, spec: BlockSpec) -> NodeResult:
        """Check a node's parameters and inputs and run its rules, reporting what is wrong."""
        params = spec.with_defaults(node.params)
        reported = len(self.diagnostics)
        inputs, inputs_ok = self.gather_inputs(node, spec)
        params_ok = self.check_params(node, spec, params)
        if not (params_ok and inputs_ok):
            # an error of this node's own, or only unknown shapes from upstream
            return NodeResult(inputs=inputs, error=len(self.diagnostics) > reported)
        shapes: list[Shape] = [s for s in inputs if s is not None]
        ports = tuple(edge.dst_port for edge in self.graph.in_edges(node.name))
        ctx = RuleContext(node.name, params, shapes, ports=ports)
        try:
            outputs = spec.shape(ctx)
        except ShapeRuleError as error:
            if error.fix is not None and error.alternatives:
                self.choices.append((len(self.diagnostics), (error.fix, *error.alternatives)))
            self.report(node.name, error.message, error.code, fix=error.fix)
            return NodeResult(inputs=inputs, error=True)
        except Exception as error:  # a bug in a rule must not take the designer down
            self.report(node.name, f"internal error in the shape rule: {error!r}", "internal")
            return NodeResult(inputs=inputs, error=True)
        if node.type_id == "maxunpool2d" and not self.check_unpool_size(node, outputs[0]):
            return NodeResult(inputs=inputs, error=True)
        for message, fix in ctx.warnings:
            self.report(node.name, message, "warning", Severity.WARNING, fix)
        by_port = dict(zip(spec.outputs(params), outputs, strict=True))
        count = spec.param_count(params, shapes)
        if not self.check_countable(node, outputs, count):
            return NodeResult(inputs=inputs, error=True)
        macs = spec.macs(params, shapes, outputs)
        clean = len(self.diagnostics) == reported and not ctx.warnings
        if clean and node.type_id not in _CONTEXT_CHECKED:
            if len(OUTCOMES) >= OUTCOMES_LIMIT:
                OUTCOMES.clear()
            outcome = (dict(by_port), count, macs)
            with contextlib.suppress(TypeError):  # unhashable values are checked every time
                OUTCOMES[outcome_key(node.type_id, node.params, shapes)] = outcome
        return NodeResult(inputs, dict(by_port), count, macs)

    def check_countable(self, node: Node, outputs: tuple[Shape, ...], count: int) -> bool:
        """Sizes past what torch counts in 64 bits (a huge padding, scale or width) are errors."""
        values = max(map(math.prod, outputs), default=0)
        if values <= TORCH_COUNT_LIMIT and count <= TORCH_COUNT_LIMIT:
            return True
        # written as a power of ten: str() of an int of over 4,300 digits raises
        what = (
            f"an output of about 10^{math.floor(math.log10(values))} values per sample"
            if values > TORCH_COUNT_LIMIT
            else f"about 10^{math.floor(math.log10(count))} parameters"
        )
        self.report(
            node.name,
            f"would have {what}: more than torch can count (2^63 - 1, about 10^18). Lower "
            "the sizes that make it this large",
            "too_large",
        )
        return False

    def check_params(self, node: Node, spec: BlockSpec, params: dict) -> bool:
        ok = True
        for param in spec.params:
            problem = param_problem(param, params[param.name])
            if problem is not None:
                fix = None
                if param.default is not None:
                    fix = Fix(
                        f"reset {param.name} to {param.default!r}",
                        FixAction.SET_PARAMS,
                        node.name,
                        {param.name: param.default},
                    )
                self.report(node.name, problem, "param", fix=fix)
                ok = False
        return ok

    def gather_inputs(self, node: Node, spec: BlockSpec) -> tuple[list[Shape | None], bool]:
        """Shapes arriving on each input port; False when one is missing or unknown."""
        edges = self.graph.in_edges(node.name)
        by_port = {e.dst_port: e for e in edges}
        ports = spec.input_ports(len(edges)) if not spec.variadic else [e.dst_port for e in edges]
        if spec.variadic and len(edges) < spec.min_inputs:
            self.report(
                node.name,
                f"needs at least {spec.min_inputs} inputs but has {len(edges)}. "
                "Wire the outputs of the branches to join into it",
                "unconnected",
            )
            return [], False
        inputs: list[Shape | None] = []
        ok = True
        for port in ports:
            edge = by_port.get(port)
            if edge is None:
                self.report(
                    node.name,
                    f"input port {port!r} is not connected: wire the output of a previous block to it",
                    "unconnected",
                )
                inputs.append(None)
                ok = False
                continue
            source = self.results.get(edge.src)
            shape = None if source is None else source.outputs.get(edge.src_port)
            inputs.append(shape)
            if edge.src_port == "out" and node.type_id not in REQUIRED_SOURCES:
                ok = ok and shape is not None  # an ordinary wire: nothing more to check
                continue
            source_ok = self.check_source(node, port, edge)
            ok = ok and shape is not None and source_ok
        return inputs, ok

    def check_source(self, node: Node, port: str, edge: Edge) -> bool:
        """Indices (integer positions) travel only from a MaxPool2d to a MaxUnpool2d."""
        source = self.graph.node(edge.src)
        required = REQUIRED_SOURCES.get(node.type_id, {}).get(port)
        if required is None:
            if (source.type_id, edge.src_port) not in _RESTRICTED_OUTPUTS:
                return True
            self.report(
                node.name,
                f"its {port!r} input receives the {edge.src_port!r} output of {edge.src} "
                f"({source.type_id}): integer positions, not values, which only a "
                "MaxUnpool2d's 'indices' input takes. Wire the 'out' port of "
                f"{edge.src} here instead",
                "indices_use",
            )
            return False
        if (source.type_id, edge.src_port) != required:
            self.report(
                node.name,
                f"its {port!r} input must come from the {required[1]!r} output of a "
                f"{CATALOG.get(required[0]).display_name}, but comes from {edge.src} "
                f"({source.type_id}). Turn on return_indices in the pooling layer that this "
                "block undoes and wire its indices here",
                "unpool_source",
            )
            return False
        return True

    def check_unpool_size(self, node: Node, output: Shape) -> bool:
        """MaxUnpool2d must restore the size its MaxPool2d pooled, or its indices misplace values."""
        edge = self.graph.edge_into(node.name, "indices")
        if edge is None:
            return True
        pooled = self.results[edge.src].inputs[0]
        if pooled is None or pooled[1:] == output[1:]:
            return True
        p = node.params
        self.report(
            node.name,
            f"gives {fmt_shape(output[1:])} but the MaxPool2d {edge.src} it undoes pooled a "
            f"{fmt_shape(pooled[1:])} input, so its indices would land in the wrong places. "
            f"Received: kernel_size={p['kernel_size']}, stride={p['stride']}, "
            f"padding={p['padding']}. Use the pooling layer's kernel, stride and padding, and an "
            "input size it divides evenly",
            "unpool_size",
        )
        return False

    # ----- the whole graph -----------------------------------------------------------------
    def choose_among_fixes(self) -> None:
        """Where a rule offers several repairs, offer the one that leaves the network cleanest.

        Each candidate is tried on a copy of the graph: fewest errors, then fewest warnings win,
        and the rule's order breaks ties (a kernel of 30 on a LeNet's 28×28 input becomes one
        the pooling after it divides evenly). Bounded: small graphs, a few diagnostics.
        """
        if not self.choices or len(self.graph) > CHOOSE_FIXES_UP_TO_NODES:
            return
        for index, candidates in self.choices[:CHOOSE_FIXES_FOR]:
            best = min(candidates, key=self.trial)  # min keeps the first of equals
            if best is not candidates[0]:
                self.diagnostics[index] = replace(self.diagnostics[index], fix=best)

    def trial(self, fix: Fix) -> tuple[int, int, int]:
        """(node still wrong, errors, warnings) of the graph with ``fix`` applied."""
        from engine.fixes import apply_fix

        trial = self.graph.copy()
        try:
            apply_fix(trial, fix)
        except DesignerError:
            return (1, len(trial), len(trial))
        result = _Pass(trial, choose_fixes=False).run()
        still = any(d.node == fix.node for d in result.errors)
        return (int(still), len(result.errors), len(result.warnings))

    def check_whole_graph(self, in_cycles: set[str]) -> None:
        graph = self.graph
        inputs = graph.names_of_type("input")
        if not inputs:
            self.report(
                None, "the network has no Input block: add one from the palette", "no_input"
            )
        if not graph.names_of_type("output") and len(graph):
            sinks = [n.name for n in graph if not graph.out_edges(n.name) and n.type_id != "input"]
            hint = f" after {sinks[-1]}" if sinks else ""
            self.report(
                None,
                f"the network has no Output block: add one{hint} to mark what the network returns",
                "no_output",
            )
        reachable = graph.reachable_from(inputs)
        flagged = {d.node for d in self.diagnostics if d.severity is Severity.ERROR}
        for node in graph:
            if node.name in reachable or node.name in in_cycles or node.name in flagged:
                continue
            if flagged & graph.upstream(node.name):
                continue  # downstream of an error that already explains it: only unknown
            self.report(
                node.name,
                "is not reachable from any Input, so its shape is unknown. Wire it into the "
                "network or delete it",
                "unreachable",
            )
            # a new record: an incremental pass keeps the visited one for the next edit
            self.results[node.name] = replace(self.results[node.name], error=True)

    def group_totals(self) -> dict[str, GroupTotal]:
        # nodes share few distinct group paths: total per path first, then roll up into prefixes
        per_path: dict[GroupPath, list[int | None]] = {}
        for node in self.graph:
            if not node.group:
                continue
            totals = per_path.setdefault(node.group, [0, 0, 0])
            result = self.results.get(node.name)
            totals[2] += 1  # type: ignore[operator]
            if result is None or result.params is None or result.macs is None:
                totals[0] = totals[1] = None
            elif totals[0] is not None:
                totals[0] += result.params
                totals[1] += result.macs  # type: ignore[operator]
        groups: dict[str, GroupTotal] = {}
        for path, (params, macs, members) in per_path.items():
            for group in group_prefixes(path):
                total = groups.get(group)
                if total is None:
                    groups[group] = GroupTotal(params, macs, members)  # type: ignore[arg-type]
                    continue
                total.members += members  # type: ignore[operator]
                if total.params is None or params is None:
                    total.params = total.macs = None
                else:
                    total.params += params
                    total.macs += macs  # type: ignore[operator]
        return groups


def bypassed_result(run: _Pass, node: Node, result: NodeResult) -> NodeResult:
    """A bypassed block's result: its input passed through, with no parameters and no MACs.

    Identity only stands in for a block whose one input has the shape of its one output (a
    ReLU, a BatchNorm, a padded 3×3 convolution that keeps its channels); otherwise the block is
    reported, with the shapes and the fix. Its own errors (or unknown inputs) stay as they are.
    """
    if result.error or not result.known:
        return result
    if len(result.inputs) == 1 and list(result.outputs) == ["out"]:
        if result.outputs["out"] == result.inputs[0]:
            return NodeResult(list(result.inputs), dict(result.outputs), 0, 0)
        received = f"input={fmt_shape(result.inputs[0])}, output={fmt_shape(result.outputs['out'])}"
        rule = "its output must have its input's shape"
    else:
        received = f"inputs={len(result.inputs)}, outputs={len(result.outputs)}"
        rule = "it must have one input and one output"
    run.report(
        node.name,
        f"is bypassed, so it would pass its input through unchanged, but {rule}. Received: "
        f"{received}. Un-bypass it, or change its parameters so that the shapes agree",
        "bypass_shape",
        fix=Fix("un-bypass it", FixAction.SET_BYPASSED, node.name, {"bypassed": False}),
    )
    return NodeResult(inputs=list(result.inputs), error=True)


def infer(graph: Graph) -> InferenceResult:
    """Shapes, parameter counts, MACs and diagnostics for every node of ``graph``."""
    return _Pass(graph).run()


def describe(result: InferenceResult, name: str) -> str:
    """A one-line account of a node: its output shape, parameters and MACs."""
    node = result.nodes[name]
    shape = fmt_shape(node.output)
    if not node.known:
        return f"{name}: {shape}"
    return f"{name}: {shape}, {node.params:,} params, {node.macs:,} MACs"
