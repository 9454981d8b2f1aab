"""What inference remembers between passes: parameter checks and rule outcomes.

Designs repeat the same values and layers (ResNet-152 has 36 identical bottlenecks in a stage),
and an edit leaves most layers as they were, so a pass looks these up before running a rule.
"""

from __future__ import annotations

from typing import Any

from engine.catalog import Shape
from engine.params import ParamSpec

# ParamSpec.problem results by (spec identity, typed value): designs repeat the same values
PROBLEMS: dict[tuple[int, Any], tuple[ParamSpec, str | None]] = {}


def _frozen(value: Any) -> Any:
    """A hashable key telling apart values that compare equal across types (1, 1.0, True)."""
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    return (type(value), value)


# What a block's rules gave for (type, parameters, input shapes) when they gave no diagnostic:
# (output shapes by port, parameter count, MACs). Designs repeat the same layer many times
# (ResNet-152 has 36 identical bottlenecks in a stage), and an edit leaves most layers as they were.
OUTCOMES: dict[tuple[Any, ...], tuple[dict[str, Shape], int, int]] = {}
OUTCOMES_LIMIT = 20_000
_NESTED = frozenset({list, tuple, dict, set})


def outcome_key(type_id: str, params: dict[str, Any], shapes: list[Shape]) -> tuple:
    """The memo key of one node's rule evaluation (hashing it raises TypeError for unhashable
    parameter values, such as a dict read from a file).

    Built from the node's own parameter dict (the parameters it leaves out take the catalog's
    fixed defaults). Flat values are keyed with their types beside them, so that 1, 1.0 and
    True stay apart; nested values go through ``_frozen``.
    """
    values = tuple(params.values())
    types = tuple(map(type, values))
    if not _NESTED.isdisjoint(types):
        values, types = tuple(_frozen(v) for v in values), ()
    return (type_id, tuple(shapes), tuple(params), values, types)


def remembered(key: tuple) -> tuple[dict[str, Shape], int, int] | None:
    """The remembered outcome for ``key``, if any (None for an unhashable key)."""
    try:
        return OUTCOMES.get(key)
    except TypeError:
        return None


def clear_memo() -> None:
    """Forget remembered rule results (benchmarks use it to time inference from scratch)."""
    OUTCOMES.clear()
    PROBLEMS.clear()


def param_problem(param: ParamSpec, value: Any) -> str | None:
    """``param.problem(value)``, remembered for hashable values."""
    try:
        key = (id(param), _frozen(value))
        hit = PROBLEMS.get(key)
    except TypeError:  # a dict or another unhashable value from a file
        return param.problem(value)
    if hit is not None and hit[0] is param:
        return hit[1]
    if len(PROBLEMS) > 50_000:
        PROBLEMS.clear()
    problem = param.problem(value)
    PROBLEMS[key] = (param, problem)
    return problem
