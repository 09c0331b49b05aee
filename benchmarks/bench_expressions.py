"""Expression cost against jsonata-js, on a corpus-like set (``data/expressions.json``).

* cold: compile (normalise, allow-list scan, engine parse, function registration; the cache
  bypassed) and evaluate, per expression;
* cached: evaluate an expression compiled before (``compile_expression`` answers from its cache);
* null results: an expression whose result is ``null`` (or undefined), on a small and a large
  payload, so that a cost growing with the context shows as a ratio above 1.

jsonata-js runs the same normalised expressions, with the five workflow functions registered, on
the same context (Node, ``benchmarks/node``). Run: ``.venv/bin/python -m benchmarks expressions``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from algaflow.expressions import ExpressionError, compile_expression
from benchmarks.node import run_peer

ROUNDS = 7
DATA = json.loads((Path(__file__).parent / "data" / "expressions.json").read_text("utf-8"))
# Null and undefined results: reading one field beside the items (the cost must not grow with
# them), and filtering every item (the cost grows for both engines alike).
NULL_SOURCES = {
    "null field": "vars.assignee",
    "undefined field": "vars.missing",
    "null filter": "coalesce(payload.items[price > 100000].name)",
    "undefined filter": "payload.items[price > 100000].name",
}
SIZES = (10, 1000)


def _median_us(fn: Callable[[int], Any], calls: int) -> float:
    """Median over ROUNDS batches of the per-call time, in microseconds."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for i in range(calls):
            fn(i)
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def _payload(items: int) -> dict[str, Any]:
    rows = [
        {"sku": f"S-{i}", "name": f"item {i}", "price": i % 500, "qty": 1} for i in range(items)
    ]
    return {"payload": {"items": rows}, "vars": {"assignee": None}, "meta": {}}


def _evaluate_any(source: str, context: dict[str, Any]) -> None:
    try:
        compile_expression(source).evaluate(context)
    except ExpressionError as exc:
        assert exc.code == "EXPRESSION_UNDEFINED_RESULT", exc


def main() -> None:
    sources: list[str] = DATA["expressions"]
    context: dict[str, Any] = DATA["context"]
    n = len(sources)
    compiled = [compile_expression(source) for source in sources]
    for expression in compiled:
        expression.evaluate(context)  # fail loudly if an example is broken
    cold_compile = compile_expression.__wrapped__  # the uncached function
    for source in sources:  # the same warm-up as the peer's
        cold_compile(source).evaluate(context)
    ours = {
        "cold": _median_us(lambda i: cold_compile(sources[i]).evaluate(context), n),
        "cached": _median_us(lambda i: compile_expression(sources[i % n]).evaluate(context), 5 * n),
    }
    null_cases = []
    for label, source in NULL_SOURCES.items():
        for size in SIZES:
            case = f"{label}, {size} items"
            payload = _payload(size)
            ours[case] = _median_us(lambda _i, s=source, p=payload: _evaluate_any(s, p), 200)
            normalized = compile_expression(source).normalized
            null_cases.append({"label": case, "source": normalized, "context": payload})
    peer = run_peer(
        "expressions.mjs",
        stdin={
            "expressions": [expression.normalized for expression in compiled],
            "context": context,
            "rounds": ROUNDS,
            "nullCases": null_cases,
        },
    )
    theirs = (
        {} if peer is None else {"cold": peer["cold"], "cached": peer["cached"], **peer["nulls"]}
    )
    print(f"{n} expressions; microseconds per evaluation, medians of {ROUNDS} rounds")
    print(f"{'':32}{'algaflow':>10}{'jsonata-js':>12}{'ratio':>8}")
    for case, value in ours.items():
        js = theirs.get(case)
        tail = f"{js:>12.2f}{value / js:>7.2f}x" if js else ""
        print(f"{case:32}{value:>10.2f}{tail}")
    for label in NULL_SOURCES:
        small, large = (ours[f"{label}, {size} items"] for size in SIZES)
        print(f"{label}: {SIZES[1]} / {SIZES[0]} items {large / small:.2f}x (algaflow)")


if __name__ == "__main__":
    main()
