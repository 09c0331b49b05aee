"""Resource limits: hostile expressions fail fast with a coded error and never stall other threads.

Deterministic limits come first (engine steps, array and string caps, values handed to workflow
functions), so a replay fails the same way; the wall clock is the backstop for big single steps.
"""

from __future__ import annotations

import json
from typing import Any

import jlens
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fixtures.stall import measure_stall

from algaflow.expressions import ExpressionError, compile_expression
from algaflow.expressions.budget import MAX_HOST_VALUES
from algaflow.expressions.engine import MAX_STEPS
from algaflow.expressions.inputs import prune_to_reads

LIMIT_CODES = {"EXPRESSION_TIMEOUT", "EXPRESSION_LIMIT_EXCEEDED"}

HOSTILE = [
    "$len([1..999999].[1..999999])",  # the probe's expression: 10^12 items
    "$len([1..99999].[1..99999])",  # each step builds a whole array: the clock stops it
    '$len([1..99999].{"a": [1..99999]})',
    "[1..1000].([1..1000].([1..1000].($)))[0]",  # cheap steps: the step budget stops it
    "$len([1..25000].$toString([1..99999]))",  # slow Python work behind one engine step
    "$len([1..25000].$append([1..99999], 1))",
    "$len([1..999].($toString([1..99999]) & $toString([1..99999])))",
    "$len($toString([1..99999]) & $toString([1..99999]) & $toString([1..99999]))",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_expressions_fail_fast_without_stalling_other_threads(source: str) -> None:
    compiled = compile_expression(source)
    measured = measure_stall(lambda: compiled.evaluate({"payload": {}}), ExpressionError)
    elapsed, stall, outcome = measured.elapsed, measured.longest_gap, measured.outcome
    assert isinstance(outcome, ExpressionError), outcome
    assert outcome.code in LIMIT_CODES
    assert outcome.stage == "evaluate"
    assert elapsed < 2.5  # was 3.5-24 s for the probe's expression
    assert stall < 0.5  # the GIL is released while the engine works


def test_the_probe_expression_hits_the_array_cap_deterministically() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("$len([1..999999].[1..999999])").evaluate({}, timeout_ms=60_000)
    assert caught.value.code == "EXPRESSION_LIMIT_EXCEEDED"
    assert caught.value.details == {"engineCode": "U1001", "position": 9}
    assert "100000 items" in caught.value.message


def test_step_budget_does_not_depend_on_the_clock() -> None:
    """Replay-safe: the same expression fails the same way with any time limit."""
    source = "[1..100000].($ + 1)[$ > 5]"
    for timeout_ms in (1_000, 60_000):
        with pytest.raises(ExpressionError) as caught:
            compile_expression(source).evaluate({}, timeout_ms=timeout_ms)
        assert caught.value.code == "EXPRESSION_TIMEOUT"
        assert caught.value.details == {
            "limit": "steps",
            "maxSteps": MAX_STEPS,
            "engineCode": "U1006",
        }


def test_workflow_functions_have_a_value_budget() -> None:
    """Six calls handed 100,000 values each: over the 500,000 budget on the sixth, whatever the
    clock says."""
    with pytest.raises(ExpressionError) as caught:
        compile_expression("[1..6].$len([1..99999])").evaluate({}, timeout_ms=60_000)
    assert caught.value.code == "EXPRESSION_TIMEOUT"
    assert caught.value.details == {
        "limit": "functionValues",
        "maxFunctionValues": MAX_HOST_VALUES,
    }
    assert (
        compile_expression("[1..4].$len([1..99999])").evaluate({}, timeout_ms=60_000) == [99999] * 4
    )


def _big_payload() -> dict[str, Any]:
    """About 500 kB of JSON: the size of the largest event payload algaflow accepts."""
    items = [{"id": i, "status": "open" if i % 3 else "closed", "n": i} for i in range(10_000)]
    return {"payload": {"items": items, "title": "x" * 1000}, "vars": {"marker": "m"}}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("$len(payload.items)", 10_000),
        ("$len(payload.items[status = 'open'])", 6_666),
        ("$len(payload.items[n > 9990].id)", 9),
        ("$len($toString(payload.items.id))", None),
        ("$len($append(payload.items[n < 1000], payload.items[n < 10]))", 1_010),
        ("(vars.marker ? vars.marker : 'none') & ' ' & payload.title", "m " + "x" * 1000),
        ("payload.items[0].status", "closed"),
        ("$coalesce(payload.missing, vars.marker)", "m"),
    ],
)
def test_legitimate_expressions_on_a_large_payload_still_work(source: str, expected: Any) -> None:
    context = _big_payload()
    result = compile_expression(source).evaluate(context)
    if expected is None:
        assert isinstance(result, int) and result > 40_000
    else:
        assert result == expected


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["a", "b", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "items"]), inner, max_size=3)
    ),
    max_leaves=12,
)
_SOURCES = [
    "a",
    "a.b",
    "items[a = 1].b",
    "$keys($)",
    "*.a",
    "**.b",
    "a.(b & c)",
    "$count(items)",
    "[a, b]",
    "$",
    "{'x': a.c, 'y': $count(b)}",
    "items.$keys($)",
]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "items"]), _JSON), st.sampled_from(_SOURCES))
def test_pruning_to_reads_keeps_the_result(context: dict[str, Any], source: str) -> None:
    """What the engine converts (the context cut down to what it reads) gives the same result."""
    engine = jlens.Expression(source)
    read = engine.reads().get("input", True)
    pruned = prune_to_reads(context, read)
    assert engine.evaluate_json(json.dumps(pruned)) == engine.evaluate_json(json.dumps(context))


def test_pruning_keeps_only_the_fields_read_in_their_order() -> None:
    context = {"z": 1, "payload": {"b": [{"id": 1, "x": 2}, 3], "a": 1, "c": 2}, "vars": {}}
    read = {"payload": {"c": True, "b": {"id": True}}}
    assert prune_to_reads(context, read) == {"payload": {"b": [{"id": 1}, 3], "c": 2}}
    assert list(prune_to_reads(context, read)["payload"]) == ["b", "c"]
    assert prune_to_reads(context, True) is context
