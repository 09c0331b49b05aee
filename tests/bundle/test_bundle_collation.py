"""``localeCompare`` order: exact for printable ASCII (checked against Node), sane beyond."""

from __future__ import annotations

import itertools
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algaflow.bundle.collation import locale_compare, locale_compare_key, sort_locale

ascii_text = st.text(st.sampled_from(string.printable + "\x00\x01\x1f\x7f\xad"), max_size=8)
key_like = st.text(st.sampled_from(string.ascii_letters + string.digits + "._-"), max_size=6)


@pytest.mark.parametrize(
    "ordered",
    [
        ["a_b", "a-b", "a.b", "ab"],
        ["a.B", "A.b"],
        [
            "payload.ticket.v1",
            "payload.Ticket.v1",
            "payload.ticketAssigned.v1",
            "payload.TicketCreated.v1",
        ],
        ["a10", "a9"],
        ["", "a", "ab"],
        ["\t", "\n", " ", "_", "-", ",", ";", ":", "!", "?", ".", "'", '"', "(", ")", "[", "]"],
        ["{", "}", "@", "*", "/", "\\", "&", "#", "%", "`", "^", "+", "<", "=", ">", "|", "~", "$"],
        ["$", "0", "9", "a", "A", "z", "Z"],
        ["e", "é", "f"],
    ],
)
def test_spec_examples_are_in_order(ordered: list[str]) -> None:
    assert sort_locale(reversed(ordered)) == ordered
    for a, b in itertools.pairwise(ordered):
        assert locale_compare(a, b) == -1
        assert locale_compare(b, a) == 1


def test_ignorable_characters_compare_equal_and_keep_input_order() -> None:
    assert locale_compare("a\x00", "a") == 0
    assert locale_compare("a\xadb", "ab") == 0
    assert sort_locale(["a\x00", "a", "\x7fa"]) == ["a\x00", "a", "\x7fa"]
    assert sort_locale(["a", "\x7fa", "a\x00"]) == ["a", "\x7fa", "a\x00"]


@given(st.lists(ascii_text, max_size=12), st.randoms())
def test_total_order_and_stable(strings: list[str], rnd: Any) -> None:
    once = sort_locale(strings)
    shuffled = list(strings)
    rnd.shuffle(shuffled)
    again = sort_locale(shuffled)
    assert [locale_compare_key(s) for s in once] == [locale_compare_key(s) for s in again]
    assert sort_locale(once) == once  # already sorted input is left exactly as it is
    for a, b in itertools.pairwise(once):
        assert locale_compare(a, b) <= 0


@given(ascii_text, ascii_text)
def test_antisymmetric(a: str, b: str) -> None:
    assert locale_compare(a, b) == -locale_compare(b, a)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(ascii_text, key_like), min_size=2, max_size=40))
def test_ascii_order_matches_node(node_oracle: Any, strings: list[str]) -> None:
    assert sort_locale(strings) == node_oracle.ask("sort", strings)
    pairs = list(itertools.pairwise(strings))
    assert [locale_compare(a, b) for a, b in pairs] == node_oracle.ask("compare", pairs)
