"""The checks that need no database: ``check_bundle`` and the unstorable-value scan."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.bundle.bundle_factory import bundle, definition, make_registry, workflow

from algaflow.bundle.errors import BundleError
from algaflow.bundle.importer import check_bundle
from algaflow.registry import default_registry
from algaflow.store.types import unstorable_paths

_TRICKY_TEXT = st.text(st.sampled_from(["a", "\\", "u", "0", "\x00", "\ud800", "\udc00", "é"]))
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_TEXT, inner, max_size=3),
    max_leaves=10,
)


def _naive(value: Any) -> bool:
    """Whether anything in ``value`` is a NUL, a surrogate or a non-finite number."""
    if isinstance(value, dict):
        return any(_naive(k) or _naive(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_naive, value))
    if isinstance(value, str):
        return any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in value)
    return isinstance(value, float) and not math.isfinite(value)


@settings(max_examples=300)
@given(_VALUES)
def test_fast_scan_finds_exactly_what_a_walk_finds(value):
    assert bool(list(unstorable_paths(value))) == _naive(value)


def test_pointers_name_each_bad_value():
    value = {"a": ["ok", "x\x00"], "b/c": {"d": float("nan")}, "e~": "\ud800"}
    assert sorted(p for p, _ in unstorable_paths(value)) == ["/a/1", "/b~1c/d", "/e~0"]


def test_check_bundle_needs_no_database_and_knows_the_registry():
    good = bundle(workflow("a.one", definition()))
    check_bundle(good, registry=make_registry())
    with pytest.raises(BundleError) as caught:
        check_bundle(good, registry=default_registry())  # no test.echo, no TestPayload schema
    assert caught.value.code == "MISSING_DEPENDENCIES"
