"""The main window: three views (``designer.workspace``): Design (palette left, canvas centre,
inspector right, summary and problems in bottom tabs), Train (the live dashboard) and Runs;
menus and toolbars with the usual shortcuts, files, recent files, autosave.

The window never resizes itself: its minimum size is fixed rather than taken from its
children's, and long texts (status messages, run folder paths) are elided with the whole text
in a tooltip.

Everything edits the ``Document``; the panels follow its signals. File errors are shown in a
dialog and the current work stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCompleter,
    QDockWidget,
    QLayout,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTabWidget,
    QWidget,
)

from designer import settings as user_settings
from designer.canvas.finder import BlockFinder
from designer.canvas.view import CanvasView
from designer.canvas.view_actions import install_canvas_actions
from designer.document import Document, preset_project
from designer.panels.inspector import Inspector
from designer.panels.palette import Palette
from designer.panels.problems import ProblemsList
from designer.panels.summary_table import SummaryTable
from designer.recovery import Autosaver
from designer.shortcuts import SHORTCUTS
from designer.workspace.elided import ElidingStatusBar
from designer.workspace.undo_buttons import add_undo_buttons
from designer.workspace.views import Workspace
from engine import DesignerError, Project

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent, QShowEvent

# The dialog classes are imported where they are used: PySide6 creates a class's Python enums
# when its name is first imported, and the window's first frame needs none of them.

FILE_FILTER = "CNN Designer projects (*.cnnd);;All files (*)"
MINIMUM_SIZE = (640, 480)  # the window's own minimum: never grown by a child's size hints


class MainWindow(QMainWindow):
    """One design window. ``session=False`` (screenshots) skips autosave and saved layout."""

    def __init__(self, document: Document | None = None, session: bool = True) -> None:
        super().__init__()
        self.document = document or Document(preset_project("lenet5"))
        self.setObjectName("main_window")
        self.resize(1400, 900)
        self.setStatusBar(ElidingStatusBar(self))
        # a child asking for more room (a long text, a wide hidden page) never grows the window
        self.layout().setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(*MINIMUM_SIZE)
        self.canvas = CanvasView(self.document, self)
        self.actions_by_name: dict[str, QAction] = {}
        self.workspace = Workspace(self)  # the central views, their switch and layouts
        self.palette = Palette(self)
        self.inspector = Inspector(self.document, self)
        self.summary = SummaryTable(self.document, self)
        self.problems = ProblemsList(self.document, self)
        self.bottom_tabs = QTabWidget(self)
        self.docks: dict[str, QDockWidget] = {}
        self.bottom_tabs.addTab(self.summary, "Layer summary")
        self.bottom_tabs.addTab(self.problems, "Problems")
        self._add_dock("palette_dock", "Blocks", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock(
            "inspector_dock", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self._add_dock(
            "bottom_dock", "Analysis", self.bottom_tabs, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self._build_actions()
        self._build_menus_and_toolbar()
        self._connect()
        from designer.training import install_training

        install_training(self)  # Training menu, toolbar actions and the Train view's dashboard
        from designer.memory.device import install_device_memory

        install_device_memory(self)  # Training ▸ Device memory…: the largest batch that fits
        from designer.lessons import install_lessons

        install_lessons(self)  # the Lessons menu: the lecture's lessons and experiments
        from designer.preview import install_preview
        from designer.transfer import install_transfer

        install_transfer(self)  # File ▸ Load weights…, Replace classifier…, Freeze on blocks
        install_preview(self)  # View ▸ Live preview (off by default)
        from designer.run_history import RunRoots

        self.run_roots = RunRoots(self)  # the runs folders the Runs page lists (Save As)
        from designer.experiments import install_experiments

        install_experiments(self)  # Experiments menu: trade-off plot, sweep, compare designs
        # a user session autosaves and remembers the layout; a screenshot does neither
        self.session = session
        self.autosaver: Autosaver | None = None
        if session:
            try:
                self.autosaver = Autosaver(self.document)
            except OSError as error:  # the recovery folder is unusable: open all the same
                self.statusBar().showMessage(str(error))  # says so once, with the fix
        self._update_title()
        self.workspace.apply_defaults("design")
        if session:
            self._restore_layout()
        self._fit_to_screen()

    # ----- construction ------------------------------------------------------------------
    def _add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.workspace.prepare_dock(dock)
        self.addDockWidget(area, dock)
        self.docks[name] = dock

    def attach_training(self, controller: object) -> None:
        """Put the training ``controller``'s dashboard and actions in the Train view and its
        Runs page in the Runs view."""
        self.workspace.train_view.attach(controller.host, controller.actions)  # type: ignore[attr-defined]

    def switch_view(self, name: str) -> None:
        """Show view ``name`` ("design", "train" or "runs")."""
        self.workspace.switch_to(name)

    @property
    def view(self) -> str:
        """The view shown: "design", "train" or "runs"."""
        return self.workspace.current

    def add_bottom_tab(self, widget: QWidget, title: str) -> int:
        """Add a tab to the bottom area (e.g. the training dashboard); returns its index."""
        return self.bottom_tabs.addTab(widget, title)

    def _action(self, name: str, text: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.triggered.connect(lambda _checked=False: slot())
        self.actions_by_name[name] = action
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        c = self.canvas
        a = self._action
        a("new", "&New", self.new_file)
        a("new_preset", "New from &preset…", self.new_from_preset)
        a("open", "&Open…", lambda: self.open_file())
        a("save", "&Save", lambda: self.save())
        a("save_as", "Save &as…", lambda: self.save_as())
        a("import_model", "&Import PyTorch model…", self.import_model)
        a("export_python", "&Python code…", lambda: self.export_design("python"))
        a("export_torchscript", "&TorchScript…", lambda: self.export_design("torchscript"))
        a("export_onnx", "&ONNX…", lambda: self.export_design("onnx"))
        a("quit", "&Quit", self.close)
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        for name, action in (("undo", undo), ("redo", redo)):
            action.setObjectName(name)
            self.actions_by_name[name] = action
            self.addAction(action)
        add_undo_buttons(self, SHORTCUTS)  # the toolbar's, with short fixed labels
        a("copy", "&Copy", c.copy_selection)
        a("paste", "&Paste", c.paste)
        a("duplicate", "D&uplicate", c.duplicate_selection)
        a("delete", "&Delete", c.delete_selection)
        a("select_all", "Select &all", c.select_all)
        a("zoom_fit", "&Zoom to fit", c.zoom_to_fit)
        a("auto_layout", "Auto &layout", c.auto_layout)
        a("group", "&Group…", self.group_selection)
        a("ungroup", "&Ungroup", c.ungroup_selection)
        a("bypass", "&Bypass block", c.toggle_bypass)
        a("add_note", "Add &note", c.add_note_at_center)
        a("expand_all", "&Expand all groups", c.expand_all)
        a("collapse_all", "&Collapse all groups", c.collapse_all)
        a("find", "&Find block…", self._focus_search)
        install_canvas_actions(self, c)  # find next/previous, minimap, layout direction
        for name, keys in SHORTCUTS.items():
            self.actions_by_name[name].setShortcuts([QKeySequence(key) for key in keys])

    def _build_menus_and_toolbar(self) -> None:
        acts = self.actions_by_name
        menus = {
            "&File": [
                "new",
                "new_preset",
                "open",
                None,
                "save",
                "save_as",
                None,
                "import_model",
                None,
                "quit",
            ],
            "&Edit": [
                "undo",
                "redo",
                None,
                "copy",
                "paste",
                "duplicate",
                "delete",
                "bypass",
                "add_note",
                None,
                "select_all",
                "find",
                "find_next",
                "find_previous",
            ],
            "&View": [
                "view_design",
                "view_train",
                "view_runs",
                None,
                "zoom_fit",
                "auto_layout",
                "layout_down",
                "layout_right",
                "minimap",
                None,
                "expand_all",
                "collapse_all",
            ],
            "&Group": ["group", "ungroup"],
        }
        for title, names in menus.items():
            menu = self.menuBar().addMenu(title)
            for name in names:
                menu.addAction(acts[name]) if name else menu.addSeparator()
            if title == "&File":
                self.recent_menu = menu.addMenu("Open &recent")
                menu.insertMenu(acts["save"], self.recent_menu)
                self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
                export_menu = menu.addMenu("&Export")
                menu.insertMenu(acts["import_model"], export_menu)
                for name in ("export_python", "export_torchscript", "export_onnx"):
                    export_menu.addAction(acts[name])
            if title == "&View":
                menu.addSeparator()
                for dock in self.docks.values():  # (findChildren would wrap every widget)
                    menu.addAction(dock.toggleViewAction())
                detach = menu.addMenu("Detac&h panel")
                detach.setObjectName("detach_menu")
                detach.aboutToShow.connect(
                    lambda m=detach: (
                        m.clear(),
                        self.workspace.detach_actions(self.docks.values(), m),
                    )
                )
                menu.addAction(acts["reset_layout"])
        toolbar = self.toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        for name in ("new", "open", "save", None, "undo_button", "redo_button"):
            toolbar.addAction(acts[name]) if name else toolbar.addSeparator()
        # the canvas's tools: shown in the Design view only
        toolbar = self.design_toolbar = self.addToolBar("Design")
        toolbar.setObjectName("design_toolbar")
        for name in ("zoom_fit", "auto_layout", "expand_all", "collapse_all"):
            toolbar.addAction(acts[name])
        acts["expand_all"].setIconText("Expand all")  # short on the toolbar
        acts["collapse_all"].setIconText("Collapse all")
        toolbar.addSeparator()
        self.search = QLineEdit(self)
        self.search.setObjectName("block_search")
        self.search.setPlaceholderText("Find block by name…")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(260)
        self.finder = BlockFinder(
            self.canvas, self.search, lambda text: self.statusBar().showMessage(text, 8000)
        )  # Enter: next match, Shift+Enter: previous
        self._completer = QCompleter(self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.search.setCompleter(self._completer)
        toolbar.addWidget(self.search)

    def _connect(self) -> None:
        doc = self.document
        doc.file_changed.connect(self._update_title)
        doc.inferred.connect(self._on_inferred)
        self.canvas.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.problems.status_message.connect(lambda t: self.statusBar().showMessage(t, 8000))
        self.palette.block_activated.connect(self.add_block)
        self.summary.node_activated.connect(self.canvas.center_on_node)
        self.problems.node_activated.connect(self.canvas.center_on_node)
        self.problems.count_changed.connect(self._on_problem_count)
        self._on_inferred()
        self._on_problem_count(len(doc.result.errors), len(doc.result.warnings))

    # ----- live state ----------------------------------------------------------------------
    def _on_inferred(self, *_args: object) -> None:
        model = self._completer.model()
        names = self.document.graph.names
        if model is None or getattr(self, "_completer_names", None) != names:
            self._completer_names = names
            from PySide6.QtCore import QStringListModel

            self._completer.setModel(QStringListModel(names, self._completer))

    def _on_problem_count(self, errors: int, warnings: int) -> None:
        index = self.bottom_tabs.indexOf(self.problems)
        parts = [f"{errors} error(s)"] if errors else []
        parts += [f"{warnings} warning(s)"] if warnings else []
        text = "Problems" + (f" ({', '.join(parts)})" if parts else "")
        if self.bottom_tabs.tabText(index) != text:  # (the same text still lays the tabs out)
            self.bottom_tabs.setTabText(index, text)

    def createPopupMenu(self) -> QMenu:
        """The docks' and toolbars' context menu, with "Detach <panel>" for each dock."""
        menu = super().createPopupMenu() or QMenu(self)
        menu.addSeparator()
        self.workspace.detach_actions(self.docks.values(), menu)
        return menu

    def show_problems(self) -> None:
        """Bring the Problems tab (and its dock, in the Design view) to the front."""
        self.switch_view("design")
        self.bottom_tabs.setCurrentWidget(self.problems)
        dock = self.docks["bottom_dock"]
        if dock is not None:
            dock.show()
            dock.raise_()

    def _update_title(self) -> None:
        path = self.document.path
        name = path.name if path else "Untitled"
        self.setWindowTitle(f"{name}[*] — CNN Designer")
        self.setWindowModified(self.document.modified)

    # ----- editing -------------------------------------------------------------------------
    def add_block(self, type_id: str) -> str:
        """Add a block of ``type_id`` at the centre of the view and select it."""
        name = self.canvas.add_block_at_center(type_id)
        self.document.set_selection([name])
        return name

    def find_block(self, text: str, step: int = 1) -> str | None:
        """Zoom to, centre and select the block named ``text`` (or the next one, ``step``
        -1: the previous one, whose name holds it, when asked again)."""
        return self.finder.find(text, step)

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def group_selection(self, name: str | None = None) -> None:
        """Group the selected blocks into a unit called ``name`` (asked when None)."""
        if name is None:
            from designer.canvas.group_dialog import ask_group_name

            name = ask_group_name(self, self.document)
            if name is None:
                return
        try:
            self.canvas.group_selection(name.strip())
        except DesignerError as error:
            self.statusBar().showMessage(str(error), 8000)

    # ----- files ---------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.document.modified:
            return True
        from PySide6.QtWidgets import QMessageBox

        buttons = (
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        name = self.document.path.name if self.document.path else "Untitled"
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {name} before closing it?",
            buttons,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_file(self) -> None:
        """Start an empty design."""
        if self.maybe_save():
            self.document.replace_project(Project())

    def new_from_preset(self) -> bool:
        """Ask for a preset and its options, then open it as a new untitled design (after
        asking about unsaved changes, as File ▸ New does); True when it was opened."""
        from designer.dialogs.preset_dialog import PresetDialog

        dialog = PresetDialog(self, self.document.project.metadata.get("preset"))
        if not dialog.exec():
            return False
        name, options = dialog.chosen()
        return self.load_preset(name, **options)

    def load_preset(self, name: str, **options: object) -> bool:
        """Open preset ``name`` as a new untitled design, laid out and fitted to the view.

        Like File ▸ New it closes the current design (unsaved changes are asked about first):
        the preset never takes over the open file's name, so Save cannot overwrite that file
        and its runs stay with it. False when the user cancels or the preset cannot be built.
        """
        try:
            project = preset_project(name, **options)
        except DesignerError as error:
            self._show_error("Cannot load preset", str(error))
            return False
        if not self.maybe_save():
            return False
        self.document.replace_project(project)
        self.canvas.zoom_to_fit()
        return True

    def open_file(self, path: str | Path | None = None) -> bool:
        """Open a project file; errors go to a dialog and the current design stays."""
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            path, _ = QFileDialog.getOpenFileName(self, "Open project", "", FILE_FILTER)
            if not path:
                return False
        if not self.maybe_save():
            return False
        try:
            self.document.open(Path(path))
        except (DesignerError, OSError) as error:
            self._show_error("Cannot open file", f"{path}\n\n{error}")
            return False
        user_settings.add_recent_file(path)
        self.canvas.zoom_to_fit()
        return True

    def export_design(self, format: str = "python") -> object:
        """File ▸ Export: the export dialog (None, Problems shown, when the design has errors)."""
        from designer.dialogs.export_dialog import open_export_dialog

        self.apply_typed_edits()
        return open_export_dialog(self, format)

    def import_model(self) -> object:
        """File ▸ Import PyTorch model: the import dialog (the import runs when accepted)."""
        from designer.dialogs.import_dialog import open_import_dialog

        return open_import_dialog(self)

    def apply_typed_edits(self) -> None:
        """Apply a value or name typed in the inspector and not applied yet (Save and Export
        must not leave it out); what cannot be applied is said in the status bar."""
        problems = self.inspector.commit_pending()
        if problems:
            self.statusBar().showMessage(" ".join(problems), 10_000)

    def save(self) -> bool:
        """Save to the current file (asks for one if there is none)."""
        self.apply_typed_edits()
        if self.document.path is None:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        """Save under a new name (asked when None)."""
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            start = str(self.document.path or "untitled.cnnd")
            path, _ = QFileDialog.getSaveFileName(self, "Save project", start, FILE_FILTER)
            if not path:
                return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".cnnd")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except (DesignerError, OSError) as error:
            self._show_error("Cannot save file", f"{path}\n\n{error}")
            return False
        user_settings.add_recent_file(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _show_error(self, title: str, text: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(self, title, text)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = user_settings.recent_files()
        for path in files:
            self.recent_menu.addAction(Path(path).name, lambda p=path: self.open_file(p))
        self.recent_menu.setEnabled(bool(files))

    def offer_recovery(self) -> bool:
        """Offer autosaves left by a crash; True when one was restored (see
        ``designer.recovery_offer``)."""
        from designer.recovery_offer import offer_recovery

        return offer_recovery(self)

    # ----- window state --------------------------------------------------------------------
    def _restore_layout(self) -> None:
        store = user_settings.settings()
        geometry = store.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self.workspace.restore(store)

    def _fit_to_screen(self) -> None:
        """Keep the window within its screen: the default size, or a size remembered from a
        bigger screen, would otherwise reach past its edges."""
        screen = self.screen()
        if screen is None:
            return
        room = screen.availableGeometry()
        width, height = min(self.width(), room.width()), min(self.height(), room.height())
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        if self.session and not room.contains(self.frameGeometry().topLeft()):
            self.move(room.topLeft())

    def save_layout(self) -> None:
        """Remember the window's geometry and each view's dock layout."""
        store = user_settings.settings()
        store.setValue("window/geometry", self.saveGeometry())
        self.workspace.save(store)
        store.sync()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not event.spontaneous():
            self.workspace.shown()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.session:
            self.save_layout()
        if self.autosaver is not None:
            self.autosaver.finish()
        self.document.dispose()
        event.accept()
