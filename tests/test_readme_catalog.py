"""The README and docs/blocks.md stay in step with the catalog specs and the file format."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from engine import CATALOG, infer, project_from_data
from engine.catalog_doc import END, START, catalog_table, main, outdated, readme_with_table

ROOT = Path(__file__).resolve().parents[1]


def test_generated_catalog_is_up_to_date() -> None:
    stale = outdated(ROOT)
    assert not stale, f"out of date: {sorted(map(str, stale))}; run `make docs`"


def test_table_lists_every_block_type_with_its_parameters() -> None:
    table = catalog_table()
    for spec in CATALOG:
        row = next(line for line in table.splitlines() if line.startswith(f"| `{spec.type_id}` |"))
        assert spec.display_name in row and spec.category in row
        for param in spec.params:
            assert f"`{param.name}` = " in row
    assert "`p` = 0.5: Probability of zeroing" in table
    assert "`mode` = 'nearest' ('nearest' / 'bilinear')" in table


def test_drift_is_detected_and_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "blocks.md").write_text("# stale\n", encoding="utf-8")
    readme = f"# X\n\n## Block catalog\n\n{START}\n| old |\n{END}\n\nafter\n"
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    assert set(outdated(tmp_path)) == {tmp_path / "README.md", tmp_path / "docs" / "blocks.md"}
    fixed = readme_with_table(readme)
    assert fixed.endswith(f"{END}\n\nafter\n") and "| old |" not in fixed
    (tmp_path / "README.md").write_text(fixed, encoding="utf-8")
    assert set(outdated(tmp_path)) == {tmp_path / "docs" / "blocks.md"}
    with pytest.raises(ValueError, match="no <!-- catalog:start -->"):
        readme_with_table("# no markers\n")


def test_cli_check_and_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    monkeypatch.setattr("engine.catalog_doc.ROOT", tmp_path)
    assert main(["--check"]) == 1  # docs/blocks.md is missing there
    assert main(["--write"]) == 0
    assert main(["--check"]) == 0
    assert (tmp_path / "docs" / "blocks.md").read_text(encoding="utf-8").startswith("# Block")


def test_readme_documents_the_project_format() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Project files", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"```json\n(.*?)```", section, re.S)
    assert example is not None
    project = project_from_data(json.loads(example.group(1)))
    assert infer(project.graph).nodes["stem.conv1"].output == (6, 28, 28)
    for field in ("format", "version", "graph.nodes[]", "graph.edges[]", "layout", "training"):
        assert f"`{field}`" in section
