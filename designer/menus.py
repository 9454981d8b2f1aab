"""The window's menus by title, for features that hook their actions in from their own module."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMenu


def window_menu(window: Any, title: str) -> QMenu | None:
    """The menu bar's menu called ``title`` (with its ``&``, e.g. "&View"); None if absent."""
    for action in window.menuBar().actions():
        if action.text() == title and action.menu() is not None:
            return action.menu()
    return None
