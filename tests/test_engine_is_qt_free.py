"""The engine and the presets never import Qt (or torch just to be imported)."""

from __future__ import annotations

import subprocess
import sys


def test_engine_and_presets_import_without_qt_or_torch() -> None:
    code = (
        "import sys, engine, engine.summary, engine.project, presets\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'designer', 'torch'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"engine imported: {out.stdout}"


def test_engine_sources_name_no_qt_module() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    offenders = []
    for folder in ("engine", "presets"):
        for path in (root / folder).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                stripped = line.strip()
                if stripped.startswith(("import ", "from ")) and any(
                    name in stripped.split()[1] for name in ("PySide6", "pyqtgraph", "designer")
                ):
                    offenders.append(f"{path.relative_to(root)}: {stripped}")
    assert offenders == []
