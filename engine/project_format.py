"""Reading the project file format: every field checked, older versions migrated.

``read_project(data)`` takes the parsed JSON document and returns the fields of a
``engine.project.Project``; a bad document raises ProjectFileError in the words
"<origin>: <field> <rule>. Received: <field>=<value>. <fix>", with values shown as JSON and
shortened. The format itself is described in ``engine.project`` and README.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from engine.catalog import CATALOG
from engine.errors import DesignerError, ProjectFileError
from engine.graph import UNBYPASSABLE, Edge, Graph
from engine.notes import Note, Notes, note_problem

FORMAT = "cnn-designer-project"
VERSION = 3
SUFFIX = ".cnnd"


def read_project(data: Any, origin: str = "project") -> dict[str, Any]:
    """The fields of a ``Project`` from parsed JSON data, every one checked, older versions
    migrated; ProjectFileError names the field, the value and the fix."""
    read = _Reader(origin)
    if not isinstance(data, dict):
        raise ProjectFileError(
            f"{origin}: not a CNN Designer project: the file must hold one JSON object "
            f"({{...}}). Received: {_show(data)}. Open a {SUFFIX} file saved by CNN Designer"
        )
    if "format" not in data:
        raise ProjectFileError(
            f"{origin}: not a CNN Designer project: the field format is missing (a project "
            f'starts {{"format": {_show(FORMAT)}, ...}}). Open a {SUFFIX} file saved by CNN Designer'
        )
    if data["format"] != FORMAT:
        raise ProjectFileError(
            f"{origin}: not a CNN Designer project: the field format must be {_show(FORMAT)}. "
            f"Received: format={_show(data['format'])}. Open a {SUFFIX} file saved by CNN Designer"
        )
    if "version" not in data:
        raise read.fail("version", "is missing", fix=f'Add "version": {VERSION}')
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise read.fail(
            "version",
            "must be a positive whole number",
            version,
            f'Files saved by this CNN Designer have "version": {VERSION}',
        )
    if version > VERSION:
        raise ProjectFileError(
            f"{origin}: saved by a newer CNN Designer (format version {_show(version)}; this one "
            f"reads up to {VERSION}). Update the program to open it"
        )
    while version < VERSION:
        data = MIGRATIONS[version](read, data)
        version += 1
    try:
        return _build(read, data)
    except ProjectFileError:
        raise
    except DesignerError as error:
        raise ProjectFileError(f"{origin}: {error}") from error


_KINDS = {
    dict: "an object ({...})",
    list: "a list ([...])",
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
}


class _Reader:
    """Typed field access that names the field, the value received and the fix in every error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        # where → the value as the file wrote it, when a migration rewrote it (version-1 wires)
        self.written: dict[str, Any] = {}

    def fail(self, where: str, rule: str, value: Any = ..., fix: str = "") -> ProjectFileError:
        """The error for field ``where``: ``rule`` broken by ``value`` (when given); ``fix``."""
        text = f"{self.origin}: {where} {rule}."
        if value is not ...:
            text += f" Received: {where}={_show(self.written.get(where, value))}."
        return ProjectFileError(f"{text} {fix}".rstrip())

    def get(
        self, data: dict, key: str, kind: type | tuple[type, ...], where: str, default: Any = ...
    ) -> Any:
        """``data[key]``, checked to be of ``kind`` (a bool is never a number)."""
        name = f"{where}.{key}".lstrip(".")
        if key not in data:
            if default is ...:
                raise self.fail(name, "is missing", fix=f"Add the field {_show(key)}")
            return default
        value = data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            kinds = (kind,) if isinstance(kind, type) else kind
            raise self.fail(name, f"must be {' or '.join(_KINDS[k] for k in kinds)}", value)
        return value


def _build(read: _Reader, data: dict[str, Any]) -> dict[str, Any]:
    """The Project fields of a version-2 document."""
    graph_data = read.get(data, "graph", dict, "")
    graph = Graph()
    for index, item in enumerate(read.get(graph_data, "nodes", list, "graph")):
        where = f"graph.nodes[{index}]"
        if not isinstance(item, dict):
            raise read.fail(where, f"must be {_KINDS[dict]}", item)
        name = read.get(item, "name", str, where)
        type_id = read.get(item, "type", str, where)
        if type_id not in CATALOG:
            raise read.fail(
                f"{where}.type", "names an unknown block type", type_id, _did_you_mean(type_id)
            )
        params = read.get(item, "params", dict, where, {})
        group = read.get(item, "group", list, where, [])
        if not all(isinstance(g, str) for g in group):
            raise read.fail(f"{where}.group", "must be a list of group names (strings)", group)
        spec = CATALOG.get(type_id)
        known = sorted(p.name for p in spec.params)
        if unknown := sorted(set(params) - set(known)):
            raise read.fail(
                f"{where}.params",
                f"has an unknown parameter {_show(unknown[0])} for {type_id}",
                params,
                f"{type_id} takes: {', '.join(known) or 'no parameters'}",
            )
        if name in graph:
            raise read.fail(
                f"{where}.name", "repeats a node name", name, "Give every node its own name"
            )
        try:
            graph.add_node(spec.type_id, name, params, group)
        except DesignerError as error:
            raise read.fail(where, f"is invalid: {error}") from error
        if read.get(item, "bypassed", bool, where, False):
            if type_id in UNBYPASSABLE:
                raise read.fail(
                    f"{where}.bypassed",
                    f"is true for {name}, an {type_id} block (the ends of the network are "
                    "never bypassed)",
                    True,
                    'Remove "bypassed" from that node',
                )
            graph.set_bypassed(name, True)
    for index, item in enumerate(read.get(graph_data, "edges", list, "graph")):
        where = f"graph.edges[{index}]"
        if not (
            isinstance(item, list) and len(item) == 4 and all(isinstance(p, str) for p in item)
        ):
            raise read.fail(
                where, "must be [source, source port, target, target port] (four strings)", item
            )
        _check_edge(read, graph, Edge(*item), where)
        graph.add_edge_unchecked(Edge(*item))
    layout: dict[str, tuple[float, float]] = {}
    for name, point in read.get(data, "layout", dict, "", {}).items():
        where = f"layout.{name}" if _plain(name) else f"layout[{_show(name)}]"
        if not (isinstance(point, list) and len(point) == 2):
            raise read.fail(where, "must be [x, y] (two numbers)", point)
        layout[name] = (
            _coordinate(read, f"{where}[0]", point[0]),
            _coordinate(read, f"{where}[1]", point[1]),
        )
    view = read.get(data, "view", dict, "", {})
    if "collapsed" in view and not (
        isinstance(view["collapsed"], list) and all(isinstance(g, str) for g in view["collapsed"])
    ):
        raise read.fail(
            "view.collapsed",
            "must be a list of group names (strings)",
            view["collapsed"],
            'Write it like "collapsed": ["stem"], or remove it',
        )
    return {
        "graph": graph,
        "notes": _read_notes(read, read.get(data, "notes", list, "", [])),
        "layout": layout,
        "view": view,
        "training": read.get(data, "training", dict, "", {}),
        "metadata": read.get(data, "metadata", dict, "", {}),
    }


def _read_notes(read: _Reader, items: list[Any]) -> Notes:
    """The notes of a version-3 document: each an object with id, text, x and y (width and
    height optional), every field checked."""
    notes = Notes()
    for index, item in enumerate(items):
        where = f"notes[{index}]"
        if not isinstance(item, dict):
            raise read.fail(
                where,
                f"must be {_KINDS[dict]}",
                item,
                'Write it like {"id": "note1", "text": "...", "x": 0, "y": 0}',
            )
        unknown = sorted(set(item) - {"id", "text", "x", "y", "width", "height"})
        if unknown:
            raise read.fail(
                f"{where}.{unknown[0]}" if _plain(unknown[0]) else where,
                "is not a field of a note",
                item[unknown[0]],
                "A note has id, text, x, y, width and height: remove the others",
            )
        values: dict[str, Any] = {}
        for key in ("id", "text", "x", "y", "width", "height"):
            if key not in item:
                if key in ("width", "height"):
                    continue
                raise read.fail(f"{where}.{key}", "is missing", fix=f"Add the field {_show(key)}")
            problem = note_problem(key, item[key])
            if problem is not None:
                rule, _, fix = problem.partition(". ")
                raise read.fail(f"{where}.{key}", rule, item[key], fix)
            values[key] = item[key]
        if values["id"] in notes:
            raise read.fail(
                f"{where}.id", "repeats a note id", values["id"], "Give every note its own id"
            )
        notes.add(Note(**values))
    return notes


def _coordinate(read: _Reader, where: str, value: Any) -> float:
    """A canvas coordinate: a finite number (not true/false, NaN, Infinity or too large)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise read.fail(
        where, "must be a finite number (a position on the canvas)", value, "Write e.g. 120.5"
    )


def _check_edge(read: _Reader, graph: Graph, edge: Edge, where: str) -> None:
    """Refuse a wire between nodes or ports that do not exist (cycles load; inference reports them)."""
    wire = [edge.src, edge.src_port, edge.dst, edge.dst_port]
    for name in (edge.src, edge.dst):
        if name not in graph:
            raise read.fail(
                where,
                f"refers to a node {_show(name)} that does not exist",
                wire,
                "Wire existing nodes only (check the spelling of the name)",
            )
    source, target = graph.node(edge.src), graph.node(edge.dst)
    outputs = source.spec.outputs(source.params)
    if edge.src_port not in outputs:
        raise read.fail(
            where,
            f"starts at output port {_show(edge.src_port)} of {edge.src}, which has only "
            f"{', '.join(map(_show, outputs)) or 'no outputs'}",
            wire,
            "Start the wire at one of those ports",
        )
    if not target.spec.accepts_port(edge.dst_port):
        have = ", ".join(map(_show, target.spec.input_ports())) or "none"
        raise read.fail(
            where,
            f"ends at input port {_show(edge.dst_port)}, which {edge.dst} does not have",
            wire,
            f"End the wire at one of its input ports ({have})",
        )
    if graph.edge_into(edge.dst, edge.dst_port) is not None:
        raise read.fail(
            where,
            f"is a second wire into {edge.dst}.{edge.dst_port}",
            wire,
            "An input port takes one wire: remove one of them",
        )


def _plain(name: str) -> bool:
    """Whether ``name`` reads well after a dot in a field path (a dotted identifier)."""
    return 0 < len(name) <= 80 and all(part.isidentifier() for part in name.split("."))


def _did_you_mean(type_id: str) -> str:
    """The fix for an unknown block type: close type ids, else where the list is."""
    import difflib

    close = difflib.get_close_matches(type_id, [s.type_id for s in CATALOG], n=3, cutoff=0.5)
    if close:
        return f"Did you mean {', '.join(map(_show, close))}?"
    return "Use a type id from the block catalog in README.md"


def _show(value: Any, limit: int = 80) -> str:
    """``value`` as JSON writes it, shortened to about ``limit`` characters."""
    text = _json_text(value, limit, 0)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    # a lone surrogate (from a "\ud800" escape) could not be printed: show it escaped
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _json_text(value: Any, budget: int, depth: int) -> str:
    """JSON-like text for ``value``, giving up on detail past ``budget`` characters."""
    import json

    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        if value.bit_length() > 200:  # str() is slow, or refused, for very long numbers
            return f"<a whole number of about {int(value.bit_length() * math.log10(2)) + 1} digits>"
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return json.dumps(value[: budget + 1], ensure_ascii=False)
    if isinstance(value, list | tuple | dict):
        is_dict = isinstance(value, dict)
        if depth >= 4:
            return "{…}" if is_dict else "[…]"
        parts: list[str] = []
        used = 2
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for key, item in items:
            if used > budget:
                parts.append("…")
                break
            part = f"{_json_text(str(key), budget - used, depth + 1)}: " if is_dict else ""
            part += _json_text(item, budget - used - len(part), depth + 1)
            parts.append(part)
            used += len(part) + 2
        return ("{%s}" if is_dict else "[%s]") % ", ".join(parts)
    return repr(value)[: budget + 1]


def _migrate_1_to_2(read: _Reader, data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept x/y inside nodes and wrote edges as {"from": "a:out", "to": "b:in"}.

    Positions and wires are checked here, so that errors name the fields as the file has them.
    """
    graph = data.get("graph")
    if not isinstance(graph, dict):
        return data  # the version-2 reader names the bad field
    layout: dict[str, list[float]] = {}
    nodes = []
    nodes_data, edges_data = graph.get("nodes"), graph.get("edges")
    if not isinstance(nodes_data, list) or not isinstance(edges_data, list):
        return {**data, "version": 2}
    for index, node in enumerate(nodes_data):
        if isinstance(node, dict) and ("x" in node or "y" in node):
            where = f"graph.nodes[{index}]"
            for axis, other in (("x", "y"), ("y", "x")):
                if axis not in node:
                    raise read.fail(
                        f"{where}.{axis}",
                        f"is missing (the node has {other}; a position needs both)",
                        fix=f'Add "{axis}" or remove "{other}"',
                    )
            node = dict(node)
            point = [_coordinate(read, f"{where}.{a}", node.pop(a)) for a in ("x", "y")]
            if isinstance(node.get("name"), str):
                layout[node["name"]] = point
        nodes.append(node)
    edges = []
    for index, edge in enumerate(edges_data):
        where = f"graph.edges[{index}]"
        if not (isinstance(edge, dict) and "from" in edge and "to" in edge):
            raise read.fail(
                where, 'must be {"from": "node:port", "to": "node:port"} (version 1)', edge
            )
        ends: list[str] = []
        for key in ("from", "to"):
            node_name, colon, port = (
                edge[key].rpartition(":") if isinstance(edge[key], str) else ("", "", "")
            )
            if not (colon and node_name and port):
                raise read.fail(
                    f"{where}.{key}",
                    'must be written "node:port", such as "conv1:out" or "conv1:in"',
                    edge[key],
                )
            ends += [node_name, port]
        edges.append(ends)
        read.written[where] = edge  # later errors show the wire as the file writes it
    return {**data, "version": 2, "graph": {"nodes": nodes, "edges": edges}, "layout": layout}


def _migrate_2_to_3(read: _Reader, data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 added bypassed blocks ("bypassed": true in a node) and notes: a version-2 file
    has neither, so it reads as it is."""
    return {**data, "version": 3}


MIGRATIONS: dict[int, Callable[[_Reader, dict[str, Any]], dict[str, Any]]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
}
