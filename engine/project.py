"""Project files: versioned JSON holding the graph, node positions, view and training settings.

A file is data only: it is parsed into plain Python data first (every field checked, errors name
the field), then built into a Graph. Nothing in it is executed or unpickled. Saving is atomic: a
temporary file in the same folder is written, flushed and renamed over the old one.

Format (version 2)::

    {"format": "cnn-designer-project", "version": 2,
     "graph": {"nodes": [{"name": "conv1", "type": "conv2d", "params": {...}, "group": ["stem"]}],
               "edges": [["input1", "out", "conv1", "in"]]},
     "layout": {"conv1": [x, y]}, "view": {"collapsed": ["layer1.0"]},
     "training": {...}, "metadata": {"title": "...", "preset": "lenet5"}}

Version 1 (the first release) kept positions inside each node ("x", "y") and wrote edges as
objects {"from": "node:port", "to": "node:port"}; it is migrated on load. README.md's section
"Project files" documents every field; keep the two in step (a test loads the README example).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.catalog import CATALOG
from engine.errors import DesignerError, ProjectFileError
from engine.graph import Edge, Graph

FORMAT = "cnn-designer-project"
VERSION = 2
SUFFIX = ".cnnd"


@dataclass
class Project:
    """Everything a project file holds."""

    graph: Graph = field(default_factory=Graph)
    layout: dict[str, tuple[float, float]] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        """The JSON document of this project."""
        layout = {
            n: [round(x, 2), round(y, 2)] for n, (x, y) in self.layout.items() if n in self.graph
        }
        return {
            "format": FORMAT,
            "version": VERSION,
            "graph": self.graph.to_data(),
            "layout": layout,
            "view": self.view,
            "training": self.training,
            "metadata": self.metadata,
        }


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Write ``project`` to ``path`` atomically (an interrupted save leaves the old file intact)."""
    import json  # here, not at the top: the designer opens without reading or writing files

    target = Path(path)
    text = json.dumps(project.to_data(), indent=1, ensure_ascii=False)
    write_atomic(target, text)


def write_atomic(target: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``target``, then rename it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(temp, _file_mode(target))  # mkstemp makes 0600 files; keep the usual mode
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _file_mode(target: Path) -> int:
    """The mode of the file being replaced, or what a new file gets under the current umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file; ProjectFileError says what is wrong and where."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as error:
        raise ProjectFileError(f"{source}: cannot be read ({error.strerror or error})") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProjectFileError(
            f"{source}: not a CNN Designer project (not UTF-8 text at byte {error.start})"
        ) from error
    return project_from_text(text, str(source))


def project_from_text(text: str, origin: str = "project") -> Project:
    """Parse a project document given as text."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        on_last_line = "\n" not in text[error.pos :].rstrip()  # the text stops mid-document
        ending = " (the file looks truncated)" if on_last_line else ""
        raise ProjectFileError(
            f"{origin}: not valid JSON at {where}: {error.msg}{ending}"
        ) from error
    return project_from_data(data, origin)


def project_from_data(data: Any, origin: str = "project") -> Project:
    """Build a project from parsed JSON data, migrating older versions."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectFileError(
            f"{origin}: not a CNN Designer project (the field 'format' must be {FORMAT!r})"
        )
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise ProjectFileError(
            f"{origin}: field 'version' must be a positive whole number, got {version!r}"
        )
    if version > VERSION:
        raise ProjectFileError(
            f"{origin}: saved by a newer CNN Designer (format version {version}; this one reads "
            f"up to {VERSION}). Update the program to open it"
        )
    while version < VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    try:
        return _build(_Reader(origin), data)
    except ProjectFileError:
        raise
    except DesignerError as error:
        raise ProjectFileError(f"{origin}: {error}") from error


class _Reader:
    """Typed field access that names the field in every error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message: str) -> ProjectFileError:
        return ProjectFileError(f"{self.origin}: field {where} {message}")

    def get(
        self, data: dict, key: str, kind: type | tuple[type, ...], where: str, default: Any = ...
    ) -> Any:
        if key not in data:
            if default is ...:
                raise self.fail(f"{where}.{key}".lstrip("."), "is missing")
            return default
        value = data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(
                f"{where}.{key}".lstrip("."), f"must be {names}, got {type(value).__name__}"
            )
        return value


def _build(read: _Reader, data: dict[str, Any]) -> Project:
    graph_data = read.get(data, "graph", dict, "")
    graph = Graph()
    for index, item in enumerate(read.get(graph_data, "nodes", list, "graph")):
        where = f"graph.nodes[{index}]"
        if not isinstance(item, dict):
            raise read.fail(where, "must be an object")
        name = read.get(item, "name", str, where)
        type_id = read.get(item, "type", str, where)
        if type_id not in CATALOG:
            raise read.fail(f"{where}.type", f"names an unknown block type {type_id!r}")
        params = read.get(item, "params", dict, where, {})
        group = read.get(item, "group", list, where, [])
        if not all(isinstance(g, str) for g in group):
            raise read.fail(f"{where}.group", "must be a list of names")
        spec = CATALOG.get(type_id)
        known = {p.name for p in spec.params}
        if unknown := sorted(set(params) - known):
            raise read.fail(
                f"{where}.params", f"has unknown parameter {unknown[0]!r} for {type_id}"
            )
        if name in graph:
            raise read.fail(f"{where}.name", f"repeats the node name {name!r}")
        try:
            graph.add_node(spec.type_id, name, params, group)
        except DesignerError as error:
            raise read.fail(where, f"is invalid: {error}") from error
    for index, item in enumerate(read.get(graph_data, "edges", list, "graph")):
        where = f"graph.edges[{index}]"
        if not (
            isinstance(item, list) and len(item) == 4 and all(isinstance(p, str) for p in item)
        ):
            raise read.fail(where, "must be [source, source port, target, target port]")
        _check_edge(read, graph, Edge(*item), where)
        graph.add_edge_unchecked(Edge(*item))
    layout: dict[str, tuple[float, float]] = {}
    for name, point in read.get(data, "layout", dict, "", {}).items():
        if not (
            isinstance(point, list)
            and len(point) == 2
            and all(isinstance(v, int | float) for v in point)
        ):
            raise read.fail(f"layout.{name}", "must be [x, y]")
        layout[name] = (float(point[0]), float(point[1]))
    return Project(
        graph=graph,
        layout=layout,
        view=read.get(data, "view", dict, "", {}),
        training=read.get(data, "training", dict, "", {}),
        metadata=read.get(data, "metadata", dict, "", {}),
    )


def _check_edge(read: _Reader, graph: Graph, edge: Edge, where: str) -> None:
    """Refuse a wire between nodes or ports that do not exist (cycles load; inference reports them)."""
    for name in (edge.src, edge.dst):
        if name not in graph:
            raise read.fail(where, f"refers to a node {name!r} that does not exist")
    source, target = graph.node(edge.src), graph.node(edge.dst)
    outputs = source.spec.outputs(source.params)
    if edge.src_port not in outputs:
        raise read.fail(
            where,
            f"starts at output port {edge.src_port!r} of {edge.src}, which has only "
            f"{', '.join(map(repr, outputs)) or 'no outputs'}",
        )
    if not target.spec.accepts_port(edge.dst_port):
        raise read.fail(
            where, f"ends at input port {edge.dst_port!r}, which {edge.dst} does not have"
        )
    if graph.edge_into(edge.dst, edge.dst_port) is not None:
        raise read.fail(where, f"is a second wire into {edge.dst}.{edge.dst_port}")


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept x/y inside nodes and wrote edges as {"from": "a:out", "to": "b:in"}."""
    graph = data.get("graph")
    if not isinstance(graph, dict):
        return data  # the version-2 reader names the bad field
    layout: dict[str, list[float]] = {}
    nodes = []
    nodes_data, edges_data = graph.get("nodes"), graph.get("edges")
    if not isinstance(nodes_data, list) or not isinstance(edges_data, list):
        return {**data, "version": 2}
    for node in nodes_data:
        if isinstance(node, dict):
            node = dict(node)
            if "x" in node and "y" in node:
                layout[str(node.get("name"))] = [node.pop("x"), node.pop("y")]
        nodes.append(node)
    edges = []
    for edge in edges_data:
        if (
            isinstance(edge, dict)
            and isinstance(edge.get("from"), str)
            and isinstance(edge.get("to"), str)
        ):
            src, _, src_port = edge["from"].rpartition(":")
            dst, _, dst_port = edge["to"].rpartition(":")
            edges.append([src, src_port, dst, dst_port])
        else:
            edges.append(edge)
    return {**data, "version": 2, "graph": {"nodes": nodes, "edges": edges}, "layout": layout}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_1_to_2}
