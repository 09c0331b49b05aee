"""The orjson fast path gives the exact encoder's bytes, or nothing (the exact path then runs)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from benchmarks.bundle_gen import generate_bundle
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.bundle.test_bundle_canonical import json_values, keys, numbers

from algaflow.bundle import fastjson
from algaflow.bundle.canonical import _dumps_exact, dumps_canonical, dumps_canonical_bytes

# Floats of every magnitude, where orjson and Number::toString part ways (1e16, 1e-6, 1.0 ...).
magnitudes = st.builds(
    lambda mantissa, exponent: mantissa * 10.0**exponent,
    st.floats(-10, 10, allow_nan=False),
    st.integers(-30, 30),
)
ascii_keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6)
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | magnitudes | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(ascii_keys | keys, inner, max_size=5)
    ),
    max_leaves=30,
)


def _exact_bytes(value: Any) -> bytes:
    return _dumps_exact(value).encode("utf-8")


@settings(max_examples=400)
@given(st.one_of(json_values, plain_values, st.lists(numbers | magnitudes, max_size=8)))
def test_fast_bytes_are_the_exact_bytes_or_nothing(value: Any) -> None:
    fast = fastjson.dumps(value)
    assert fast is None or fast == _exact_bytes(value)
    assert dumps_canonical_bytes(value) == _exact_bytes(value)
    assert dumps_canonical(value) == _dumps_exact(value)


@pytest.mark.parametrize(
    "value",
    [
        {"n": 1.0},  # orjson: 1.0
        {"n": [-0.0]},
        {"n": 1e16},  # orjson: 1e+16
        {"n": 2.5e-6},  # orjson: 2.5e-6
        {"n": 2**53 + 1},  # past 2**53: rounded to a double in JS
        {"n": 2**70},  # past 64 bits: orjson refuses
        {"10": 1, "9": 2},  # array-index keys come first, in numeric order
        {"__proto__": 1, "a": 2},  # dropped
        {"\uff21": 1, "\U0001f600": 2},  # UTF-16 order differs from code-point order
        {"s": "\ud800"},  # a lone surrogate
        {1: "a"},  # not JSON: the exact path refuses it
    ],
)
def test_every_difference_takes_the_exact_path(value: Any) -> None:
    assert fastjson.dumps(value) is None
    if 1 not in value:
        assert dumps_canonical_bytes(value) == _exact_bytes(value)


def test_non_finite_numbers_print_null_both_ways() -> None:
    value = [math.nan, math.inf, -math.inf]
    assert fastjson.dumps(value) == _exact_bytes(value) == b"[\n  null,\n  null,\n  null\n]\n"


def test_a_real_bundle_takes_the_fast_path() -> None:
    """Not vacuous: ids, non-ASCII text, fractions, nesting as export writes them."""
    bundle = generate_bundle(n_workflows=5, steps=8, versions=2, seed=3)
    fast = fastjson.dumps(bundle)
    assert fast is not None
    assert fast == _exact_bytes(bundle)
