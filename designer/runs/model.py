"""The run browser's table: one row per run (``RunRow``), its columns, and the proxy that
sorts numbers as numbers (a missing number sorts below every number)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from engine.experiments.run_compare import repeat_key
from engine.experiments.run_meta import RunMeta, RunMetaError, read_meta, write_meta
from engine.experiments.tradeoff import RunFacts, run_facts
from engine.training.runs import RunInfo

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole
Index = QModelIndex | QPersistentModelIndex

# (key, header); the order of the columns
COLUMNS: tuple[tuple[str, str], ...] = (
    ("star", "★"),
    ("name", "Name"),
    ("started", "Started"),
    ("status", "Status"),
    ("data", "Data"),
    ("epochs", "Epochs"),
    ("best_acc", "Best val acc"),
    ("best_loss", "Best val loss"),
    ("params", "Params"),
    ("macs", "MACs"),
    ("seconds", "Time (s)"),
    ("fingerprint", "Design"),
    ("note", "Note"),
)
COLUMN = {key: i for i, (key, _) in enumerate(COLUMNS)}
DAMAGED_BACKGROUND = QColor("#fde2e1")


@dataclass(frozen=True)
class RunRow:
    """A listed run: its folder's facts, what the user wrote about it, and what is wrong."""

    info: RunInfo
    facts: RunFacts
    meta: RunMeta
    damage: tuple[str, ...]  # what is damaged in the run folder (the row is marked)
    notes: tuple[str, ...]  # what is unknown but not damage (a run without graph.json)
    earlier: bool = False  # in a folder the design had before Save As

    @property
    def path(self) -> str:
        return str(self.info.path)

    @property
    def title(self) -> str:
        return self.meta.title or self.info.name

    @property
    def repeat_key(self) -> str | None:
        return repeat_key(self.info.settings, self.facts.fingerprint)


def make_row(info: RunInfo, earlier: bool = False) -> RunRow:
    """The row of a listed run (never raises: what cannot be read is named)."""
    try:
        facts = run_facts(info)
    except Exception as error:  # run_facts names what it knows; this is a backstop
        facts = RunFacts(
            info.path, info.name, info.status, info.dataset, info.epochs, None,
            info.best_val_accuracy, None, None, None, None, None,
            (*info.problems, f"cannot be read ({type(error).__name__}: {error})"),
        )  # fmt: skip
    meta, meta_problems = read_meta(info.path)
    extra = facts.problems[len(info.problems) :]
    notes = tuple(p for p in extra if p.startswith("graph.json: missing"))
    damage = (*info.problems, *(p for p in extra if p not in notes), *meta_problems)
    return RunRow(info, facts, meta, damage, notes, earlier)


def _number(value: float | int | None, text: str) -> tuple[str, Any]:
    return ("–" if value is None else text), value


def _cells(row: RunRow) -> dict[str, tuple[str, Any]]:
    """Column key -> (text shown, value sorted by)."""
    f = row.facts
    name = row.title
    if row.earlier:
        name += f"  (in {Path(row.path).parent.name}, before Save As)"
    status = f.status + ("  ⚠ damaged" if row.damage else "")
    return {
        "star": ("★" if row.meta.starred else "☆", row.meta.starred),
        "name": (name, row.title.casefold()),
        "started": (f.started or row.info.name, f.started or row.info.name),
        "status": (status, status),
        "data": (f.dataset or "–", f.dataset or ""),
        "epochs": (str(f.epochs), f.epochs),
        "best_acc": _number(f.best_val_accuracy, f"{f.best_val_accuracy or 0:.1%}"),
        "best_loss": _number(f.best_val_loss, f"{f.best_val_loss or 0:.4f}"),
        "params": _number(f.params, f"{f.params or 0:,}"),
        "macs": _number(f.macs, f"{f.macs or 0:,}"),
        "seconds": _number(f.seconds, f"{f.seconds or 0:.1f}"),
        "fingerprint": (f.fingerprint or "–", f.fingerprint or ""),
        "note": (row.meta.note.splitlines()[0] if row.meta.note else "", row.meta.note),
    }


def tooltip(row: RunRow) -> str:
    """The row's tooltip: its folder, and what is damaged or unknown."""
    lines = [row.path]
    if row.damage:
        lines[0] = f"{row.path} is damaged; what could be read is shown:"
        lines += list(row.damage)
    lines += list(row.notes)
    if row.meta.note:
        lines += ["Note:", row.meta.note]
    return "\n".join(lines)


class RunsModel(QAbstractTableModel):
    """The rows of the run browser; the name and note are edited in place and the star is
    set with ``toggle_star``, each stored at once in the run's run_meta.json (``failed`` says
    why not)."""

    failed = Signal(str)
    meta_changed = Signal(str)  # the run folder whose name, note or star changed

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[RunRow] = []

    def set_rows(self, rows: list[RunRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_of(self, path: str) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.path == path), None)

    def toggle_star(self, row: int) -> bool:
        """Star the run of source row ``row``, or not any more."""
        index = self.index(row, COLUMN["star"])
        return self.setData(index, not self.rows[row].meta.starred)

    def update_row(self, index: int, row: RunRow) -> None:
        self.rows[index] = row
        self.dataChanged.emit(self.index(index, 0), self.index(index, len(COLUMNS) - 1))

    # ----- Qt's model interface ------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return (
                "Starred runs (click a run's star to star it or not)"
                if COLUMNS[section][0] == "star"
                else None
            )
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        key = COLUMNS[index.column()][0]
        if key in ("name", "note"):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cells(row)[key][0]
        if role == SORT_ROLE:
            return _cells(row)[key][1]
        if role == Qt.ItemDataRole.EditRole:
            return row.meta.title or row.info.name if key == "name" else row.meta.note
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(row)
        if role == PATH_ROLE:
            return row.path
        if role == Qt.ItemDataRole.BackgroundRole and row.damage:
            return QBrush(DAMAGED_BACKGROUND)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in (
            "epochs", "best_acc", "best_loss", "params", "macs", "seconds"
        ):  # fmt: skip
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid():
            return False
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if key == "star" and role == Qt.ItemDataRole.EditRole:
            meta = replace(row.meta, starred=bool(value))
        elif key == "name" and role == Qt.ItemDataRole.EditRole:
            title = str(value).strip()
            meta = replace(row.meta, title=None if title in ("", row.info.name) else title)
        elif key == "note" and role == Qt.ItemDataRole.EditRole:
            meta = replace(row.meta, note=str(value).strip())
        else:
            return False
        if meta == row.meta:
            return True
        try:
            write_meta(row.info.path, meta)
        except RunMetaError as error:
            self.failed.emit(str(error))
            return False
        self.update_row(index.row(), replace(row, meta=meta))
        self.meta_changed.emit(row.path)
        return True


class RunsProxy(QSortFilterProxyModel):
    """Sorts by each column's value: numbers as numbers, a missing value below the rest."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: Index, right: Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        return _key(a) < _key(b)


def _key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value))
