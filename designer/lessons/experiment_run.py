"""One experiment in the background: its variants trained one after the other as ordinary runs.

``ExperimentRun.start`` writes each variant's project file in a temporary folder and starts
``python -m designer.lessons.job`` in a background process (``BackgroundCommand``, never on
the UI thread): it trains each with the
command line's ``train`` into the window's runs folder, so the Runs view lists them, and measures
it. The process's ``LESSON`` lines are read as they come; ``finished`` is emitted at the end
with every variant's run folder, status and parameter count.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from designer.background_command import BackgroundCommand
from designer.lessons.job import PREFIX
from engine import Graph, Project, infer, save_project
from engine.lessons.experiments import EXPERIMENTS, Experiment, experiment_graphs


class ExperimentRun(QObject):
    """Trains experiment ``key``'s variants of ``base`` on the built-in ``dataset`` into
    ``root`` with ``args``; ``note`` says which design it is (``engine.lessons.base``)."""

    progress = Signal(str)
    finished = Signal()

    def __init__(
        self,
        key: str,
        base: Graph,
        root: Path,
        args: list[str],
        parent: QObject | None = None,
        dataset: str = "digits",
        note: str = "",
    ) -> None:
        super().__init__(parent)
        self.experiment: Experiment = EXPERIMENTS[key]
        self.root, self.dataset, self.note = Path(root), dataset, note
        self.args = ["--data", dataset, *args]
        self.graphs = experiment_graphs(key, base)  # GraphError: nothing starts
        self.params = {label: infer(graph).total_params for label, graph in self.graphs}
        self.results: list[dict[str, Any]] = []
        self.error: str | None = None
        self.command = BackgroundCommand(self, module="designer.lessons.job", merged=False)
        self.command.line.connect(self._read)
        self.command.ended.connect(self._done)
        self.command.failed_to_start.connect(self._failed_to_start)
        self._folder = tempfile.TemporaryDirectory(prefix="cnnd-lesson-")

    def start(self) -> None:
        """Write the variants and start the background process."""
        folder = Path(self._folder.name)
        runs = []
        for index, (label, graph) in enumerate(self.graphs):
            path = folder / f"variant{index}.cnnd"
            training = {"data": {"dataset": self.dataset}}
            save_project(Project(graph=graph, training=training), path)
            runs.append({"label": label, "project": str(path)})
        spec = folder / "spec.json"
        out = str(self.root.absolute())  # the job runs from the project's root
        spec.write_text(json.dumps({"out": out, "args": self.args, "runs": runs}))
        self.progress.emit(f"{self.experiment.title}: training {self.graphs[0][0]}…")
        self.command.start([str(spec)])

    def is_running(self) -> bool:
        return self.command.running

    def _read(self, line: str) -> None:
        if not line.startswith(PREFIX):
            return
        try:
            record = json.loads(line[len(PREFIX) :])
        except ValueError:
            return
        record["params"] = self.params.get(record.get("label", ""))
        self.results.append(record)
        done = len(self.results)
        following = f"; training {self.graphs[done][0]}…" if done < len(self.graphs) else ""
        self.progress.emit(
            f"{self.experiment.title}: {record['label']} {record['status']}{following}"
        )

    def _done(self, code: int) -> None:
        if code != 0:
            tail = self.command.error_text()
            failed = [r["message"] for r in self.results if r.get("status") == "failed"]
            self.error = (failed or tail.strip().splitlines() or [f"exit status {code}"])[-1]
        self._folder.cleanup()
        self.finished.emit()

    def _failed_to_start(self, _reason: str) -> None:
        self.error = f"the training process could not start ({sys.executable})"
        self.finished.emit()

    def stop(self) -> None:
        """End the background process (the window is closing)."""
        self.command.kill(3000)
