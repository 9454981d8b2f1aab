"""The experiments' background process: ``python -m designer.lessons.job SPEC.json``.

SPEC is {"out": runs folder, "args": [train options], "runs": [{"label", "project"}]}. Each
variant's project file is trained in turn by the command line's ``train`` (an ordinary run
folder in ``out``), then measured (``engine.lessons.measure``: gradient norms, first filters).
One line ``LESSON {"label", "run", "status", "message"}`` is printed per variant, as it ends,
for the window to follow; torch is loaded once for all of them. Exit status 0 when every
variant trained, 1 when one failed, 2 when the spec cannot be read.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

PREFIX = "LESSON "


def _run_dirs(root: Path) -> set[Path]:
    try:
        return {p for p in root.iterdir() if p.is_dir()}
    except OSError:
        return set()


def _report(**fields: Any) -> None:
    print(PREFIX + json.dumps(fields), flush=True)


def run_variant(label: str, project: str, out: Path, args: list[str]) -> bool:
    """Train and measure one variant; reports it; True when it trained."""
    from designer.cli import main as cli_main
    from engine.lessons.measure import measure_run

    before = _run_dirs(out)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = cli_main(["train", project, "--out", str(out), "--quiet", *args])
    made = sorted(_run_dirs(out) - before)
    run = str(made[-1]) if made else None
    if code != 0 or run is None:
        text = errors.getvalue().strip().splitlines()
        _report(label=label, run=run, status="failed", message=text[-1] if text else f"exit {code}")
        return False
    try:
        measure_run(run)
    except Exception as error:  # the run stands; only the extra measurement is missing
        _report(label=label, run=run, status="done", message=f"not measured: {error}")
        return True
    _report(label=label, run=run, status="done", message="")
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        (path,) = argv
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        out, args = Path(spec["out"]), [str(a) for a in spec["args"]]
        runs = [(str(r["label"]), str(r["project"])) for r in spec["runs"]]
    except (ValueError, OSError, KeyError, TypeError) as error:
        print(
            f"lesson job: cannot read the spec. Received: {argv!r} ({error}). Give one JSON file "
            'with "out", "args" and "runs".',
            file=sys.stderr,
        )
        return 2
    ok = True
    for label, project in runs:
        ok = run_variant(label, project, out, args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
