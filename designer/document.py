"""The open design: the engine project, its undo stack, and the latest inference result.

Views (canvas, inspector, summary, problems) read from here and edit only through the methods
below, each of which pushes one undo command. After every command the graph is re-inferred once
and ``inferred`` is emitted; views also follow the graph's own events (``doc.graph.events``).
The document keeps no model state of its own beyond view state (selection, collapsed groups,
positions live in the engine's Project).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from designer.commands import MISSING, GraphCommand, Point, Recorder
from engine import (
    DesignerError,
    Edge,
    Fix,
    Graph,
    GraphError,
    InferenceResult,
    Project,
    apply_fix,
    load_project,
    save_project,
)
from engine.incremental import IncrementalInference
from engine.layout import default_collapsed, layout_positions

# The most blocks the window opens. Every block is a few Qt items, built and kept up to date in
# Python: 20,000 blocks open in about 8 s of CPU here, 100,000 took most of a minute and
# every edit then seconds. Bigger designs work on the command line (summary, export, train).
MAX_CANVAS_BLOCKS = 25_000


def check_canvas_size(project: Project, origin: str) -> None:
    """DesignerError when ``project`` has more blocks than the window opens."""
    count = len(project.graph)
    if count > MAX_CANVAS_BLOCKS:
        raise DesignerError(
            f"{origin}: the design is too big for the window, which opens at most "
            f"{MAX_CANVAS_BLOCKS:,} blocks. Received: blocks={count:,}. Use the command line "
            "for it (cnn-designer summary, export or train), or split it into smaller designs"
        )


class Document(QObject):
    """One project being edited."""

    inferred = Signal(object)  # InferenceResult, after every change
    positions_changed = Signal(list)  # names whose position changed
    selection_changed = Signal(list)  # selected node names
    collapsed_changed = Signal()  # groups collapsed or expanded
    project_replaced = Signal()  # a whole new project (open, new, preset): rebuild views
    file_changed = Signal()  # path or clean state changed

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project or Project()
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.path: Path | None = None
        self.recorder: Recorder | None = None
        self.selection: list[str] = []
        self._batch_depth = 0
        self._moved: set[str] = set()
        self._collapsed_dirty = False  # view["collapsed"] changed inside a batch
        self.inference = IncrementalInference(self.graph)
        self.result: InferenceResult = self.inference.update()
        _LIVE.add(self)

    def dispose(self) -> None:
        """Delete the undo history now; call it when the document is closed.

        A QUndoStack deletes its commands when it is destroyed. If that happens while Python's
        garbage collector takes a cycle of Qt wrappers apart (a closed window and its
        document), the commands' wrappers may already be gone and the interpreter crashes.
        Clearing the stack while everything is intact avoids that.
        """
        self.undo_stack.clear()

    def _on_clean_changed(self, _clean: bool) -> None:
        self.file_changed.emit()

    # ----- state ---------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        """The engine graph being edited."""
        return self.project.graph

    @property
    def modified(self) -> bool:
        """Whether there are unsaved changes."""
        return not self.undo_stack.isClean()

    def position(self, name: str) -> Point | None:
        """Where node ``name`` sits on the canvas (scene coordinates), if placed."""
        return self.project.layout.get(name)

    @property
    def collapsed(self) -> set[str]:
        """Names of the groups drawn as one node."""
        return set(self.project.view.get("collapsed", []))

    # ----- batching and inference -------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Re-infer and notify once, after the outermost batch ends."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self.refresh()

    def refresh(self) -> None:
        """Bring the inference result up to date (re-inferring only what the edits since the
        last one can change) and tell the views."""
        self.result = self.inference.update()
        if self._moved:
            moved, self._moved = sorted(self._moved), set()
            self.positions_changed.emit(moved)
        stale = [n for n in self.selection if n not in self.graph]
        if stale:
            self.set_selection([n for n in self.selection if n in self.graph])
        self.inferred.emit(self.result)
        if self._collapsed_dirty:
            self._collapsed_dirty = False
            self.collapsed_changed.emit()

    # ----- undoable edits ----------------------------------------------------------------
    def edit(self, text: str, action: Callable[[], Any]) -> Any:
        """Run ``action`` (engine calls) as one undo step and return its result.

        Exceptions from the engine (GraphError, ...) propagate with the graph unchanged.
        """
        command = GraphCommand(self, text, action)
        result = command.execute()
        if command.ops:
            self.undo_stack.push(command)
        return result

    def place(self, name: str, pos: Point | None, index: int | None = None) -> None:
        """Set a node's position (recorded for undo when inside an edit).

        ``index`` (for undo) puts a position that was removed back at its place in the layout's
        order, so that the saved file comes back the same."""
        layout = self.project.layout
        old = layout.get(name)
        removed_at = None
        if pos is None:
            if name in layout:
                removed_at = list(layout).index(name)
                del layout[name]
        else:
            point = (float(pos[0]), float(pos[1]))
            if index is not None and name not in layout and index < len(layout):
                items = list(layout.items())
                items.insert(index, (name, point))
                layout.clear()
                layout.update(items)
            else:
                layout[name] = point
        if self.recorder is not None:
            self.recorder.record_position(name, old, pos, removed_at)
        self._moved.add(name)
        if self._batch_depth == 0:
            self.refresh()

    def set_entry(self, section: str, key: str, value: Any) -> None:
        """Set ``project.<section>[key]`` (``view`` or ``metadata``; ``MISSING`` removes it),
        recorded for undo when inside an edit."""
        table: dict[str, Any] = getattr(self.project, section)
        old = table.get(key, MISSING)
        if value is MISSING:
            table.pop(key, None)
        else:
            table[key] = value
        if self.recorder is not None:
            self.recorder.record_entry(section, key, old, value)
        if section == "view" and key == "collapsed":
            self._collapsed_dirty = True
            if self._batch_depth == 0:
                self._collapsed_dirty = False
                self.collapsed_changed.emit()

    def add_node(
        self,
        type_id: str,
        pos: Point,
        params: dict[str, Any] | None = None,
        name: str | None = None,
        group: Iterable[str] = (),
    ) -> str:
        """Add a block at ``pos``; returns its name."""

        def action() -> str:
            node = self.graph.add_node(type_id, name, params, tuple(group))
            self.place(node.name, pos)
            return node.name

        return self.edit(f"Add {type_id}", action)

    def remove_nodes(self, names: Iterable[str]) -> None:
        """Delete blocks and their wires (one undo step)."""
        names = [n for n in names if n in self.graph]

        def action() -> None:
            for name in names:
                self.graph.remove_node(name)
                self.place(name, None)

        if names:
            self.edit(f"Delete {len(names)} block(s)", action)

    def move_nodes(self, positions: dict[str, Point]) -> None:
        """Move blocks (one undo step)."""

        def action() -> None:
            for name, pos in positions.items():
                if self.position(name) != pos:
                    self.place(name, pos)

        self.edit("Move", action)

    def connect(self, src: str, src_port: str, dst: str, dst_port: str | None = None) -> Edge:
        """Wire two ports; GraphError (cycle, bad or busy port) leaves the graph unchanged."""
        return self.edit("Connect", lambda: self.graph.connect(src, dst, src_port, dst_port))

    def disconnect(self, edge: Edge) -> None:
        """Remove a wire."""
        self.edit("Disconnect", lambda: self.graph.disconnect(edge))

    def set_params(self, name: str, changes: dict[str, Any]) -> None:
        """Change parameters of one block."""
        keys = ", ".join(changes)
        self.edit(f"Set {keys} of {name}", lambda: self.graph.set_params(name, changes))

    def rename(self, old: str, new: str) -> None:
        """Rename a block (its position and selection follow)."""

        def action() -> None:
            pos = self.position(old)
            self.graph.rename(old, new)
            self.place(old, None)
            self.place(new, pos)
            carry_rename(self, old, new)  # a frozen block stays frozen

        from designer.transfer.frozen import carry_rename

        selected = old in self.selection  # refresh drops the old name from the selection
        self.edit(f"Rename {old}", action)
        if selected:
            self.set_selection([*self.selection, new])

    def apply_fix(self, fix: Fix) -> None:
        """Apply a diagnostic's quick fix as one undo step (new blocks placed near the target)."""

        def action() -> None:
            before = set(self.graph.names)
            apply_fix(self.graph, fix)
            anchor = self.position(fix.node) or (0.0, 0.0)
            for offset, name in enumerate(sorted(set(self.graph.names) - before)):
                self.place(name, (anchor[0] - 40.0 * (offset + 1), anchor[1] - 60.0))

        self.edit(f"Quick fix: {fix.label}", action)

    def set_bypassed(self, names: Iterable[str], bypassed: bool) -> None:
        """Bypass blocks (identity when compiled) or restore them, as one undo step; GraphError
        (an Input or Output block) leaves them all as they were."""
        names = [n for n in dict.fromkeys(names) if n in self.graph]
        names = [n for n in names if self.graph.node(n).bypassed != bypassed]
        if not names:
            return
        what = names[0] if len(names) == 1 else f"{len(names)} blocks"

        def action() -> None:
            for name in names:
                self.graph.set_bypassed(name, bypassed)

        self.edit(f"{'Bypass' if bypassed else 'Restore'} {what}", action)

    def toggle_bypass(self, names: Iterable[str]) -> None:
        """Bypass the blocks, or restore them when all of them are bypassed already."""
        names = [n for n in names if n in self.graph]
        if names:
            self.set_bypassed(names, not all(self.graph.node(n).bypassed for n in names))

    # ----- notes ---------------------------------------------------------------------------
    def add_note(self, text: str, pos: Point) -> str:
        """Put a note at ``pos`` (its top-left corner); returns its id."""
        return self.edit("Add note", lambda: self.project.notes.create(text, *pos).id)

    def set_note_text(self, note_id: str, text: str) -> None:
        """Change a note's text (GraphError for a text too long)."""
        if self.project.notes.get(note_id).text != text:
            self.edit("Edit note", lambda: self.project.notes.update(note_id, text=text))

    def move_notes(self, positions: dict[str, Point]) -> None:
        """Move notes (one undo step)."""
        notes = self.project.notes

        def action() -> None:
            for note_id, (x, y) in positions.items():
                notes.update(note_id, x=float(x), y=float(y))

        self.edit("Move note", action)

    def remove_notes(self, note_ids: Iterable[str]) -> None:
        """Delete notes (one undo step)."""
        notes = self.project.notes
        ids = [i for i in dict.fromkeys(note_ids) if i in notes]

        def action() -> None:
            for note_id in ids:
                notes.remove(note_id)

        if ids:
            self.edit(f"Delete {len(ids)} note(s)", action)

    def run_edit(self, text: str, action: Callable[[Graph], Any]) -> Any:
        """Any compound engine edit as one undo step: ``action(graph)`` (blocks frozen before
        it stay frozen, as their group changes)."""
        from designer.transfer.frozen import keep_frozen

        return self.edit(text, lambda: keep_frozen(self, lambda: action(self.graph)))

    def ungroup(self, names: Iterable[str], groups: Iterable[str] = ()) -> None:
        """Take blocks out of one group level, as one undo step.

        A block inside one of ``groups`` (dotted names, such as a selected collapsed group)
        leaves that group and stays in the groups around and inside it; any other block leaves
        its innermost group. GraphError when none of them is in a group.
        """
        names = [n for n in dict.fromkeys(names) if n in self.graph]
        if not names:
            raise GraphError("select the blocks or the group to ungroup first")
        levels = sorted((tuple(g.split(".")) for g in groups), key=len)  # outermost first
        changes: dict[str, tuple[str, ...]] = {}
        for name in names:
            path = self.graph.node(name).group
            level = next((g for g in levels if path[: len(g)] == g), None)
            if level is not None:
                changes[name] = (*level[:-1], *path[len(level) :])
            elif path:
                changes[name] = path[:-1]
        if not changes:
            raise GraphError("the selection is not inside a group")
        self.run_edit("Ungroup", lambda graph: graph.set_groups(changes))

    # ----- view state (not undoable) -----------------------------------------------------
    def set_selection(self, names: list[str]) -> None:
        """Select these blocks (empty list clears)."""
        names = [n for n in names if n in self.graph]
        if names != self.selection:
            self.selection = names
            self.selection_changed.emit(list(names))

    def set_collapsed(self, group: str, collapsed: bool) -> None:
        """Draw ``group`` as one node, or expand it."""
        groups = self.collapsed
        groups.add(group) if collapsed else groups.discard(group)
        self.project.view["collapsed"] = sorted(groups)
        self.collapsed_changed.emit()

    def set_collapsed_groups(self, groups: Iterable[str]) -> None:
        """Draw exactly ``groups`` as single nodes (one ``collapsed_changed``)."""
        groups = sorted(set(groups))
        if groups != sorted(self.collapsed) or "collapsed" not in self.project.view:
            self.project.view["collapsed"] = groups
            self.collapsed_changed.emit()

    # ----- whole projects ----------------------------------------------------------------
    def replace_project(self, project: Project, path: Path | None = None) -> None:
        """Show another project (open, new, preset); the undo history starts again."""
        self.project = project
        self.path = path
        self.selection = []
        self.undo_stack.clear()
        self.inference.close()
        self.inference = IncrementalInference(self.graph)
        self.result = self.inference.update()
        self.project_replaced.emit()
        self.inferred.emit(self.result)
        self.file_changed.emit()

    def open(self, path: Path) -> None:
        """Load a project file (ProjectFileError, or DesignerError for a design of more than
        MAX_CANVAS_BLOCKS blocks, leaves the current project open)."""
        project = load_project(path)
        check_canvas_size(project, str(path))
        self.replace_project(project, Path(path))

    def save(self, path: Path | None = None) -> Path:
        """Save atomically to ``path`` (or the current file) and mark the document clean."""
        target = Path(path or self.path or "untitled.cnnd")
        save_project(self.project, target)
        self.path = target
        self.undo_stack.setClean()
        self.file_changed.emit()
        return target

    # ----- presets -------------------------------------------------------------------------
    def load_preset(self, name: str, **options: Any) -> None:
        """Replace every block with preset ``name`` (built with ``options``) as one undo step,
        keeping the file's name (the window's New from preset opens a new design instead).

        The nodes are placed by the layered layout and the preset's modules (ResNet
        blocks, Inception modules, ...) start collapsed. UnknownNameError/ParameterError from
        the registry propagate with the current design unchanged.
        """
        from presets import PRESETS

        graph = PRESETS.get(name).create(**options)
        collapsed = default_collapsed(graph)
        positions = layout_positions(graph, collapsed)

        def action(target: Graph) -> None:
            # the view and metadata are part of the edit, so that undo restores them too
            self.set_entry("view", "collapsed", sorted(set(collapsed) | self.collapsed))
            for old in list(target.names):
                target.remove_node(old)
                self.place(old, None)
            for node in graph:
                target.add_node(node.type_id, node.name, dict(node.params), node.group)
                self.place(node.name, positions.get(node.name, (0.0, 0.0)))
            for edge in graph.edges:
                target.connect(edge.src, edge.dst, edge.src_port, edge.dst_port)
            self.set_entry("metadata", "preset", name)

        self.set_selection([])
        self.run_edit(f"Load preset {name}", action)


def laid_out_project(graph: Graph, metadata: dict[str, Any] | None = None) -> Project:
    """A new project holding ``graph`` placed by the layered layout, its modules collapsed."""
    collapsed = default_collapsed(graph)
    project = Project(graph=graph, layout=layout_positions(graph, collapsed))
    project.view["collapsed"] = collapsed
    project.metadata.update(metadata or {})
    return project


def preset_project(name: str, **options: Any) -> Project:
    """A new project holding preset ``name`` laid out, its modules collapsed."""
    from presets import PRESETS

    project = laid_out_project(PRESETS.get(name).create(**options))
    project.metadata["preset"] = name
    meant = PRESETS.get(name).dataset  # the training settings start from the set it is meant for
    if meant in ("digits", "shapes"):
        project.training = {"data": {"dataset": meant}}
    return project


_LIVE: weakref.WeakSet[Document] = weakref.WeakSet()


def dispose_all() -> None:
    """``dispose`` every document still alive (at application exit, after each test)."""
    for document in list(_LIVE):
        document.dispose()
