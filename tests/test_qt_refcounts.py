"""The installed PySide6 keeps Python's reference counts of None, True and False intact.

PySide6 6.12.0 on Python 3.11 decrements None on every void call until the interpreter aborts;
pyproject.toml pins a sound version. This test fails if a broken build is installed again.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_qt_calls_keep_none_and_bools_alive(qtbot) -> None:
    label = QLabel("x")
    qtbot.addWidget(label)
    before = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    for _ in range(2000):
        label.setToolTip("tip")
        label.isVisible()
    after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    drift = [a - b for a, b in zip(after, before, strict=True)]
    assert all(d > -100 for d in drift), f"PySide6 leaks references: drift {drift}"
