"""Find a block by name: the toolbar's search box (Ctrl+F), with next and previous.

Enter in the box goes to the next block whose name matches, Shift+Enter to the previous one
(F3 and Shift+F3 anywhere in the window); each zooms the canvas in to the block, centres and
selects it. A block named exactly as typed comes first, then every block whose name holds the
text, in the design's order.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QLineEdit

from designer.canvas.view import CanvasView


def matches(names: list[str], text: str) -> list[str]:
    """The names matching ``text`` (case-insensitive): an exact match first, then those
    holding the text, in order."""
    needle = text.strip().lower()
    if not needle:
        return []
    exact = [n for n in names if n.lower() == needle]
    return exact + [n for n in names if needle in n.lower() and n not in exact]


class BlockFinder(QObject):
    """Steps through the blocks matching the search box's text."""

    def __init__(self, view: CanvasView, box: QLineEdit, say: Callable[[str], None]) -> None:
        super().__init__(box)
        self.view = view
        self.box = box
        self.say = say
        self._query = ""
        self._index = -1
        box.installEventFilter(self)
        box.textEdited.connect(self._restart)
        # Enter taken by the completer's list reaches the box past its event filter
        box.returnPressed.connect(self._on_return)

    def _on_return(self) -> None:
        back = QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier
        self.find(self.box.text(), -1 if back else 1)

    def _restart(self, *_args: object) -> None:
        self._query, self._index = "", -1

    def find(self, text: str, step: int = 1) -> str | None:
        """Go to the next (``step`` 1) or previous (-1) block matching ``text``: the first
        one for a new text. None, with a message, when no block matches."""
        names = matches(self.view.document.graph.names, text)
        if not names:
            self.say(f"No block named {text.strip()!r}: type part of a block's name")
            self._restart()
            return None
        if text.strip().lower() != self._query:
            self._query = text.strip().lower()
            self._index = 0 if step > 0 else len(names) - 1
        else:
            self._index = (self._index + step) % len(names)
        name = names[self._index]
        self.view.center_on_node(name)
        if len(names) > 1:
            self.say(
                f"{name}: {self._index + 1} of {len(names)} blocks matching {text.strip()!r} "
                "(Enter or F3: next, Shift+Enter or Shift+F3: previous)"
            )
        else:
            self.say(name)
        return name

    def step(self, step: int) -> str | None:
        """Next (1) or previous (-1) match of the box's text (F3, Shift+F3)."""
        if not self.box.text().strip():
            self.box.setFocus()
            self.say("Type part of a block's name in the search box, then press Enter")
            return None
        return self.find(self.box.text(), step)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.box and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                back = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
                self.find(self.box.text(), -1 if back else 1)
                return True
        return False
