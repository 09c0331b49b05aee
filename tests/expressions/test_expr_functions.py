"""The five workflow functions (reference §2.4), called through the engine as authors call them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.expressions import (
    ALLOWED_FUNCTIONS,
    ExpressionError,
    compile_expression,
    evaluation_time,
)
from algaflow.expressions.functions import WORKFLOW_FUNCTIONS, append, length, to_string
from algaflow.kernel import clock

DATA = {
    "payload": {
        "nothing": None,
        "arr": [1, 2, 3],
        "nested": [1, [2, [3]], None],
        "obj": {"a": 1},
        "astral": "\U0001f600ab",
        "float": 7.5,
        "whole": 5.0,
        "big": 1e21,
        "flag": True,
    }
}


def run(source: str) -> object:
    return compile_expression(source).evaluate(DATA)


def test_the_allow_list_is_exactly_five() -> None:
    assert frozenset({"nowIso", "coalesce", "len", "toString", "append"}) == ALLOWED_FUNCTIONS
    assert set(WORKFLOW_FUNCTIONS) == ALLOWED_FUNCTIONS


def test_now_iso_is_the_evaluation_time_not_the_clock() -> None:
    moment = datetime(2026, 1, 25, 12, 0, 0, 123456, tzinfo=UTC)
    other = datetime(2031, 7, 4, 9, 0, tzinfo=UTC)
    with clock.frozen(now=lambda: other):  # the clock is never read
        assert compile_expression("nowIso()").evaluate(DATA, now=moment) == (
            "2026-01-25T12:00:00.123Z"
        )
        assert compile_expression("$nowIso()").evaluate(DATA, now=moment) == (
            "2026-01-25T12:00:00.123Z"
        )


def test_now_iso_takes_an_enclosing_evaluation_time() -> None:
    moment = datetime(2026, 1, 25, 12, 0, tzinfo=UTC)
    with evaluation_time(moment):
        assert run("$nowIso()") == "2026-01-25T12:00:00.000Z"
        later = datetime(2026, 1, 26, tzinfo=UTC)
        assert compile_expression("$nowIso()").evaluate(DATA, now=later) == (
            "2026-01-26T00:00:00.000Z"
        )


def test_now_iso_without_a_time_is_a_coded_error() -> None:
    with pytest.raises(ExpressionError) as caught:
        run("$nowIso()")
    assert caught.value.code == "EXPRESSION_TIME_UNSET"
    assert run("$toString(1)") == "1"  # expressions that do not ask for the time need none


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("coalesce(payload.missing, payload.nothing, 0, 1)", 0),
        ("coalesce(payload.missing, false)", False),
        ("coalesce(payload.missing, '')", ""),
        ("coalesce(payload.arr, 1)", [1, 2, 3]),
        # nothing usable: JSON null, not undefined (which would be an error)
        ("coalesce(payload.missing, payload.nothing)", None),
        ("coalesce()", None),
        ("[coalesce()]", [None]),
        ("{'a': coalesce()}", {"a": None}),
        ("coalesce() = null", True),
    ],
)
def test_coalesce(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("len('abc')", 3),
        ("len(payload.astral)", 4),  # UTF-16 code units: the emoji counts twice
        ("len('')", 0),
        ("len(payload.arr)", 3),
        ("len([])", 0),
        ("len(payload.obj)", 0),
        ("len(payload.nothing)", 0),
        ("len(payload.missing)", 0),
        ("len(42)", 0),
        ("len(true)", 0),
        ("len()", 0),
        ("payload.arr ~> $len", 3),
    ],
)
def test_len(source: str, expected: int) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("toString(payload.nothing)", ""),
        ("toString(payload.missing)", ""),
        ("toString()", ""),
        ("toString(7)", "7"),
        ("toString(payload.float)", "7.5"),
        ("toString(payload.whole)", "5"),
        ("toString(payload.big)", "1e+21"),
        ("toString(1e21)", "1e+21"),
        ("toString(1e20)", "100000000000000000000"),
        ("toString(0.1 + 0.2)", "0.30000000000000004"),
        ("toString(0.0000001)", "1e-7"),
        ("toString(-0)", "0"),
        ("toString(payload.flag)", "true"),
        ("toString(false)", "false"),
        ("toString(payload.arr)", "1,2,3"),
        ("toString(payload.nested)", "1,2,3,"),
        ("toString(payload.obj)", "[object Object]"),
        ("toString('x')", "x"),
        ("payload.float ~> $toString()", "7.5"),
    ],
)
def test_to_string(source: str, expected: str) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("append(payload.arr, 4)", [1, 2, 3, 4]),
        ("append(payload.arr, [4, 5])", [1, 2, 3, 4, 5]),
        ("append(payload.arr, [[4]])", [1, 2, 3, [4]]),
        ("append(payload.nothing, 1)", [1]),
        ("append(payload.missing, [1, 2])", [1, 2]),
        ("append(5, 6)", [5, 6]),
        ("append(payload.obj, payload.obj)", [{"a": 1}, {"a": 1}]),
        ("append(payload.arr, null)", [1, 2, 3, None]),
        ("append([], [])", []),
        # replaces JSONata's own $append, which would give [1, 2, 3]
        ("$append([1, 2], [3])", [1, 2, 3]),
        ("append(1, 2)", [1, 2]),
        ("payload.arr ~> $append(9)", [1, 2, 3, 9]),
    ],
)
def test_append(source: str, expected: list[object]) -> None:
    assert run(source) == expected


def test_append_returns_a_new_list() -> None:
    base = [1]
    assert append(base, 2) == [1, 2]
    assert base == [1]


@settings(max_examples=50)
@given(st.text())
def test_len_counts_utf16_units(text: str) -> None:
    assert length(text) == len(text.encode("utf-16-le", "surrogatepass")) // 2


@settings(max_examples=50, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_to_string_through_the_engine_matches_js_number_text(value: float) -> None:
    result = compile_expression("toString(x)").evaluate({"x": value})
    assert result == to_string(value)
    assert float(result) == value or (value == 0 and result == "0")
