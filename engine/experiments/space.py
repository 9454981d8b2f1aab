"""A sweep's search space: ``--param KEY=SPEC`` parsed, its key resolved, its values checked.

SPEC is ``log:LOW..HIGH`` (log-uniform), ``int:LOW..HIGH`` (whole numbers, both ends
included), ``float:LOW..HIGH`` (uniform) or ``choice:A,B,C``. KEY is a training setting
(``lr``, ``batch_size``, ``data.crop_padding``), a preset option (``option.width``) or a block
parameter (``conv1.out_channels``). Every value a spec can give is checked before the sweep
starts (its ends and each choice), so a range the setting, option or block refuses is a message
up front, not a failed trial.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import DesignerError, UnknownNameError
from engine.graph import Graph
from engine.params import ParamKind

KINDS = ("log", "int", "float", "choice")
EXAMPLE = (
    "lr=log:1e-4..1e-1, batch_size=int:16..64, optimizer=choice:adam,sgd or dropout.p=float:0..0.5"
)
# block parameter kinds that take a whole number (a size k, a padding p)
WHOLE_KINDS = (ParamKind.INT, ParamKind.SIZE2, ParamKind.OPTIONAL_SIZE2, ParamKind.PADDING)


class SweepError(DesignerError, ValueError):
    """A sweep that cannot run as asked: a bad --param, sampler or storage."""


@dataclass(frozen=True)
class SearchParam:
    """One varied key: ``kind`` in KINDS; ``low``/``high`` for ranges, ``choices`` for choice.
    ``target`` is "setting", "option" or "block"; ``whole`` says the values are whole numbers."""

    key: str
    kind: str
    text: str  # the spec as written, for messages and the study's record
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()
    target: str = "setting"
    whole: bool = False

    @property
    def label(self) -> str:
        return f"{self.key}={self.text}"

    def suggest(self, trial: Any) -> Any:
        """The trial's value through Optuna's own ``suggest_*`` (the sampler chooses)."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.whole:
            return trial.suggest_int(
                self.key, int(self.low), int(self.high), log=self.kind == "log"
            )
        return trial.suggest_float(self.key, self.low, self.high, log=self.kind == "log")

    def grid_values(self) -> list[Any]:
        """The values a grid sampler walks (choices, or every whole number of an int range)."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1))
        raise SweepError(
            f"--param {self.label}: a grid needs a finite set of values, and {self.kind}: is a "
            f"continuous range. Received: --sampler grid. Give the values as choice:A,B,C (e.g. "
            f"{self.key}=choice:{self.low:g},{self.high:g}) or use --sampler random or tpe"
        )


def _number(param: str, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SweepError(
            f"--param {param}: the {what} end {text.strip()!r} is not a finite number. "
            f"Received: {param}. Write the range as LOW..HIGH, e.g. {EXAMPLE}"
        )
    return value


def parse_param(item: str) -> SearchParam:
    """``KEY=SPEC`` as a SearchParam (its key not resolved yet: see ``resolve``)."""
    key, sep, spec = item.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise SweepError(
            f"--param {item!r}: write it as KEY=SPEC. Received: --param {item!r}. For example "
            f"{EXAMPLE}"
        )
    kind, colon, body = spec.partition(":")
    kind = kind.strip().lower()
    label = f"{key}={spec}"
    if not colon or kind not in KINDS:
        raise SweepError(
            f"--param {label}: SPEC starts with one of {', '.join(k + ':' for k in KINDS)}. "
            f"Received: {spec!r}. For example {EXAMPLE}"
        )
    if kind == "choice":
        choices = tuple(c.strip() for c in body.split(","))
        if not body.strip() or any(not c for c in choices):
            raise SweepError(
                f"--param {label}: a choice needs values separated by commas, none empty. "
                f"Received: {spec!r}. Write it as choice:A,B,C"
            )
        if len(set(choices)) != len(choices):
            raise SweepError(
                f"--param {label}: a choice lists a value twice. Received: {spec!r}. "
                "List each value once"
            )
        return SearchParam(key, kind, spec, choices=choices)
    low_text, dots, high_text = body.partition("..")
    if not dots:
        raise SweepError(
            f"--param {label}: a range is written LOW..HIGH. Received: {spec!r}. For example "
            f"{EXAMPLE}"
        )
    low, high = _number(label, low_text, "low"), _number(label, high_text, "high")
    if kind == "int" and (low != int(low) or high != int(high)):
        raise SweepError(
            f"--param {label}: int: takes whole numbers. Received: {spec!r}. Use whole ends, "
            "or float: for fractions"
        )
    if not low < high:
        raise SweepError(
            f"--param {label}: the range is empty (LOW must be less than HIGH). Received: "
            f"low={low:g}, high={high:g}. Give LOW below HIGH, or drop the --param and set "
            "the value as an ordinary option"
        )
    if kind == "log" and low <= 0:
        raise SweepError(
            f"--param {label}: a log: range must be above 0. Received: low={low:g}. Use a "
            "positive LOW (e.g. 1e-5), or float: for a range that includes 0"
        )
    return SearchParam(key, kind, spec, low=low, high=high)


def setting_keys(defaults: dict[str, Any]) -> dict[str, Any]:
    """Every training setting a sweep can vary, with its default (``data.*`` for the data)."""
    keys = {k: v for k, v in defaults.items() if k != "data"}
    keys.update({f"data.{k}": v for k, v in (defaults.get("data") or {}).items()})
    return keys


def resolve(
    param: SearchParam,
    graph: Graph,
    defaults: dict[str, Any],
    preset: Any,
    check_settings: Callable[[str, Any], None],
) -> SearchParam:
    """``param`` with its target found and each value it can give checked; raises SweepError
    (an unknown key names the closest known ones). ``preset``: the preset (None for a file);
    ``check_settings(key, value)`` raises when the settings refuse ``value``."""
    key = param.key
    settings = setting_keys(defaults)
    if key.startswith("option."):
        return _resolve_option(param, preset)
    if key in settings:
        default = settings[key]
        param = _typed(param, default, _setting_kind(default))
        for value in _ends(param):
            try:
                check_settings(key, value)
            except DesignerError as error:
                raise SweepError(f"--param {param.label}: {error}") from error
        return param
    node_name, dot, name = key.rpartition(".")
    if dot and node_name in graph:
        node = graph.node(node_name)
        specs = {p.name: p for p in node.spec.params}
        if name not in specs:
            raise SweepError(
                f"--param {param.label}: {UnknownNameError(f'parameter of {node_name} ({node.type_id})', name, specs)}"
            )
        spec = specs[name]
        kind = "int" if spec.kind in WHOLE_KINDS else spec.kind.value
        param = _typed(param, spec.default, kind, parse=spec.parse)
        for value in _ends(param):
            if (problem := spec.problem(value)) is not None:
                raise SweepError(f"--param {param.label}: {node_name} ({node.type_id}): {problem}")
        return dataclasses.replace(param, target="block")
    known = [*settings, *(f"{n.name}.{p.name}" for n in graph for p in n.spec.params)]
    if preset is not None:
        known += [f"option.{o.name}" for o in preset.options]
    unknown = UnknownNameError("sweep key", key, known)
    raise SweepError(
        f"--param {param.label}: {unknown} Vary a training setting (lr, batch_size, ...), a preset "
        "option (option.NAME) or a block parameter (NODE.PARAM)"
    )


def _resolve_option(param: SearchParam, preset: Any) -> SearchParam:
    name = param.key[len("option.") :]
    if preset is None:
        raise SweepError(
            f"--param {param.label}: preset options can only be varied for a --preset. "
            "Received: a project FILE. Vary its block parameters instead (NODE.PARAM)"
        )
    try:
        option = preset.option(name)
    except UnknownNameError as error:
        raise SweepError(f"--param {param.label}: {error}") from error
    kind = _setting_kind(option.default)
    param = _typed(param, option.default, kind, parse=option.parse)
    for value in _ends(param):
        try:
            option.check(value)
        except DesignerError as error:
            raise SweepError(f"--param {param.label}: {error}") from error
    return dataclasses.replace(param, target="option")


def _setting_kind(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    return "choice"


def _typed(
    param: SearchParam, default: Any, kind: str, parse: Callable[[str], Any] | None = None
) -> SearchParam:
    """The spec in the key's type: a whole-number key takes int: and log: (whole) or a
    choice; a number key any range; any other key only a choice."""
    if param.kind == "choice":
        return dataclasses.replace(param, choices=_choices(param, kind, parse))
    if kind == "int":
        if param.kind == "float":
            raise SweepError(
                f"--param {param.label}: {param.key} is a whole number. Received: "
                f"{param.text!r}. Use int:{param.low:g}..{param.high:g} or log:LOW..HIGH"
            )
        if param.low != int(param.low) or param.high != int(param.high):
            raise SweepError(
                f"--param {param.label}: {param.key} is a whole number, so the ends must be "
                f"whole. Received: {param.text!r}. Use whole ends"
            )
        return dataclasses.replace(param, whole=True)
    if kind == "float":
        return param
    shown = f" (e.g. {param.key}=choice:{default})" if default not in (None, "") else ""
    raise SweepError(
        f"--param {param.label}: {param.key} is not a number, so it takes a choice of values. "
        f"Received: {param.text!r}. Write it as choice:A,B{shown}"
    )


def _choices(param: SearchParam, kind: str, parse: Callable[[str], Any] | None) -> tuple[Any, ...]:
    values: list[Any] = []
    for text in param.choices:
        try:
            if parse is not None:
                values.append(parse(text))
            elif kind == "bool":
                if text.lower() not in ("true", "false"):
                    raise ValueError(text)
                values.append(text.lower() == "true")
            elif kind == "int":
                values.append(int(text))
            elif kind == "float":
                values.append(float(text))
            else:
                values.append(text)
        except (ValueError, DesignerError) as error:
            detail = f" ({error})" if isinstance(error, DesignerError) else ""
            raise SweepError(
                f"--param {param.label}: {text!r} is not a value of {param.key}{detail}. "
                f"Received: {param.text!r}. Give values of its type ({kind})"
            ) from error
    return tuple(_plain(v) for v in values)


def _plain(value: Any) -> Any:
    """Optuna's categorical values are None, bool, int, float or str: others as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _ends(param: SearchParam) -> Sequence[Any]:
    """The values to check: each choice, or both ends of a range."""
    if param.kind == "choice":
        return param.choices
    if param.whole:
        return (int(param.low), int(param.high))
    return (param.low, param.high)
