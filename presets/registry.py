"""The strict preset registry: every classic architecture, its metadata and its options."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine import DuplicateNameError, Graph, ParameterError, UnknownNameError


@dataclass(frozen=True)
class PresetOption:
    """One option of a preset: its name (shared across presets), default and allowed values."""

    name: str
    default: Any
    choices: tuple[Any, ...] = ()
    help: str = ""
    structural: bool = True  # changes the graph's structure (tests build each value)
    minimum: int = 1  # the least value of a whole-number option
    # higher minimums that hold when another option has a value: (option, value, minimum), e.g.
    # ("aux_logits", True, 299): Inception v3's auxiliary head needs the 17×17 grid of 299×299
    minimum_when: tuple[tuple[str, Any, int], ...] = ()

    def parse(self, text: str) -> Any:
        """Read the option's value from ``--option KEY=VALUE`` text."""
        kind = type(self.default)
        try:
            if kind is bool:
                lowered = text.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError(text)
                value: Any = lowered in ("true", "1", "yes", "on")
            else:
                value = kind(text)
        except ValueError as error:
            raise ParameterError(
                f"option {self.name}: cannot read {text!r} as {kind.__name__}. {self._allowed()}"
            ) from error
        self.check(value)
        return value

    def _allowed(self) -> str:
        if self.choices:
            return f"Choose one of {', '.join(map(str, self.choices))}."
        return f"Default: {self.default!r}."

    def minimum_for(self, values: Mapping[str, Any] | None = None) -> int:
        """The least value allowed when the other options have ``values`` (None: on its own)."""
        return max([self.minimum, *(m for _, _, m in self._conditions(values))])

    def _conditions(self, values: Mapping[str, Any] | None) -> list[tuple[str, Any, int]]:
        """The entries of ``minimum_when`` that ``values`` meet."""
        given = values or {}
        return [
            (name, value, m)
            for name, value, m in self.minimum_when
            if name in given and given[name] == value
        ]

    def check(self, value: Any, values: Mapping[str, Any] | None = None) -> None:
        """Raise ParameterError when ``value`` is not allowed, the other options having
        ``values`` (every option's value; None checks this option on its own)."""
        if self.choices and value not in self.choices:
            raise ParameterError(f"option {self.name}: {value!r} is not allowed. {self._allowed()}")
        whole = isinstance(self.default, int) and not isinstance(self.default, bool)
        minimum = self.minimum_for(values)
        if not whole or value >= minimum:
            return
        raising = [(n, v) for n, v, m in self._conditions(values) if m == minimum]
        if not raising:
            raise ParameterError(
                f"option {self.name}: must be at least {minimum}. Received: "
                f"{self.name}={value!r}. Use {minimum} or more"
            )
        because = ", ".join(f"{n}={v!r}" for n, v in raising)
        raise ParameterError(
            f"option {self.name}: must be at least {minimum} with {because} (at least "
            f"{self.minimum} otherwise). Received: {self.name}={value!r}, {because}. Use "
            f"{minimum} or more, or change {', '.join(n for n, _ in raising)}"
        )

    def describe_minimum(self) -> str:
        """``at least 75, or 299 with aux_logits=True``: the minimum and when it is higher."""
        text = f"at least {self.minimum}"
        for name, value, m in self.minimum_when:
            text += f", or {m} with {name}={value!r}"
        return text


@dataclass(frozen=True)
class Preset:
    """A classic architecture: how to build it and what to know about it."""

    name: str
    display_name: str
    authors: str
    year: int
    paper: str
    description: str
    build: Callable[..., Graph]
    input_shape: tuple[int, ...]
    classes: int = 1000
    options: tuple[PresetOption, ...] = ()
    deviations: str = ""
    family: str = ""
    reference: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    # the data set the preset is meant for, as ``data.dataset`` names it: "digits" or "shapes"
    # for the small networks (the project's training settings start from it), "imagefolder"
    # for the ImageNet classics (a folder of the person's own images)
    dataset: str = "imagefolder"

    def option(self, name: str) -> PresetOption:
        """The option called ``name``."""
        for option in self.options:
            if option.name == name:
                return option
        raise UnknownNameError(
            f"option of preset {self.name}", name, [o.name for o in self.options]
        )

    def defaults(self) -> dict[str, Any]:
        """Every option at its default."""
        return {o.name: o.default for o in self.options}

    def values(self, **options: Any) -> dict[str, Any]:
        """Every option's value (``options`` over the defaults), checked together: a minimum
        may depend on the other options (ParameterError names the minimum for them)."""
        values = self.defaults()
        for key, value in options.items():
            self.option(key).check(value)
            values[key] = value
        for option in self.options:
            option.check(values[option.name], values)
        return values

    def create(self, **options: Any) -> Graph:
        """Build a fresh graph of this architecture (each call returns a new, independent graph)."""
        return self.build(**self.values(**options))


class PresetRegistry:
    """Presets by name; duplicates raise, unknown names suggest the closest."""

    def __init__(self) -> None:
        self._presets: dict[str, Preset] = {}

    def register(self, preset: Preset) -> Preset:
        """Add a preset; a name already taken raises DuplicateNameError."""
        if preset.name in self._presets:
            raise DuplicateNameError(f"preset {preset.name!r} is registered twice")
        self._presets[preset.name] = preset
        return preset

    def get(self, name: str) -> Preset:
        """The preset called ``name``."""
        try:
            return self._presets[name]
        except KeyError:
            raise UnknownNameError("preset", name, self._presets) from None

    def __iter__(self) -> Iterator[Preset]:
        return iter(self._presets.values())

    def __len__(self) -> int:
        return len(self._presets)

    def __contains__(self, name: object) -> bool:
        return name in self._presets
