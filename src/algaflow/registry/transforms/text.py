"""Text transforms: truncate, concat, replace, split, join, case and trim (§4.4)."""

from __future__ import annotations

import math
from typing import Any

from algaflow.kernel.jsvalues import js_trim, utf16_len
from algaflow.registry.actions import ActionContext, ActionDef
from algaflow.registry.transforms.common import (
    ANY,
    TEXT_OUTPUT,
    coerce_text,
    obj,
    transform,
    utf16_slice,
)
from algaflow.registry.transforms.jsregex import expand_replacement

_ARRAY = {"type": "array", "default": []}


def truncate(text: str, max_length: int, strategy: str, ellipsis: str) -> str:
    """Alga's ``truncateText``, with lengths in UTF-16 units."""
    length = utf16_len(text)
    if max_length <= 0:
        return ""
    if length <= max_length:
        return text
    if not ellipsis:
        return utf16_slice(text, 0, max_length)
    if utf16_len(ellipsis) >= max_length:
        return utf16_slice(ellipsis, 0, max_length)
    available = max_length - utf16_len(ellipsis)
    if strategy == "start":
        return ellipsis + utf16_slice(text, length - available)
    if strategy == "middle":
        head, tail = math.ceil(available / 2), available // 2
        return utf16_slice(text, 0, head) + ellipsis + utf16_slice(text, length - tail)
    return utf16_slice(text, 0, available) + ellipsis


def _truncate(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    text = coerce_text(args.get("text"))
    return {"text": truncate(text, int(args["maxLength"]), args["strategy"], args["ellipsis"])}


def _concat(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    return {"text": args["separator"].join(coerce_text(v) for v in args["values"])}


def _join(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    return {"text": args["delimiter"].join(coerce_text(v) for v in args["items"])}


def _replace(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    text, search, replacement = coerce_text(args.get("text")), args["search"], args["replacement"]
    if not search:
        return {"text": text}
    if args["replaceAll"]:
        return {"text": replacement.join(text.split(search))}
    # JS String.replace with a string pattern: first occurrence, $& $` $' $$ still expand.
    at = text.find(search)
    if at < 0:
        return {"text": text}
    end = at + len(search)
    expanded = expand_replacement(replacement, text, at, end, (), None)
    return {"text": text[:at] + expanded + text[end:]}


def _split(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    text, delimiter = coerce_text(args.get("text")), args["delimiter"]
    items = text.split(delimiter) if delimiter else list(text)
    if args["removeEmpty"]:
        items = [item for item in items if item]
    return {"items": items}


def _lower(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    return {"text": coerce_text(args.get("text")).lower()}


def _upper(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    return {"text": coerce_text(args.get("text")).upper()}


def _trim(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    return {"text": js_trim(coerce_text(args.get("text")))}


def _text_input(**properties: Any) -> dict[str, Any]:
    required = tuple(k for k, v in properties.items() if "default" not in v)
    return obj({"text": ANY, **properties}, required)


_STRINGS_OUTPUT = obj({"items": {"type": "array", "items": {"type": "string"}}}, ("items",))

ACTIONS: list[ActionDef] = [
    transform(
        "transform.truncate_text",
        _text_input(
            maxLength={"type": "integer", "minimum": 0},
            strategy={"enum": ["end", "start", "middle"], "default": "end"},
            ellipsis={"type": "string", "default": "..."},
        ),
        TEXT_OUTPUT,
        _truncate,
        "Truncate Text",
        "Shorten text using explicit truncation settings.",
    ),
    transform(
        "transform.concat_text",
        obj({"values": _ARRAY, "separator": {"type": "string", "default": ""}}),
        TEXT_OUTPUT,
        _concat,
        "Concat Text",
        "Join multiple values into a single text result.",
    ),
    transform(
        "transform.replace_text",
        _text_input(
            search={"type": "string"},
            replacement={"type": "string", "default": ""},
            replaceAll={"type": "boolean", "default": True},
        ),
        TEXT_OUTPUT,
        _replace,
        "Replace Text",
        "Replace matching text without writing an expression.",
    ),
    transform(
        "transform.split_text",
        _text_input(
            delimiter={"type": "string"}, removeEmpty={"type": "boolean", "default": False}
        ),
        _STRINGS_OUTPUT,
        _split,
        "Split Text",
        "Split source text into an ordered string array.",
    ),
    transform(
        "transform.join_text",
        obj({"items": _ARRAY, "delimiter": {"type": "string", "default": ""}}),
        TEXT_OUTPUT,
        _join,
        "Join Text",
        "Join an ordered list of values into a single text result.",
    ),
    transform(
        "transform.lowercase_text",
        _text_input(),
        TEXT_OUTPUT,
        _lower,
        "Lowercase Text",
        "Convert source text to lowercase.",
    ),
    transform(
        "transform.uppercase_text",
        _text_input(),
        TEXT_OUTPUT,
        _upper,
        "Uppercase Text",
        "Convert source text to uppercase.",
    ),
    transform(
        "transform.trim_text",
        _text_input(),
        TEXT_OUTPUT,
        _trim,
        "Trim Text",
        "Trim leading and trailing whitespace from text.",
    ),
]
