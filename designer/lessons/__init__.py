"""The Lessons menu (issue 18 point 8): guided lessons following the lecture's sections, the
one-click experiments (point 7) and their comparison window.

``install_lessons(window)`` adds the menu to a MainWindow; everything else loads on first use.
"""

from __future__ import annotations

from typing import Any


def install_lessons(window: Any) -> Any:
    """Give ``window`` a Lessons menu; returns the ``Lessons`` controller (``window.lessons``)."""
    from designer.lessons.menu import Lessons

    window.lessons = Lessons(window)
    return window.lessons
