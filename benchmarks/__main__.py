"""Run every benchmark (or the ones named): ``python -m benchmarks [expressions canonical ...]``.

Each prints its own figures and ratios, measured side by side in one run. The machine is shared
and noisy, so each benchmark reports medians over repeats.
"""

from __future__ import annotations

import importlib
import sys
import time

ALL = [
    "expressions",
    "definitions",
    "canonical",
    "bundle",
    "plan",
    "references",
    "runtime",
    "events",
    "cli",
    "backends",
]


def main(argv: list[str]) -> None:
    for name in argv or ALL:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"\n=== {name} " + "=" * (60 - len(name)), flush=True)
        started = time.perf_counter()
        module.main()
        print(f"--- {name}: {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
