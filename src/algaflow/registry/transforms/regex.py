"""Regex transforms: match, extract, replace, with JavaScript semantics and Alga's limits (§4.4).

Each action has a matching time budget (algaflow's own; Alga has only the 30 s action timeout,
which cannot interrupt a running regex): a catastrophically backtracking pattern fails the step
with ``REGEX_TIMEOUT`` instead of occupying a worker. Messages never quote the pattern or the
text, since either may come from a resolved secret.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import regex

from algaflow.kernel.jsvalues import utf16_len
from algaflow.registry.actions import ActionContext, ActionDef
from algaflow.registry.errors import ActionRuntimeError, action_failed
from algaflow.registry.transforms.common import coerce_text, obj, transform, utf16_index
from algaflow.registry.transforms.jsregex import (
    JsRegexError,
    JsRegExp,
    JsRegexTimeout,
    check_flags,
    compile_js,
    expand_replacement,
    iter_matches,
)

MAX_TEXT_LENGTH = 100_000
MAX_PATTERN_LENGTH = 2_000
DEFAULT_MAX_MATCHES = 100
MAX_MATCHES_LIMIT = 1_000
# Matching time for one action, all its matches together. An honest pattern on the longest text
# allowed needs a few milliseconds.
MATCH_TIME_LIMIT_MS = 500
REGEX_TIMEOUT = "REGEX_TIMEOUT"


def _timed_out(action_id: str) -> ActionRuntimeError:
    return ActionRuntimeError(
        "ActionError",
        REGEX_TIMEOUT,
        f"{action_id}: matching took longer than {MATCH_TIME_LIMIT_MS} ms "
        "(the pattern backtracks too much on this text)",
        {"timeoutMs": MATCH_TIME_LIMIT_MS},
    )


def _deadline() -> float:
    return time.monotonic() + MATCH_TIME_LIMIT_MS / 1000


def _text(action_id: str, value: Any) -> str:
    text = coerce_text(value)
    length = utf16_len(text)
    if length > MAX_TEXT_LENGTH:
        raise action_failed(f"{action_id}: text length {length} exceeds maximum {MAX_TEXT_LENGTH}")
    return text


def _compile(action_id: str, pattern: str, flags: str) -> JsRegExp:
    length = utf16_len(pattern)
    if length > MAX_PATTERN_LENGTH:
        raise action_failed(
            f"{action_id}: pattern length {length} exceeds maximum {MAX_PATTERN_LENGTH}"
        )
    problem = check_flags(flags)
    if problem is not None:
        raise action_failed(f'{action_id}: invalid regex flags "{flags}": {problem}')
    try:
        return compile_js(pattern, flags)
    except JsRegexError as exc:
        where = "" if exc.position is None else f" at offset {utf16_index(pattern, exc.position)}"
        raise action_failed(f"{action_id}: invalid regex pattern{where}: {exc}") from exc


def _describe(js_regex: JsRegExp, text: str, match: regex.Match[str]) -> dict[str, Any]:
    return {
        "text": match.group(0),
        "index": utf16_index(text, match.start()),
        "groups": js_regex.groups(match),
        "namedGroups": js_regex.named_groups(match) or {},
    }


def _first(action_id: str, js_regex: JsRegExp, text: str) -> regex.Match[str] | None:
    try:
        return js_regex.exec(text, 0, _deadline())
    except JsRegexTimeout as exc:
        raise _timed_out(action_id) from exc


def _all(action_id: str, js_regex: JsRegExp, text: str) -> Iterator[regex.Match[str]]:
    try:
        yield from iter_matches(js_regex, text, _deadline())
    except JsRegexTimeout as exc:
        raise _timed_out(action_id) from exc


def _no_match(action_id: str) -> Exception:
    return action_failed(f"{action_id}: no match found but requireMatch is true")


def _match(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    action_id = "transform.regex_match"
    text = _text(action_id, args["text"])
    js_regex = _compile(action_id, args["pattern"], args["flags"])
    match = _first(action_id, js_regex, text)
    if match is None:
        if args["requireMatch"]:
            raise _no_match(action_id)
        return {"matched": False, "match": None, "index": None, "groups": [], "namedGroups": {}}
    found = _describe(js_regex, text, match)
    return {"matched": True, "match": found.pop("text"), **found}


def _extract(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    action_id = "transform.regex_extract"
    text = _text(action_id, args["text"])
    limit = int(args["maxMatches"])
    if limit > MAX_MATCHES_LIMIT:
        raise action_failed(f"{action_id}: maxMatches {limit} exceeds maximum {MAX_MATCHES_LIMIT}")
    flags = args["flags"] if "g" in args["flags"] else args["flags"] + "g"
    js_regex = _compile(action_id, args["pattern"], flags)
    matches = []
    for match in _all(action_id, js_regex, text):
        matches.append(_describe(js_regex, text, match))
        if len(matches) >= limit:
            break
    if not matches and args["requireMatch"]:
        raise _no_match(action_id)
    first = matches[0] if matches else None
    return {"matched": bool(matches), "count": len(matches), "first": first, "matches": matches}


def _replace(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    action_id = "transform.regex_replace"
    text = _text(action_id, args["text"])
    replace_all = args["replaceAll"] is not False
    raw = args["flags"]
    flags = (raw if "g" in raw else raw + "g") if replace_all else raw.replace("g", "")
    js_regex = _compile(action_id, args["pattern"], flags)
    if replace_all:
        matches: list[Any] = []
        for match in _all(action_id, js_regex, text):
            if len(matches) >= MAX_MATCHES_LIMIT:
                raise action_failed(
                    f"{action_id}: match count exceeded maximum {MAX_MATCHES_LIMIT}"
                )
            matches.append(match)
    else:
        first = _first(action_id, js_regex, text)
        matches = [first] if first is not None else []
    pieces, cursor = [], 0
    for match in matches:
        start, end = match.span()
        named = js_regex.named_groups(match)
        pieces.append(text[cursor:start])
        pieces.append(
            expand_replacement(args["replacement"], text, start, end, js_regex.groups(match), named)
        )
        cursor = end
    pieces.append(text[cursor:])
    return {"text": "".join(pieces), "replacementCount": len(matches)}


_TEXT = {"type": ["string", "number", "boolean", "null"]}
_PATTERN = {"type": "string", "minLength": 1}
_FLAGS = {"type": "string", "default": ""}
_REQUIRE = {"type": "boolean", "default": False}
_GROUPS = {"type": "array", "items": {"type": ["string", "null"]}}
_NAMED = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
_MATCH = obj(
    {
        "text": {"type": "string"},
        "index": {"type": "integer"},
        "groups": _GROUPS,
        "namedGroups": _NAMED,
    },
    ("text", "index", "groups", "namedGroups"),
)

ACTIONS: list[ActionDef] = [
    transform(
        "transform.regex_match",
        obj(
            {"text": _TEXT, "pattern": _PATTERN, "flags": _FLAGS, "requireMatch": _REQUIRE},
            ("text", "pattern"),
        ),
        obj(
            {
                "matched": {"type": "boolean"},
                "match": {"type": ["string", "null"]},
                "index": {"type": ["integer", "null"]},
                "groups": _GROUPS,
                "namedGroups": _NAMED,
            },
            ("matched", "match", "index", "groups", "namedGroups"),
        ),
        _match,
        "Regex Match",
        "Evaluate a JavaScript regular expression and return the first match with capture groups.",
    ),
    transform(
        "transform.regex_extract",
        obj(
            {
                "text": _TEXT,
                "pattern": _PATTERN,
                "flags": _FLAGS,
                "maxMatches": {
                    "type": "integer",
                    "exclusiveMinimum": 0,
                    "default": DEFAULT_MAX_MATCHES,
                },
                "requireMatch": _REQUIRE,
            },
            ("text", "pattern"),
        ),
        obj(
            {
                "matched": {"type": "boolean"},
                "count": {"type": "integer"},
                "first": {"anyOf": [_MATCH, {"type": "null"}]},
                "matches": {"type": "array", "items": _MATCH},
            },
            ("matched", "count", "first", "matches"),
        ),
        _extract,
        "Regex Extract",
        "Extract one or more regex matches with numbered and named capture groups.",
    ),
    transform(
        "transform.regex_replace",
        obj(
            {
                "text": _TEXT,
                "pattern": _PATTERN,
                "flags": _FLAGS,
                "replacement": {"type": "string"},
                "replaceAll": {"type": "boolean", "default": True},
            },
            ("text", "pattern", "replacement"),
        ),
        obj(
            {"text": {"type": "string"}, "replacementCount": {"type": "integer"}},
            ("text", "replacementCount"),
        ),
        _replace,
        "Regex Replace",
        "Replace regex matches using JavaScript RegExp replacement semantics.",
    ),
]
