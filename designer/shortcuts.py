"""The main window's keyboard shortcuts, one table.

Every shortcut is written out, never a QKeySequence.StandardKey: a standard key stands for
different keys on each platform (Redo is Ctrl+Shift+Z on X11 and Ctrl+Y elsewhere), so one
listed beside its written-out twin binds the same key twice on some platform, and Qt ignores
an ambiguous key altogether ("Ambiguous shortcut overload"). The same keys on every platform
(Qt turns Ctrl into Cmd on macOS); tests check that no key is bound twice.
"""

from __future__ import annotations

SHORTCUTS: dict[str, tuple[str, ...]] = {
    "new": ("Ctrl+N",),
    "new_preset": ("Ctrl+Shift+N",),
    "open": ("Ctrl+O",),
    "save": ("Ctrl+S",),
    "save_as": ("Ctrl+Shift+S",),
    "import_model": ("Ctrl+I",),
    "export_python": ("Ctrl+E",),
    "quit": ("Ctrl+Q",),
    "undo": ("Ctrl+Z",),
    "redo": ("Ctrl+Shift+Z", "Ctrl+Y"),
    "copy": ("Ctrl+C",),
    "paste": ("Ctrl+V",),
    "duplicate": ("Ctrl+D",),
    "delete": ("Del",),
    "select_all": ("Ctrl+A",),
    "zoom_fit": ("Ctrl+0",),
    "auto_layout": ("Ctrl+L",),
    "group": ("Ctrl+G",),
    "ungroup": ("Ctrl+Shift+G",),
    "find": ("Ctrl+F",),
    "bypass": ("Ctrl+B",),
    "find_next": ("F3",),
    "find_previous": ("Shift+F3",),
    "minimap": ("Ctrl+Shift+M",),
    # the views, as Qt Creator switches its modes (Ctrl+digit; Alt+digit is taken by many X11
    # desktops and terminals, and Ctrl+0 is Zoom to fit here)
    "view_design": ("Ctrl+1",),
    "view_train": ("Ctrl+2",),
    "view_runs": ("Ctrl+3",),
}
