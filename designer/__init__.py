"""CNN Designer's Qt front end (PySide6, pyqtgraph) and command line."""
