"""The two step walks agree: ``iter_steps`` is ``walk_steps`` without the paths."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from algaflow.definitions.paths import BRANCHES, iter_steps, walk_steps

kinds = st.sampled_from([*BRANCHES, "action.call", "state.set", 3, None])
steps = st.recursive(
    st.builds(lambda k: {"type": k}, kinds) | st.sampled_from(["x", 1, None]),
    lambda inner: st.builds(
        lambda k, branches: {"type": k, **branches},
        kinds,
        st.dictionaries(
            st.sampled_from(["then", "else", "body", "try", "catch", "steps"]),
            st.lists(inner, max_size=3) | st.sampled_from(["not a list", None]),
            max_size=3,
        ),
    ),
    max_leaves=20,
)


@given(st.lists(steps, max_size=5) | steps)
def test_iter_steps_is_walk_steps_without_paths(value: Any) -> None:
    assert [id(s) for s in iter_steps(value)] == [id(s) for _, s in walk_steps(value)]
