"""Run every benchmark module (or those named on the command line: `python -m benchmarks inference`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main() -> None:
    wanted = set(sys.argv[1:])
    folder = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        topic = info.name.removeprefix("bench_")
        if wanted and topic not in wanted:
            continue
        print(f"\n=== {topic} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{info.name}").main()
        print(f"({time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
