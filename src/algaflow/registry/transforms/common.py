"""JavaScript string semantics and schema pieces shared by the transform actions (§4.4)."""

from __future__ import annotations

from typing import Any

from algaflow.kernel.jsvalues import js_string
from algaflow.registry.actions import ActionDef, ActionHandler

ANY: dict[str, Any] = {}
JSON_VALUE: dict[str, Any] = {"type": ["string", "number", "boolean", "null", "array", "object"]}
TEXT_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}
OBJECT_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {"object": {"type": "object"}},
    "required": ["object"],
}
ITEMS_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {"items": {"type": "array"}},
    "required": ["items"],
}


def coerce_text(value: Any) -> str:
    """Alga's ``coerceText``: ``''`` for null/undefined, else JavaScript ``String(v)``."""
    return "" if value is None else js_string(value)


def utf16_slice(text: str, start: int, end: int | None = None) -> str:
    """``text.slice(start, end)`` in UTF-16 units, never splitting a surrogate pair.

    A cut inside an astral character leaves that character out (JavaScript would keep half of it,
    which cannot be stored as UTF-8); see docs/compatibility.md.
    """
    encoded = text.encode("utf-16-le")
    units = len(encoded) // 2
    start = max(0, min(units, start))
    end = units if end is None else max(start, min(units, end))
    chunk = encoded[start * 2 : end * 2]
    return chunk.decode("utf-16-le", errors="ignore")


def utf16_index(text: str, code_point_index: int) -> int:
    """The UTF-16 index of a code point offset (what JavaScript reports as ``match.index``)."""
    return code_point_index + sum(1 for ch in text[:code_point_index] if ord(ch) > 0xFFFF)


def transform(
    action_id: str,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    handler: ActionHandler,
    title: str,
    description: str,
) -> ActionDef:
    """A built-in transform: version 1, pure, engine-provided idempotency, category Transform."""
    return ActionDef(
        id=action_id,
        version=1,
        input_schema=input_schema,
        output_schema=output_schema,
        handler=handler,
        side_effectful=False,
        idempotency="engineProvided",
        title=title,
        description=description,
        category="Transform",
    )


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """An object schema in Zod's default (strip) mode."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema
