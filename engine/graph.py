"""The graph a person designs: named nodes of catalog blocks, wired port to port.

Stored in ordered dicts (nodes, and wires keyed by their ports in both directions), walked by
``engine.digraph`` in networkx's orders; networkx itself is imported only to report cycles. Every
edit goes through a method here, which checks it and announces it on ``Graph.events``; the
designer's undo commands call these methods and nothing else. A removal also announces where the
node or wire stood in those orders, and ``restore_node``/``restore_edge`` put it back there, so an
undo gives back the same orders (walk order, layer summary, saved file), not just the same graph.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.catalog import CATALOG, BlockSpec
from engine.digraph import CycleError, reachable, topological_order
from engine.errors import DuplicateNameError, GraphError, UnknownNameError
from engine.events import GraphEvents
from engine.graph_edges import (
    Edge,
    EdgeSlot,
    PortPair,
    Wiring,
    drop_edge,
    has_edge,
    index_of,
    inserted,
    port_index,
    store_edge,
)
from engine.graph_groups import GroupPath, group_name, group_prefixes
from engine.graph_groups import check_group as _check_group  # looked up here: tests patch it
from engine.identifiers import name_problem

__all__ = [
    "UNBYPASSABLE",
    "Edge",
    "EdgeSlot",
    "Graph",
    "GroupPath",
    "Node",
    "PortPair",
    "RemovedNode",
    "Wiring",
    "group_name",
    "group_prefixes",
]

UNBYPASSABLE = frozenset({"input", "output"})  # the ends of the network: never identity


@dataclass
class Node:
    """One block in the graph. ``group`` is its nested group path, outermost first.

    A ``bypassed`` block stays in the design but passes its input through unchanged: inference,
    the compiled model and every export treat it as identity (where its shapes allow)."""

    name: str
    type_id: str
    params: dict[str, Any] = field(default_factory=dict)
    group: GroupPath = ()
    bypassed: bool = False

    @property
    def spec(self) -> BlockSpec:
        """The catalog spec of this node's type."""
        return CATALOG.get(self.type_id)


@dataclass
class RemovedNode:
    """What ``remove_node`` took out, so that ``restore_node`` can put it back exactly.

    ``index`` is the node's place in the node order and ``slots`` the places of ``edges`` (in the
    order they were removed), for ``restore_node(..., in_place=True)``.
    """

    node: Node
    edges: list[Edge]
    index: int | None = None
    slots: list[EdgeSlot] = field(default_factory=list)


def _renamed_key(mapping: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """``mapping`` with key ``old`` called ``new``, in the same place."""
    return {(new if key == old else key): value for key, value in mapping.items()}


class Graph:
    """A network design: nodes, edges and groups, with events on every change."""

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._succ: Wiring = {}  # source -> target -> ports -> edge, in insertion order
        self._pred: Wiring = {}  # target -> source -> ports -> edge
        self._into: dict[str, dict[str, Edge]] = {}  # target -> input port -> its wire
        self.events = GraphEvents()
        self.structure_version = 0  # bumps when nodes or edges change (not on parameter edits)
        self.version = 0  # bumps on every change
        self._wiring = 0  # bumps the moment nodes or wires change (before any event)
        self._cache: dict[str, Any] = {}  # derived data of the current wiring
        self._cache_wiring = -1

    # ----- reading -------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def node(self, name: str) -> Node:
        """The node called ``name``; UnknownNameError names the closest ones."""
        try:
            return self._nodes[name]
        except KeyError:
            raise UnknownNameError("node", name, self._nodes) from None

    @property
    def names(self) -> list[str]:
        """Node names in insertion order."""
        return list(self._nodes)

    @property
    def edges(self) -> list[Edge]:
        """Every wire, by source in insertion order, then by target and port in wiring order."""
        return [
            e
            for targets in self._succ.values()
            for keyed in targets.values()
            for e in keyed.values()
        ]

    def _rewired(self) -> None:
        self._wiring += 1

    def _cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept until the nodes or wires change."""
        if self._cache_wiring != self._wiring:
            self._cache, self._cache_wiring = {}, self._wiring
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _sorted_inputs(self, name: str, edges: list[Edge]) -> list[Edge]:
        if len(edges) > 1:
            type_id = self._nodes[name].type_id
            inputs = CATALOG.get(type_id).inputs if type_id in CATALOG else ()
            order = {port: i for i, port in enumerate(inputs)}
            edges.sort(key=lambda e: (order.get(e.dst_port, 0), port_index(e.dst_port)))
        return edges

    def in_edges(self, name: str) -> list[Edge]:
        """Wires into ``name``, ordered by input port (in0, in1, ... for Add and Concat)."""
        try:
            by_source = self._pred[name]
        except KeyError:
            self.node(name)  # raises UnknownNameError
            raise
        edges = [edge for keyed in by_source.values() for edge in keyed.values()]
        return self._sorted_inputs(name, edges)

    def out_edges(self, name: str) -> list[Edge]:
        """Wires out of ``name``."""
        try:
            by_target = self._succ[name]
        except KeyError:
            self.node(name)
            raise
        return [edge for keyed in by_target.values() for edge in keyed.values()]

    def edge_into(self, name: str, port: str) -> Edge | None:
        """The wire into input ``port`` of ``name``, if any (one look-up: a file's Add of 10,000
        inputs checks each of its wires with it)."""
        try:
            return self._into[name].get(port)
        except KeyError:
            self.node(name)  # raises UnknownNameError
            raise

    def predecessors(self, name: str) -> list[str]:
        """Nodes feeding ``name``."""
        self.node(name)
        return list(self._pred[name])

    def downstream(self, name: str) -> set[str]:
        """Every node reachable from ``name`` (not including it)."""
        self.node(name)
        return reachable(self._succ, name)

    def upstream(self, name: str) -> set[str]:
        """Every node from which ``name`` is reachable (not including it)."""
        self.node(name)
        return reachable(self._pred, name)

    def cycles(self) -> list[list[str]]:
        """Groups of nodes that feed themselves (strongly connected, or a self-loop)."""
        return [list(c) for c in self._cached("cycles", self._find_cycles)]

    def _find_cycles(self) -> list[list[str]]:
        if "order" not in self._cache:  # the usual case: a sort that succeeds proves no cycle
            try:
                self._cache["order"] = (topological_order(self._succ), set())
                return []
            except CycleError:
                pass
        elif not self._cache["order"][1]:
            return []
        import networkx as nx  # only a graph with a cycle (from a file) gets here

        wiring = nx.DiGraph()
        wiring.add_nodes_from(self._nodes)
        wiring.add_edges_from((src, dst) for src, targets in self._succ.items() for dst in targets)
        found = []
        for component in nx.strongly_connected_components(wiring):
            if len(component) > 1 or wiring.has_edge(*(next(iter(component)),) * 2):
                found.append(sorted(component))
        return found

    def evaluation_order(self) -> tuple[list[str], set[str]]:
        """Topological order of the nodes outside cycles, and the set of nodes in cycles."""
        order, in_cycles = self._cached("order", self._evaluation_order)
        return list(order), set(in_cycles)

    def _evaluation_order(self) -> tuple[list[str], set[str]]:
        in_cycles = {n for group in self.cycles() for n in group}
        if not in_cycles:  # finding no cycle sorted the graph already
            return self._cache["order"]
        acyclic = {
            src: [dst for dst in targets if dst not in in_cycles]
            for src, targets in self._succ.items()
            if src not in in_cycles
        }
        return topological_order(acyclic), in_cycles

    def topological_order(self) -> list[str]:
        """Node names so that every node comes after those feeding it; GraphError on a cycle."""
        order, in_cycles = self.evaluation_order()
        if in_cycles:
            raise GraphError(f"the graph has a cycle through {', '.join(sorted(in_cycles))}")
        return order

    def names_of_type(self, type_id: str) -> list[str]:
        """Names of the nodes of one block type, in insertion order (kept until the nodes or
        wires change: inference asks for the Inputs and Outputs after every edit)."""
        names = self._cached(
            f"type:{type_id}", lambda: [n.name for n in self.nodes_of_type(type_id)]
        )
        return list(names)

    def reachable_from(self, names: Iterable[str]) -> frozenset[str]:
        """``names`` and every node downstream of one of them (kept until the wiring changes)."""
        sources = tuple(names)

        def compute() -> frozenset[str]:
            found = set(sources)
            for name in sources:
                found |= self.downstream(name)
            return frozenset(found)

        return self._cached(f"reachable:{sources!r}", compute)

    def nodes_of_type(self, type_id: str) -> list[Node]:
        """All nodes of one block type, in insertion order."""
        return [n for n in self if n.type_id == type_id]

    def groups(self) -> list[str]:
        """Every group name in the graph (nested ones included), sorted."""
        return sorted({g for n in self for g in group_prefixes(n.group)})

    def group_members(self, group: str) -> list[str]:
        """Names of the nodes inside ``group`` (at any depth)."""
        return [n.name for n in self if group in group_prefixes(n.group)]

    def unique_name(self, prefix: str) -> str:
        """The first free name prefix1, prefix2, ... (one of the first len + 1 is free)."""
        candidates = (f"{prefix}{n}" for n in range(1, len(self._nodes) + 2))
        return next(c for c in candidates if c not in self._nodes)

    # ----- editing -------------------------------------------------------------------------
    def _touch(self, structural: bool) -> None:
        self.version += 1
        if structural:
            self.structure_version += 1
        self.events.changed.emit()

    def add_node(
        self,
        type_id: str,
        name: str | None = None,
        params: dict[str, Any] | None = None,
        group: Iterable[str] = (),
    ) -> Node:
        """Add a block; missing parameters take the catalog defaults. Returns the new node."""
        spec = CATALOG.get(type_id)
        name = name if name is not None else self.unique_name(spec.name_prefix)
        self._check_new_name(name)
        unknown = set(params or {}) - {p.name for p in spec.params}
        if unknown:
            raise UnknownNameError(f"parameter of {type_id}", sorted(unknown)[0], spec.defaults())
        group = tuple(group)
        _check_group(group)
        node = Node(name, spec.type_id, spec.with_defaults(dict(params or {})), group)
        self._insert_node(node)
        self._rewired()
        self.events.node_added.emit(node)
        self._touch(structural=True)
        return node

    def _check_new_name(self, name: str) -> None:
        if (problem := name_problem(name)) is not None:
            raise GraphError(problem)
        if name in self._nodes:
            raise DuplicateNameError(
                f"a node called {name!r} already exists. Choose another name, "
                f"such as {self.unique_name(name.rstrip('0123456789') or name)!r}"
            )

    def remove_node(self, name: str) -> RemovedNode:
        """Delete a node and its wires; the returned record restores both.

        Announces ``edge_removed(edge, slot)`` for each wire, then ``node_removed(node, index)``:
        the slot and index say where they stood, for an exact undo.
        """
        node = self.node(name)
        edges = list(dict.fromkeys(self.in_edges(name) + self.out_edges(name)))  # a self-loop once
        slots = [self._remove_edge(edge) for edge in edges]
        index = index_of(self._nodes, name)
        del self._nodes[name], self._succ[name], self._pred[name], self._into[name]
        self._rewired()
        self.events.node_removed.emit(node, index)
        self._touch(structural=True)
        return RemovedNode(node, edges, index, slots)

    def restore_node(self, removed: RemovedNode, in_place: bool = False) -> None:
        """Undo ``remove_node``: the same node with the same wires.

        With ``in_place`` the node and its wires go back to the places they had in every order
        (nodes, wires, hence the walk order and the saved file): valid when the graph is as
        ``remove_node`` left it, as it is for an undo. Otherwise they are added at the end.
        """
        node = removed.node
        self._check_new_name(node.name)
        index = removed.index if in_place and removed.index is not None else len(self._nodes)
        self._insert_node(node, index)
        self._rewired()
        self.events.node_added.emit(node)
        if in_place and len(removed.slots) == len(removed.edges):
            for edge, slot in reversed(list(zip(removed.edges, removed.slots, strict=True))):
                self._add_edge(edge, slot)
        else:
            for edge in removed.edges:
                self._add_edge(edge)
        self._touch(structural=True)

    def free_input_port(self, name: str) -> str | None:
        """The first unconnected input port of ``name``, or None."""
        node = self.node(name)
        taken = {e.dst_port for e in self.in_edges(name)}
        for port in node.spec.input_ports(len(taken)):
            if port not in taken:
                return port
        return None

    def check_connection(
        self, src: str, dst: str, src_port: str = "out", dst_port: str | None = None
    ) -> Edge:
        """The edge ``connect`` would add; GraphError says why it cannot be added."""
        source, target = self.node(src), self.node(dst)
        outputs = source.spec.outputs(source.params)
        if src_port not in outputs:
            have = ", ".join(outputs) or "none"
            raise GraphError(
                f"{src} ({source.type_id}) has no output port {src_port!r} (it has: {have})"
            )
        dst_port = dst_port or self.free_input_port(dst)
        if dst_port is None or not target.spec.accepts_port(dst_port):
            have = ", ".join(target.spec.input_ports()) or "none"
            raise GraphError(f"{dst} ({target.type_id}) has no free input port (its ports: {have})")
        if self.edge_into(dst, dst_port) is not None:
            raise GraphError(f"{dst}.{dst_port} is already connected: remove that wire first")
        if src == dst or src in reachable(self._succ, dst):
            raise GraphError(
                f"wiring {src} → {dst} would make a cycle ({dst} already feeds {src}): "
                "a network must flow one way"
            )
        return Edge(src, src_port, dst, dst_port)

    def connect(
        self, src: str, dst: str, src_port: str = "out", dst_port: str | None = None
    ) -> Edge:
        """Wire ``src.src_port`` to ``dst.dst_port`` (the first free port when None)."""
        edge = self.check_connection(src, dst, src_port, dst_port)
        self._add_edge(edge)
        self._touch(structural=True)
        return edge

    def add_edge_unchecked(self, edge: Edge) -> None:
        """Add a wire as a file describes it, even one making a cycle (inference reports it)."""
        self.node(edge.src)
        self.node(edge.dst)
        self._add_edge(edge)
        self._touch(structural=True)

    def restore_edge(self, edge: Edge, slot: EdgeSlot) -> None:
        """Undo the removal of a wire: put it back at ``slot``, the place ``edge_removed``
        reported (valid when the graph is as that removal left it, as it is for an undo)."""
        self.node(edge.src)
        self.node(edge.dst)
        if has_edge(self._succ, edge):
            raise GraphError(f"the wire {edge} already exists")
        self._add_edge(edge, slot)
        self._touch(structural=True)

    def disconnect(self, edge: Edge) -> EdgeSlot:
        """Remove a wire; returns the slot it stood in (for ``restore_edge``)."""
        if not has_edge(self._succ, edge):
            raise GraphError(f"there is no wire {edge}")
        slot = self._remove_edge(edge)
        self._touch(structural=True)
        return slot

    def _insert_node(self, node: Node, index: int | None = None) -> None:
        """Add ``node`` with no wires, at ``index`` in the node order (the end when None).

        The node table and both wiring tables always list the nodes in the same order."""
        name = node.name
        self._into[name] = {}
        if index is None or index >= len(self._nodes):
            self._nodes[name] = node
            self._succ[name] = {}
            self._pred[name] = {}
        else:
            self._nodes = inserted(self._nodes, index, name, node)
            self._succ = inserted(self._succ, index, name, {})
            self._pred = inserted(self._pred, index, name, {})

    def _add_edge(self, edge: Edge, slot: EdgeSlot | None = None) -> None:
        store_edge(self._succ, self._pred, self._into, edge, slot)
        self._rewired()
        self.events.edge_added.emit(edge)

    def _remove_edge(self, edge: Edge) -> EdgeSlot:
        slot = drop_edge(self._succ, self._pred, self._into, edge, self.in_edges)
        self._rewired()
        self.events.edge_removed.emit(edge, slot)
        return slot

    def set_params(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change parameters (any value is stored; inference reports bad ones). Returns old values."""
        node = self.node(name)
        known = {p.name for p in node.spec.params}
        for key in changes:
            if key not in known:
                raise UnknownNameError(f"parameter of {node.type_id}", key, known)
        old = {key: node.params.get(key) for key in changes}
        node.params.update(changes)
        # outputs can depend on parameters (MaxPool2d's indices): drop wires from vanished ports
        outputs = set(node.spec.outputs(node.params))
        dangling = [e for e in self.out_edges(name) if e.src_port not in outputs]
        for edge in dangling:
            self._remove_edge(edge)
        self.events.params_changed.emit(name, dict(changes), old)
        self._touch(structural=bool(dangling))
        return old

    def set_bypassed(self, name: str, bypassed: bool) -> bool:
        """Bypass a block (identity in inference, compiling and export) or restore it; returns
        the old flag. Input and Output blocks mark the network's ends: GraphError for those."""
        node = self.node(name)
        bypassed = bool(bypassed)
        if bypassed and node.type_id in UNBYPASSABLE:
            raise GraphError(
                f"{name} ({node.type_id}): an {node.spec.display_name} block marks an end of the "
                "network and cannot be bypassed. Received: bypassed=True. Bypass the blocks "
                "between the Input and the Output instead"
            )
        old = node.bypassed
        if old != bypassed:
            node.bypassed = bypassed
            self.events.bypass_changed.emit(name, bypassed, old)
            self._touch(structural=False)
        return old

    def rename(self, old: str, new: str) -> None:
        """Rename a node, keeping its wires."""
        if old == new:
            return
        node = self.node(old)
        self._check_new_name(new)
        edges = self.in_edges(old) + self.out_edges(old)
        # rename the keys where they stand, so the node keeps its place in every order: in the
        # node table, in its neighbours' wiring, and as a key of the wiring itself
        self._nodes = _renamed_key(self._nodes, old, new)
        sources, targets = list(self._pred[old]), list(self._succ[old])  # before either changes
        for source in sources:
            self._succ[source] = _renamed_key(self._succ[source], old, new)
        for target in targets:
            self._pred[target] = _renamed_key(self._pred[target], old, new)
        self._succ = _renamed_key(self._succ, old, new)
        self._pred = _renamed_key(self._pred, old, new)
        self._into[new] = self._into.pop(old)
        node.name = new
        for edge in edges:  # the Edge records name their ends: replace them in place
            src = new if edge.src == old else edge.src
            dst = new if edge.dst == old else edge.dst
            renamed = Edge(src, edge.src_port, dst, edge.dst_port)
            ports = (edge.src_port, edge.dst_port)
            self._succ[src][dst][ports] = self._pred[dst][src][ports] = renamed
            if self._into[dst].get(edge.dst_port) == edge:
                self._into[dst][edge.dst_port] = renamed
        self._rewired()
        self.events.node_renamed.emit(old, new)
        self._touch(structural=True)

    def set_groups(self, groups: dict[str, GroupPath]) -> dict[str, GroupPath]:
        """Move nodes into groups ({name: path}); returns their old paths for undo."""
        old = {name: self.node(name).group for name in groups}
        for path in groups.values():
            _check_group(tuple(path))
        for name, path in groups.items():
            self.node(name).group = tuple(path)
        self.events.groups_changed.emit({name: tuple(path) for name, path in groups.items()}, old)
        self._touch(structural=False)
        return old

    # ----- whole-graph helpers -------------------------------------------------------------
    def copy(self) -> Graph:
        """An independent deep copy without event listeners."""
        other = Graph()
        for node in self:
            other._insert_node(copy.deepcopy(node))
        for edge in self.edges:
            store_edge(other._succ, other._pred, other._into, edge)
        other._rewired()
        return other

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data: {"nodes": [...], "edges": [...]}."""
        nodes = []
        for node in self:
            item: dict[str, Any] = {
                "name": node.name,
                "type": node.type_id,
                "params": copy.deepcopy(node.params),
            }
            if node.group:
                item["group"] = list(node.group)
            if node.bypassed:
                item["bypassed"] = True
            nodes.append(item)
        edges = [[e.src, e.src_port, e.dst, e.dst_port] for e in self.edges]
        return {"nodes": nodes, "edges": edges}

    def __repr__(self) -> str:
        return f"<Graph {len(self)} nodes, {len(self.edges)} edges>"
