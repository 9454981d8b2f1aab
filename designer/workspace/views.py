"""The main window's views: Design, Train and Runs, each a full-size central page with its own
dock and toolbar layout.

A segmented switch (three checkable actions in an exclusive group, on a toolbar and in the View
menu, Ctrl+1/2/3 as in Qt Creator's modes) changes the central page of a QStackedWidget. Switching
never touches the design: no undo step, no change to the modified flag.

Each view remembers its layout (``QMainWindow.saveState``, versioned, in QSettings under
``views/<name>/state``). A layout that comes back unusable (a central area under 60 % of the
window's height or 40 % of its width, as a huge bottom dock leaves it) is replaced with the
view's defaults, and View ▸ Reset layout brings the defaults back. Docks do not float by
accident: they are movable between the window's edges but float only through "Detach panel"
(View menu or a dock's context menu); docked again, they lose that ability until asked again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMenu, QStackedWidget, QToolBar, QWidget

from designer.workspace.train_view import RunsView, TrainView

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

VIEWS: dict[str, str] = {"design": "&Design", "train": "&Train", "runs": "&Runs"}
LAYOUT_VERSION = 1  # saveState's version: a layout saved by another version is not restored
MIN_CENTRAL_HEIGHT = 0.6  # share of the window's height the central area keeps at least
MIN_CENTRAL_WIDTH = 0.4
SMALL_HEIGHT = 720  # under it, the bars take too much: the share is of the room they leave
# actions that edit or navigate the canvas: only in the Design view, where the canvas is seen
# (Delete pressed in the Runs view must not delete a block nobody sees)
DESIGN_ACTIONS = (
    "copy",
    "paste",
    "duplicate",
    "delete",
    "bypass",
    "add_note",
    "select_all",
    "zoom_fit",
    "auto_layout",
    "group",
    "ungroup",
    "expand_all",
    "collapse_all",
    "find",
    "find_next",
    "find_previous",
    "layout_down",
    "layout_right",
    "minimap",
)
BOTTOM_SHARE = 0.16  # the Design view's bottom dock (summary, problems): small until opened
# the Design view's side docks: share of the window's width, within (low, high) pixels
SIDE_DOCKS = ((0.17, 150, 240), (0.24, 200, 340))  # palette, inspector
DOCK_FEATURES = (
    QDockWidget.DockWidgetFeature.DockWidgetClosable
    | QDockWidget.DockWidgetFeature.DockWidgetMovable
)


class ViewStack(QStackedWidget):
    """A stacked widget whose size hints are its current page's: a hidden page (the
    dashboard, wide) must not make the window wider in another view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("view_stack")
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()


class Workspace(QObject):
    """The views of one main window: their pages, switch, layouts and the layout's checks."""

    view_changed = Signal(str)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.current = "design"
        self.states: dict[str, QByteArray] = {}  # each view's layout, as last left
        self._check_on_show = False
        self.stack = ViewStack(window)
        self.train_view = TrainView(window, self.stack)
        self.runs_view = RunsView(window, self.stack)
        self.pages: dict[str, QWidget] = {
            "design": window.canvas,
            "train": self.train_view,
            "runs": self.runs_view,
        }
        for page in self.pages.values():
            self.stack.addWidget(page)
        window.setCentralWidget(self.stack)
        self.train_view.overview.open_requested.connect(lambda: self.switch_to("design"))
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for name, text in VIEWS.items():
            action = QAction(text, window)
            action.setObjectName(f"view_{name}")
            action.setCheckable(True)
            action.setChecked(name == self.current)
            action.setStatusTip(f"Show the {text.strip('&')} view")
            action.triggered.connect(lambda _checked=False, n=name: self.switch_to(n))
            self.group.addAction(action)
            window.addAction(action)
            self.actions[name] = action
            window.actions_by_name[action.objectName()] = action
        reset = QAction("Reset &layout", window)
        reset.setObjectName("reset_layout")
        reset.setStatusTip("Put the panels of every view back where they start")
        reset.triggered.connect(lambda _checked=False: self.reset_layout())
        window.addAction(reset)
        window.actions_by_name["reset_layout"] = reset
        self.toolbar = QToolBar("Views", window)
        self.toolbar.setObjectName("views_toolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in self.actions.values():
            self.toolbar.addAction(action)
        window.addToolBar(self.toolbar)

    # ----- docks ---------------------------------------------------------------------------
    def prepare_dock(self, dock: QDockWidget) -> None:
        """Movable and closable; floatable only while detached (see ``detach``)."""
        dock.setFeatures(DOCK_FEATURES)
        dock.topLevelChanged.connect(lambda floating, d=dock: self._floating_changed(d, floating))

    @staticmethod
    def _floating_changed(dock: QDockWidget, floating: bool) -> None:
        floatable = QDockWidget.DockWidgetFeature.DockWidgetFloatable
        dock.setFeatures(DOCK_FEATURES | floatable if floating else DOCK_FEATURES)

    def detach(self, dock: QDockWidget) -> None:
        """Float ``dock`` in its own window (double-click its title to dock it again)."""
        dock.setFeatures(DOCK_FEATURES | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.show()
        dock.setFloating(True)

    def detach_actions(self, docks: Iterable[QDockWidget], menu: QMenu) -> None:
        """Add "Detach <panel>" entries for ``docks`` to ``menu``."""
        for dock in docks:
            action = menu.addAction(f"Detach {dock.windowTitle()}")
            action.setObjectName(f"detach_{dock.objectName()}")
            action.setEnabled(not dock.isFloating())
            action.triggered.connect(lambda _checked=False, d=dock: self.detach(d))

    # ----- switching -------------------------------------------------------------------------
    def switch_to(self, name: str) -> None:
        """Show view ``name`` with its own layout (the design is never touched)."""
        if name not in self.pages:
            raise ValueError(f"unknown view {name!r}: use one of {', '.join(self.pages)}")
        self.actions[name].setChecked(True)
        if name == self.current:
            return
        self.states[self.current] = self.window.saveState(LAYOUT_VERSION)
        self.current = name
        self.stack.setCurrentWidget(self.pages[name])
        self._enable_design_actions(name == "design")
        self.apply_layout(name)
        self.view_changed.emit(name)

    def _enable_design_actions(self, on: bool) -> None:
        for action_name in DESIGN_ACTIONS:
            action = self.window.actions_by_name.get(action_name)
            if action is not None:
                action.setEnabled(on)
        self.window.search.setEnabled(on)

    # ----- layouts ---------------------------------------------------------------------------
    def apply_layout(self, name: str) -> None:
        """Restore view ``name``'s layout; its defaults when it has none or it is unusable."""
        state = self.states.get(name)
        if state is None or not self.window.restoreState(state, LAYOUT_VERSION):
            self.apply_defaults(name)
            return
        self._dock_lost_floaters()
        if self.window.isVisible():
            self.check_layout()
        else:
            self._check_on_show = True

    def apply_defaults(self, name: str) -> None:
        """The view's default layout: Design shows the blocks on the left, the inspector on
        the right and a low bottom dock; Train and Runs give the whole window to their page."""
        w = self.window
        docks = w.docks
        areas = {
            "palette_dock": Qt.DockWidgetArea.LeftDockWidgetArea,
            "inspector_dock": Qt.DockWidgetArea.RightDockWidgetArea,
            "bottom_dock": Qt.DockWidgetArea.BottomDockWidgetArea,
        }
        for dock_name, dock in docks.items():
            if dock.isFloating():
                dock.setFloating(False)
            w.addDockWidget(areas.get(dock_name, Qt.DockWidgetArea.BottomDockWidgetArea), dock)
            dock.setVisible(name == "design")
        for toolbar in (w.toolbar, self.toolbar):
            toolbar.setVisible(True)
        w.design_toolbar.setVisible(name == "design")
        if name == "design":
            self.size_design_docks()

    def size_design_docks(self) -> None:
        """The Design view's dock sizes for the window's present size."""
        w = self.window
        docks = w.docks
        height = max(w.height(), 400)
        w.resizeDocks([docks["bottom_dock"]], [int(height * BOTTOM_SHARE)], Qt.Orientation.Vertical)
        width = w.width()
        sides = [int(min(max(share * width, low), high)) for share, low, high in SIDE_DOCKS]
        w.resizeDocks(
            [docks["palette_dock"], docks["inspector_dock"]], sides, Qt.Orientation.Horizontal
        )

    def central_rect(self) -> QRect:
        """The central area's geometry with the window's layout brought up to date."""
        self.window.layout().activate()
        return self.stack.geometry()

    def room(self) -> int:
        """The height between the toolbars at the top and the status bar: what the central
        area and the docks above and below it share."""
        w = self.window
        top = w.menuBar().geometry().bottom() + 1 if w.menuBar().isVisible() else 0
        for toolbar in w.findChildren(QToolBar):
            top_area = w.toolBarArea(toolbar) == Qt.ToolBarArea.TopToolBarArea
            if toolbar.isVisible() and not toolbar.isFloating() and top_area:
                top = max(top, toolbar.geometry().bottom() + 1)
        bar = w.statusBar()
        bottom = bar.geometry().top() if bar.isVisible() else w.height()
        return bottom - top

    def layout_usable(self) -> bool:
        """Whether the central area keeps its share of the window: 60 % of its height (in a
        window under 720 pixels tall, 60 % of the room the bars leave) and 40 % of its width."""
        rect, w = self.central_rect(), self.window
        height = w.height()
        needed = MIN_CENTRAL_HEIGHT * (height if height >= SMALL_HEIGHT else self.room())
        return (
            self.stack.isVisible()
            and rect.height() >= needed
            and rect.width() >= MIN_CENTRAL_WIDTH * w.width()
        )

    def check_layout(self) -> bool:
        """Replace an unusable layout of the current view with its defaults; True when the
        layout was kept."""
        self._check_on_show = False
        if self.layout_usable():
            return True
        self.apply_defaults(self.current)
        if self.current == "design":  # once the window has laid the docks out
            self.window.layout().activate()
            self.size_design_docks()
        title = VIEWS[self.current].strip("&")
        self.window.statusBar().showMessage(
            f"The saved layout of the {title} view left too little room for its page: the "
            "default layout is back",
            10_000,
        )
        return False

    def shown(self) -> None:
        """The window was shown: check a layout restored while it was hidden."""
        if self._check_on_show:  # once the window has settled at its size
            QTimer.singleShot(0, self._check_if_pending)
        elif self.current == "design" and not self.states.get("design"):
            self.size_design_docks()  # the first show: docks sized for the real window

    def _check_if_pending(self) -> None:
        if self._check_on_show:
            self.check_layout()

    def _dock_lost_floaters(self) -> None:
        """Dock again a floating panel that no screen shows (a screen since removed)."""
        screens = [s.availableGeometry() for s in QGuiApplication.screens()]
        for dock in self.window.docks.values():
            self._floating_changed(dock, dock.isFloating())
            if dock.isFloating() and not any(s.intersects(dock.geometry()) for s in screens):
                dock.setFloating(False)

    def reset_layout(self) -> None:
        """Forget every view's saved layout and show the current one's defaults."""
        self.states.clear()
        if self.window.session:
            from designer import settings as user_settings

            store = user_settings.settings()
            for name in self.pages:
                store.remove(f"views/{name}/state")
        self.apply_defaults(self.current)

    # ----- persistence -----------------------------------------------------------------------
    def save(self, store: QSettings) -> None:
        """Store every view's layout (the current one as it is now)."""
        self.states[self.current] = self.window.saveState(LAYOUT_VERSION)
        for name, state in self.states.items():
            store.setValue(f"views/{name}/state", state)
        store.remove("window/state")  # the single layout of before the views

    def restore(self, store: QSettings) -> None:
        """Read the saved layouts and apply the current view's (checked once shown)."""
        for name in self.pages:
            value = store.value(f"views/{name}/state")
            if isinstance(value, QByteArray) and not value.isEmpty():
                self.states[name] = value
        self.apply_layout(self.current)
