"""Open a run chosen in the trade-off plot or the sweep's table.

Where the Runs page can select a run by its folder (a ``select_run(path)`` method), the window
switches to the Runs view and selects it there. Otherwise the run's design (its graph.json) is
opened as a new untitled design, after asking about unsaved changes as File ▸ Open does; a run
without a readable design is named in the status bar and nothing changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine import DesignerError

MAX_GRAPH_BYTES = 64 * 1024 * 1024  # as a project file


def runs_page(window: Any) -> Any:
    """The window's Runs page, built if it was not yet (None without training)."""
    host = getattr(getattr(window, "training", None), "host", None)
    if host is None:
        return None
    if getattr(host, "runs", None) is None and hasattr(host, "ensure_dashboard"):
        host.ensure_dashboard()
    return getattr(host, "runs", None)


def open_run(window: Any, path: str | Path) -> str:
    """Show the run in ``path``; returns how: "selected", "opened" or "" (nothing changed)."""
    page = runs_page(window)
    select = getattr(page, "select_run", None)
    if callable(select):
        window.switch_view("runs")
        select(Path(path))
        return "selected"
    try:
        project = run_design(Path(path))
    except DesignerError as error:
        window.statusBar().showMessage(str(error), 10_000)
        return ""
    if not window.maybe_save():
        return ""
    window.document.replace_project(project)
    window.switch_view("design")
    window.canvas.zoom_to_fit()
    window.statusBar().showMessage(f"Opened the design of run {Path(path).name}", 8000)
    return "opened"


def run_design(folder: Path) -> Any:
    """The design a run trained (its graph.json) as a laid-out Project; DesignerError names
    the file and what is wrong."""
    from designer.document import laid_out_project
    from engine.project import FORMAT, VERSION, project_from_data
    from engine.safe_files import read_regular_file

    source = folder / "graph.json"
    fix = "Pick another run, or open its project file"
    try:
        text = read_regular_file(source, MAX_GRAPH_BYTES, "run design", fix)
        data = json.loads(text.decode("utf-8"))
        graph = project_from_data(
            {"format": FORMAT, "version": VERSION, "graph": data}, str(source)
        ).graph
    except DesignerError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise DesignerError(
            f"{source}: the run's design cannot be read ({type(error).__name__}: {error}). {fix}"
        ) from error
    return laid_out_project(graph, {"run": str(folder)})
