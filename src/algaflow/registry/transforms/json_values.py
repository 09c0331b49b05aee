"""JSON transforms: parse, query (JSONata under the workflow restrictions) and stringify (§4.4)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from algaflow.kernel.jsvalues import number_to_string, to_float64
from algaflow.registry.actions import ActionContext, ActionDef
from algaflow.registry.errors import action_failed
from algaflow.registry.transforms.common import JSON_VALUE, obj, transform

_SAFE = 2**53
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]} in JSON")


def js_number(value: int | float) -> int | float:
    """What a JavaScript double holds: huge ints become floats, integral floats become ints."""
    if isinstance(value, int) and abs(value) > _SAFE:
        return to_float64(value)
    if (
        isinstance(value, float)
        and math.isfinite(value)
        and value.is_integer()
        and abs(value) <= _SAFE
    ):
        return int(value)
    return value


def _as_js(value: Any) -> Any:
    """``JSON.parse`` numbers, and the finite-JSON check of Alga's ``jsonValueSchema``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        number = js_number(value)
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError("parsed value is not a finite JSON value")
        return number
    if isinstance(value, list):
        return [_as_js(item) for item in value]
    return {key: _as_js(item) for key, item in value.items()}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def js_key_order(keys: list[str]) -> list[str]:
    """JavaScript property order: array-index keys ascending, then the rest as inserted."""
    index = [k for k in keys if _ARRAY_INDEX.fullmatch(k) and int(k) < 2**32 - 1]
    return sorted(index, key=int) + [k for k in keys if k not in set(index)]


def js_stringify(value: Any, spacing: int = 0, _level: int = 0) -> str:
    """``JSON.stringify(value, null, spacing)`` for JSON values (JS numbers, no ASCII escaping)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        number = to_float64(value)
        return number_to_string(number) if math.isfinite(number) else "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        parts = [js_stringify(item, spacing, _level + 1) for item in value]
        return _bracket("[", "]", parts, spacing, _level)
    keys = js_key_order(list(value))
    colon = ": " if spacing else ":"
    parts = [
        json.dumps(key, ensure_ascii=False) + colon + js_stringify(value[key], spacing, _level + 1)
        for key in keys
    ]
    return _bracket("{", "}", parts, spacing, _level)


def _bracket(open_: str, close: str, parts: list[str], spacing: int, level: int) -> str:
    if not parts:
        return open_ + close
    if not spacing:
        return open_ + ",".join(parts) + close
    inner, outer = "\n" + " " * spacing * (level + 1), "\n" + " " * spacing * level
    return open_ + inner + ("," + inner).join(parts) + outer + close


def _parse(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    source = args["source"]
    if isinstance(source, str):
        try:
            value = _as_js(json.loads(source, parse_constant=_reject_constant))
        except ValueError as exc:
            raise action_failed(f"JSON parse failed: {exc}") from exc
        return {"value": value, "type": json_type(value)}
    return {"value": source, "type": json_type(source)}


def _query(args: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    from algaflow import expressions  # the expressions part sits beside the registry

    context = {**(ctx.expression_context or {}), "source": args["source"]}
    try:
        compiled = expressions.compile_expression(args["expression"])
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise action_failed(f"JSON query expression validation failed: {message}") from exc
    try:
        value = compiled.evaluate(context)
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise action_failed(f"JSON query expression evaluation failed: {message}") from exc
    return {"value": value}


def _stringify(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    spacing = int(args.get("spacing") or 0)
    return {"text": js_stringify(args["source"], spacing)}


ACTIONS: list[ActionDef] = [
    transform(
        "transform.parse_json",
        obj({"source": {"type": ["string", "array", "object"]}}, ("source",)),
        obj(
            {
                "value": JSON_VALUE,
                "type": {"enum": ["object", "array", "string", "number", "boolean", "null"]},
            },
            ("value", "type"),
        ),
        _parse,
        "Parse JSON",
        "Parse JSON text or pass through literal object/array values for downstream mapping.",
    ),
    transform(
        "transform.query_json",
        obj(
            {"source": JSON_VALUE, "expression": {"type": "string", "minLength": 1}},
            ("source", "expression"),
        ),
        obj({"value": JSON_VALUE}, ("value",)),
        _query,
        "Query JSON",
        "Evaluate a JSONata expression against a source value and return structured output.",
    ),
    transform(
        "transform.stringify_json",
        obj(
            {"source": JSON_VALUE, "spacing": {"type": "integer", "minimum": 0, "maximum": 8}},
            ("source",),
        ),
        obj({"text": {"type": "string"}}, ("text",)),
        _stringify,
        "Stringify JSON",
        "Serialize JSON-compatible values to text for storage, transport, or templating.",
    ),
]
