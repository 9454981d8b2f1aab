"""Incremental inference: after an edit, re-infer only what the edit can change.

``IncrementalInference(graph)`` follows the graph's events and remembers what each node's visit
gave (its result, its diagnostics, the fixes its rule offered). ``update()`` then visits only
the nodes an edit touched (the edited block, the targets of wires added or removed, the blocks
fed by a renamed one) and, in evaluation order, those downstream of a node whose result
changed: a parameter edit that keeps a layer's output shape re-visits that one layer, one that
changes it stops where the shapes agree again (the next convolution's output). The checks of the
whole graph (cycles, Input and Output present, reachability, group totals, choosing among
fixes) run again every time; they are cheap next to visiting thousands of nodes.

The result is always equal to ``infer(graph)``: a hypothesis test
(tests/test_incremental_inference.py) compares the two after random edits of random graphs. A
graph with a cycle (only a file makes one) is inferred in full. The designer's Document uses
this after every command.
"""

from __future__ import annotations

import heapq
import weakref
from collections.abc import Callable
from typing import Any

from engine.diagnostics import Diagnostic, Fix
from engine.graph import Graph, Node
from engine.inference import InferenceResult, NodeResult, _Pass

# What one node's visit gave: its result, its diagnostics, and (index among those, candidate
# fixes) for the rules that offered a choice of repairs.
Choices = list[tuple[int, tuple[Fix, ...]]]


class IncrementalInference:
    """Keeps the inference result of one graph up to date, edit by edit."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.result: InferenceResult | None = None
        self._visited: dict[str, NodeResult] = {}
        self._found: dict[str, list[Diagnostic]] = {}  # nodes with diagnostics from their visit
        self._choices: dict[str, Choices] = {}
        self._dirty: set[str] = set()
        self._renamed: set[str] = set()  # names that disappeared (removed or renamed)
        self._full = True
        self._positions: dict[str, int] = {}
        self._positions_version = -1
        self._whole: dict[str, list[Diagnostic]] = {}  # diagnostics of the whole-graph checks
        self._had_cycles = False
        events = graph.events
        self._hooks: dict[Any, Callable[..., None]] = {
            events.node_added: lambda node: self._touch(node.name),
            events.node_removed: self._on_removed,
            events.edge_added: lambda edge: self._touch(edge.dst),
            events.edge_removed: lambda edge, _slot: self._touch(edge.dst),
            events.params_changed: lambda name, _new, _old: self._touch(name),
            events.node_renamed: self._on_renamed,
            events.bypass_changed: lambda name, _new, _old: self._touch(name),
        }
        for event, hook in self._hooks.items():
            event.connect(hook)

    def close(self) -> None:
        """Stop following the graph."""
        for event, hook in self._hooks.items():
            event.disconnect(hook)
        self._hooks = {}

    # ----- following the graph -------------------------------------------------------------
    def _touch(self, name: str) -> None:
        self._dirty.add(name)

    def _on_removed(self, node: Node, _index: int) -> None:
        self._forget(node.name)

    def _forget(self, name: str) -> None:
        self._visited.pop(name, None)
        self._found.pop(name, None)
        self._choices.pop(name, None)
        self._dirty.discard(name)
        self._renamed.add(name)

    def _on_renamed(self, old: str, new: str) -> None:
        # messages name the node, and its targets' messages may name it as their source
        self._forget(old)
        self._dirty.add(new)
        self._dirty.update(e.dst for e in self.graph.out_edges(new))

    def invalidate(self) -> None:
        """Infer everything on the next ``update`` (the graph changed without events)."""
        self._full = True

    # ----- updating ------------------------------------------------------------------------
    def update(self) -> InferenceResult:
        """The inference result of the graph as it is now (equal to ``infer(graph)``)."""
        graph = self.graph
        previous = self.result
        order, in_cycles = graph.evaluation_order()
        full = self._full or previous is None or bool(in_cycles) or self._had_cycles
        run = _Pass(graph)
        run.results = self._visited
        changed: set[str] | None
        if full:
            changed = None
            self._visited.clear()
            self._found.clear()
            self._choices.clear()
            for cycle in graph.cycles():
                run.report_cycle(cycle)
            cycle_diagnostics = run.diagnostics
            for name in order:
                self._visit(run, graph.node(name))
        else:
            cycle_diagnostics = []
            changed = self._visit_dirty(run, order)
            changed |= self._renamed
        self._dirty.clear()
        self._renamed.clear()
        self._full = False
        self._had_cycles = bool(in_cycles)
        result = self._assemble(run, order, in_cycles, cycle_diagnostics, changed)
        if previous is not None and changed is not None:
            result.base = weakref.ref(previous)
        self.result = result
        return result

    def _positions_of(self, order: list[str]) -> dict[str, int]:
        if self._positions_version != self.graph.structure_version or len(self._positions) != len(
            order
        ):
            self._positions = {name: i for i, name in enumerate(order)}
            self._positions_version = self.graph.structure_version
        return self._positions

    def _visit(self, run: _Pass, node: Node) -> bool:
        """Visit one node, keeping what it gave; True when its result changed."""
        run.diagnostics, run.choices = [], []
        old = self._visited.get(node.name)
        new = run.visit(node)
        self._visited[node.name] = new
        if run.diagnostics:
            self._found[node.name] = run.diagnostics
        else:
            self._found.pop(node.name, None)
        if run.choices:
            self._choices[node.name] = run.choices
        else:
            self._choices.pop(node.name, None)
        return old is None or old != new

    def _visit_dirty(self, run: _Pass, order: list[str]) -> set[str]:
        """Visit the dirty nodes and, in evaluation order, whatever a changed result feeds."""
        graph = self.graph
        positions = self._positions_of(order)
        heap = [(positions[name], name) for name in self._dirty if name in positions]
        heapq.heapify(heap)
        queued = {name for _, name in heap}
        visited: set[str] = set()
        while heap:
            _, name = heapq.heappop(heap)
            visited.add(name)
            if not self._visit(run, graph.node(name)):
                continue  # same result: its targets read nothing else of it
            for edge in graph.out_edges(name):
                if edge.dst not in queued:
                    queued.add(edge.dst)
                    heapq.heappush(heap, (positions[edge.dst], edge.dst))
        return visited

    def _assemble(
        self,
        run: _Pass,
        order: list[str],
        in_cycles: set[str],
        cycle_diagnostics: list[Diagnostic],
        changed: set[str] | None,
    ) -> InferenceResult:
        """The whole result: the kept visits in evaluation order, then the whole-graph checks,
        exactly as one full pass orders its diagnostics."""
        positions = self._positions_of(order)
        diagnostics = list(cycle_diagnostics)
        choices: Choices = []
        for name in sorted(self._found, key=lambda n: positions.get(n, -1)):
            if name not in positions:
                continue  # in a cycle: reported with the cycle only
            offset = len(diagnostics)
            diagnostics.extend(self._found[name])
            choices.extend((offset + i, fixes) for i, fixes in self._choices.get(name, []))
        final = _Pass(self.graph)
        final.results = dict(self._visited)
        for name in in_cycles:
            final.results.setdefault(name, NodeResult(error=True))
        final.diagnostics = diagnostics
        final.choices = choices
        whole_from = len(diagnostics)
        final.check_whole_graph(in_cycles)
        whole: dict[str, list[Diagnostic]] = {}
        for diagnostic in final.diagnostics[whole_from:]:
            if diagnostic.node is not None:
                whole.setdefault(diagnostic.node, []).append(diagnostic)
        if changed is not None:  # the nodes whose whole-graph messages came or went
            for name in whole.keys() ^ self._whole.keys():
                changed.add(name)
            for name in whole.keys() & self._whole.keys():
                if whole[name] != self._whole[name]:
                    changed.add(name)
        self._whole = whole
        final.choose_among_fixes()
        ordered = [*order, *sorted(in_cycles)]
        result = InferenceResult(final.results, final.diagnostics, ordered, final.group_totals())
        result.changed = None if changed is None else frozenset(changed)
        return result
