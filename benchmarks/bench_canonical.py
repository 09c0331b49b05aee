"""Canonical JSON encoding speed on a 1,000-workflow bundle, against ``json.dumps``.

``json.dumps(sort_keys=True, indent=2)`` is the obvious but wrong alternative (Python key order and
number layout); it is the speed bar. Run: ``.venv/bin/python -m benchmarks.bench_canonical``.
"""

from __future__ import annotations

import json

from algaflow.bundle.canonical import dumps_canonical, loads_json
from algaflow.bundle.format import validate_bundle
from benchmarks.bundle_gen import generate_bundle
from benchmarks.timing import median_seconds

RUNS = 5


def main() -> None:
    bundle = generate_bundle(n_workflows=1000, steps=25, versions=3, seed=0)
    text = dumps_canonical(bundle)
    size = len(text.encode()) / 1e6
    print(f"bundle: 1000 workflows x (draft + 3 versions) x 25 steps, {size:.1f} MB canonical")
    ours = median_seconds(lambda: dumps_canonical(bundle))
    stdlib = median_seconds(
        lambda: json.dumps(bundle, sort_keys=True, indent=2, ensure_ascii=False)
    )
    print(f"dumps_canonical                          median {ours * 1000:8.1f} ms")
    print(f"json.dumps(sort_keys, indent=2)          median {stdlib * 1000:8.1f} ms")
    print(f"ratio canonical / json.dumps             {ours / stdlib:8.2f}x")
    parse = median_seconds(lambda: loads_json(text))
    parse_stdlib = median_seconds(lambda: json.loads(text))
    print(f"loads_json                               median {parse * 1000:8.1f} ms")
    print(f"json.loads                               median {parse_stdlib * 1000:8.1f} ms")
    check = median_seconds(lambda: validate_bundle(bundle))
    print(f"validate_bundle (header+schema+dup keys) median {check * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
