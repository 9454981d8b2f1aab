"""The block catalog as Markdown, generated from the specs so that the documentation cannot drift.

``python -m engine.catalog_doc --write`` rewrites ``docs/blocks.md`` and the README's table
between ``<!-- catalog:start -->`` and ``<!-- catalog:end -->``; ``--check`` exits 1 when either
is out of date (``make test`` runs the same check as a test).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.atomic_files import write_atomic
from engine.catalog import CATALOG, CATEGORY_ORDER, BlockSpec
from engine.params import ParamSpec

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "×".join(map(str, value))
    if isinstance(value, str):
        return repr(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _param(param: ParamSpec) -> str:
    extra = ""
    if param.choices:
        extra = f" ({' / '.join(_value(c) for c in param.choices)})"
    required = ", required" if param.required else ""
    return f"`{param.name}` = {_value(param.default)}{extra}{required}: {param.help}"


def _ordered() -> list[BlockSpec]:
    rank = {name: i for i, name in enumerate(CATEGORY_ORDER)}
    specs = list(CATALOG)
    return sorted(specs, key=lambda s: (rank.get(s.category, len(rank)), specs.index(s)))


def catalog_table() -> str:
    """One Markdown table row per block type: id, name, category, parameters, description."""
    lines = [
        "| Type id | Name | Category | Parameters (default: help) | Description |",
        "|---|---|---|---|---|",
    ]
    for spec in _ordered():
        params = "<br>".join(_cell(_param(p)) for p in spec.params) or "—"
        lines.append(
            f"| `{spec.type_id}` | {spec.display_name} | {spec.category} | {params} | "
            f"{_cell(spec.description)} |"
        )
    return "\n".join(lines) + "\n"


def blocks_page() -> str:
    """The whole of docs/blocks.md."""
    return (
        "# Block catalog\n\n"
        "Generated from the block specs in `engine/catalog/` by "
        "`python -m engine.catalog_doc --write`; do not edit by hand. Shapes are per sample "
        "(C×H×W or a number of features); sizes written `k` or `kh×kw`.\n\n"
        f"{len(CATALOG)} block types.\n\n" + catalog_table()
    )


def readme_with_table(readme: str) -> str:
    """``readme`` with the table between the catalog markers replaced by the current one."""
    if START not in readme or END not in readme:
        raise ValueError(f"README.md has no {START} … {END} markers for the block catalog")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{catalog_table()}{END}{tail}"


def outdated(root: Path | None = None) -> dict[Path, str]:
    """Files whose catalog text differs from the specs, with the text they should hold."""
    root = root or ROOT
    wanted = {root / "docs" / "blocks.md": blocks_page()}
    readme = root / "README.md"
    wanted[readme] = readme_with_table(readme.read_text(encoding="utf-8"))
    return {
        path: text
        for path, text in wanted.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``--write`` updates the files; ``--check`` exits 1 when they are out of date."""
    parser = argparse.ArgumentParser(prog="python -m engine.catalog_doc", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite docs/blocks.md and README")
    mode.add_argument("--check", action="store_true", help="exit 1 when they are out of date")
    args = parser.parse_args(argv)
    try:
        stale = outdated()
    except ValueError as error:
        print(f"catalog_doc: {error}", file=sys.stderr)
        return 2
    for path, text in stale.items():
        if args.write:
            write_atomic(path, text)
            print(f"wrote {path.relative_to(ROOT)}")
        else:
            print(f"{path.relative_to(ROOT)} is out of date: run `make docs`", file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
