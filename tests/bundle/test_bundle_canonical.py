"""Canonical JSON: byte-identical to Alga's ``JSON.stringify(canonicalize(v), null, 2) + "\\n"``."""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.api.statuses import status_for
from algaflow.bundle.canonical import (
    canonicalize,
    dumps_canonical,
    dumps_canonical_bytes,
    loads_json,
)
from algaflow.bundle.errors import BundleError
from algaflow.kernel.errors import AlgaflowError

# --- strategies --------------------------------------------------------------------------------

_surrogates = st.integers(0xD800, 0xDFFF).map(chr)
_chars = st.one_of(
    st.characters(),
    _surrogates,
    st.sampled_from(
        ["\u2028", "\u2029", "\x7f", "\xad", "\ufeff", "\x00", "\x1f", "\b", "😀", "Ａ"]
    ),
)
texts = st.text(_chars, max_size=8)
keys = st.one_of(
    texts,
    st.integers(0, 2**33).map(str),
    st.sampled_from(["__proto__", "01", "-1", "4294967294", "4294967295", "$expr", "", "é", "Z"]),
)
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 2.0**53 + 2]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)
# Any JSON number literal (the grammar), to exercise parsing as well as printing.
number_literals = st.from_regex(r"\A-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?\Z")

_PAIR_ESCAPE = re.compile(r"\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}")


# --- reference tables (spec §1.2, §1.4, §1.5) --------------------------------------------------

NUMBER_TABLE = [
    ("1.0", "1"),
    ("1e2", "100"),
    ("-0", "0"),
    ("-0.0", "0"),
    ("0.1e1", "1"),
    ("1e400", "null"),
    ("-1e400", "null"),
    ("9007199254740993", "9007199254740992"),
    ("1e20", "100000000000000000000"),
    ("123456789012345678901", "123456789012345680000"),
    ("1.5", "1.5"),
    ("0.30000000000000004", "0.30000000000000004"),
    ("0.000001", "0.000001"),
    ("1e21", "1e+21"),
    ("1e-7", "1e-7"),
    ("1.5e300", "1.5e+300"),
    ("5e-324", "5e-324"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ("-2.5e-8", "-2.5e-8"),
    ("100", "100"),
]


@pytest.mark.parametrize(("literal", "printed"), NUMBER_TABLE)
def test_number_table(literal: str, printed: str) -> None:
    assert dumps_canonical(loads_json(f"[{literal}]")) == f"[\n  {printed}\n]\n"


@pytest.mark.parametrize(
    ("value", "printed"),
    [(math.nan, "null"), (math.inf, "null"), (-math.inf, "null"), (-0.0, "0"), (10**400, "null")],
)
def test_non_finite_python_numbers_print_null(value: float, printed: str) -> None:
    assert dumps_canonical(value) == printed + "\n"


def test_bool_is_not_a_number() -> None:
    assert dumps_canonical([True, False, 1, 0]) == "[\n  true,\n  false,\n  1,\n  0\n]\n"


def test_key_order_matches_js() -> None:
    keys = ["b", "a", "10", "2", "a1", "B", "_", "é", "Z", "01", "4294967294", "4294967295", "-1"]
    text = dumps_canonical({k: 0 for k in keys})
    order = [json.loads(line.split(": ")[0]) for line in text.splitlines()[1:-1]]
    assert order == [
        "2", "10", "4294967294", "-1", "01", "4294967295", "B", "Z", "_", "a", "a1", "b", "é"
    ]  # fmt: skip


def test_astral_sorts_before_fullwidth_like_utf16() -> None:
    assert list(canonicalize({"Ａ": 1, "😀": 2})) == ["😀", "Ａ"]


def test_proto_key_is_dropped() -> None:
    assert dumps_canonical({"__proto__": {"x": 1}, "a": 1}) == '{\n  "a": 1\n}\n'
    assert dumps_canonical({"__proto__": 1}) == "{}\n"
    assert canonicalize({"__proto__": 1, "b": [{"__proto__": 2}]}) == {"b": [{}]}


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ('"\\', r'"\"\\"'),
        ("\b\f\n\r\t", r'"\b\f\n\r\t"'),
        ("\x00\x1f\x0b", r'"\u0000\u001f\u000b"'),
        ("\ud800", r'"\ud800"'),
        ("a\udfffb\udbff", r'"a\udfffb\udbff"'),
        ("\ud83d\ude00", '"😀"'),  # a valid pair spelt as two code points is one character in JS
        ("/\x7f\u2028\u2029\xad\ufeff😀é", '"/\x7f\u2028\u2029\xad\ufeff😀é"'),
    ],
)
def test_string_escaping(value: str, literal: str) -> None:
    assert dumps_canonical(value) == literal + "\n"
    dumps_canonical_bytes(value).decode("utf-8")  # always well-formed UTF-8


def test_layout() -> None:
    value = {"b": {}, "a": [], "c": [{"y": None, "x": "s"}, [1, [2]]]}
    assert dumps_canonical(value) == (
        "{\n"
        '  "a": [],\n'
        '  "b": {},\n'
        '  "c": [\n'
        "    {\n"
        '      "x": "s",\n'
        '      "y": null\n'
        "    },\n"
        "    [\n"
        "      1,\n"
        "      [\n"
        "        2\n"
        "      ]\n"
        "    ]\n"
        "  ]\n"
        "}\n"
    )


@pytest.mark.parametrize("bad", [object(), {1: "a"}, (1, 2), {1, 2}, b"x", {"a": [object()]}])
def test_non_json_values_are_refused(bad: Any) -> None:
    with pytest.raises(AlgaflowError) as dumped:
        dumps_canonical(bad)
    assert dumped.value.code == "NON_JSON_VALUE"
    with pytest.raises(AlgaflowError) as canon:
        canonicalize(bad)
    assert canon.value.code == "NON_JSON_VALUE"


def test_subclasses_are_plain_json() -> None:
    class Name(str):
        pass

    value = OrderedDict([("b", Name("x")), ("a", True)])
    assert dumps_canonical(value) == dumps_canonical({"a": True, "b": "x"})


# --- loads_json ----------------------------------------------------------------------------------


def test_loads_numbers_are_doubles_with_ints_kept() -> None:
    value = loads_json(b'{"v": 1, "f": 1.0, "g": 2.5, "big": 9007199254740993, "e": 1e400}')
    assert value == {"v": 1, "f": 1, "g": 2.5, "big": 9007199254740992, "e": math.inf}
    assert type(value["f"]) is int
    assert type(loads_json("[1e300]")[0]) is float


def test_loads_strips_bom_and_last_duplicate_wins() -> None:
    assert loads_json(b'\xef\xbb\xbf{"a": 1, "a": 2}') == {"a": 2}
    assert loads_json('\ufeff"x"') == "x"


def test_loads_huge_integer_literal_does_not_hit_int_digit_limit() -> None:
    assert loads_json("1" * 5000) == math.inf


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"{",
        b"NaN",
        b"[Infinity]",
        b"[-Infinity]",
        b"{'a': 1}",
        b"\xff\xfe",
        b"[1,]",
        b"[" * 100_000,
    ],
)
def test_loads_rejects_what_json_parse_rejects(text: bytes) -> None:
    with pytest.raises(BundleError) as caught:
        loads_json(text)
    assert caught.value.code == "INVALID_JSON"
    assert status_for(caught.value.code) == 400


# --- properties ----------------------------------------------------------------------------------


@given(json_values)
def test_idempotent(value: Any) -> None:
    text = dumps_canonical(value)
    assert dumps_canonical(loads_json(text)) == text
    assert dumps_canonical(canonicalize(value)) == text
    assert text.endswith("\n") and not text.endswith("\n\n")


@given(st.dictionaries(keys, st.integers(), min_size=1, max_size=12))
def test_key_order_property(value: dict[str, int]) -> None:
    order = list(canonicalize(value))
    index = [k for k in order if re.fullmatch(r"0|[1-9][0-9]*", k) and int(k) <= 2**32 - 2]
    rest = order[len(index) :]
    assert index == sorted(index, key=int)
    assert rest == sorted(rest, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
    assert set(order) == set(value) - {"__proto__"}


@given(json_values)
def test_matches_plain_json_when_nothing_javascript_specific(value: Any) -> None:
    """Where JS and Python agree (no floats, ASCII keys), it is just sorted 2-space JSON."""
    text = json.dumps(value, ensure_ascii=False)
    if re.search(r"[.eE]|\\ud[89a-f]|__proto__|\"[0-9]", text) or re.search(r"[^\x00-\x7e]", text):
        return
    if re.search(r"\d{16,}", text):
        return
    assert dumps_canonical(value) == json.dumps(value, sort_keys=True, indent=2) + "\n"


# --- against Node -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=20), st.lists(number_literals, max_size=10))
def test_byte_identical_to_node(node_oracle: Any, values: list[Any], literals: list[str]) -> None:
    inputs = [json.dumps(v, allow_nan=False) for v in values]
    inputs.append("[" + ",".join(literals) + "]")
    expected = node_oracle.ask("canonical", inputs)
    for value, text, js in zip([*values, None], inputs, expected, strict=True):
        assert dumps_canonical_bytes(loads_json(text.encode())) == js.encode("utf-8"), text
        if value is not None and not _PAIR_ESCAPE.search(text):
            assert dumps_canonical(value) == js, text
