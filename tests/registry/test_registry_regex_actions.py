"""Regex transforms: JavaScript RegExp syntax, flags, lastIndex, replacement tokens and limits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algaflow.registry.errors import ActionRuntimeError
from algaflow.registry.transforms.jsregex import compile_js, expand_replacement, iter_matches

EMOJI = "😀"


def _replace(invoke, text: Any, pattern: str, replacement: str, **extra: Any) -> dict[str, Any]:
    args = {"text": text, "pattern": pattern, "replacement": replacement, **extra}
    return invoke("transform.regex_replace", args)


@pytest.mark.parametrize(
    ("text", "pattern", "replacement", "extra", "expected"),
    [
        ("John Smith", r"(\w+)\s(\w+)", "$2, $1", {}, "Smith, John"),
        ("John Smith", r"(?<first>\w+)\s(?<last>\w+)", "$<last> $<first>", {}, "Smith John"),
        ("abc", "b", "[$&|$`|$'|$$]", {}, "a[b|a|c|$]c"),
        ("abc", "(b)", "$0 $2 $10 $<x>", {}, "a$0 $2 b0 $<x>c"),  # no named groups: $<x> literal
        ("abc", "(?<n>b)", "[$<missing>]", {}, "a[]c"),
        ("abc", "(?<n>b)", "[$<n", {}, "a[$<nc"),  # no closing '>': literal
        ("aaa", "a", "b", {"replaceAll": False}, "baa"),
        ("aaa", "a", "b", {"flags": "g", "replaceAll": False}, "baa"),
        ("aXbX", "x", "-", {"flags": "i"}, "a-b-"),
        ("abc", "x*", "-", {}, "-a-b-c-"),
        ("baaa", "a*", "-", {}, "-b--"),
        (12.5, r"\.", ",", {}, "12,5"),
        (None, "^", "x", {}, "x"),
        ("a1b22", r"\d+", "#", {}, "a#b#"),
        ("aab", "a", "-", {"flags": "y"}, "--b"),  # sticky: only contiguous matches from 0
        ("baa", "a", "-", {"flags": "y"}, "baa"),
    ],
)
def test_regex_replace(invoke, text, pattern, replacement, extra, expected) -> None:
    assert _replace(invoke, text, pattern, replacement, **extra)["text"] == expected


def test_regex_replace_counts(invoke) -> None:
    assert _replace(invoke, "a-a-a", "a", "b") == {"text": "b-b-b", "replacementCount": 3}
    assert _replace(invoke, "a-a-a", "a", "b", replaceAll=False)["replacementCount"] == 1
    assert _replace(invoke, "xyz", "a", "b", replaceAll=False) == {
        "text": "xyz",
        "replacementCount": 0,
    }


def test_regex_replace_match_limit(invoke) -> None:
    assert _replace(invoke, "a" * 1000, "a", "b")["replacementCount"] == 1000
    with pytest.raises(ActionRuntimeError, match="match count exceeded maximum 1000"):
        _replace(invoke, "a" * 1001, "a", "b")
    assert _replace(invoke, "a" * 1001, "a", "b", replaceAll=False)["replacementCount"] == 1


def test_regex_match_groups_and_utf16_index(invoke) -> None:
    out = invoke(
        "transform.regex_match",
        {"text": f"{EMOJI} id=42", "pattern": r"id=(?<num>\d+)(x)?"},
    )
    assert out == {
        "matched": True,
        "match": "id=42",
        "index": 3,  # the emoji counts as two UTF-16 units
        "groups": ["42", None],
        "namedGroups": {"num": "42"},
    }


def test_regex_match_no_match(invoke) -> None:
    none = {"matched": False, "match": None, "index": None, "groups": [], "namedGroups": {}}
    assert invoke("transform.regex_match", {"text": "abc", "pattern": "z"}) == none
    with pytest.raises(ActionRuntimeError, match="no match found but requireMatch is true"):
        invoke("transform.regex_match", {"text": "abc", "pattern": "z", "requireMatch": True})


def test_regex_extract(invoke) -> None:
    out = invoke(
        "transform.regex_extract",
        {"text": "a1 b22 c333", "pattern": r"([a-z])(\d+)", "maxMatches": 2},
    )
    assert out["matched"] is True and out["count"] == 2
    assert out["first"] == {"text": "a1", "index": 0, "groups": ["a", "1"], "namedGroups": {}}
    assert [m["text"] for m in out["matches"]] == ["a1", "b22"]


def test_regex_extract_zero_length_matches_advance(invoke) -> None:
    out = invoke("transform.regex_extract", {"text": "ab", "pattern": "x?"})
    assert [(m["text"], m["index"]) for m in out["matches"]] == [("", 0), ("", 1), ("", 2)]


def test_regex_extract_limits(invoke) -> None:
    empty = invoke("transform.regex_extract", {"text": "abc", "pattern": "z"})
    assert empty == {"matched": False, "count": 0, "first": None, "matches": []}
    with pytest.raises(ActionRuntimeError, match="maxMatches 1001 exceeds maximum 1000"):
        invoke("transform.regex_extract", {"text": "a", "pattern": "a", "maxMatches": 1001})
    with pytest.raises(ActionRuntimeError, match="requireMatch"):
        invoke("transform.regex_extract", {"text": "a", "pattern": "z", "requireMatch": True})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"text": "a" * 100_001, "pattern": "a"},
            "transform.regex_match: text length 100001 exceeds maximum 100000",
        ),
        (
            {"text": EMOJI * 50_001, "pattern": "a"},
            "transform.regex_match: text length 100002 exceeds maximum 100000",
        ),
        (
            {"text": "a", "pattern": "a" * 2001},
            "transform.regex_match: pattern length 2001 exceeds maximum 2000",
        ),
        (
            {"text": "a", "pattern": "a", "flags": "x"},
            'transform.regex_match: invalid regex flags "x": unsupported flag "x"',
        ),
        (
            {"text": "a", "pattern": "a", "flags": "gig"},
            'transform.regex_match: invalid regex flags "gig": duplicate flag "g"',
        ),
        (
            {"text": "a", "pattern": "(a"},
            "transform.regex_match: invalid regex pattern at offset 2: Invalid regular expression: "
            "Unterminated group",
        ),
        ({"text": "a", "pattern": "a**"}, "Nothing to repeat"),
        ({"text": "a", "pattern": "(?i)a"}, "Invalid group"),
        ({"text": "a", "pattern": r"\p{L}", "flags": "u"}, "invalid regex pattern"),
        ({"text": "a", "pattern": r"\q", "flags": "u"}, "Invalid escape"),
        ({"text": "a", "pattern": "a", "flags": "uv"}, "invalid regex pattern"),
    ],
)
def test_regex_errors(invoke, args: dict[str, Any], message: str) -> None:
    with pytest.raises(ActionRuntimeError) as caught:
        invoke("transform.regex_match", args)
    assert message in caught.value.message
    assert caught.value.category == "ActionError"


@pytest.mark.parametrize(
    ("pattern", "flags", "text", "expected"),
    [
        (r"\d+", "", "x٣4", "4"),  # \d is ASCII only in JS
        (r"\w+", "", "é_ab", "_ab"),
        (r"\s", "", "a\ufeffb", "\ufeff"),
        (r"\bab\b", "", "éab ab", "ab"),
        (".", "", "\r\nx", "x"),  # . never matches a line terminator without s
        (".", "s", "\r", "\r"),
        ("^b", "", "a\nb", None),
        ("^b", "m", "a\rb", "b"),
        ("a$", "", "a\n", None),  # $ is the very end, unlike Python
        ("a$", "m", "a\u2028", "a"),
        ("[^]", "", "\n", "\n"),
        ("a[]", "", "a", None),
        (r"\x41\u0042\u{43}", "u", "ABC", "ABC"),
        (r"\uD83D\uDE00", "", EMOJI, EMOJI),
        (r"\cJ", "", "\n", "\n"),
        (r"\101", "", "A", "A"),  # legacy octal: there is no group 1
        (r"a{,2}", "", "a{,2}", "a{,2}"),  # not a quantifier in JS
        (r"(a)?\1b", "", "b", "b"),  # a backreference to a group that did not take part: empty
        (r"\k<n>(?<n>x)", "", "x", "x"),  # forward reference: empty
        (r"(?<y>\d{4})-\k<y>", "", "2024-2024", "2024-2024"),
        (r"[\d-]+", "", "a1-2b", "1-2"),
        (r"[\b]", "", "a\bb", "\b"),
        ("ÉCOLE", "i", "école", "école"),
    ],
)
def test_js_regex_semantics(pattern: str, flags: str, text: str, expected: str | None) -> None:
    match = compile_js(pattern, flags).exec(text, 0)
    assert (match.group(0) if match else None) == expected


_JS_SPECIAL = set("\\^$.*+?()[]{}|/")


@given(
    st.text(alphabet="ab.*(|\\$\n😀", max_size=20),
    st.text(alphabet="ab.*(|\\$😀", min_size=1, max_size=3),
)
def test_escaped_literals_match_like_str_find(text: str, needle: str) -> None:
    """A JS-escaped literal finds exactly the non-overlapping occurrences ``str.find`` finds."""
    pattern = "".join("\\" + ch if ch in _JS_SPECIAL else ch for ch in needle)
    spans = [m.span() for m in iter_matches(compile_js(pattern, "g"), text)]
    expected, at = [], text.find(needle)
    while at >= 0:
        expected.append((at, at + len(needle)))
        at = text.find(needle, at + len(needle))
    assert spans == expected


@given(st.text(alphabet=st.characters(blacklist_characters="$"), max_size=20))
def test_templates_without_dollar_are_literal(template: str) -> None:
    assert expand_replacement(template, "abc", 1, 2, ("x",), {"n": "x"}) == template
