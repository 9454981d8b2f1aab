"""Design diff: what changed between two graphs, and how to replay it.

``diff_graphs(a, b)`` matches the blocks of two designs, by name first, then by structure where
names differ: an unmatched block of B takes the first unmatched block of A (in A's order) with
the same type, the same parameters and the same matched neighbours (wires to blocks matched
already, with their ports), needing at least one such neighbour; passes repeat while they match
more, so a renamed chain is matched block by block from its matched end. Such a pair is reported
renamed, not removed and added. Then it lists the blocks added and removed, retyped (same name,
other type), re-parametrised (compared after the spec's defaults are filled in, so a default
written out is no change), regrouped, bypassed or restored, and the wires added and removed, with
parameter and MAC totals of both sides from ``infer``.

``apply_diff(a, diff)`` replays a diff on a copy of A and gives a graph equal to B (the same
blocks with their types, parameters, groups and bypass flags, and the same wires). Text and
JSON forms are in ``engine.diff_report``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.catalog import CATALOG
from engine.graph import Edge, Graph, GroupPath, Node

Wire = tuple[str, str, str, str]  # (src, src_port, dst, dst_port)


@dataclass(frozen=True)
class NodeChange:
    """A block on both sides, of the same type, whose settings differ (named as in B)."""

    node: str
    params: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # key -> (old, new)
    bypassed: tuple[bool, bool] | None = None


@dataclass(frozen=True)
class Retyped:
    """A block called the same on both sides but of another type; ``params`` lists every
    parameter of the new type as (old value or None where the old type has no such, new)."""

    node: str
    old_type: str
    new_type: str
    params: dict[str, tuple[Any, Any]]
    bypassed: tuple[bool, bool] | None = None


@dataclass
class DesignDiff:
    """The differences between designs A and B. Removed blocks and removed wires are named as
    in A, everything else as in B; ``renamed`` pairs (A name, B name)."""

    added: list[Node] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    retyped: list[Retyped] = field(default_factory=list)
    changed: list[NodeChange] = field(default_factory=list)
    regrouped: list[tuple[str, GroupPath, GroupPath]] = field(default_factory=list)
    wires_added: list[Wire] = field(default_factory=list)
    wires_removed: list[Wire] = field(default_factory=list)
    params: tuple[int, int] = (0, 0)  # total parameters of A and of B
    macs: tuple[int, int] = (0, 0)

    @property
    def empty(self) -> bool:
        """Whether the two designs are the same (totals aside, which then agree)."""
        return not (
            self.added
            or self.removed
            or self.renamed
            or self.retyped
            or self.changed
            or self.regrouped
            or self.wires_added
            or self.wires_removed
        )


def canonical(value: Any) -> str:
    """A value's comparable form: tuples as lists, 1 and 1.0 and True told apart."""
    return json.dumps(value, sort_keys=True, default=repr)


def full_params(node: Node) -> dict[str, Any]:
    """The node's parameters with the spec's defaults filled in (as they are when absent)."""
    if node.type_id not in CATALOG:
        return dict(node.params)
    return CATALOG.get(node.type_id).with_defaults(dict(node.params))


def _same_params(a: Node, b: Node) -> bool:
    pa, pb = full_params(a), full_params(b)
    return pa.keys() == pb.keys() and all(canonical(pa[k]) == canonical(pb[k]) for k in pa)


def _bypassed(node: Node) -> bool:
    return bool(getattr(node, "bypassed", False))


def _wires(graph: Graph) -> list[Wire]:
    return [(e.src, e.src_port, e.dst, e.dst_port) for e in graph.edges]


def _neighbours(graph: Graph, name: str, mapped: dict[str, str]) -> tuple[frozenset[Wire], ...]:
    """``name``'s wires to matched blocks, those blocks named through ``mapped`` (itself as
    "*"): the structure two blocks must share to be one renamed block."""
    into = frozenset(
        (mapped[e.src], e.src_port, "*", e.dst_port)
        for e in graph.in_edges(name)
        if e.src in mapped
    )
    out = frozenset(
        ("*", e.src_port, mapped[e.dst], e.dst_port)
        for e in graph.out_edges(name)
        if e.dst in mapped
    )
    return into, out


def _kind(node: Node) -> str:
    """Type and parameters, as one comparable text."""
    return canonical([node.type_id, full_params(node)])


def match_nodes(a: Graph, b: Graph) -> dict[str, str]:
    """A name -> B name for the blocks on both sides: same names first, then by structure."""
    matched = {name: name for name in a.names if name in b}
    loose_b = [n for n in b.names if n not in matched]
    loose_a: dict[str, list[str]] = {}  # type and parameters -> unmatched A names, in order
    for name in a.names:
        if name not in matched:
            loose_a.setdefault(_kind(a.node(name)), []).append(name)
    kinds_b = {name: _kind(b.node(name)) for name in loose_b}
    progress = True
    while progress and loose_a and loose_b:
        progress = False
        identity = {v: v for v in matched.values()}
        for name_b in list(loose_b):
            candidates = loose_a.get(kinds_b[name_b], [])
            wanted = _neighbours(b, name_b, identity)
            if not candidates or not (wanted[0] or wanted[1]):
                continue
            for name_a in candidates:
                if _neighbours(a, name_a, matched) == wanted:
                    matched[name_a] = name_b
                    identity[name_b] = name_b
                    candidates.remove(name_a)
                    loose_b.remove(name_b)
                    progress = True
                    break
    return matched


def _totals(graph: Graph) -> tuple[int, int]:
    from engine.inference import infer

    result = infer(graph)
    return result.total_params, result.total_macs


def _param_changes(a: Node, b: Node, every: bool = False) -> dict[str, tuple[Any, Any]]:
    pa, pb = full_params(a), full_params(b)
    keys = list(pb) if every else list(dict.fromkeys([*pa, *pb]))
    return {
        k: (pa.get(k), pb.get(k))
        for k in keys
        if every or k not in pa or k not in pb or canonical(pa[k]) != canonical(pb[k])
    }


def diff_graphs(a: Graph, b: Graph) -> DesignDiff:
    """What turns design ``a`` into design ``b``."""
    matched = match_nodes(a, b)
    diff = DesignDiff()
    kept_b = set(matched.values())
    diff.removed = [n for n in a.names if n not in matched]
    diff.added = [_copy_node(b.node(n)) for n in b.names if n not in kept_b]
    diff.renamed = [(old, new) for old, new in matched.items() if old != new]
    for name_a, name_b in matched.items():
        node_a, node_b = a.node(name_a), b.node(name_b)
        flags = (_bypassed(node_a), _bypassed(node_b))
        bypassed = flags if flags[0] != flags[1] else None
        if node_a.type_id != node_b.type_id:
            changes = _param_changes(node_a, node_b, every=True)
            diff.retyped.append(Retyped(name_b, node_a.type_id, node_b.type_id, changes, bypassed))
        elif (changes := _param_changes(node_a, node_b)) or bypassed:
            diff.changed.append(NodeChange(name_b, changes, bypassed))
        if node_a.group != node_b.group:
            diff.regrouped.append((name_b, node_a.group, node_b.group))
    renamed_wires = {
        (matched.get(s, f"\0{s}"), sp, matched.get(d, f"\0{d}"), dp): (s, sp, d, dp)
        for s, sp, d, dp in _wires(a)
    }
    wires_b = _wires(b)
    present_b = set(wires_b)
    diff.wires_removed = [w for key, w in renamed_wires.items() if key not in present_b]
    diff.wires_added = [w for w in wires_b if w not in renamed_wires]
    (params_a, macs_a), (params_b, macs_b) = _totals(a), _totals(b)
    diff.params, diff.macs = (params_a, params_b), (macs_a, macs_b)
    return diff


def _copy_node(node: Node) -> Node:
    import copy

    return copy.deepcopy(node)


def _temporary_names(graph: Graph, count: int, avoid: Iterable[str]) -> list[str]:
    taken = set(graph.names) | set(avoid)
    names: list[str] = []
    index = 0
    while len(names) < count:
        index += 1
        candidate = f"diff_renaming_{index}"
        if candidate not in taken:
            names.append(candidate)
    return names


def apply_diff(a: Graph, diff: DesignDiff) -> Graph:
    """A copy of ``a`` with ``diff`` applied: equal to the B the diff was taken against."""
    graph = a.copy()
    for src, src_port, dst, dst_port in diff.wires_removed:
        graph.disconnect(Edge(src, src_port, dst, dst_port))
    for name in diff.removed:
        graph.remove_node(name)
    # renames in two steps (through free names), so that a swap or a chain cannot collide
    final = [new for _, new in diff.renamed]
    temporary = _temporary_names(graph, len(diff.renamed), final)
    for (old, _), step in zip(diff.renamed, temporary, strict=True):
        graph.rename(old, step)
    for step, new in zip(temporary, final, strict=True):
        graph.rename(step, new)
    for retyped in diff.retyped:
        _retype(graph, retyped)
    for change in diff.changed:
        if change.params:
            graph.set_params(change.node, {k: new for k, (_, new) in change.params.items()})
        if change.bypassed is not None:
            _set_bypassed(graph, change.node, change.bypassed[1])
    if diff.regrouped:
        graph.set_groups({name: new for name, _, new in diff.regrouped})
    for node in diff.added:
        graph.add_node(node.type_id, node.name, dict(node.params), node.group)
        if _bypassed(node):
            _set_bypassed(graph, node.name, True)
    for src, src_port, dst, dst_port in diff.wires_added:
        graph.add_edge_unchecked(Edge(src, src_port, dst, dst_port))
    return graph


def _set_bypassed(graph: Graph, name: str, flag: bool) -> None:
    setter = getattr(graph, "set_bypassed", None)
    if setter is not None:
        setter(name, flag)


def _retype(graph: Graph, retyped: Retyped) -> None:
    """Replace a block by one of another type under the same name, keeping its place in the
    node order, its group and its wires (the wires that change are in the diff's wire lists)."""
    old = graph.node(retyped.node)
    removed = graph.remove_node(retyped.node)
    params = {k: new for k, (_, new) in retyped.params.items()}
    removed.node = Node(retyped.node, retyped.new_type, params, old.group)
    graph.restore_node(removed, in_place=True)
    flag = retyped.bypassed[1] if retyped.bypassed is not None else _bypassed(old)
    if flag:
        _set_bypassed(graph, retyped.node, True)
