"""The one-pass schema check never passes a bundle that the listing validator would refuse."""

from __future__ import annotations

import copy
from typing import Any

from benchmarks.bundle_gen import generate_bundle
from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.bundle.format import _surely_valid, _validator, collect_schema_errors

BASE = generate_bundle(n_workflows=2, steps=3, versions=1, seed=7)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(
        ["", "a.b", "A", "ab\n", "x-1", "2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z"]
    ),
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*at, index))
    return found


PATHS = _paths(BASE)[1:]


def _mutate(path: tuple[Any, ...], action: str, new: Any) -> Any:
    bundle = copy.deepcopy(BASE)
    parent = bundle
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[f"extra{len(parent)}"] = new
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    else:
        parent[last] = new
    return bundle


@settings(max_examples=500)
@given(st.sampled_from(PATHS), st.sampled_from(["replace", "delete", "add", "duplicate"]), values)
def test_fast_valid_means_valid(path: tuple[Any, ...], action: str, new: Any) -> None:
    bundle = _mutate(path, action, new)
    python_valid = next(_validator().iter_errors(bundle), None) is None
    if _surely_valid(bundle):
        assert python_valid
    assert bool(collect_schema_errors(bundle)) is not python_valid


def test_a_valid_bundle_is_cleared_by_the_fast_check() -> None:
    assert _surely_valid(BASE)
    assert not collect_schema_errors(BASE)
