"""What the run browser does to runs: open the design a run trained in the window, and delete
runs to the trash with an undo that lasts the session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import DesignerError
from engine.experiments.run_meta import RunMetaError, restore_run, trash_run


def training_run(window: Any) -> str | None:
    """The run folder of the run the window is training (None when none is)."""
    controller = getattr(window, "training", None)
    if controller is None or not controller.is_running():
        return None
    run_dir = getattr(controller, "last_run_dir", None)
    return str(run_dir) if run_dir else None


def open_run_design(window: Any, run_dir: str | Path, settings: dict[str, Any]) -> str | None:
    """Open the design the run in ``run_dir`` trained as a new untitled design, with the run's
    training settings, after asking about unsaved changes as File ▸ Open does. Returns None
    when it was opened, else why not ("" when the user cancelled)."""
    from designer.document import laid_out_project
    from engine.experiments.run_compare import run_graph

    try:
        project = laid_out_project(run_graph(run_dir))
    except DesignerError as error:
        return str(error)
    if isinstance(settings, dict) and settings:
        project.training = dict(settings)
    if not window.maybe_save():
        return ""
    window.document.replace_project(project)
    window.canvas.zoom_to_fit()
    return None


@dataclass(frozen=True)
class Trashed:
    original: Path
    trashed: Path


class RunTrash:
    """Runs deleted in this session, newest last; ``undo`` moves the newest back."""

    def __init__(self) -> None:
        self.deleted: list[Trashed] = []

    def delete(self, run_dir: str | Path, training: str | None) -> Trashed:
        """Move the run to its runs folder's trash; RunMetaError when it is the run that is
        training or cannot be moved."""
        path = Path(run_dir)
        if training is not None and Path(training) == path:
            raise RunMetaError(
                f"run {path.name}: it is training, so it cannot be deleted. Stop the run "
                "first (Training ▸ Stop), then delete it"
            )
        done = Trashed(path, trash_run(path))
        self.deleted.append(done)
        return done

    def undo(self) -> Trashed | None:
        """Restore the newest deleted run (None when there is none); RunMetaError when it
        cannot be moved back (one gone from the trash is forgotten, else it stays to undo)."""
        if not self.deleted:
            return None
        last = self.deleted[-1]
        if not last.trashed.is_dir():  # emptied from the trash meanwhile: nothing to restore
            self.deleted.pop()
        restore_run(last.trashed, last.original)
        self.deleted.pop()
        return last
