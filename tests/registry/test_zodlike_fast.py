"""The one-pass validity check never passes a value that jsonschema would refuse."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.registry import default_registry
from algaflow.registry.zodlike import prepare, surely_valid, validator_for

REGISTRY = default_registry()
SCHEMAS = [node.config_schema for node in REGISTRY.nodes.list()] + [
    schema for action in REGISTRY.actions.list() for schema in (action.input_schema,)
]
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["2026-01-01T00:00:00Z", "a@b.co", "1.2.3.4", "::1", "x\n", "http://x", ""]),
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(max_size=6) | st.sampled_from(["state", "assign", "text"]), inner, max_size=4
        )
    ),
    max_leaves=10,
)


@settings(max_examples=400)
@given(st.sampled_from(SCHEMAS), values)
def test_surely_valid_means_valid(schema: dict[str, Any], value: Any) -> None:
    for candidate in (value, prepare(schema, value)):
        if surely_valid(schema, candidate):
            assert validator_for(schema).is_valid(candidate)


def test_valid_configs_are_cleared_by_the_fast_check() -> None:
    node = REGISTRY.nodes.get("state.set")
    assert node is not None
    assert surely_valid(node.config_schema, prepare(node.config_schema, {"state": "OPEN"}))
