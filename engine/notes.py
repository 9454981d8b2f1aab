"""Notes: free text placed on the canvas beside the blocks (for teaching, or as reminders).

Notes are part of the project (``Project.notes``) but not of the network: inference, compiling
and export never look at them. Like the graph, the collection is changed only through its
methods, each announcing what changed on ``Notes.events``, so the designer's undo commands
record and replay notes the way they do blocks, and the canvas follows the events.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

from engine.errors import GraphError, UnknownNameError
from engine.events import Event

MAX_NOTE_CHARS = 10_000  # a note is a paragraph or two, not a document
MIN_NOTE_SIZE, MAX_NOTE_SIZE = 40.0, 4_000.0  # width and height on the canvas
DEFAULT_NOTE_SIZE = (220.0, 110.0)
_EDITABLE = ("text", "x", "y", "width", "height")


@dataclass(frozen=True)
class Note:
    """One note: its id (note1, note2...), its text, its top-left corner and its size."""

    id: str
    text: str
    x: float
    y: float
    width: float = DEFAULT_NOTE_SIZE[0]
    height: float = DEFAULT_NOTE_SIZE[1]

    def to_data(self) -> dict[str, Any]:
        """The note as the project file writes it."""
        return {
            "id": self.id,
            "text": self.text,
            "x": round(self.x, 2),
            "y": round(self.y, 2),
            "width": round(self.width, 2),
            "height": round(self.height, 2),
        }


def note_problem(field_name: str, value: Any) -> str | None:
    """What is wrong with ``value`` for a note's field (None when it is fine): the rule and the
    fix, for a message that names the note and the value."""
    if field_name == "id":
        if not (isinstance(value, str) and value.isascii() and value.isidentifier()):
            return "must be a name of letters, digits and underscores (like note1). Rename it"
        return None
    if field_name == "text":
        if not isinstance(value, str):
            return "must be a string. Write the note's text in quotes"
        if len(value) > MAX_NOTE_CHARS:
            return (
                f"must be at most {MAX_NOTE_CHARS:,} characters (it has {len(value):,}). "
                "Shorten it or split it into several notes"
            )
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number. Write e.g. 120.5"
    number = float(value)
    if not math.isfinite(number):
        return "must be a finite number. Write e.g. 120.5"
    if field_name in ("width", "height") and not MIN_NOTE_SIZE <= number <= MAX_NOTE_SIZE:
        return f"must be between {MIN_NOTE_SIZE:g} and {MAX_NOTE_SIZE:g}. Use a size in that range"
    return None


def _checked(note: Note) -> Note:
    for item in fields(Note):
        value = getattr(note, item.name)
        problem = note_problem(item.name, value)
        if problem is not None:
            raise GraphError(f"note {note.id!r}: {item.name} {problem}. Received: {value!r}")
    return replace(
        note, x=float(note.x), y=float(note.y), width=float(note.width), height=float(note.height)
    )


class NoteEvents:
    """What ``Notes`` announces, in the past tense."""

    def __init__(self) -> None:
        self.note_added = Event("note_added")  # (note, its index)
        self.note_removed = Event("note_removed")  # (note, its index)
        self.note_changed = Event("note_changed")  # (new note, old note)


class Notes:
    """The notes of a project, in the order they were added; ids are unique."""

    def __init__(self, notes: list[Note] | None = None) -> None:
        self._notes: dict[str, Note] = {}
        self.events = NoteEvents()
        for note in notes or []:
            self.add(note)

    def __len__(self) -> int:
        return len(self._notes)

    def __iter__(self) -> Iterator[Note]:
        return iter(list(self._notes.values()))

    def __contains__(self, note_id: object) -> bool:
        return note_id in self._notes

    def get(self, note_id: str) -> Note:
        """The note ``note_id``; UnknownNameError names the closest ids."""
        try:
            return self._notes[note_id]
        except KeyError:
            raise UnknownNameError("note", note_id, self._notes) from None

    def free_id(self) -> str:
        """The first free id note1, note2, ... (one of the first len + 1 is free)."""
        candidates = (f"note{n}" for n in range(1, len(self._notes) + 2))
        return next(c for c in candidates if c not in self._notes)

    def create(
        self, text: str, x: float, y: float, width: float | None = None, height: float | None = None
    ) -> Note:
        """Add a new note with a free id; returns it."""
        size = (width or DEFAULT_NOTE_SIZE[0], height or DEFAULT_NOTE_SIZE[1])
        return self.add(Note(self.free_id(), text, x, y, *size))

    def add(self, note: Note, index: int | None = None) -> Note:
        """Add ``note`` (at ``index`` in the order, the end when None); GraphError when a field
        is invalid or the id is taken."""
        note = _checked(note)
        if note.id in self._notes:
            raise GraphError(
                f"a note called {note.id!r} already exists. Choose another id, "
                f"such as {self.free_id()!r}"
            )
        items = list(self._notes.items())
        at = len(items) if index is None else max(0, min(index, len(items)))
        items.insert(at, (note.id, note))
        self._notes = dict(items)
        self.events.note_added.emit(note, at)
        return note

    def remove(self, note_id: str) -> tuple[Note, int]:
        """Delete a note; returns it and where it stood (for ``add(note, index)``)."""
        note = self.get(note_id)
        index = list(self._notes).index(note_id)
        del self._notes[note_id]
        self.events.note_removed.emit(note, index)
        return note, index

    def update(self, note_id: str, **changes: Any) -> Note:
        """Change a note's text, position or size; returns the old note."""
        old = self.get(note_id)
        unknown = set(changes) - set(_EDITABLE)
        if unknown:
            raise UnknownNameError("note field", sorted(unknown)[0], _EDITABLE)
        new = _checked(replace(old, **changes))
        if new != old:
            self._notes[note_id] = new
            self.events.note_changed.emit(new, old)
        return old

    def put(self, note: Note) -> None:
        """Set a note to exactly ``note`` (undo and redo of a change)."""
        self.update(note.id, **{name: getattr(note, name) for name in _EDITABLE})

    def to_data(self) -> list[dict[str, Any]]:
        """Every note as the project file writes it."""
        return [note.to_data() for note in self._notes.values()]
