"""The lesson panel: a dock with the open lesson's text and its buttons.

The text is filled by ``engine.lessons`` from the design as it is now and follows every edit;
a design that no longer validates shows the engine's message instead (in red), never raises.
"Open view" opens the lesson's view again, "Run experiment" starts its experiment, and the
status line follows a running experiment.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from engine.lessons.lessons import Lesson, LessonText

PROBLEM_STYLE = "color: #d32f2f;"


class LessonPanel(QWidget):
    """Shows one lesson's text; ``on_view`` and ``on_experiment`` are the buttons' actions."""

    def __init__(
        self,
        on_view: Callable[[], object],
        on_experiment: Callable[[], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("lesson_panel")
        self.lesson: Lesson | None = None
        self.shown: LessonText = LessonText()
        layout = QVBoxLayout(self)
        self.title = QLabel(self)
        self.title.setObjectName("lesson_title")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.text = QLabel(self)
        self.text.setObjectName("lesson_text")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.text)
        scroll.setMinimumHeight(160)  # a lesson's paragraphs, not three lines of them
        layout.addWidget(scroll, 1)
        self.view_button = QPushButton("Open view", self)
        self.view_button.setObjectName("lesson_view_button")
        self.view_button.clicked.connect(lambda: on_view())
        layout.addWidget(self.view_button)
        self.experiment_button = QPushButton("Run experiment", self)
        self.experiment_button.setObjectName("lesson_experiment_button")
        self.experiment_button.clicked.connect(lambda: on_experiment())
        layout.addWidget(self.experiment_button)
        self.status = QLabel(self)
        self.status.setObjectName("lesson_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    def show_lesson(self, lesson: Lesson, text: LessonText, experiment_title: str | None) -> None:
        """Show ``lesson`` with ``text`` (its problem, in red, when it has one)."""
        self.lesson, self.shown = lesson, text
        self.title.setText(f"<b>{lesson.title}</b>")
        if text.problem is not None:
            self.text.setStyleSheet(PROBLEM_STYLE)
            self.text.setText(text.problem)
        else:
            self.text.setStyleSheet("")
            self.text.setText("\n\n".join(text.lines))
        self.view_button.setVisible(lesson.view is not None)
        self.experiment_button.setVisible(experiment_title is not None)
        if experiment_title is not None:
            self.experiment_button.setText(f"Run experiment: {experiment_title}")
