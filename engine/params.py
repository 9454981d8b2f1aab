"""Typed parameter specs: what a block accepts, its default, range and one line of help.

Values are stored as plain JSON data (int, float, bool, str, a list of two ints, None) so that a
project file holds exactly what the torch factory receives. ``ParamSpec.problem`` explains a bad
value in the user's terms; ``ParamSpec.parse`` turns the text a user types ("3", "3x5", "same")
into a value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Params = dict[str, Any]


class ParamKind(StrEnum):
    """How a parameter's value is written and checked."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    CHOICE = "choice"
    SIZE2 = "size2"  # k or [kh, kw]
    OPTIONAL_SIZE2 = "optional_size2"  # None (use the default rule), k or [kh, kw]
    PADDING = "padding"  # p, [ph, pw] or "same"
    SHAPE = "shape"  # [C, H, W] or [features]


_PAIR_TEXT = re.compile(r"^\s*(-?\d+)\s*[x×,*]\s*(-?\d+)\s*$")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def as_float(value: Any) -> Any:
    """A whole number as the float torch receives, when it is one; any other value unchanged.

    Torch turns a Python int into a 64-bit integer, so ``x * 10**20`` fails at the first forward
    pass ("int too big to convert") where ``x * 1e20`` does not: decimal parameters therefore reach
    torch as floats. An int too large for a float (10**400) stays as it is, for the rule to refuse.
    """
    if _is_int(value):
        try:
            return float(value)
        except OverflowError:
            return value
    return value


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to about ``limit`` characters (a whole number may have thousands of
    digits, and ``repr`` refuses those past 4,300)."""
    if _is_int(value) and abs(value) >= 10**limit:
        return f"a whole number of about 10^{math.floor(math.log10(abs(value)))}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pair(value: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    """A size written as k or [kh, kw], as an (h, w) tuple."""
    if isinstance(value, list | tuple):
        return int(value[0]), int(value[1])
    return int(value), int(value)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a block type."""

    name: str
    kind: ParamKind
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    choices: tuple[Any, ...] = ()
    required: bool = False
    # why the range refuses values torch would take (docs/architecture.md lists every such one)
    reason: str = ""

    def _range_text(self) -> str:
        low = "" if self.minimum is None else f"{self.minimum:g}"
        if self.maximum is None:
            if not low:
                return "any value"
            return f"greater than {low}" if self.exclusive_minimum else f"at least {low}"
        opening = "(" if self.exclusive_minimum else "["
        closing = ")" if self.exclusive_maximum else "]"
        return f"in {opening}{low or '-inf'}, {self.maximum:g}{closing}"

    def _number_problem(self, value: float) -> str | None:
        if self.minimum is not None:
            too_small = value <= self.minimum if self.exclusive_minimum else value < self.minimum
            if too_small:
                return f"must be {self._range_text()}"
        if self.maximum is not None:
            too_big = value >= self.maximum if self.exclusive_maximum else value > self.maximum
            if too_big:
                return f"must be {self._range_text()}"
        return None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, in one sentence with the fix, or None if it is."""
        rule = self._rule(value)
        if rule is None:
            return None
        text = f"{self.name} {rule}. Received: {self.name}={_shown(value)}. {self._fix()}"
        if self.reason and rule == f"must be {self._range_text()}":
            text += f" {self.reason}"
        return text

    def _fix(self) -> str:
        if self.kind is ParamKind.CHOICE:
            return f"Choose one of {', '.join(map(repr, self.choices))}."
        if self.kind in (ParamKind.SIZE2, ParamKind.OPTIONAL_SIZE2, ParamKind.PADDING):
            return f"Write it as k or kh×kw, each {self._range_text()}."
        if self.kind is ParamKind.SHAPE:
            return "Write it as C×H×W for images (e.g. 3×32×32) or as a single number of features."
        if self.kind is ParamKind.BOOL:
            return f"Use true or false (default {self.default!r})."
        if self.minimum is None and self.maximum is None:
            what = "whole number" if self.kind is ParamKind.INT else "finite number"
            return f"Use a {what} (default {self.default!r})."
        return f"Use a value {self._range_text()} (default {self.default!r})."

    def _rule(self, value: Any) -> str | None:
        if value is None:
            if self.kind is ParamKind.OPTIONAL_SIZE2:
                return None
            return "is required and missing"
        kind = self.kind
        if kind is ParamKind.INT:
            if not _is_int(value):
                return "must be a whole number"
            return self._number_problem(value)
        if kind is ParamKind.FLOAT:
            number = as_float(value)  # what torch receives (see ``as_float``)
            if not isinstance(number, float) or not math.isfinite(number):
                return "must be a finite number"
            return self._number_problem(number)
        if kind is ParamKind.BOOL:
            return None if isinstance(value, bool) else "must be true or false"
        if kind is ParamKind.CHOICE:
            return None if value in self.choices else "is not one of the allowed choices"
        if kind is ParamKind.PADDING and value == "same":
            return None
        if kind in (ParamKind.SIZE2, ParamKind.OPTIONAL_SIZE2, ParamKind.PADDING):
            items = list(value) if isinstance(value, list | tuple) else [value]
            one_or_two = len(items) == 2 or not isinstance(value, list | tuple)
            if not one_or_two or not all(_is_int(v) for v in items):
                return "must be one whole number or a list of two"
            for item in items:
                if (rule := self._number_problem(item)) is not None:
                    return rule
            return None
        if kind is ParamKind.SHAPE:
            if not isinstance(value, list | tuple) or len(value) not in (1, 3):
                return "must be C×H×W or a number of features"
            if not all(_is_int(v) and v > 0 for v in value):
                return "must hold positive whole numbers only"
            return None
        raise AssertionError(kind)

    def normalize(self, value: Any) -> Any:
        """The canonical JSON form of an acceptable value (pairs of equal sides become ints)."""
        if isinstance(value, tuple):
            value = list(value)
        if self.kind in (ParamKind.SIZE2, ParamKind.OPTIONAL_SIZE2, ParamKind.PADDING):
            if isinstance(value, list) and len(value) == 2 and value[0] == value[1]:
                return value[0]
            if isinstance(value, list) and len(value) == 1:
                return value[0]
        if self.kind is ParamKind.FLOAT:
            return as_float(value)
        return value

    def parse(self, text: str) -> Any:
        """Read a value from what a user typed; raise ParameterError with the fix if unreadable."""
        from engine.errors import ParameterError

        raw = text.strip()
        try:
            value = self._parse(raw)
        except ValueError as error:
            raise ParameterError(
                f"{self.name}: cannot read {raw!r} as a {self.kind.value} value. {self._fix()}"
            ) from error
        return self.normalize(value)

    def _parse(self, raw: str) -> Any:
        kind = self.kind
        if kind is ParamKind.INT:
            return int(raw)
        if kind is ParamKind.FLOAT:
            return float(raw)
        if kind is ParamKind.BOOL:
            lowered = raw.lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            raise ValueError(raw)
        if kind is ParamKind.CHOICE:
            for choice in self.choices:
                if str(choice) == raw:
                    return choice
            raise ValueError(raw)
        if kind is ParamKind.OPTIONAL_SIZE2 and raw.lower() in ("", "none", "default"):
            return None
        if kind is ParamKind.PADDING and raw.lower() == "same":
            return "same"
        if kind is ParamKind.SHAPE:
            return [int(part) for part in re.split(r"\s*[x×,*]\s*", raw)]
        if match := _PAIR_TEXT.match(raw):
            return [int(match.group(1)), int(match.group(2))]
        return int(raw)


def int_param(name: str, default: int | None, help: str, minimum: int = 1, **kw: Any) -> ParamSpec:
    """A whole-number parameter (required when the default is None)."""
    return ParamSpec(
        name, ParamKind.INT, default, help, minimum=minimum, required=default is None, **kw
    )


def float_param(name: str, default: float, help: str, **kw: Any) -> ParamSpec:
    """A real-number parameter."""
    return ParamSpec(name, ParamKind.FLOAT, default, help, **kw)


def bool_param(name: str, default: bool, help: str) -> ParamSpec:
    """A true/false parameter."""
    return ParamSpec(name, ParamKind.BOOL, default, help)


def choice_param(name: str, default: Any, choices: tuple[Any, ...], help: str) -> ParamSpec:
    """A parameter that takes one of a fixed set of values."""
    return ParamSpec(name, ParamKind.CHOICE, default, help, choices=choices)


def size_param(name: str, default: Any, help: str, minimum: int = 1, reason: str = "") -> ParamSpec:
    """A size written as k or kh×kw (required when the default is None)."""
    return ParamSpec(
        name,
        ParamKind.SIZE2,
        default,
        help,
        minimum=minimum,
        required=default is None,
        reason=reason,
    )
