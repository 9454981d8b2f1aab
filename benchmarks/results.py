"""What a benchmark measured, in a form a program can read (``python -m benchmarks NAME --json``).

Each ``bench_*.py`` module's ``main()`` prints its human lines and returns a list of
:class:`Measure`. A measure has a stable dotted name, ``<benchmark>.<what>.<quantity>`` (for
example ``startup.ratio``, ``presets.summary_resnet152.ratio``, ``dashboard.filters.max_gap_ms``),
where ``<benchmark>`` is the module's name without ``bench_``.

``target`` is a string ``"<op> <number>"`` with ``<op>`` one of ``<``, ``<=``, ``>=``, ``>`` (for
example ``">= 0.95"``, ``"<= 50"``), read as "value <op> number", or ``None`` for a figure shown
for information only. ``met`` is whether the value meets the target; ``None`` when there is no
target or nothing was measured. ``value`` is ``None`` when the measure could not be taken here
(a benchmark that needs CUDA on a machine without it, a run that did not train).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
    ">": operator.gt,
}


def parse_target(target: str) -> tuple[str, float]:
    """``">= 0.95"`` -> ``(">=", 0.95)``; a ValueError naming the text otherwise."""
    op, _, bound = target.strip().partition(" ")
    if op not in COMPARISONS:
        raise ValueError(
            f"benchmark target: the comparison must be one of {', '.join(COMPARISONS)}. "
            f"Received: target={target!r}. Write it as '<op> <number>', e.g. '>= 0.95'."
        )
    try:
        return op, float(bound)
    except ValueError:
        raise ValueError(
            f"benchmark target: the bound must be a number. Received: target={target!r}. "
            "Write it as '<op> <number>', e.g. '<= 50'."
        ) from None


@dataclass(frozen=True)
class Measure:
    """One figure of a benchmark; see the module's docstring for the meaning of each field."""

    name: str
    value: float | None
    unit: str
    target: str | None = None
    met: bool | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def measure(name: str, value: float | None, unit: str, target: str | None = None) -> Measure:
    """A measure with ``met`` worked out from ``value`` and ``target``.

    A value that is None or not finite (NaN: nothing measured) becomes None, with ``met`` None.
    """
    if value is not None and not math.isfinite(value):
        value = None
    met: bool | None = None
    if target is not None:
        op, bound = parse_target(target)
        if value is not None:
            met = COMPARISONS[op](value, bound)
    return Measure(name, None if value is None else float(value), unit, target, met)


class BenchmarkSettingError(ValueError):
    """A benchmark's setting (an environment variable) has a value it cannot use; the message
    names it, the value and the fix, and the runner shows it without a traceback."""
