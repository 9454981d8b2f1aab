"""Starting the designer: what the start-up path imports, the screenshot mode and bad arguments.

These run the real command in a subprocess (offscreen), as a user or CI would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_window_shows_without_torch_pyqtgraph_or_networkx(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from designer.app import create_application, create_window\n"
        "app = create_application()\n"
        "window = create_window(session=False)\n"
        "window.show(); app.processEvents()\n"
        "print(len(window.document.graph), window.isVisible(),"
        " sorted(m for m in ('torch', 'pyqtgraph', 'networkx') if m in sys.modules))\n"
        "window.close()\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "14 True []"


def test_screenshot_command_writes_the_window(tmp_path: Path) -> None:
    target = tmp_path / "shots" / "lenet.png"
    result = run_python(
        "", tmp_path, "-m", "designer", "--preset", "lenet5", "--screenshot", str(target)
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(target))
    assert (image.width(), image.height()) == (1600, 1100)
    assert not list((tmp_path / "data").glob("**/autosave-*"))  # no session state written
    assert not (tmp_path / "config").exists() or not list((tmp_path / "config").rglob("*.conf"))


def test_unknown_preset_is_a_clear_error(tmp_path: Path) -> None:
    result = run_python(
        "", tmp_path, "-m", "designer", "--preset", "lenet", "--screenshot", str(tmp_path / "x.png")
    )
    assert result.returncode == 2
    assert "lenet" in result.stderr and "lenet5" in result.stderr  # suggests the closest name
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content", [None, '{"format": "cnn-designer-project", "graph": null}'])
def test_a_file_that_cannot_be_opened_in_a_screenshot_run_is_an_error_not_a_dialog(
    tmp_path: Path, content: str | None
) -> None:
    """A screenshot run has nobody to close a dialog: it used to wait for one forever."""
    project = tmp_path / "bad.cnnd"
    if content is not None:
        project.write_text(content)
    target = tmp_path / "x.png"
    result = run_python(
        "", tmp_path, "-m", "designer", "open", str(project), "--screenshot", str(target)
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"cnn-designer: error: {project}")
    assert "Traceback" not in result.stderr and not target.exists()


def test_bare_command_opens_the_window_without_building_the_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`cnn-designer` alone goes straight to the window: the six subcommands' parsers would
    cost the start-up about 10 ms."""
    import designer.app
    import designer.cli as cli

    opened: list[bool] = []
    monkeypatch.setattr(designer.app, "run_app", lambda: opened.append(True) or 0)
    monkeypatch.setattr(cli, "build_parser", lambda: pytest.fail("the parser was built"))
    assert cli.main([]) == 0 and opened == [True]
