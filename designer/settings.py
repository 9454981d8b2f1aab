"""Persistent user settings (QSettings): recent files and window layout.

The organisation and application names make QSettings find the same store in every run; tests
point QSettings at a temporary folder with ``QSettings.setPath``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "CNN Designer"
APPLICATION = "cnn-designer"
MAX_RECENT = 8


def settings() -> QSettings:
    """The user's settings store."""
    return QSettings(ORGANIZATION, APPLICATION)


def recent_files() -> list[str]:
    """Recently opened or saved files, newest first (missing ones left out)."""
    value = settings().value("recent_files", [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-item list
        value = [value]
    return [p for p in (value or []) if Path(p).exists()]


def add_recent_file(path: str | Path) -> list[str]:
    """Put ``path`` first in the recent files; returns the new list."""
    text = str(Path(path).resolve())
    files = [text, *(p for p in recent_files() if p != text)][:MAX_RECENT]
    settings().setValue("recent_files", files)
    return files
