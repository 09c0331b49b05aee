"""Canonical JSON encoding and parsing of a 1,000-workflow bundle, against Node.

The peers: Alga's own way to the same bytes (sort the keys, ``JSON.stringify(v, null, 2)``) and
``JSON.parse`` of the same text, in Node (``benchmarks/node``), whose canonical bytes are checked
to be ours (sha256). Run: ``.venv/bin/python -m benchmarks canonical``.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from algaflow.bundle.canonical import dumps_canonical_bytes, loads_json
from algaflow.bundle.format import validate_bundle
from benchmarks.bundle_gen import generate_bundle
from benchmarks.node import run_peer
from benchmarks.timing import median_seconds

RUNS = 5


def main() -> None:
    bundle = generate_bundle(n_workflows=1000, steps=25, versions=3, seed=0)
    data = dumps_canonical_bytes(bundle)
    print(f"bundle: 1000 workflows x (draft + 3 versions) x 25 steps, {len(data) / 1e6:.1f} MB")
    encode = median_seconds(lambda: dumps_canonical_bytes(bundle), RUNS)
    parse = median_seconds(lambda: loads_json(data), RUNS)
    check = median_seconds(lambda: validate_bundle(bundle), RUNS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.json"
        path.write_bytes(data)
        peer = run_peer("canonical.mjs", str(path), str(RUNS))
    print(f"{'':34}{'algaflow ms':>12}{'Node ms':>10}{'ratio':>8}")
    rows = [
        ("canonical encode", encode, "encode"),
        ("parse (loads_json / JSON.parse)", parse, "parse"),
    ]
    for label, ours, key in rows:
        tail = f"{peer[key]:>10.1f}{ours * 1000 / peer[key]:>7.2f}x" if peer else ""
        print(f"{label:34}{ours * 1000:>12.1f}{tail}")
    if peer:
        same = peer["sha256"] == hashlib.sha256(data).hexdigest()
        print(f"canonical bytes identical to Node's: {'yes' if same else 'NO'}")
        assert same, "canonical bytes differ from Node's"
    print(f"validate_bundle (header+schema+dup keys) {check * 1000:.1f} ms")


if __name__ == "__main__":
    main()
