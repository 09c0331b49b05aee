"""The pure comparison under import plans: strict JSON equality and draft patches that, applied,
give exactly the new definition."""

from __future__ import annotations

import jsonpatch
from hypothesis import given
from hypothesis import strategies as st

from algaflow.bundle.plan import draft_patch, same_json

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, 1.0]), st.text(max_size=3)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text("ab/~", max_size=2), inner, max_size=4)
    ),
    max_leaves=20,
)
definitions = st.dictionaries(st.text("abc", max_size=2), values, max_size=5)


def test_a_boolean_never_equals_a_number():
    assert same_json({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]})
    assert not same_json({"a": [True]}, {"a": [1]})
    assert not same_json({"a": 0}, {"a": False})
    assert same_json(1, 1.0)  # one JSON number, as in JavaScript


def test_a_change_between_true_and_one_is_still_a_patch():
    patch = draft_patch({"a": True}, {"a": 1})
    assert patch and jsonpatch.apply_patch({"a": True}, patch) == {"a": 1}


@given(old=definitions, new=definitions)
def test_a_draft_patch_turns_the_old_definition_into_the_new_one(old, new):
    patch = draft_patch(old, new)
    assert (patch == []) == same_json(old, new)
    patched = jsonpatch.apply_patch(old, patch)
    assert same_json(patched, new)
