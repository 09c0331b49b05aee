"""Text, value, object and array transforms: the documented edge cases, with JS semantics."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.jsvalues import utf16_len
from algaflow.registry.errors import ActionRuntimeError

EMOJI = "😀"

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # truncate_text: strategies, UTF-16 lengths, ellipsis edge cases
    ("transform.truncate_text", {"text": "Hello world", "maxLength": 8}, {"text": "Hello..."}),
    (
        "transform.truncate_text",
        {"text": "Hello world", "maxLength": 8, "strategy": "start"},
        {"text": "...world"},
    ),
    (
        "transform.truncate_text",
        {"text": "abcdefghij", "maxLength": 8, "strategy": "middle"},
        {"text": "abc...ij"},
    ),
    (
        "transform.truncate_text",
        {"text": "abcdefghij", "maxLength": 7, "strategy": "middle"},
        {"text": "ab...ij"},
    ),
    ("transform.truncate_text", {"text": "short", "maxLength": 5}, {"text": "short"}),
    ("transform.truncate_text", {"text": "short", "maxLength": 0}, {"text": ""}),
    (
        "transform.truncate_text",
        {"text": "abcdef", "maxLength": 4, "ellipsis": ""},
        {"text": "abcd"},
    ),
    ("transform.truncate_text", {"text": "abcdef", "maxLength": 2}, {"text": ".."}),
    ("transform.truncate_text", {"text": "abcdef", "maxLength": 3}, {"text": "..."}),
    ("transform.truncate_text", {"text": "ab" + EMOJI, "maxLength": 4}, {"text": "ab" + EMOJI}),
    (
        "transform.truncate_text",
        {"text": "ab" + EMOJI + "c", "maxLength": 4, "ellipsis": "~"},
        {"text": "ab~"},
    ),  # the cut falls inside the emoji: its half is dropped
    (
        "transform.truncate_text",
        {"text": 12345.5, "maxLength": 4, "ellipsis": ""},
        {"text": "1234"},
    ),
    ("transform.truncate_text", {"maxLength": 4}, {"text": ""}),
    # concat / join: coerceText of every value
    (
        "transform.concat_text",
        {"values": ["a", 1, 2.5, True, None, [1, 2], {"k": 1}], "separator": "|"},
        {"text": "a|1|2.5|true||1,2|[object Object]"},
    ),
    ("transform.concat_text", {}, {"text": ""}),
    (
        "transform.join_text",
        {"items": [1e21, 0.1 + 0.2, None], "delimiter": ", "},
        {"text": "1e+21, 0.30000000000000004, "},
    ),
    # replace_text: literal split/join, or JS String.replace with a string pattern
    ("transform.replace_text", {"text": "a.b.c", "search": "."}, {"text": "abc"}),
    (
        "transform.replace_text",
        {"text": "a.b.c", "search": ".", "replacement": "$&$&"},
        {"text": "a$&$&b$&$&c"},
    ),
    (
        "transform.replace_text",
        {"text": "a.b.c", "search": ".", "replacement": "[$&|$`|$'|$$|$1]", "replaceAll": False},
        {"text": "a[.|a|b.c|$|$1]b.c"},
    ),
    ("transform.replace_text", {"text": "abc", "search": ""}, {"text": "abc"}),
    (
        "transform.replace_text",
        {"text": "abc", "search": "x", "replaceAll": False},
        {"text": "abc"},
    ),
    # split_text
    ("transform.split_text", {"text": "a,,b,", "delimiter": ","}, {"items": ["a", "", "b", ""]}),
    (
        "transform.split_text",
        {"text": "a,,b,", "delimiter": ",", "removeEmpty": True},
        {"items": ["a", "b"]},
    ),
    ("transform.split_text", {"text": "abc", "delimiter": ""}, {"items": ["a", "b", "c"]}),
    ("transform.split_text", {"delimiter": ","}, {"items": [""]}),
    ("transform.split_text", {"delimiter": ""}, {"items": []}),
    # case and trim
    ("transform.lowercase_text", {"text": "ÀBC İ"}, {"text": "àbc i̇"}),
    ("transform.uppercase_text", {"text": "straße"}, {"text": "STRASSE"}),
    ("transform.uppercase_text", {"text": None}, {"text": ""}),
    ("transform.trim_text", {"text": "\ufeff\u00a0 x \u2028\n"}, {"text": "x"}),
    ("transform.trim_text", {"text": "\x1cx\x85"}, {"text": "\x1cx\x85"}),  # not JS whitespace
    # coalesce_value
    (
        "transform.coalesce_value",
        {"candidates": [None, "  ", "", "x"]},
        {"value": "x", "matchedIndex": 3},
    ),
    (
        "transform.coalesce_value",
        {"candidates": [None, "  ", "x"], "treatEmptyStringAsMissing": False},
        {"value": "  ", "matchedIndex": 1},
    ),
    ("transform.coalesce_value", {"candidates": [None, "\ufeff"]}, {"matchedIndex": None}),
    ("transform.coalesce_value", {"candidates": [None, 0, False]}, {"value": 0, "matchedIndex": 1}),
    ("transform.coalesce_value", {}, {"matchedIndex": None}),
    # objects
    (
        "transform.build_object",
        {"fields": [{"key": "a", "value": 1}, {"key": "b"}, {"key": "a", "value": 2}]},
        {"object": {"a": 2}},
    ),
    (
        "transform.pick_fields",
        {"source": {"a": 1, "b": 2, "c": None}, "fields": ["c", "a", "z"]},
        {"object": {"c": None, "a": 1}},
    ),
    ("transform.pick_fields", {"source": None, "fields": ["a"]}, {"object": {}}),
    (
        "transform.rename_fields",
        {
            "source": {"a": 1, "b": 2, "c": 3},
            "renames": [
                {"from": "a", "to": "b"},
                {"from": "missing", "to": "x"},
                {"from": "c", "to": "c"},
            ],
        },
        {"object": {"b": 1, "c": 3}},
    ),
    (
        "transform.rename_fields",
        {"source": {"a": 1}, "renames": [{"from": "a", "to": "z"}, {"from": "z", "to": "a"}]},
        {"object": {"a": 1}},
    ),
    (
        "transform.append_array",
        {"items": [1, [2]], "values": [[3], 4]},
        {"items": [1, [2], [3], 4]},
    ),
    ("transform.append_array", {}, {"items": []}),
    ("transform.build_array", {"items": [None, {"a": 1}]}, {"items": [None, {"a": 1}]}),
]


@pytest.mark.parametrize(("action_id", "args", "expected"), CASES)
def test_transform_cases(invoke, action_id: str, args: dict[str, Any], expected: Any) -> None:
    assert invoke(action_id, args) == expected


def test_rename_keeps_existing_target_position(invoke) -> None:
    out = invoke(
        "transform.rename_fields",
        {"source": {"x": 1, "y": 2, "z": 3}, "renames": [{"from": "z", "to": "x"}]},
    )
    assert list(out["object"].items()) == [("x", 3), ("y", 2)]


@pytest.mark.parametrize(
    ("action_id", "args"),
    [
        ("transform.truncate_text", {"text": "x", "maxLength": -1}),
        ("transform.truncate_text", {"text": "x", "maxLength": 2, "strategy": "both"}),
        ("transform.truncate_text", {"text": "x", "maxLength": "3"}),  # no coercion
        ("transform.replace_text", {"text": "x"}),
        ("transform.split_text", {"text": "x", "delimiter": 1}),
        ("transform.concat_text", {"values": "abc"}),
        ("transform.build_object", {"fields": [{"key": ""}]}),
        ("transform.pick_fields", {"source": [1, 2], "fields": []}),
        ("transform.rename_fields", {"source": None}),
        ("transform.rename_fields", {"renames": [{"from": "a"}]}),
    ],
)
def test_input_schema_rejects(invoke, action_id: str, args: dict[str, Any]) -> None:
    with pytest.raises(AlgaflowError) as caught:
        invoke(action_id, args)
    assert caught.value.code == "ACTION_INPUT_INVALID"
    assert caught.value.details["issues"]


@given(
    st.text(),
    st.integers(min_value=0, max_value=40),
    st.sampled_from(["end", "start", "middle"]),
    st.sampled_from(["", ".", "...", "…"]),
)
def test_truncate_never_exceeds_max_length(
    text: str, max_length: int, strategy: str, ellipsis: str
) -> None:
    from algaflow.registry.transforms.text import truncate

    out = truncate(text, max_length, strategy, ellipsis)
    assert utf16_len(out) <= max_length
    if utf16_len(text) <= max_length:
        assert out == text


@given(st.text(), st.text(min_size=1, max_size=3))
def test_split_then_join_round_trips(text: str, delimiter: str) -> None:
    from algaflow.registry.transforms import text as text_module

    parts = text_module._split({"text": text, "delimiter": delimiter, "removeEmpty": False}, None)
    assert delimiter.join(parts["items"]) == text


def test_transform_failure_is_a_structured_action_error(invoke) -> None:
    with pytest.raises(ActionRuntimeError) as caught:
        invoke("transform.parse_json", {"source": "{nope"})
    assert (caught.value.category, caught.value.code) == ("ActionError", "INTERNAL_ERROR")
