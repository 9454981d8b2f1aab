"""The memory of the person's card (issue 20, point 1): Training ▸ Device memory… chooses it (a
common card by name, or a size such as 12GB), kept in the user's settings (it belongs to the
machine, not to a design), and the summary's totals line says the largest batch whose training
estimate fits it (``engine.analysis.memory.max_batch_for``, as ``cnn-designer memory
--device-memory`` does, less the frozen blocks' gradients and optimiser state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction

from designer.menus import window_menu

if TYPE_CHECKING:
    from designer.memory.plans import Plan

KEY = "memory/device_memory"
DEFAULT = "24GB"


def device_memory() -> tuple[str, int]:
    """(the text chosen, its bytes); the default where nothing valid is stored."""
    from designer.settings import settings
    from engine.analysis.memory_sizes import MemorySizeError, parse_memory_size

    text = settings().value(KEY, DEFAULT)
    try:
        return str(text), parse_memory_size(str(text))
    except MemorySizeError:
        return DEFAULT, parse_memory_size(DEFAULT)


def set_device_memory(text: str) -> tuple[str, int]:
    """Store ``text`` (MemorySizeError naming it and the fix when it cannot be read)."""
    from designer.settings import settings
    from engine.analysis.memory_sizes import parse_memory_size

    text = text.strip()
    size = parse_memory_size(text, "device memory")
    settings().setValue(KEY, text)
    return text, size


def max_batch(plan: Plan, memory: int) -> int:
    """The largest batch whose training estimate, frozen blocks counted, fits ``memory``."""
    from engine.analysis.memory import max_batch_for

    saved = plan.plan.total_training - plan.total_training  # the frozen blocks': no batch term
    return max_batch_for(plan.plan, memory + saved)


def fits_text(plan: Plan) -> str:
    """ ", fits batch ≤ N in 24GB" for the totals line (early in it: a narrow window elides
    its end)."""
    text, size = device_memory()
    batch = max_batch(plan, size)
    if batch == 0:
        return f", not even batch 1 fits in {text}"
    return f", fits batch ≤ {batch:,} in {text}"


def choose(window: Any, answer: str | None = None) -> bool:
    """Ask for the card or size (``answer`` instead of asking); True when one was stored. A
    value that cannot be read is said in the status bar and nothing changes."""
    from engine.analysis.memory_sizes import CARDS, MemorySizeError

    current, _size = device_memory()
    if answer is None:
        from PySide6.QtWidgets import QInputDialog

        items = [current, *(c for c in sorted(CARDS) if c != current)]
        answer, ok = QInputDialog.getItem(
            window,
            "Device memory",
            "The card's memory (a name, or a size such as 12GB):",
            items,
            0,
            True,
        )
        if not ok:
            return False
    try:
        text, _size = set_device_memory(answer)
    except MemorySizeError as error:
        window.statusBar().showMessage(f"Device memory not changed: {error}", 20_000)
        return False
    from designer.memory.plans import plans_of

    plans_of(window.document).changed.emit()  # the totals line says the new largest batch
    window.statusBar().showMessage(f"Device memory: {text}", 8000)
    return True


def install_device_memory(window: Any) -> QAction:
    """Training ▸ Device memory… on ``window``."""
    action = QAction("Device &memory…", window)
    action.setObjectName("device_memory")
    action.setStatusTip("The card's memory: the summary says the largest batch that fits it")
    action.triggered.connect(lambda _checked=False: choose(window))
    window.addAction(action)
    window.actions_by_name["device_memory"] = action
    menu = window_menu(window, "&Training")
    if menu is not None:
        menu.addAction(action)
    return action
