"""Regex actions under hostile input: a time budget that really stops matching, no stalled
threads, an engine swap that keeps the translation's meaning, and messages that keep secrets."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fixtures.stall import measure_stall

from algaflow.registry.errors import ActionRuntimeError
from algaflow.registry.transforms import regex as regex_actions
from algaflow.registry.transforms.jsregex import _Translator, compile_js
from algaflow.registry.transforms.regex import MATCH_TIME_LIMIT_MS

EVIL = [
    ("^(a|a)*$", "a" * 28 + "!"),
    ("^(a|aa)+$", "a" * 60 + "!"),
    (r"(\w+\s?)*$", "a" * 5000 + "!"),
]
ACTIONS = [
    ("transform.regex_match", {}),
    ("transform.regex_extract", {}),
    ("transform.regex_replace", {"replacement": "x"}),
    ("transform.regex_replace", {"replacement": "x", "replaceAll": False}),
]


@pytest.mark.parametrize(("action_id", "extra"), ACTIONS)
@pytest.mark.parametrize(("pattern", "text"), EVIL)
def test_catastrophic_backtracking_fails_the_step_promptly(
    invoke, action_id: str, extra: dict[str, Any], pattern: str, text: str
) -> None:
    args = {"text": text, "pattern": pattern, **extra}
    measured = measure_stall(lambda: invoke(action_id, args), ActionRuntimeError)
    elapsed, stall, outcome = measured.elapsed, measured.longest_gap, measured.outcome
    assert isinstance(outcome, ActionRuntimeError), outcome
    assert outcome.code == "REGEX_TIMEOUT"
    assert outcome.category == "ActionError"
    assert outcome.details == {"timeoutMs": MATCH_TIME_LIMIT_MS}
    assert text not in outcome.message and pattern not in outcome.message
    assert elapsed < 3.0  # 500 ms budget plus the engine's check interval; re needed 21 s and more
    assert stall < 0.3  # matching releases the GIL


def test_the_probe_pattern_now_answers_at_once(invoke) -> None:
    """``^(a+)+$`` on 28 a's and '!' took 21 s with ``re``; the new engine needs no backtracking."""
    started = time.perf_counter()
    result = invoke("transform.regex_match", {"text": "a" * 28 + "!", "pattern": "^(a+)+$"})
    assert result["matched"] is False
    assert time.perf_counter() - started < 0.5


def test_the_budget_covers_all_matches_of_one_action(invoke, monkeypatch) -> None:
    """One budget for the whole action: many quick matches add up to it."""
    monkeypatch.setattr(regex_actions, "MATCH_TIME_LIMIT_MS", 1)
    args = {"text": "ab" * 50_000, "pattern": "a", "maxMatches": 1000}
    with pytest.raises(ActionRuntimeError) as caught:
        invoke("transform.regex_extract", args)
    assert caught.value.code == "REGEX_TIMEOUT"
    with pytest.raises(ActionRuntimeError) as caught:
        invoke("transform.regex_replace", {**args, "replacement": "b"})
    assert caught.value.code == "REGEX_TIMEOUT"


_SECRET = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=8
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_SECRET, st.sampled_from(["(", "[", "a**", "(?<1>)", "\\", "x{2,1}", "(?x)"]))
def test_invalid_pattern_messages_do_not_echo_the_pattern(invoke, secret: str, bad: str) -> None:
    with pytest.raises(ActionRuntimeError) as caught:
        invoke("transform.regex_match", {"text": secret, "pattern": secret + bad})
    assert secret not in caught.value.message
    assert "invalid regex pattern" in caught.value.message


def test_invalid_pattern_message_says_where(invoke) -> None:
    with pytest.raises(ActionRuntimeError) as caught:
        invoke("transform.regex_match", {"text": "a", "pattern": "😀ab**"})
    assert caught.value.message == (
        "transform.regex_match: invalid regex pattern at offset 5: "
        "Invalid regular expression: Nothing to repeat"
    )


# Patterns small enough that Python's backtracking ``re`` answers quickly, built from the pieces
# the translation handles (classes, anchors, groups, backreferences, quantifiers, escapes).
_PIECES = st.sampled_from(
    [
        "a", "b", ".", "^", "$", r"\d", r"\w", r"\s", r"\b", r"\B", "[ab]", "[^a]", "[^]",
        "(a)", "(?:b)", "(?<n>a)", "(?=a)", "(?!b)", "(?<=a)", "a?", "b*", "a+?", "a{1,2}",
        r"\1", r"\k<n>", "|", r"\u0041", r"\x61", "\n",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_PIECES, min_size=1, max_size=6).map("".join),
    st.sampled_from(["", "i", "m", "s", "u", "im"]),
    st.text(alphabet="abAB1 _\n!", max_size=12),
)
def test_the_translation_means_the_same_to_both_engines(pattern: str, flags: str, text: str):
    """The ``regex`` engine finds exactly what ``re`` found for every translated pattern."""
    try:
        js = compile_js(pattern, flags)
    except ValueError:
        return  # not a valid JS pattern either way
    translated, _ = _Translator(pattern, flags).run()
    old = re.compile(translated, re.IGNORECASE if "i" in flags else 0)
    assert isinstance(js.compiled, regex.Pattern)
    for start in range(len(text) + 1):
        mine, theirs = js.exec(text, start), old.search(text, start)
        assert (mine and (mine.span(), mine.groups())) == (
            theirs and (theirs.span(), theirs.groups())
        )
