"""Training in the designer: the Train/Pause/Resume/Stop actions, the settings dialog and the
live dashboard (a bottom tab).

``install_training(window)`` adds all of it to a MainWindow. This package's import is light:
pyqtgraph loads when the Training tab is first shown or Train is first pressed, and torch only
in the training process (and for predictions after a run).
"""

from __future__ import annotations

from typing import Any


def install_training(window: Any) -> Any:
    """Give ``window`` a Training menu, toolbar actions and the Training tab; returns the
    ``TrainingController`` (also kept as ``window.training``)."""
    from designer.training.controller import TrainingController

    window.training = TrainingController(window)
    return window.training
