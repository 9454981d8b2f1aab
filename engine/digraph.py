"""Ordered adjacency dicts and walks over them: topological generations and reachability.

The engine keeps its graphs in plain dicts and walks them with these functions instead of
networkx, whose import (about 100 ms on these machines) would be most of the designer's start-up
budget (issue 4). They yield networkx's orders exactly (a test compares them with networkx on
every preset). Rarer algorithms, such as the strongly connected components of a graph with a
cycle, still come from networkx, imported where they run.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Hashable, Iterator, Mapping
from typing import Generic, TypeVar

NodeT = TypeVar("NodeT", bound=Hashable)


class CycleError(ValueError):
    """The graph has a cycle, so it has no topological order."""


def topological_generations(successors: Mapping[NodeT, Collection[NodeT]]) -> Iterator[list[NodeT]]:
    """Nodes in generations, as ``networkx.topological_generations`` yields them.

    ``successors`` maps every node, in order, to the nodes it feeds (parallel wires count once).
    The first generation is the nodes fed by none, in the mapping's order; each next one holds the
    nodes whose last feeder was in the one before, in the order they became free. CycleError when
    some nodes are never freed.
    """
    indegree = dict.fromkeys(successors, 0)
    for children in successors.values():
        for child in children:
            indegree[child] += 1
    ready = [node for node, degree in indegree.items() if degree == 0]
    placed = 0
    while ready:
        generation, ready = ready, []
        for node in generation:
            for child in successors[node]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        placed += len(generation)
        yield generation
    if placed != len(indegree):
        raise CycleError(f"{len(indegree) - placed} nodes lie on or behind a cycle")


def topological_order(successors: Mapping[NodeT, Collection[NodeT]]) -> list[NodeT]:
    """The generations of ``successors`` one after another (networkx's ``topological_sort``)."""
    return [node for generation in topological_generations(successors) for node in generation]


def stable_topological_order(successors: Mapping[NodeT, Collection[NodeT]]) -> list[NodeT]:
    """The nodes in the mapping's order, except that every node comes after those feeding it.

    Of the nodes whose feeders are all placed, the earliest in the mapping goes next, so a
    node moves only as far as its wires require: a block added last and wired at the end stays
    last (generations would put every unwired block first). CycleError when some nodes lie on
    or behind a cycle.
    """
    rank = {node: i for i, node in enumerate(successors)}
    indegree = dict.fromkeys(successors, 0)
    for children in successors.values():
        for child in children:
            indegree[child] += 1
    ready = [rank[node] for node, degree in indegree.items() if degree == 0]
    nodes = list(successors)
    order: list[NodeT] = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for child in successors[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, rank[child])
    if len(order) != len(indegree):
        raise CycleError(f"{len(indegree) - len(order)} nodes lie on or behind a cycle")
    return order


def reachable(adjacency: Mapping[NodeT, Collection[NodeT]], start: NodeT) -> set[NodeT]:
    """Every node reachable from ``start`` along ``adjacency``, ``start`` itself excluded."""
    seen: set[NodeT] = set()
    stack = [start]
    while stack:
        for neighbour in adjacency[stack.pop()]:
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    seen.discard(start)
    return seen


def cycle_through(
    successors: Mapping[NodeT, Collection[NodeT]], start: NodeT, members: Collection[NodeT]
) -> list[NodeT]:
    """One cycle of the strongly connected ``members``, as a path that returns to its first node.

    Walks from ``start`` along edges that stay inside ``members`` until a node comes round again:
    every member has such an edge, so the walk closes within ``len(members)`` steps.
    """
    inside = members if isinstance(members, set | frozenset) else set(members)
    seen: dict[NodeT, int] = {}
    path: list[NodeT] = []
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(child for child in successors[node] if child in inside)
    return path[seen[node] :]


class OrderedDiGraph(Generic[NodeT]):
    """A directed graph without parallel edges, kept in insertion order (as networkx's DiGraph)."""

    def __init__(self) -> None:
        self.successors: dict[NodeT, dict[NodeT, None]] = {}
        self.predecessors: dict[NodeT, dict[NodeT, None]] = {}

    def add_node(self, node: NodeT) -> None:
        """Add ``node`` at the end of the order (nothing when it is there already)."""
        if node not in self.successors:
            self.successors[node] = {}
            self.predecessors[node] = {}

    def add_edge(self, source: NodeT, target: NodeT) -> None:
        """Add an edge, and its ends when they are new."""
        self.add_node(source)
        self.add_node(target)
        self.successors[source][target] = None
        self.predecessors[target][source] = None

    def edges(self) -> list[tuple[NodeT, NodeT]]:
        """Every edge, by source in node order, then by target in insertion order."""
        return [(u, v) for u, targets in self.successors.items() for v in targets]

    def __len__(self) -> int:
        return len(self.successors)

    def __iter__(self) -> Iterator[NodeT]:
        return iter(self.successors)

    def __contains__(self, node: object) -> bool:
        return node in self.successors
