"""The receptive field and jump columns of the layer summary (issue 18 point 3), computed only
for the rows asked for (Qt asks for the rows on screen) and kept across edits.

A 5,000-block design's fields take a fifth of a second to work out all at once, so nothing is
worked out until a row is drawn: a block's field needs those of the blocks feeding it, which
are worked out first and kept (what is kept always holds every block upstream of a kept one).
After an edit that keeps the wiring, only the kept blocks the edit changed are worked out again,
and the blocks they feed as long as their field changes; ``update`` returns the blocks whose
field changed, for their rows to be redrawn.
"""

from __future__ import annotations

import heapq

from engine.analysis.receptive_field import Field, jump_text, node_field, size_text
from engine.errors import DesignerError
from engine.graph import Graph
from engine.inference import InferenceResult

_FAILED = (DesignerError, KeyError, ValueError, ZeroDivisionError)


class LazyFields:
    """Receptive fields of the latest inference result, worked out on demand."""

    def __init__(self) -> None:
        self.graph: Graph | None = None
        self.result: InferenceResult | None = None
        self.version = -1
        self.fields: dict[str, Field | None] = {}
        self._positions: dict[str, int] = {}

    def update(self, graph: Graph, result: InferenceResult) -> set[str] | None:
        """Follow ``result``; the kept blocks whose field changed (None: start again)."""
        base = result.base() if result.base is not None else None
        same = graph is self.graph and graph.structure_version == self.version
        if not same or result.changed is None or base is None or base is not self.result:
            self.graph, self.result, self.version = graph, result, graph.structure_version
            self.fields, self._positions = {}, {}
            return None
        self.result = result
        return self._propagate(graph, result, result.changed)

    def _position(self, name: str) -> int:
        if not self._positions and self.result is not None:
            self._positions = {n: i for i, n in enumerate(self.result.order)}
        return self._positions.get(name, -1)

    def _propagate(
        self, graph: Graph, result: InferenceResult, changed: frozenset[str]
    ) -> set[str]:
        fields, altered = self.fields, set()
        heap = [(self._position(n), n) for n in changed if n in fields]
        heapq.heapify(heap)
        done: set[str] = set()
        while heap:
            _, name = heapq.heappop(heap)
            if name in done or name not in graph:
                continue
            done.add(name)
            try:
                field = node_field(graph, result, name, fields)
            except _FAILED:
                field = None
            if fields.get(name) == field:
                continue
            fields[name] = field
            altered.add(name)
            for edge in graph.out_edges(name):
                if edge.dst in fields and edge.dst not in done:
                    heapq.heappush(heap, (self._position(edge.dst), edge.dst))
        return altered

    def field(self, name: str) -> Field | None:
        """Block ``name``'s field, working out first those of the blocks feeding it."""
        graph, result, fields = self.graph, self.result, self.fields
        if graph is None or result is None or name not in graph:
            return None
        if name in fields:
            return fields[name]
        stack = [name]
        while stack:  # depth first, without recursion (a chain may be thousands long)
            current = stack[-1]
            if current in fields:
                stack.pop()
                continue
            # the blocks feeding it in evaluation order (a block in a cycle has no place: its
            # field is unknown), each earlier than it: the walk ends
            missing = [
                e.src
                for e in graph.in_edges(current)
                if e.src not in fields and self._position(e.src) >= 0
            ]
            if missing and self._position(current) >= 0:
                stack.extend(missing)
                continue
            stack.pop()
            try:
                fields[current] = node_field(graph, result, current, fields)
            except _FAILED:
                fields[current] = None
        return fields.get(name)

    def texts(self, name: str) -> tuple[str, str]:
        """The RF and Jump cells of block ``name``."""
        field = self.field(name)
        return size_text(field), jump_text(field)
