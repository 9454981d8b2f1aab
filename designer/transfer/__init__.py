"""Transfer learning in the window (issue 20, point 4): File ▸ Load weights… with its match
report, freezing blocks and groups from the canvas's context menu (drawn hatched, counted in
the summary), and Replace classifier in one step.

``install_transfer(window)`` adds all of it. Torch loads only when a weights file is read, on
a worker thread.
"""

from __future__ import annotations

from typing import Any


def install_transfer(window: Any) -> Any:
    """Give ``window`` the transfer actions and marks; returns the ``TransferActions``."""
    from designer.transfer.actions import TransferActions

    window.transfer = TransferActions(window)
    return window.transfer
