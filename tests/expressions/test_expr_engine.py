"""Compile and evaluate: post-checks, limits, error mapping, cache and the engine boundary."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from algaflow.api.statuses import status_for
from algaflow.expressions import (
    DEFAULT_TIMEOUT_MS,
    MAX_OUTPUT_CHARS,
    CompiledExpression,
    ExpressionError,
    compile_expression,
)
from algaflow.expressions.engine import BLOCKED_BUILTINS, build_engine_expression
from algaflow.expressions.results import check_result, js_json_length

SRC = Path(__file__).resolve().parents[2] / "src" / "algaflow"
CONTEXT = {"payload": {"a": None, "n": 7, "s": "text", "items": [1, 2, 3]}, "vars": {}}


def evaluate(source: str, context: dict | None = None, **kwargs: int) -> object:
    return compile_expression(source).evaluate(CONTEXT if context is None else context, **kwargs)


def evaluation_error(source: str, context: dict | None = None, **kwargs: int) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        evaluate(source, context, **kwargs)
    assert caught.value.stage == "evaluate"
    return caught.value


def test_values_come_back_as_json() -> None:
    assert evaluate("payload.n * 2") == 14
    assert evaluate("payload.items[1]") == 2
    assert evaluate("{'a': payload.s, 'b': [true, false]}") == {"a": "text", "b": [True, False]}
    assert evaluate("payload.a") is None  # JSON null is a fine result
    assert evaluate("null") is None
    assert evaluate("payload.n == 7") is True  # normalised


@pytest.mark.parametrize("source", ["payload.missing", "vars.x.y", "payload.items[9]", "()"])
def test_undefined_result_is_an_error(source: str) -> None:
    error = evaluation_error(source)
    assert error.code == "EXPRESSION_UNDEFINED_RESULT"
    assert error.message == "Expression result is not JSON-serializable"


def test_undefined_members_are_dropped_not_errors() -> None:
    assert evaluate("{'a': payload.missing, 'b': 1}") == {"b": 1}
    assert evaluate("[1, payload.missing, 3]") == [1, 3]


def test_singleton_sequence_collapses_like_jsonata() -> None:
    context = {"vars": {"rows": [{"k": 1}, {"k": 2}]}}
    assert evaluate("vars.rows[k = 1]", context) == {"k": 1}
    assert evaluate("len(vars.rows[k = 1])", context) == 0  # an object, as in Alga
    assert evaluate("len([vars.rows[k = 1]])", context) == 1  # the guide's workaround


def test_size_limit_is_exact_in_utf16_units() -> None:
    at_limit = {"s": "x" * (MAX_OUTPUT_CHARS - 2)}  # two quotes make it exactly the limit
    assert evaluate("s", at_limit) == at_limit["s"]
    error = evaluation_error("s", {"s": "x" * (MAX_OUTPUT_CHARS - 1)})
    assert error.code == "EXPRESSION_RESULT_TOO_LARGE"
    assert error.message == "Expression result exceeded max output size"
    astral = "\U0001f600" * ((MAX_OUTPUT_CHARS - 2) // 2)  # each counts twice
    assert evaluate("s", {"s": astral}) == astral
    assert evaluation_error("s", {"s": astral + "x"}).code == "EXPRESSION_RESULT_TOO_LARGE"


def test_size_limit_stops_huge_results_inside_the_engine() -> None:
    started = time.perf_counter()
    error = evaluation_error("[1..99000]")  # 600 kB of JSON: over the engine's byte cap
    assert error.code == "EXPRESSION_RESULT_TOO_LARGE"
    array = evaluation_error("len([1..5000000])")  # over the engine's array length limit
    assert array.code == "EXPRESSION_LIMIT_EXCEEDED"
    assert array.details is not None and array.details["engineCode"] == "U1001"
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        ([1e20, 5.0, 1e-7, -0.0], "[100000000000000000000,5,1e-7,0]"),
        ({"a": "é\n", "b": [None, {}]}, '{"a":"é\\n","b":[null,{}]}'),
        ("\U0001f600\x01", '"\U0001f600\\u0001"'),
        (2**60, "1152921504606846976"),
        ([], "[]"),
    ],
)
def test_js_json_length(value: object, text: str) -> None:
    expected = len(text.encode("utf-16-le")) // 2
    assert js_json_length(value) == expected


def test_size_check_uses_javascript_number_text() -> None:
    # Python writes 1e+20 (5 chars), JavaScript 100000000000000000000 (21)
    value = [1e20] * (MAX_OUTPUT_CHARS // 22 + 1)
    with pytest.raises(ExpressionError) as caught:
        check_result(value)
    assert caught.value.code == "EXPRESSION_RESULT_TOO_LARGE"
    check_result([1e20] * (MAX_OUTPUT_CHARS // 22 - 1))


def test_runaway_expression_is_stopped() -> None:
    """Many cheap steps: the deterministic step budget stops it, whatever the clock says."""
    runaway = "[1..1000].([1..1000].([1..1000].($)))[0]"
    started = time.perf_counter()
    error = evaluation_error(runaway, timeout_ms=60_000)
    elapsed = time.perf_counter() - started
    assert error.code == "EXPRESSION_TIMEOUT"
    assert error.message == "Expression evaluation exceeded its budget of 100000 steps"
    assert error.details == {"limit": "steps", "maxSteps": 100_000, "engineCode": "U1006"}
    assert elapsed < 2  # pre-emptive: far less than the minutes the expression would need


def test_wall_clock_limit_stops_few_expensive_steps() -> None:
    """Each step builds a 99,999-item array: few steps, much work, so the clock must stop it."""
    started = time.perf_counter()
    error = evaluation_error("len([1..99999].[1..99999])", timeout_ms=50)
    assert error.code == "EXPRESSION_TIMEOUT"
    assert error.message == "Expression evaluation exceeded 50ms"
    assert error.details == {"limit": "time", "timeoutMs": 50, "engineCode": "D1012"}
    assert time.perf_counter() - started < 2


def test_default_timeout_applies() -> None:
    assert DEFAULT_TIMEOUT_MS == 250
    started = time.perf_counter()
    error = evaluation_error("len([1..99999].[1..99999])")
    assert error.message == "Expression evaluation exceeded 250ms"
    assert time.perf_counter() - started < 3


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        evaluate("1", timeout_ms=0)


def test_engine_errors_keep_their_code() -> None:
    error = evaluation_error("1/0")
    assert error.code == "EXPRESSION_EVALUATION_FAILED"
    assert error.details == {"engineCode": "D1001", "position": 2}
    assert evaluation_error("'a' + 1").details["engineCode"] == "T2001"  # type: ignore[index]


def test_a_context_the_engine_cannot_read() -> None:
    error = evaluation_error("when", {"when": dt.datetime(2026, 1, 1)})
    assert error.code == "EXPRESSION_EVALUATION_FAILED"


def test_syntax_error() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("payload.((")
    assert caught.value.code == "EXPRESSION_SYNTAX_ERROR"
    assert caught.value.stage == "compile"
    assert status_for(caught.value.code) == 400
    assert caught.value.details == {"engineCode": "S0203", "position": 10}
    with pytest.raises(ExpressionError) as triple:
        compile_expression("a === b")  # becomes "a == b", as in Alga
    assert triple.value.code == "EXPRESSION_SYNTAX_ERROR"


def test_compiled_expressions_are_cached_by_source() -> None:
    first = compile_expression("payload.n + 1")
    assert compile_expression("payload.n + 1") is first
    assert isinstance(first, CompiledExpression)
    assert first.source == "payload.n + 1"
    assert compile_expression("len(payload.s)").normalized == "$len(payload.s)"


@pytest.mark.parametrize("name", BLOCKED_BUILTINS)
def test_blocked_builtins_raise_at_run_time(name: str) -> None:
    """Behind the scanner: even an expression that skipped validation cannot reach them."""
    source = f"${name}('1 + 1')"
    unchecked = CompiledExpression(source, source, build_engine_expression(source))
    with pytest.raises(ExpressionError) as caught:
        unchecked.evaluate({})
    assert caught.value.code == "EXPRESSION_DISALLOWED_FUNCTION"
    assert caught.value.stage == "evaluate"
    assert caught.value.message == f"Expression uses disallowed function: {name}"


def test_the_engine_is_imported_only_by_the_adapter() -> None:
    importers = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if "import jlens" in path.read_text() or "from jlens" in path.read_text()
    }
    assert importers == {"expressions/engine.py"}


NULL_OR_UNDEFINED = [
    "payload.a",
    "null",
    "payload.missing",
    "payload.items[9]",
    "payload.items[$ > 5]",
    "()",
    "($x := null; $x)",
    "($x := payload.missing; $x)",
    "payload.a /* a trailing comment */",
    "/* a leading comment */ payload.missing",
    "payload.n > 1 ? null : 1",
    "payload.n > 1 ? payload.missing : 1",
    "coalesce(payload.a, payload.missing)",
    "toString(payload.missing) = '' ? payload.a : 0",
    "{'k': null}.k",
    "{'k': payload.missing}.k",
    "[payload.a][0]",
    "[payload.missing][0]",
    "payload.items.(null)[1]",
    "payload.items.(payload.missing)",
    "payload.items[] [$ > 5]",
    "append(payload.a, 1)[0] = 1 ? payload.a : 0",
    "len(payload.items[$ = 9]) = 0 ? payload.missing : 1",
]


@pytest.mark.parametrize("source", NULL_OR_UNDEFINED)
def test_null_and_undefined_are_told_apart_like_json_text(source: str) -> None:
    """The oracle: the engine's JSON-text result is ``"null"`` for null and None for undefined."""
    compiled = compile_expression(source)
    oracle = build_engine_expression(compiled.normalized).evaluate_json(json.dumps(CONTEXT))
    assert oracle in {None, "null"}, oracle
    if oracle is None:
        assert evaluation_error(source).code == "EXPRESSION_UNDEFINED_RESULT"
    else:
        assert evaluate(source) is None
