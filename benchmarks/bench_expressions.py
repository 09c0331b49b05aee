"""Expression compile and evaluate cost for a few typical workflow expressions.

Cold compile = normalise + allow-list scan + engine parse + function registration (the LRU cache
bypassed); cached compile = a cache hit. Run: ``.venv/bin/python -m benchmarks.bench_expressions``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from algaflow.expressions import build_interpreter_context, compile_expression
from algaflow.expressions.engine import build_engine_expression
from algaflow.expressions.normalize import normalize_expression_source
from algaflow.expressions.scanner import find_violation, tokenize

REPEATS = 7

EXPRESSIONS = [
    "payload.ticketId",
    "toString(payload.amount) & ' ' & payload.currency",
    "len([payload.items[price > 10]])",
    "coalesce(vars.assignee, payload.owner, 'unassigned')",
    "payload.priority == 'high' ? append(vars.tags, 'urgent') : vars.tags",
]

CONTEXT = build_interpreter_context(
    payload={
        "ticketId": "T-1001",
        "amount": 1234.5,
        "currency": "EUR",
        "owner": "ada",
        "priority": "high",
        "items": [{"name": f"item{i}", "price": i * 3} for i in range(10)],
    },
    vars={"tags": ["billing"], "assignee": None},
    lexical=[],
    meta={"state": "open"},
    error=None,
    system={
        "runId": "run-1",
        "workflowId": "wf-1",
        "workflowVersion": 1,
        "tenantId": "tenant-1",
        "definitionHash": "0" * 64,
        "runtimeSemanticsVersion": "2026-04-08.temporal-native.v1",
    },
)


def _median_us(fn: Callable[[], Any], calls: int) -> float:
    """Median over REPEATS batches of the per-call time, in microseconds."""
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def main() -> None:
    cold_compile = compile_expression.__wrapped__  # the uncached function
    header = f"{'expression':56} {'scan':>7} {'engine':>7} {'cold':>7} {'cached':>7} {'eval':>7}"
    print(header + "   (microseconds per call, medians)")
    ratios = []
    for source in EXPRESSIONS:
        normalized = normalize_expression_source(source)
        compiled = compile_expression(source)
        compiled.evaluate(CONTEXT)  # fail loudly if an example is broken
        scan = _median_us(lambda n=normalized: find_violation(tokenize(n)), 2000)
        engine = _median_us(lambda n=normalized: build_engine_expression(n), 500)
        cold = _median_us(lambda s=source: cold_compile(s), 500)
        cached = _median_us(lambda s=source: compile_expression(s), 20000)
        evaluate = _median_us(lambda c=compiled: c.evaluate(CONTEXT), 5000)
        ratios.append(cached / cold)
        label = source if len(source) <= 56 else source[:53] + "..."
        print(f"{label:56} {scan:7.1f} {engine:7.1f} {cold:7.1f} {cached:7.2f} {evaluate:7.2f}")
    print(f"cached / cold compile: median ratio {statistics.median(ratios):.4f}")


if __name__ == "__main__":
    main()
