"""Experiments in the designer: the trade-off plot, sweeps and design comparison (issue 19).

``install_experiments(window)`` adds the Experiments menu (Trade-off plot…, Sweep…, Repeat
with N seeds…, Compare design with…). Each dialog is built on first use (pyqtgraph, Optuna's
planning and the canvas of the other design load then), one of each per window; the sweep's
dialog keeps following its study while hidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction

ACTIONS = (
    ("experiments_tradeoff", "&Trade-off plot…", "show_tradeoff"),
    ("experiments_sweep", "&Sweep…", "show_sweep"),
    ("experiments_repeat", "&Repeat with N seeds…", "show_repeat"),
    ("experiments_compare", "&Compare design with…", "show_compare"),
)


class Experiments(QObject):
    """The window's Experiments menu and its dialogs. A sweep (or repeats) still running when
    the window closes is stopped as Stop does (its study kept), not left to the system."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        window.installEventFilter(self)
        self.tradeoff: Any = None
        self.sweep: Any = None
        self.compare: Any = None
        self.repeat: Any = None
        self.menu = window.menuBar().addMenu("E&xperiments")
        self.menu.setObjectName("experiments_menu")
        for name, text, method in ACTIONS:
            action = QAction(text, window)
            action.setObjectName(name)
            action.triggered.connect(lambda _checked=False, m=method: getattr(self, m)())
            window.actions_by_name[name] = action
            self.menu.addAction(action)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        # the window hidden by its own close (not minimised by the desktop) ends a sweep
        if watched is self.window and event.type() == QEvent.Type.Hide and not event.spontaneous():
            for dialog in (self.sweep, self.repeat):
                if dialog is not None:
                    dialog.shut_down()
        return False

    def _roots(self) -> list[Path]:
        history = getattr(self.window, "run_roots", None)
        if history is not None:
            return history.all()
        training = getattr(self.window, "training", None)
        return [Path(training.default_run_root())] if training is not None else []

    def show_tradeoff(self, folders: list[Path] | None = None) -> Any:
        """The trade-off plot of the project's runs (or of ``folders``), opened anew."""
        from designer.experiments.open_run import open_run
        from designer.experiments.tradeoff_view import TradeoffWindow

        if self.tradeoff is not None:
            self.tradeoff.close()
            self.tradeoff.deleteLater()
        roots = [] if folders else self._roots()
        self.tradeoff = TradeoffWindow(self.window, roots, folders or [])
        self.tradeoff.run_opened.connect(lambda path: open_run(self.window, path))
        self.tradeoff.show()
        return self.tradeoff

    def show_sweep(self) -> Any:
        from designer.experiments.sweep_dialog import SweepDialog

        if self.sweep is None:
            self.sweep = SweepDialog(self.window)
        elif not self.sweep.running:
            self.sweep.refresh_design()  # another design may be open now
        self.sweep.show()
        self.sweep.raise_()
        return self.sweep

    def show_repeat(self) -> Any:
        from designer.experiments.repeat_dialog import RepeatDialog

        if self.repeat is None:
            self.repeat = RepeatDialog(self.window)
        elif not self.repeat.running:
            self.repeat.refresh_design()  # another design or settings may be open now
        self.repeat.show()
        self.repeat.raise_()
        return self.repeat

    def show_compare(self) -> Any:
        from designer.experiments.compare_dialog import CompareDialog

        if self.compare is None:
            self.compare = CompareDialog(self.window)
        self.compare.show()
        self.compare.raise_()
        self.compare.source.setFocus()
        return self.compare


def install_experiments(window: Any) -> Experiments:
    """Give ``window`` the Experiments menu; returns it (also kept as ``window.experiments``)."""
    window.experiments = Experiments(window)
    return window.experiments
