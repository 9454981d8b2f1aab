"""One experiment in the background: its variants trained one after the other as ordinary runs.

``ExperimentRun.start`` writes each variant's project file in a temporary folder and starts
``python -m designer.lessons.job`` in a QProcess (never on the UI thread): it trains each with the
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

from PySide6.QtCore import QObject, QProcess, Signal

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
        self.process: QProcess | None = None
        self._buffer = ""
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
        spec.write_text(json.dumps({"out": str(self.root), "args": self.args, "runs": runs}))
        process = self.process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "designer.lessons.job", str(spec)])
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._done)
        process.errorOccurred.connect(self._failed_to_start)
        self.progress.emit(f"{self.experiment.title}: training {self.graphs[0][0]}…")
        process.start()

    def is_running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def _read(self) -> None:
        assert self.process is not None
        self._buffer += bytes(self.process.readAllStandardOutput().data()).decode(
            "utf-8", "replace"
        )
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if not line.startswith(PREFIX):
                continue
            try:
                record = json.loads(line[len(PREFIX) :])
            except ValueError:
                continue
            record["params"] = self.params.get(record.get("label", ""))
            self.results.append(record)
            done = len(self.results)
            following = f"; training {self.graphs[done][0]}…" if done < len(self.graphs) else ""
            self.progress.emit(
                f"{self.experiment.title}: {record['label']} {record['status']}{following}"
            )

    def _done(self, code: int, _status: object) -> None:
        self._read()
        if code != 0 and self.process is not None:
            tail = bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")
            failed = [r["message"] for r in self.results if r.get("status") == "failed"]
            self.error = (failed or tail.strip().splitlines() or [f"exit status {code}"])[-1]
        self._folder.cleanup()
        self.finished.emit()

    def _failed_to_start(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.error = f"the training process could not start ({sys.executable})"
            self.finished.emit()

    def stop(self) -> None:
        """End the background process (the window is closing)."""
        if self.is_running():
            assert self.process is not None
            self.process.kill()
            self.process.waitForFinished(3000)
