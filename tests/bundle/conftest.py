"""Fixtures for the bundle tests: the test registry (built-ins plus ``test.echo`` and a test
payload schema, see ``bundle_factory``) and a long-lived ``node`` process that answers questions
the way Alga's JavaScript would.

One process serves a whole test session (a line of JSON in, a line of JSON out), so hypothesis can
compare many values per example without paying Node's start-up each time. Tests that use it
skip when ``node`` is absent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.bundle.bundle_factory import make_registry

from algaflow.bundle.canonical import loads_json
from algaflow.registry import Registry

# Our own JS restatement of the behaviour in reference §1 and §2 (no Alga code).
_SCRIPT = r"""
const readline = require("readline");
const collator = new Intl.Collator("en-US");
function canon(v) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(canon);
  const out = {};
  for (const k of Object.keys(v).sort()) out[k] = canon(v[k]);
  return out;
}
const ops = {
  canonical: (texts) => texts.map((t) => JSON.stringify(canon(JSON.parse(t)), null, 2) + "\n"),
  sort: (strings) => strings.slice().sort((a, b) => a.localeCompare(b)),
  compare: (pairs) => pairs.map(([a, b]) => Math.sign(collator.compare(a, b))),
  number: (strings) => strings.map((s) => String(Number(s))),
  regex: (pattern, strings) => strings.map((s) => new RegExp(pattern, "u").test(s)),
};
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const { op, args } = JSON.parse(line);
  let reply;
  try { reply = { ok: ops[op](...args) }; } catch (e) { reply = { error: String(e) }; }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
"""


class NodeOracle:
    def __init__(self, node: str) -> None:
        self._proc = subprocess.Popen(
            [node, "-e", _SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "LANG": "C"},
        )

    def ask(self, op: str, *args: Any) -> Any:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"op": op, "args": args}).encode("ascii") + b"\n")
        self._proc.stdin.flush()
        reply = json.loads(self._proc.stdout.readline().decode("utf-8"))
        if "error" in reply:
            raise RuntimeError(f"node {op} failed: {reply['error']}")
        return reply["ok"]

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)


def start_node_oracle() -> NodeOracle | None:
    """An oracle, or ``None`` when ``node`` is not on PATH."""
    node = shutil.which("node")
    return NodeOracle(node) if node else None


@pytest.fixture(scope="session")
def node_oracle() -> Iterator[NodeOracle]:
    oracle = start_node_oracle()
    if oracle is None:
        pytest.skip("node is not on PATH")
    yield oracle
    oracle.close()


@pytest.fixture
def corpus_bundles(corpus_dir: Path) -> list[tuple[Path, Any]]:
    """Every Alga sample bundle, parsed like an upload (read in place, never copied)."""
    return [(path, loads_json(path.read_bytes())) for path in sorted(corpus_dir.glob("*.json"))]


@pytest.fixture
def registry() -> Registry:
    return make_registry()
