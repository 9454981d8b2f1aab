"""Experiments ▸ Compare design with…: the open design against another one, side by side.

The other design is a project file, ``preset:NAME[?KEY=VALUE&...]`` (as ``cnn-designer diff``
takes it) or a run (its folder, or its graph.json). The dialog shows it read-only beside the
list of differences (``engine.diff``: the other design is A, the open one B), and outlines the
blocks on both canvases: added green, removed red, changed orange, rewired blue (dashed). The
window's design is never edited; closing the dialog takes the outlines off its canvas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QFileDialog,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.canvas.style import DETAIL_SCALE
from designer.experiments.highlights import COLOURS, Highlights, marks_of
from engine import DesignerError, Project
from engine.diff import DesignDiff, diff_graphs

READABLE_SCALE = DETAIL_SCALE * 1.1  # the other design is never shown smaller than this


def _value(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _change(old: Any, new: Any) -> str:
    return f"{_value(old)} → {_value(new)}"


def _total(label: str, pair: tuple[int, int]) -> str:
    old, new = pair
    return f"{label} {old:,} → {new:,} ({new - old:+,})"


def _bypass(flags: tuple[bool, bool] | None) -> str:
    if flags is None:
        return ""
    return "bypassed" if flags[1] else "no longer bypassed"


def _differing(params: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    return {k: (old, new) for k, (old, new) in params.items() if _value(old) != _value(new)}


def load_other(text: str) -> Project:
    """The design ``text`` names, as a project (a file keeps its layout); DesignerError says
    what is wrong and how to name a design."""
    from designer.cli.diff import PRESET_PREFIX, load_design
    from designer.document import laid_out_project
    from designer.experiments.open_run import run_design

    text = text.strip()
    if not text:
        raise DesignerError(
            "design to compare with: none given. Received: an empty name. Give a project "
            "file, preset:NAME (e.g. preset:lenet5) or a run folder"
        )
    if text.startswith(PRESET_PREFIX):
        return laid_out_project(load_design(text))
    path = Path(text).expanduser()
    if path.is_dir():
        return run_design(path)
    if path.name.endswith(".json") and not path.name.endswith(".cnnd"):
        return run_design(path.parent) if path.name == "graph.json" else _json_design(path)
    from engine import load_project

    try:
        return load_project(path)
    except (DesignerError, OSError) as error:
        raise DesignerError(
            f"{error} (a design is a project file, preset:NAME or a run folder)"
        ) from error


def _json_design(path: Path) -> Project:
    raise DesignerError(
        f"{path}: a JSON file other than a run's graph.json. Received: {path.name}. Give a "
        "project file (.cnnd), a run folder or its graph.json"
    )


class CompareDialog(QDialog):
    """The other design (read-only), the differences, and outlines on both canvases."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.setObjectName("compare_dialog")
        self.setWindowTitle("Compare design with…")
        self.diff: DesignDiff | None = None
        self.other: Any = None  # the other design's Document
        self.other_scene: Any = None
        self.other_highlights: Highlights | None = None
        self.highlights = Highlights(window.canvas.canvas)
        self.source = QLineEdit(self)
        self.source.setObjectName("compare_source")
        self.source.setPlaceholderText("project file, preset:NAME or run folder")
        from presets import PRESETS

        completer = QCompleter([f"preset:{p.name}" for p in PRESETS], self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.source.setCompleter(completer)
        self.source.returnPressed.connect(self.compare)
        file_button = QPushButton("File…", self)
        file_button.clicked.connect(self._choose_file)
        run_button = QPushButton("Run…", self)
        run_button.clicked.connect(self._choose_run)
        self.compare_button = QPushButton("Compare", self)
        self.compare_button.setObjectName("compare_button")
        self.compare_button.clicked.connect(self.compare)
        self.message = QLabel("", self)
        self.message.setObjectName("compare_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = QGraphicsView(self)
        self.view.setObjectName("compare_other_view")
        self.view.setInteractive(False)  # read-only: nothing in it can be moved or edited
        self.view.setRenderHints(QPainter.RenderHint.Antialiasing)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("compare_changes")
        self.tree.setHeaderLabels(["Change", "Old → new"])
        self.tree.itemActivated.connect(self._go_to)
        self.totals = QLabel("", self)
        self.totals.setObjectName("compare_totals")
        legend = "  ".join(
            f'<span style="color:{colour}">■</span> {kind}' for kind, colour in COLOURS.items()
        )
        self.legend = QLabel(legend, self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Compare with:", self))
        top.addWidget(self.source, 1)
        top.addWidget(file_button)
        top.addWidget(run_button)
        top.addWidget(self.compare_button)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("The other design (before):", left))
        left_layout.addWidget(self.view, 1)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("What the open design changes:", right))
        right_layout.addWidget(self.tree, 1)
        right_layout.addWidget(self.totals)
        split = QSplitter(self)
        split.addWidget(left)
        split.addWidget(right)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.legend, 1)
        bottom.addWidget(close)
        for button in (file_button, run_button, self.compare_button, close):
            button.setAutoDefault(False)  # Enter in the field compares, never opens a chooser
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        self.finished.connect(lambda _code: self.clear())
        # the open design edited while compared: compare again (once, after the edits settle)
        self._again = QTimer(self)
        self._again.setSingleShot(True)
        self._again.setInterval(250)
        self._again.timeout.connect(self._compare_again)
        window.document.inferred.connect(self._design_changed)
        self.resize(1000, 600)

    # ----- choosing the other design -----------------------------------------------------
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Compare with project", "", "CNN Designer projects (*.cnnd);;All files (*)"
        )
        if path:
            self.source.setText(path)
            self.compare()

    def _choose_run(self) -> None:
        training = getattr(self.window, "training", None)
        start = str(training.default_run_root()) if training is not None else ""
        path = QFileDialog.getExistingDirectory(self, "Compare with run", start)
        if path:
            self.source.setText(path)
            self.compare()

    def compare(self, text: str | None = None) -> DesignDiff | None:
        """Compare the open design with the one ``text`` (or the field) names; a design that
        cannot be read is said in the dialog and the last comparison stays."""
        if text is not None:
            self.source.setText(text)
        try:
            project = load_other(self.source.text())
        except DesignerError as error:
            self.message.setText(str(error))
            return None
        self.message.setText("")
        self.clear()
        self.diff = diff = diff_graphs(project.graph, self.window.document.graph)
        self._show_other(project)
        old_marks, new_marks = marks_of(diff)
        self.highlights.show(new_marks)
        assert self.other_highlights is not None
        self.other_highlights.show(old_marks)
        self._fill_tree(diff)
        self.totals.setText(
            f"Totals: {_total('parameters', diff.params)}; {_total('MACs', diff.macs)}"
        )
        if diff.empty:
            self.message.setText("The designs are the same: no block or wire differs.")
        return diff

    def _design_changed(self, *_args: Any) -> None:
        if self.diff is not None and self.isVisible():
            self._again.start()

    def _compare_again(self) -> None:
        if self.diff is not None and self.isVisible():
            self.compare()

    def _show_other(self, project: Project) -> None:
        from designer.canvas.scene import CanvasScene
        from designer.document import Document

        if self.other_scene is not None:
            self.view.setScene(None)
            self.other_scene.deleteLater()
        if self.other is not None:
            self.other.dispose()
        self.other = Document(project)  # owned here (not by Qt): disposed like every document
        self.other_scene = CanvasScene(self.other, self)
        self.view.setScene(self.other_scene)
        self._fit()
        QTimer.singleShot(0, self._fit)  # again once the dialog is laid out
        self.other_highlights = Highlights(self.other_scene)

    def _fill_tree(self, diff: DesignDiff) -> None:
        self.tree.clear()

        def section(title: str, rows: list[tuple[str, str, str | None, list[tuple[str, str]]]]):
            if not rows:
                return
            head = QTreeWidgetItem(self.tree, [f"{title} ({len(rows)})", ""])
            head.setExpanded(True)
            for label, detail, node, children in rows:
                item = QTreeWidgetItem(head, [label, detail])
                item.setData(0, Qt.ItemDataRole.UserRole, node)
                for key, change in children:
                    QTreeWidgetItem(item, [key, change]).setData(0, Qt.ItemDataRole.UserRole, node)
                item.setExpanded(True)

        def pairs(params: dict[str, tuple[Any, Any]]) -> list[tuple[str, str]]:
            return [(k, _change(old, new)) for k, (old, new) in params.items()]

        section("Added", [(n.name, n.type_id, n.name, []) for n in diff.added])
        section("Removed", [(name, "", None, []) for name in diff.removed])
        section("Renamed", [(new, f"{old} → {new}", new, []) for old, new in diff.renamed])
        section(
            "Retyped",
            [
                (r.node, f"{r.old_type} → {r.new_type}", r.node, pairs(_differing(r.params)))
                for r in diff.retyped
            ],
        )
        section(
            "Changed",
            [(c.node, _bypass(c.bypassed), c.node, pairs(c.params)) for c in diff.changed],
        )
        section(
            "Regrouped",
            [
                (n, f"{'.'.join(o) or '(no group)'} → {'.'.join(g) or '(no group)'}", n, [])
                for n, o, g in diff.regrouped
            ],
        )
        wires = [("removed wire", w, None) for w in diff.wires_removed]
        wires += [("added wire", w, w[2]) for w in diff.wires_added]
        section(
            "Rewired",
            [(f"{s}.{sp} → {d}.{dp}", kind, node, []) for kind, (s, sp, d, dp), node in wires],
        )
        self.tree.resizeColumnToContents(0)

    def _go_to(self, item: QTreeWidgetItem) -> None:
        node = item.data(0, Qt.ItemDataRole.UserRole)
        if node and node in self.window.document.graph:
            self.window.canvas.center_on_node(node)

    # ----- closing -----------------------------------------------------------------------
    def clear(self) -> None:
        """Take the outlines off both canvases."""
        self.highlights.clear()
        if self.other_highlights is not None:
            self.other_highlights.clear()

    def _fit(self) -> None:
        """The whole other design, or, where that would be too small for the blocks' names to
        be drawn, the design at the smallest scale that draws them (scrolled to its first
        change, else its top)."""
        if self.other_scene is None:
            return
        bounds = self.other_scene.items_bounds.adjusted(-20, -20, 20, 20)
        self.view.fitInView(bounds, Qt.AspectRatioMode.KeepAspectRatio)
        if self.view.transform().m11() >= READABLE_SCALE:
            return
        self.view.resetTransform()
        self.view.scale(READABLE_SCALE, READABLE_SCALE)
        first = self._first_change()
        if first is not None:
            self.view.centerOn(first)
        else:
            self.view.centerOn(bounds.center().x(), bounds.top())

    def _first_change(self) -> Any:
        """The other design's first block the diff marks (None when none)."""
        if self.diff is None or self.other_scene is None:
            return None
        old_marks, _new = marks_of(self.diff)
        items = [self.other_scene.nodes.get(name) for name in old_marks]
        items = [item for item in items if item is not None]
        return min(items, key=lambda item: (item.y(), item.x())) if items else None

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def closeEvent(self, event: Any) -> None:
        self.clear()
        super().closeEvent(event)
