"""The wires of a ``Graph`` and the ordered tables that index them.

A graph keeps its wires in ordered dicts keyed by their ports in both directions (source ->
target -> ports -> edge, and target -> source -> ports -> edge), plus a table of the wire into
each input port. These functions add and remove a wire in those tables, at the end of every order
or at a given ``EdgeSlot``, so that an undo puts a wire back exactly where it stood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")
PortPair = tuple[str, str]  # (source port, target port): tells parallel wires apart
Wiring = dict[str, dict[str, dict[PortPair, "Edge"]]]  # node -> neighbour -> ports -> edge
Into = dict[str, dict[str, "Edge"]]  # target -> input port -> its wire
# Where a wire stood in the ordered wiring, so that undo puts it back there: the target's place
# among its source's targets, the wire's place among the wires between the two, then the same two
# places seen from the target (its sources, and the wires from that source).
EdgeSlot = tuple[int, int, int, int]


@dataclass(frozen=True)
class Edge:
    """A wire from an output port of ``src`` to an input port of ``dst``."""

    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} → {self.dst}.{self.dst_port}"


def inserted(mapping: dict[K, V], index: int, key: K, value: V) -> dict[K, V]:
    """``mapping`` with ``key: value`` at position ``index`` (in place when that is the end)."""
    if index >= len(mapping):
        mapping[key] = value
        return mapping
    items = list(mapping.items())
    items.insert(index, (key, value))
    return dict(items)


def index_of(mapping: dict[K, Any], key: K) -> int:
    """The position of ``key`` in ``mapping``'s order."""
    return list(mapping).index(key)


def port_index(port: str) -> int:
    """The number of an input port such as in3 (0 when it has none)."""
    return int(port[2:]) if port[2:].isdigit() else 0


def has_edge(succ: Wiring, edge: Edge) -> bool:
    """Whether ``edge`` is in the source-to-target table ``succ``."""
    return (edge.src_port, edge.dst_port) in succ.get(edge.src, {}).get(edge.dst, {})


def store_edge(
    succ: Wiring, pred: Wiring, into: Into, edge: Edge, slot: EdgeSlot | None = None
) -> None:
    """Add a wire at the end of every order, or at ``slot`` (from ``drop_edge``)."""
    ports = (edge.src_port, edge.dst_port)
    into[edge.dst].setdefault(edge.dst_port, edge)  # a file may wire a port twice
    if slot is None:
        succ[edge.src].setdefault(edge.dst, {})[ports] = edge
        pred[edge.dst].setdefault(edge.src, {})[ports] = edge
        return
    for wiring, here, there, (place, port_place) in (
        (succ, edge.src, edge.dst, slot[:2]),
        (pred, edge.dst, edge.src, slot[2:]),
    ):
        neighbours = wiring[here]
        keyed = neighbours.get(there)
        if keyed is None:
            wiring[here] = inserted(neighbours, place, there, {ports: edge})
        else:
            neighbours[there] = inserted(keyed, port_place, ports, edge)


def drop_edge(
    succ: Wiring,
    pred: Wiring,
    into: Into,
    edge: Edge,
    in_edges: Callable[[str], list[Edge]],
) -> EdgeSlot:
    """Remove a wire; returns where it stood (see ``EdgeSlot``). ``in_edges`` lists the wires
    into a node in port order (the graph's ``in_edges``), to find a second wire into the port."""
    ports = (edge.src_port, edge.dst_port)
    slot: list[int] = []
    for wiring, here, there in (
        (succ, edge.src, edge.dst),
        (pred, edge.dst, edge.src),
    ):
        neighbours = wiring[here]
        keyed = neighbours[there]
        slot += [index_of(neighbours, there), index_of(keyed, ports)]
        del keyed[ports]
        if not keyed:
            del neighbours[there]
    wires_in = into[edge.dst]
    if wires_in.get(edge.dst_port) == edge:
        del wires_in[edge.dst_port]
        # a second wire into the same port (only a file or add_edge_unchecked makes one)
        for other in in_edges(edge.dst):
            if other.dst_port == edge.dst_port:
                wires_in[edge.dst_port] = other
                break
    return (slot[0], slot[1], slot[2], slot[3])
