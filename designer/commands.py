"""Undo commands: every edit of the design is one ``GraphCommand`` on the document's QUndoStack.

A command runs an engine action once while recording the graph's events (and the document's
position changes); undo replays the inverse of those records in reverse, redo replays them
forward. So any engine function, however compound (delete a block and its wires, apply a quick
fix, paste, auto layout), becomes exactly one undo step, and the view only ever follows the graph.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from engine import Edge, Graph, Node, RemovedNode
from engine.notes import Notes

if TYPE_CHECKING:
    from designer.document import Document

Point = tuple[float, float]


class _Missing:
    """The value of a project entry that is not there (``MISSING``)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Op:
    """One recorded primitive change: ``kind`` and what is needed to redo and undo it."""

    kind: str
    args: tuple[Any, ...]


class Recorder:
    """Collects the primitive changes a graph (and a document) announces while connected."""

    def __init__(self, graph: Graph, notes: Notes | None = None) -> None:
        self.graph = graph
        self.ops: list[Op] = []
        self._hooks: dict[Any, Callable[..., None]] = {
            graph.events.node_added: lambda node: self._add("node_added", copy.deepcopy(node)),
            graph.events.node_removed: lambda node, index: self._add(
                "node_removed", copy.deepcopy(node), index
            ),
            graph.events.edge_added: lambda edge: self._add("edge_added", edge),
            graph.events.edge_removed: lambda edge, slot: self._add("edge_removed", edge, slot),
            graph.events.params_changed: lambda name, new, old: self._add(
                "params_changed", name, copy.deepcopy(new), copy.deepcopy(old)
            ),
            graph.events.node_renamed: lambda old, new: self._add("node_renamed", old, new),
            graph.events.groups_changed: lambda new, old: self._add("groups_changed", new, old),
            graph.events.bypass_changed: lambda name, new, old: self._add(
                "bypass_changed", name, new, old
            ),
        }
        if notes is not None:  # notes are immutable records: kept as they are
            self._hooks[notes.events.note_added] = lambda note, i: self._add("note_added", note, i)
            self._hooks[notes.events.note_removed] = lambda note, i: self._add(
                "note_removed", note, i
            )
            self._hooks[notes.events.note_changed] = lambda new, old: self._add(
                "note_changed", new, old
            )

    def _add(self, kind: str, *args: Any) -> None:
        self.ops.append(Op(kind, args))

    def record_position(
        self, name: str, old: Point | None, new: Point | None, index: int | None = None
    ) -> None:
        """Called by the document when a node's position changes (``index``: where a removed
        position stood in the layout's order)."""
        self._add("position", name, old, new, index)

    def record_entry(self, section: str, key: str, old: Any, new: Any) -> None:
        """Called by the document when ``project.<section>[key]`` changes (MISSING: absent)."""
        self._add("entry", section, key, copy.deepcopy(old), copy.deepcopy(new))

    def __enter__(self) -> Recorder:
        for event, hook in self._hooks.items():
            event.connect(hook)
        return self

    def __exit__(self, *exc: object) -> None:
        for event, hook in self._hooks.items():
            event.disconnect(hook)


def _replay(doc: Document, op: Op, forward: bool) -> None:
    """Redo (``forward``) or undo one recorded change. Undo replays a command's changes in
    reverse, so each removal is undone on the graph that removal left: its node, wire or position
    goes back to the place it had, and the orders come back exactly."""
    graph = doc.graph
    kind, args = op.kind, op.args
    if kind == "node_added":
        node: Node = args[0]
        if forward:  # the graph is as before the add, which appended the node
            graph.restore_node(RemovedNode(copy.deepcopy(node), []))
        else:
            graph.remove_node(node.name)
    elif kind == "node_removed":
        node, index = args
        if forward:
            graph.remove_node(node.name)
        else:
            graph.restore_node(RemovedNode(copy.deepcopy(node), [], index), in_place=True)
    elif kind == "edge_added":
        edge: Edge = args[0]
        if forward:
            graph.add_edge_unchecked(edge)
        else:
            graph.disconnect(edge)
    elif kind == "edge_removed":
        edge, slot = args
        if forward:
            graph.disconnect(edge)
        else:
            graph.restore_edge(edge, slot)
    elif kind == "params_changed":
        name, new, old = args
        graph.set_params(name, copy.deepcopy(new if forward else old))
    elif kind == "node_renamed":
        old_name, new_name = args
        graph.rename(*((old_name, new_name) if forward else (new_name, old_name)))
    elif kind == "groups_changed":
        new, old = args
        graph.set_groups(new if forward else old)
    elif kind == "bypass_changed":
        name, new_flag, old_flag = args
        graph.set_bypassed(name, new_flag if forward else old_flag)
    elif kind in ("note_added", "note_removed", "note_changed"):
        _replay_note(doc, op, forward)
    elif kind == "position":
        name, old_pos, new_pos, index = args
        if forward:
            doc.place(name, new_pos)
        else:
            doc.place(name, old_pos, index)
    elif kind == "entry":
        section, key, old_value, new_value = args
        doc.set_entry(section, key, copy.deepcopy(new_value if forward else old_value))
    else:
        raise AssertionError(kind)


def _replay_note(doc: Document, op: Op, forward: bool) -> None:
    """Redo or undo one change of the project's notes."""
    notes = doc.project.notes
    if op.kind == "note_changed":
        new, old = op.args
        notes.put(new if forward else old)
        return
    note, index = op.args
    if (op.kind == "note_added") == forward:
        notes.add(note, index)
    else:
        notes.remove(note.id)


class DocumentCommand(QUndoCommand):
    """An undo command of a document, which it holds weakly.

    The document owns its QUndoStack and the stack owns its commands. If a command also held
    the document, the garbage collector could free the document while clearing that very
    command, and the stack would then delete a half-cleared command (a segmentation fault at
    exit). So commands keep only a weak reference and no closures over the document.
    """

    def __init__(self, doc: Document, text: str) -> None:
        super().__init__(text)
        self._doc = weakref.ref(doc)

    @property
    def doc(self) -> Document:
        """The document this command edits (alive while its undo stack is)."""
        doc = self._doc()
        if doc is None:  # pragma: no cover - the stack dies with its document
            raise RuntimeError("the document of this undo command no longer exists")
        return doc


class GraphCommand(DocumentCommand):
    """One undoable edit. ``execute`` runs the action once (raising if it fails, with the graph
    left as it was); the stack's redo and undo then replay what it recorded."""

    def __init__(self, doc: Document, text: str, action: Callable[[], Any]) -> None:
        super().__init__(doc, text)
        self.action: Callable[[], Any] | None = action
        self.ops: list[Op] = []
        self.result: Any = None
        self._executed = False
        self._skip_redo = False

    def execute(self) -> Any:
        """Run the action while recording; on an exception, reverse it and re-raise."""
        doc = self.doc
        recorder = Recorder(doc.graph, doc.project.notes)
        action, self.action = self.action, None  # run once; the closure may hold the document
        if action is None:
            raise RuntimeError("an undo command's action runs only once")
        with doc.batch():
            doc.recorder = recorder
            try:
                with recorder:
                    self.result = action()
            except BaseException:
                for op in reversed(recorder.ops):
                    _replay(doc, op, forward=False)
                raise
            finally:
                doc.recorder = None
        self.ops = recorder.ops
        self._executed = self._skip_redo = True
        return self.result

    def redo(self) -> None:
        if self._skip_redo:  # QUndoStack.push calls redo: the action already ran in execute()
            self._skip_redo = False
            return
        with self.doc.batch():
            for op in self.ops:
                _replay(self.doc, op, forward=True)

    def undo(self) -> None:
        with self.doc.batch():
            for op in reversed(self.ops):
                _replay(self.doc, op, forward=False)
