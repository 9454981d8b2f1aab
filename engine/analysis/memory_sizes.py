"""Memory sizes as people write them (``24GB``, ``24 GiB``, ``16000MB``, ``8g``) or as a card's
name (``rtx3090``, ``a100-40``), and bytes written back for people (``1.5 GiB``).

Units: ``KB``/``MB``/``GB``/``TB`` are powers of 1000; ``KiB``/``MiB``/``GiB``/``TiB`` and the
single letters ``k``/``m``/``g``/``t`` (as Docker and Java write them) powers of 1024; a bare
number is bytes. A card's size is its nominal memory; the CUDA context and the allocator's cache
take some of it (often 0.5-1 GiB), so a plan that fits exactly may not.
"""

from __future__ import annotations

import re

from engine.errors import DesignerError

GIB = 2**30
CARDS: dict[str, int] = {  # nominal memory of common cards, in bytes
    "t4": 16 * GIB,
    "p100": 16 * GIB,
    "v100-16": 16 * GIB,
    "v100-32": 32 * GIB,
    "a10": 24 * GIB,
    "l4": 24 * GIB,
    "a100-40": 40 * GIB,
    "a100-80": 80 * GIB,
    "h100-80": 80 * GIB,
    "h200": 141 * 10**9,
    "rtx2080ti": 11 * GIB,
    "rtx3060": 12 * GIB,
    "rtx3080": 10 * GIB,
    "rtx3090": 24 * GIB,
    "rtx4070": 12 * GIB,
    "rtx4080": 16 * GIB,
    "rtx4090": 24 * GIB,
    "rtx5090": 32 * GIB,
}
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "k": 2**10,
    "m": 2**20,
    "g": 2**30,
    "t": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
MAX_TEXT = 64  # longer text is not a size


class MemorySizeError(DesignerError, ValueError):
    """A memory size that cannot be read."""


def parse_memory_size(text: str, name: str = "device_memory") -> int:
    """Bytes of ``text``: a number with a unit, or a card's name (see CARDS); ``name`` is how
    a refusal names the setting."""
    lowered = str(text).strip().lower()[: MAX_TEXT + 1]
    if lowered in CARDS:
        return CARDS[lowered]
    match = _SIZE.match(lowered) if len(lowered) <= MAX_TEXT else None
    if match is not None and match.group(2) in _UNITS:
        size = int(float(match.group(1)) * _UNITS[match.group(2)])
        if size > 0:
            return size
    shown = str(text)[:MAX_TEXT] + ("…" if len(str(text)) > MAX_TEXT else "")
    raise MemorySizeError(
        f"{name}: cannot read this as a memory size. Received: "
        f"{name}={shown!r}. Write a positive number with a unit (24GB, 24 GiB, 16000MB, "
        f"8g) or a card's name ({', '.join(sorted(CARDS))})"
    )


def format_bytes(size: int) -> str:
    """``size`` bytes as people read them: 512 B, 1.5 KiB, 23.4 MiB, 2.00 GiB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.2f} TiB"
