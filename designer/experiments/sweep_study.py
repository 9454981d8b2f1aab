"""The sweep's trials as its Optuna study stores them, for the trials the run folders cannot
show: one that failed before it made a run folder (its values make a design with errors, the
data cannot be read…) or one just started, and one whose process was killed (its trial.json
still says running; the storage's heartbeat has marked it failed).

The study's SQLite file is opened read-only (``mode=ro``: nothing in the runs folder is
written) through ``optuna.load_study``, with a short lock timeout so that a poll never waits
long on the sweep that is writing; at most MAX_TRIALS trials are read. Never raises.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any

from designer.experiments.sweep_plan import TrialRow

MAX_TRIALS = 5000  # the newest trials read from the storage, at most
LOCK_TIMEOUT_S = 0.25  # how long a read waits for the sweep's write lock


class StudyReader:
    """Reads one study of one SQLite file; the storage is opened once, on the first read
    that finds the file."""

    def __init__(self, db: Path, study: str) -> None:
        self.db = Path(db)
        self.study_name = study
        self._study: Any = None

    def _open(self) -> Any:
        if self._study is None and self.db.is_file():
            import optuna

            optuna.logging.set_verbosity(optuna.logging.ERROR)
            url = f"sqlite:///file:{self.db.resolve().as_posix()}?mode=ro&uri=true"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                storage = optuna.storages.RDBStorage(
                    url, engine_kwargs={"connect_args": {"timeout": LOCK_TIMEOUT_S}}
                )
                self._study = optuna.load_study(study_name=self.study_name, storage=storage)
        return self._study

    def trials(self) -> list[TrialRow]:
        """The study's trials, by number ([] when it cannot be read now)."""
        try:
            study = self._open()
            if study is None:
                return []
            frozen = study.get_trials(deepcopy=False)[-MAX_TRIALS:]
        except Exception:  # not created yet, locked, damaged: the next poll tries again
            return []
        rows = []
        for trial in frozen:
            with contextlib.suppress(Exception):
                attrs = trial.user_attrs
                run_dir = attrs.get("run_dir")
                message = attrs.get("message")
                rows.append(
                    TrialRow(
                        number=int(trial.number),
                        state=trial.state.name,
                        params=dict(trial.params),
                        value=trial.value if trial.state.name == "COMPLETE" else None,
                        run_dir=Path(run_dir) if isinstance(run_dir, str) else None,
                        message=message if isinstance(message, str) else None,
                    )
                )
        return rows


def merge(from_folders: list[TrialRow], from_study: list[TrialRow]) -> list[TrialRow]:
    """The trials of the run folders, with the study's trials that no folder shows and the
    finished state the study knows of a trial whose folder still says it is running."""
    rows = {row.number: row for row in from_folders}
    for stored in from_study:
        row = rows.get(stored.number)
        if row is None:
            rows[stored.number] = stored
        elif row.state in ("RUNNING", "WAITING") and stored.state in ("FAIL", "PRUNED"):
            row.state = stored.state
            row.message = row.message or stored.message
    return [rows[n] for n in sorted(rows)]
