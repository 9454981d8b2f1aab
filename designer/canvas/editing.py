"""Canvas edits that span several blocks: delete, copy and paste, group and ungroup, auto layout,
and expanding or collapsing groups. Each is one undo step made of engine calls.

Copied blocks travel as JSON (MIME ``application/x-cnn-designer-nodes``): the nodes with their
parameters and groups, the wires between them, and their positions.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

from designer.commands import DocumentCommand, GraphCommand
from designer.document import Document
from engine import CATALOG, Edge, Graph, GraphError
from engine.identifiers import name_problem
from engine.layout import DEFAULT_NODE_SIZE, Size, Unit, layout_positions

MIME_NODES = "application/x-cnn-designer-nodes"
CLIP_FORMAT = "cnn-designer-nodes"


def delete(doc: Document, names: Iterable[str], edges: Iterable[Edge] = ()) -> None:
    """Delete blocks (with their wires) and wires, as one undo step."""
    names = [n for n in names if n in doc.graph]
    edges = list(edges)

    def action(graph: Graph) -> None:
        for edge in edges:
            if edge.src in graph and edge in graph.out_edges(edge.src):
                graph.disconnect(edge)
        for name in names:
            graph.remove_node(name)
            doc.place(name, None)

    if names or edges:
        doc.run_edit(f"Delete {len(names)} block(s), {len(edges)} wire(s)", action)


def clip_data(doc: Document, names: Iterable[str]) -> dict[str, Any]:
    """The blocks ``names``, the wires between them and their positions, as plain data."""
    chosen = [n for n in names if n in doc.graph]
    inside = set(chosen)
    nodes = []
    for name in chosen:
        node = doc.graph.node(name)
        nodes.append(
            {
                "name": name,
                "type": node.type_id,
                "params": copy.deepcopy(node.params),
                "group": list(node.group),
                "pos": list(doc.position(name) or (0.0, 0.0)),
            }
        )
    edges = [
        [e.src, e.src_port, e.dst, e.dst_port]
        for e in doc.graph.edges
        if e.src in inside and e.dst in inside
    ]
    return {"format": CLIP_FORMAT, "nodes": nodes, "edges": edges}


def check_clip_data(data: Any) -> None:
    """Raise GraphError naming what is wrong with clipped blocks (as ``clip_data`` makes them:
    another program, or another version, may have put anything on the clipboard)."""
    if not isinstance(data, dict) or data.get("format") != CLIP_FORMAT:
        raise GraphError("the clipboard holds no CNN Designer blocks: copy some blocks first")
    nodes, edges = data.get("nodes", []), data.get("edges", [])
    if not isinstance(nodes, list):
        raise GraphError("the clipped 'nodes' are not a list of blocks")
    names: set[str] = set()
    for index, item in enumerate(nodes, 1):
        if not isinstance(item, dict):
            raise GraphError(f"clipped block {index} is not an object")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise GraphError(f"clipped block {index} has no name")
        if name in names:
            raise GraphError(f"two clipped blocks are called {name!r}")
        names.add(name)
        if not isinstance(item.get("type"), str):
            raise GraphError(f"clipped block {name!r} has no type")
        if not isinstance(item.get("params", {}), dict):
            raise GraphError(f"the parameters of clipped block {name!r} are not an object")
        group = item.get("group", [])
        if not isinstance(group, list) or not all(isinstance(g, str) for g in group):
            raise GraphError(f"the group of clipped block {name!r} is not a list of names")
        pos = item.get("pos", [0.0, 0.0])
        if not (
            isinstance(pos, list)
            and len(pos) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos)
            and all(math.isfinite(v) for v in pos)
        ):
            raise GraphError(f"the position of clipped block {name!r} is not two numbers")
    if not isinstance(edges, list):
        raise GraphError("the clipped 'edges' are not a list of wires")
    for index, wire in enumerate(edges, 1):
        if not (
            isinstance(wire, list) and len(wire) == 4 and all(isinstance(w, str) for w in wire)
        ):
            raise GraphError(f"clipped wire {index} is not [source, port, target, port]")
        for end in (wire[0], wire[2]):
            if end not in names:
                raise GraphError(f"clipped wire {index} joins {end!r}, which is not clipped")


def paste(doc: Document, data: dict[str, Any], offset: tuple[float, float]) -> list[str]:
    """Add copies of clipped blocks (new names where taken), shifted by ``offset``; one undo
    step. Returns the new names. GraphError names what is wrong with bad data, before anything
    is added."""
    check_clip_data(data)
    nodes = data.get("nodes", [])

    def action(graph: Graph) -> list[str]:
        renamed: dict[str, str] = {}
        groups = _fresh_groups(graph, nodes)
        for item in nodes:
            name = str(item["name"])
            new = (
                name if name not in graph else graph.unique_name(name.rstrip("0123456789") or name)
            )
            group = groups.get(tuple(item.get("group", ())), ())
            graph.add_node(item["type"], new, dict(item.get("params", {})), group)
            renamed[name] = new
            x, y = item.get("pos", (0.0, 0.0))
            doc.place(new, (float(x) + offset[0], float(y) + offset[1]))
        for src, src_port, dst, dst_port in data.get("edges", []):
            graph.connect(renamed[src], renamed[dst], src_port, dst_port)
        return list(renamed.values())

    return doc.run_edit(f"Paste {len(nodes)} block(s)", action) if nodes else []


def _fresh_groups(
    graph: Graph, nodes: list[dict[str, Any]]
) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Pasted groups whose top-level name is taken get a new one (layer1 → layer1_copy)."""
    taken = {g.split(".")[0] for g in graph.groups()} | set(graph.names)
    tops: dict[str, str] = {}
    result = {}
    for item in nodes:
        path = tuple(str(p) for p in item.get("group", ()))
        if not path:
            continue
        top = path[0]
        if top not in tops:
            # one of the first len(taken) + 2 names is free: the search is bounded
            numbered = (f"{top}_copy{n}" for n in range(2, len(taken) + 2))
            names = itertools.chain((top, f"{top}_copy"), numbered)
            new = next(name for name in names if name not in taken)
            tops[top] = new
            taken.add(new)
        result[path] = (tops[top], *path[1:])
    return result


def common_group(graph: Graph, names: list[str]) -> tuple[str, ...]:
    """The innermost group holding every block of ``names`` (() when none does)."""
    paths = [graph.node(n).group for n in names if n in graph]
    common: tuple[str, ...] = ()
    for parts in zip(*paths, strict=False):
        if len(set(parts)) != 1:
            break
        common = (*common, parts[0])
    return common


def default_group_name(graph: Graph, names: list[str]) -> str:
    """The first of group1, group2, ... that names no group or block where ``names`` would be
    grouped (inside their common group)."""
    common = common_group(graph, names)
    taken = set(graph.groups()) | set(graph.names)
    counter = 1
    while ".".join((*common, f"group{counter}")) in taken:  # bounded: len(taken) + 1 tries
        counter += 1
    return f"group{counter}"


def group_nodes(doc: Document, names: list[str], group: str) -> None:
    """Put ``names`` into a new group called ``group`` (inside their common enclosing group)."""
    names = [n for n in names if n in doc.graph]
    if not names:
        raise GraphError("group: select the blocks to group first")
    if (problem := name_problem(group, "group")) is not None:
        raise GraphError(problem)
    common = common_group(doc.graph, names)
    path = (*common, *group.split("."))
    full = ".".join(path)
    if full in doc.graph.groups() or full in doc.graph:
        raise GraphError(
            f"group name: a group or block called {full!r} already exists. Choose another name"
        )
    changes = {n: (*path, *doc.graph.node(n).group[len(common) :]) for n in names}
    doc.run_edit(f"Group as {full}", lambda graph: graph.set_groups(changes))


def ungroup_nodes(doc: Document, names: list[str], group: str | None = None) -> None:
    """Take ``names`` out of ``group`` (default: each one's innermost group), one undo step."""
    changes = {}
    for name in names:
        path = doc.graph.node(name).group
        if group is None:
            if path:
                changes[name] = path[:-1]
        else:
            depth = len(group.split("."))
            if ".".join(path[:depth]) == group:
                changes[name] = (*path[: depth - 1], *path[depth:])
    if not changes:
        raise GraphError("ungroup: the selection is not inside a group")
    doc.run_edit("Ungroup", lambda graph: graph.set_groups(changes))


def place_all(doc: Document, collapsed: Iterable[str], size: Callable[[Unit], Size]) -> None:
    """Lay every block out (inside an edit: recorded for undo), in the project's direction."""
    from engine.layout import layout_options

    options = layout_options(doc.project.view)
    positions = layout_positions(doc.graph, set(collapsed), size, options)
    for name, pos in positions.items():
        if doc.position(name) != pos:
            doc.place(name, pos)


def auto_layout(doc: Document, size: Callable[[Unit], Size]) -> None:
    """Lay the whole design out again, as one undo step."""
    doc.run_edit("Auto layout", lambda graph: place_all(doc, doc.collapsed, size))


class CollapseCommand(DocumentCommand):
    """Change which groups are collapsed and lay the design out again, as one undo step."""

    def __init__(
        self, doc: Document, text: str, collapsed: set[str], size: Callable[[Unit], Size]
    ) -> None:
        super().__init__(doc, text)
        self.before = doc.collapsed
        self.after = set(collapsed)
        self.layout = GraphCommand(doc, text, lambda: place_all(doc, self.after, size))
        self._pushed = False

    def push(self) -> None:
        """Apply it and put it on the document's undo stack."""
        self.doc.set_collapsed_groups(self.after)
        self.layout.execute()
        self.doc.undo_stack.push(self)

    def redo(self) -> None:
        if not self._pushed:  # QUndoStack.push calls redo: push() already did the work
            self._pushed = True
            self.layout.redo()  # consumes the command's own skip flag
            return
        self.doc.set_collapsed_groups(self.after)
        self.layout.redo()

    def undo(self) -> None:
        self.layout.undo()
        self.doc.set_collapsed_groups(self.before)


def set_collapsed(doc: Document, groups: set[str], text: str, size: Callable[[Unit], Size]) -> None:
    """Collapse exactly ``groups`` (existing ones), laying out again; no-op when unchanged."""
    groups = groups & set(doc.graph.groups())
    if groups == doc.collapsed & set(doc.graph.groups()):
        return
    CollapseCommand(doc, text, groups, size).push()


# ----- gestures that add a block and wire it (each one undo step) ---------------------------
NODE_SIZE = DEFAULT_NODE_SIZE  # the canvas's block size (style.NODE_WIDTH, NODE_HEIGHT)
ROOM_GAP = 40.0  # vertical space kept between a new block and the blocks it pushes down


def _rect(pos: tuple[float, float]) -> tuple[float, float, float, float]:
    return pos[0], pos[1], pos[0] + NODE_SIZE[0], pos[1] + NODE_SIZE[1]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def make_room(doc: Document, name: str) -> None:
    """Inside an edit: when block ``name`` covers a block it feeds (directly or further down),
    push everything downstream of it down below it, keeping their arrangement."""
    pos = doc.position(name)
    if pos is None:
        return
    graph = doc.graph
    below: list[str] = []
    seen = {name}
    todo = [name]
    while todo:  # bounded: each block is visited once
        for edge in graph.out_edges(todo.pop()):
            if edge.dst not in seen:
                seen.add(edge.dst)
                below.append(edge.dst)
                todo.append(edge.dst)
    mine = _rect(pos)
    padded = (mine[0] - 10, mine[1] - 10, mine[2] + 10, mine[3] + ROOM_GAP)
    tops = [
        p[1] for n in below if (p := doc.position(n)) is not None and _overlap(padded, _rect(p))
    ]
    if not tops:
        return
    shift = mine[3] + ROOM_GAP - min(tops)
    for other in below:
        old = doc.position(other)
        if old is not None and old[1] >= min(tops):
            doc.place(other, (old[0], round(old[1] + shift, 1)))


def _out_port(graph: Graph, name: str) -> str | None:
    """The output port a wire leaves ``name`` from ("out", else its first; None: none)."""
    node = graph.node(name)
    spec = CATALOG.get(node.type_id)
    outputs = spec.outputs(spec.with_defaults(node.params))
    return None if not outputs else "out" if "out" in outputs else outputs[0]


def add_after(doc: Document, type_id: str, pos: tuple[float, float], after: str | None) -> str:
    """Add a block of ``type_id`` at ``pos``; with ``after`` (a block), wire it in after that
    block: ``after``'s outgoing wires now leave the new block, which ``after`` feeds. One undo
    step; GraphError (nothing added) when the wiring is refused."""

    def action(graph: Graph) -> str:
        name = graph.add_node(type_id).name
        doc.place(name, pos)
        if after is None or after not in graph:
            return name
        src_port = _out_port(graph, after)
        if src_port is None or graph.free_input_port(name) is None:
            return name  # after an Output, or a new Input: nothing to wire
        new_out = _out_port(graph, name)
        moved = list(graph.out_edges(after)) if new_out is not None else []
        for edge in moved:
            graph.disconnect(edge)
        graph.connect(after, name, src_port)
        for edge in moved:
            graph.connect(name, edge.dst, new_out, edge.dst_port)
        make_room(doc, name)
        return name

    return doc.run_edit(f"Add {type_id}", action)


def add_wired(
    doc: Document,
    type_id: str,
    pos: tuple[float, float],
    source: tuple[str, str] | None = None,
    target: tuple[str, str] | None = None,
) -> str:
    """Add a block at ``pos`` fed by ``source`` (block, output port) or feeding ``target``
    (block, input port): a wire released into empty space. One undo step."""

    def action(graph: Graph) -> str:
        name = graph.add_node(type_id).name
        doc.place(name, pos)
        if source is not None:
            graph.connect(source[0], name, source[1])
        if target is not None:
            out = _out_port(graph, name)
            if out is None:
                raise GraphError(f"{type_id} has no output to wire into {target[0]}")
            graph.connect(name, target[0], out, target[1])
        return name

    return doc.run_edit(f"Add {type_id}", action)


def insertable(type_id: str) -> bool:
    """Whether a block of ``type_id`` can sit in the middle of a wire (an input and an output)."""
    if type_id not in CATALOG:
        return False
    spec = CATALOG.get(type_id)
    return not spec.is_source and bool(spec.outputs(spec.defaults()))


def insert_into_wire(
    doc: Document,
    edge: Edge,
    pos: tuple[float, float],
    type_id: str | None = None,
    name: str | None = None,
) -> str:
    """Put a new block of ``type_id`` (or the unwired block ``name``) at ``pos`` in the middle
    of wire ``edge``: its source feeds the block, which feeds its target. One undo step;
    GraphError (nothing changed) when refused."""

    def action(graph: Graph) -> str:
        if edge.src not in graph or edge not in graph.out_edges(edge.src):
            raise GraphError(f"the wire {edge} no longer exists")
        block = graph.add_node(type_id).name if name is None else name
        doc.place(block, _below_source(doc, edge.src, pos))
        out = _out_port(graph, block)
        if out is None or graph.free_input_port(block) is None:
            kind = graph.node(block).type_id
            raise GraphError(
                f"{block} ({kind}) cannot go into a wire: it needs a free input and an output"
            )
        graph.disconnect(edge)
        graph.connect(edge.src, block, edge.src_port)
        graph.connect(block, edge.dst, out, edge.dst_port)
        make_room(doc, block)
        return block

    what = type_id if name is None else name
    return doc.run_edit(f"Insert {what} into {edge.src} → {edge.dst}", action)


def _below_source(doc: Document, source: str, pos: tuple[float, float]) -> tuple[float, float]:
    """``pos``, moved down below block ``source`` when the two would overlap (a short wire)."""
    above = doc.position(source)
    if above is None:
        return pos
    padded = (pos[0] - 10, pos[1] - ROOM_GAP / 2, pos[0] + NODE_SIZE[0] + 10, pos[1] + NODE_SIZE[1])
    if not _overlap(padded, _rect(above)):
        return pos
    return pos[0], round(above[1] + NODE_SIZE[1] + ROOM_GAP, 1)


def free_offset(
    doc: Document, data: dict[str, Any], taken: list[tuple[float, float, float, float]]
) -> tuple[float, float]:
    """Where pasted blocks go: where they were when that place is free (after a cut, in
    another design), else beside the originals, to the right or below, the first place none of
    the ``taken`` rectangles (left, top, right, bottom) overlaps; bounded to 40 tries."""
    points = [p for item in data.get("nodes", []) if isinstance(p := item.get("pos"), list)]
    if not points:
        return 0.0, 0.0
    left = min(float(p[0]) for p in points)
    top = min(float(p[1]) for p in points)
    width = max(float(p[0]) for p in points) + NODE_SIZE[0] - left
    height = max(float(p[1]) for p in points) + NODE_SIZE[1] - top
    rects = [_rect((float(p[0]), float(p[1]))) for p in points]
    candidates = [(0.0, 0.0)]
    for step in range(1, 20):
        candidates.append((step * (width + 40.0), 0.0))
        candidates.append((0.0, step * (height + 40.0)))
    for dx, dy in candidates:
        moved = [(r[0] + dx, r[1] + dy, r[2] + dx, r[3] + dy) for r in rects]
        if not any(_overlap(m, t) for m in moved for t in taken):
            return dx, dy
    return width + 40.0, 0.0
