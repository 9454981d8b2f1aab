"""A layered, top-to-bottom layout of a graph for the canvas (pure: no Qt).

Each *unit* is a block drawn on its own or a collapsed group drawn as one node. Units are put in
layers by their topological generation, in networkx's order (a unit sits one layer below the
deepest unit feeding it), wires that skip layers get narrow invisible waypoints so that branches (Inception's
towers, ResNet's shortcuts) stand side by side instead of crossing blocks, layers are ordered by
a few barycentre sweeps to reduce crossings, and each unit is centred under the units feeding
it. Units in one layer never overlap and layers are separated vertically, so no two units do.
The result depends only on the graph, the collapsed groups and the sizes: it is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from engine.digraph import CycleError, OrderedDiGraph, topological_generations
from engine.graph import Graph, GroupPath, group_prefixes
from engine.layout_wrap import ASPECT, wrap

Unit = tuple[str, str]  # ("node", name) or ("group", dotted group name)
Size = tuple[float, float]
Point = tuple[float, float]

DEFAULT_NODE_SIZE: Size = (180.0, 62.0)
DEFAULT_GROUP_SIZE: Size = (200.0, 74.0)


@dataclass(frozen=True)
class LayoutOptions:
    """Spacing of the layout, in scene units."""

    layer_gap: float = 70.0  # vertical space between layers (wire labels go there)
    node_gap: float = 40.0  # horizontal space between neighbours in a layer
    waypoint_width: float = 24.0  # room kept for a wire passing through a layer
    sweeps: int = 4  # barycentre ordering passes (down, up, down, ...)
    direction: str = "down"  # "down": layers are rows, top to bottom; "right": columns
    wrap: bool = True  # a long layout is cut into columns (rows when "right"): layout_wrap


DIRECTIONS = {"down": "Top to bottom", "right": "Left to right"}
VIEW_DIRECTION_KEY = "layout_direction"  # in a project's ``view``


def layout_direction(view: Mapping[str, object]) -> str:
    """The layout direction a project's ``view`` asks for ("down" unless it says "right")."""
    direction = view.get(VIEW_DIRECTION_KEY, "down")
    return direction if isinstance(direction, str) and direction in DIRECTIONS else "down"


def layout_options(view: Mapping[str, object]) -> LayoutOptions:
    """The layout options of a project's ``view`` (its direction)."""
    direction = layout_direction(view)
    if direction == "right":  # wide gaps between columns: the wires' shape labels go there
        return LayoutOptions(layer_gap=120.0, node_gap=36.0, direction="right")
    return LayoutOptions()


def collapsed_owner(group: GroupPath, collapsed: Collection[str]) -> str | None:
    """The outermost collapsed group containing a node of group path ``group``, if any."""
    for prefix in group_prefixes(group):
        if prefix in collapsed:
            return prefix
    return None


def unit_of_nodes(graph: Graph, collapsed: Collection[str]) -> dict[str, Unit]:
    """The unit that draws each node: itself, or the outermost collapsed group holding it."""
    units: dict[str, Unit] = {}
    for node in graph:
        owner = collapsed_owner(node.group, collapsed)
        units[node.name] = ("group", owner) if owner is not None else ("node", node.name)
    return units


def _unit_graph(graph: Graph, units: dict[str, Unit]) -> OrderedDiGraph[Unit]:
    """Units in a deterministic order (evaluation order of their first node) and their wires."""
    order, in_cycles = graph.evaluation_order()
    ug: OrderedDiGraph[Unit] = OrderedDiGraph()
    for name in [*order, *sorted(in_cycles)]:
        ug.add_node(units[name])
    for edge in sorted(graph.edges, key=lambda e: (e.src, e.src_port, e.dst, e.dst_port)):
        u, v = units[edge.src], units[edge.dst]
        if u != v:
            ug.add_edge(u, v)
    return ug


def _layers(ug: OrderedDiGraph[Unit]) -> dict[Unit, int]:
    """Layer of every unit: its topological generation (cycles: back wires are ignored)."""
    try:
        return _generation_of(ug.successors)
    except CycleError:
        index = {u: i for i, u in enumerate(ug)}
        forward = {u: [v for v in vs if index[v] > index[u]] for u, vs in ug.successors.items()}
        return _generation_of(forward)


def _generation_of(successors: Mapping[Unit, Collection[Unit]]) -> dict[Unit, int]:
    layers: dict[Unit, int] = {}
    for depth, generation in enumerate(topological_generations(successors)):
        for unit in generation:
            layers[unit] = depth
    return layers


def _with_waypoints(
    ug: OrderedDiGraph[Unit], layers: dict[Unit, int]
) -> tuple[OrderedDiGraph[Unit], dict[Unit, int], dict[Unit, int]]:
    """The layered graph with a waypoint in every layer a wire passes through.

    Returns the graph, the layer of every vertex, and the rank (first-seen order) of every vertex.
    """
    lg: OrderedDiGraph[Unit] = OrderedDiGraph()
    rank: dict[Unit, int] = {}
    for unit in ug:
        lg.add_node(unit)
        rank[unit] = len(rank)
    all_layers = dict(layers)
    counter = 0
    for u, v in ug.edges():
        lu, lv = layers[u], layers[v]
        if lv <= lu:  # a back wire of a cycle: drawn, not laid out
            continue
        previous = u
        for depth in range(lu + 1, lv):
            waypoint = ("waypoint", str(counter))
            counter += 1
            lg.add_node(waypoint)
            rank[waypoint] = len(rank) + 1_000_000  # after real units on ties
            all_layers[waypoint] = depth
            lg.add_edge(previous, waypoint)
            previous = waypoint
        lg.add_edge(previous, v)
    return lg, all_layers, rank


def _order_layers(
    lg: OrderedDiGraph[Unit], layers: dict[Unit, int], rank: dict[Unit, int], sweeps: int
) -> list[list[Unit]]:
    """Vertices per layer, ordered by barycentre sweeps (ties keep the first-seen order)."""
    count = max(layers.values(), default=-1) + 1
    rows: list[list[Unit]] = [[] for _ in range(count)]
    for vertex in sorted(lg, key=rank.__getitem__):
        rows[layers[vertex]].append(vertex)
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        indices = range(1, count) if downward else range(count - 2, -1, -1)
        for i in indices:
            if len(rows[i]) < 2:
                continue  # nothing to order (most layers of a long chain)
            neighbour_row = rows[i - 1] if downward else rows[i + 1]
            position = {v: k for k, v in enumerate(neighbour_row)}

            def key(
                vertex: Unit, position: dict[Unit, int] = position, downward: bool = downward
            ) -> tuple[float, int]:
                near = lg.predecessors[vertex] if downward else lg.successors[vertex]
                places = [position[n] for n in near if n in position]
                centre = sum(places) / len(places) if places else float("inf")
                return (centre, rank[vertex])

            rows[i].sort(key=key)
    return rows


def _place_row(
    row: list[Unit],
    desired: dict[Unit, float],
    widths: dict[Unit, float],
    gap: float,
) -> dict[Unit, float]:
    """Centres for one layer: as near as possible to ``desired``, left to right, no overlap."""
    centres: dict[Unit, float] = {}
    right = -float("inf")
    for vertex in row:
        half = widths[vertex] / 2
        want = desired.get(vertex, right + gap + half if right > -float("inf") else half)
        centre = max(want, right + gap + half)
        centres[vertex] = centre
        right = centre + half
    wanted = [centres[v] - desired[v] for v in row if v in desired]
    if wanted:  # move the row so that, on average, units sit where they want to
        shift = -sum(wanted) / len(wanted)
    else:  # no preference at all: centre the row on x = 0
        shift = -(centres[row[0]] - widths[row[0]] / 2 + right) / 2
    return {v: c + shift for v, c in centres.items()}


def layered_layout(
    graph: Graph,
    collapsed: Collection[str] = (),
    size: Callable[[Unit], Size] | None = None,
    options: LayoutOptions | None = None,
) -> dict[Unit, Point]:
    """Top-left corner of every unit (visible block or collapsed group), top to bottom, or
    left to right when ``options.direction`` is "right" (the same layout with x and y swapped:
    layers are columns and branches stand one above the other)."""
    options = options or LayoutOptions()
    size = size or (lambda unit: DEFAULT_GROUP_SIZE if unit[0] == "group" else DEFAULT_NODE_SIZE)
    if options.direction == "right":
        swapped = size

        def size(unit: Unit) -> Size:
            width, height = swapped(unit)
            return height, width

        placed = _layered(graph, collapsed, size, options)  # (options.direction: the aspect)
        return {unit: (y, x) for unit, (x, y) in placed.items()}
    return _layered(graph, collapsed, size, options)


def _layered(
    graph: Graph,
    collapsed: Collection[str],
    size: Callable[[Unit], Size],
    options: LayoutOptions,
) -> dict[Unit, Point]:
    units = unit_of_nodes(graph, collapsed)
    ug = _unit_graph(graph, units)
    if not ug:
        return {}
    layers = _layers(ug)
    lg, all_layers, rank = _with_waypoints(ug, layers)
    rows = _order_layers(lg, all_layers, rank, options.sweeps)
    sizes = {v: size(v) if v[0] != "waypoint" else (options.waypoint_width, 0.0) for v in lg}
    widths = {v: s[0] for v, s in sizes.items()}
    centres: dict[Unit, float] = {}
    positions: dict[Unit, Point] = {}
    top = 0.0
    for row in rows:
        desired: dict[Unit, float] = {}
        for vertex in row:
            above = [centres[p] for p in lg.predecessors[vertex] if p in centres]
            if above:
                desired[vertex] = sum(above) / len(above)
        centres.update(_place_row(row, desired, widths, options.node_gap))
        for vertex in row:
            if vertex[0] != "waypoint":
                x = centres[vertex] - widths[vertex] / 2
                positions[vertex] = (round(x, 2), round(top, 2))
        top += max(sizes[v][1] for v in row) + options.layer_gap
    if not options.wrap:
        return positions

    def groups_of(unit: Unit) -> list[str]:
        if unit[0] == "group":
            return [*enclosing_groups(unit[1]), unit[1]]
        return list(group_prefixes(graph.node(unit[1]).group))

    aspect = ASPECT if options.direction == "down" else 1 / ASPECT
    return wrap(rows, positions, sizes, groups_of, aspect)


def layout_positions(
    graph: Graph,
    collapsed: Collection[str] = (),
    size: Callable[[Unit], Size] | None = None,
    options: LayoutOptions | None = None,
) -> dict[str, Point]:
    """A position for every node: its own unit's, or its collapsed group's top-left corner."""
    placed = layered_layout(graph, collapsed, size, options)
    units = unit_of_nodes(graph, collapsed)
    return {name: placed[unit] for name, unit in units.items()}


def enclosing_groups(group: str) -> list[str]:
    """The groups around dotted group ``group``, outermost first ("a.b.c": "a", "a.b")."""
    parts = group.split(".")
    return [".".join(parts[:depth]) for depth in range(1, len(parts))]


def innermost_groups(graph: Graph) -> list[str]:
    """Groups that contain no other group (ResNet's blocks, Inception's modules), sorted."""
    groups = graph.groups()  # every enclosing group is listed too: a parent has a child
    parents = {g.rpartition(".")[0] for g in groups if "." in g}
    return [g for g in groups if g not in parents]


MERGE_TYPES = frozenset({"add", "concat"})
SMALL_GRAPH = 60  # designs without merging blocks up to this size open fully expanded


def default_collapsed(graph: Graph) -> list[str]:
    """The groups a design opens with collapsed: its modules, sorted.

    A module is the innermost group holding an Add or Concat (a ResNet block, an Inception or
    Fire module), together with its sibling groups (the plain blocks between modules, such as
    MobileNetV2's non-residual blocks or GoogLeNet's stem convolutions). A design without
    merging blocks collapses the groups one level above the innermost ones (MobileNet's
    depthwise-separable blocks), or the innermost ones, but only when it has more than
    ``SMALL_GRAPH`` blocks. Nested choices keep the outermost.

    Each group is compared with its own enclosing groups, never with every other group: a
    design of 4,000 groups took seconds, and 1,000 groups nested 30 deep minutes.
    """
    groups = graph.groups()
    chosen = {".".join(node.group) for node in graph if node.type_id in MERGE_TYPES and node.group}
    if chosen:
        merges, parents = set(chosen), {g.rpartition(".")[0] for g in chosen}
        siblings = {g for g in groups if g.rpartition(".")[0] in parents}
        # a sibling that holds modules itself (Inception-ResNet's "repeat") is not one
        around_merges = {outer for m in merges for outer in enclosing_groups(m)}
        chosen |= siblings - around_merges
    elif len(graph) > SMALL_GRAPH:
        leaves = set(innermost_groups(graph))
        chosen = {g.rpartition(".")[0] for g in leaves if "." in g} or leaves
    outermost = [g for g in chosen if not any(o in chosen for o in enclosing_groups(g))]
    return sorted(outermost)
