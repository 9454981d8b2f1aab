"""Run every benchmark module, or those named: ``python -m benchmarks [NAME ...] [--json]``.

A NAME is a ``bench_NAME.py`` module of this folder (``--list`` prints them). Without
``--json`` each module prints its human lines. With ``--json`` those lines go to stderr and
stdout receives exactly one JSON object::

    {"results": [{"name": ..., "value": ..., "unit": ..., "target": ..., "met": ...}, ...],
     "seconds": {"<benchmark>": <wall seconds>, ...},
     "errors": [{"benchmark": ..., "error": ...}, ...]}

(benchmarks/results.py says what each field of a result means). A benchmark that raises is
reported in ``errors`` (its traceback on stderr) and the others still run; the exit status is
then 1. An unknown NAME exits with status 2 and the list of names.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from benchmarks.results import BenchmarkSettingError, Measure


def available() -> list[str]:
    """The benchmarks' names: the bench_*.py modules of this folder, without the prefix."""
    folder = Path(__file__).parent
    names = (info.name for info in pkgutil.iter_modules([str(folder)]))
    return sorted(name.removeprefix("bench_") for name in names if name.startswith("bench_"))


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[TextIO]:
    """Send everything written to stdout, by Python or by a library or child process writing to
    file descriptor 1, to stderr; yield a stream on the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    real = os.fdopen(saved, "w", encoding="utf-8", closefd=True)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield real
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved, 1)
        real.close()


def _run(names: list[str]) -> tuple[list[Measure], dict[str, float], list[dict[str, str]]]:
    results: list[Measure] = []
    seconds: dict[str, float] = {}
    errors: list[dict[str, str]] = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            measures = importlib.import_module(f"benchmarks.bench_{name}").main()
        except BenchmarkSettingError as error:
            print(f"  {error}", flush=True)
            errors.append({"benchmark": name, "error": str(error)})
            measures = []
        except Exception as error:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            errors.append({"benchmark": name, "error": f"{type(error).__name__}: {error}"})
            measures = []
        seconds[name] = round(time.perf_counter() - started, 3)
        results.extend(measures or [])
        print(f"({seconds[name]:.1f} s)", flush=True)
    return results, seconds, errors


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmarks (all of them when no NAME is given).",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(names)}")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object of results on stdout"
    )
    parser.add_argument("--list", action="store_true", help="print the benchmarks' names")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(names))
        return 0
    unknown = [name for name in args.names if name not in names]
    if unknown:
        print(
            f"python -m benchmarks: unknown benchmark {', '.join(map(repr, unknown))}. "
            f"Available: {', '.join(names)}. Run `python -m benchmarks --list` to see them.",
            file=sys.stderr,
        )
        return 2
    wanted = list(dict.fromkeys(args.names)) or names
    if not args.json:
        _, _, errors = _run(wanted)
        return 1 if errors else 0
    with _stdout_to_stderr() as real_stdout:
        results, seconds, errors = _run(wanted)
        report: dict[str, Any] = {
            "results": [m.as_json() for m in results],
            "seconds": seconds,
            "errors": errors,
        }
        real_stdout.write(json.dumps(report, ensure_ascii=False, allow_nan=False) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
