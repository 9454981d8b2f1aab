"""CNN Designer's Qt front end (PySide6, pyqtgraph) and command line.

PySide6 6.12.0 on Python 3.11 loses references to None and aborts the interpreter
("none_dealloc"); pyproject.toml keeps PySide6 below 6.12 on Pythons older than 3.12, and
tests/test_qt_refcounts.py checks the installed build.
"""
