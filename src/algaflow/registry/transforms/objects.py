"""Value, object and array transforms: coalesce, build/pick/rename fields, arrays (§4.4)."""

from __future__ import annotations

from typing import Any

from algaflow.kernel.jsvalues import js_trim
from algaflow.registry.actions import ActionContext, ActionDef
from algaflow.registry.transforms.common import (
    ITEMS_OUTPUT,
    OBJECT_OUTPUT,
    obj,
    transform,
)

_ARRAY = {"type": "array", "default": []}
_NAME = {"type": "string", "minLength": 1}


def _coalesce(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    skip_blank = args["treatEmptyStringAsMissing"]
    for index, candidate in enumerate(args["candidates"]):
        if candidate is None or (
            skip_blank and isinstance(candidate, str) and not js_trim(candidate)
        ):
            continue
        return {"value": candidate, "matchedIndex": index}
    return {"matchedIndex": None}


def _build_object(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    """Later duplicates win; a field without ``value`` is ``undefined`` in Alga, so it vanishes."""
    missing = object()
    built: dict[str, Any] = {}
    for field in args["fields"]:
        built[field["key"]] = field.get("value", missing)
    return {"object": {k: v for k, v in built.items() if v is not missing}}


def _pick_fields(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    source = args["source"] or {}
    return {"object": {name: source[name] for name in args["fields"] if name in source}}


def _rename_fields(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    renamed = dict(args["source"])
    for entry in args["renames"]:
        old, new = entry["from"], entry["to"]
        if old not in renamed:
            continue
        renamed[new] = renamed[old]
        if new != old:
            del renamed[old]
    return {"object": renamed}


def _append_array(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    return {"items": [*args["items"], *args["values"]]}


def _build_array(args: dict[str, Any], _ctx: ActionContext) -> dict[str, Any]:
    return {"items": list(args["items"])}


ACTIONS: list[ActionDef] = [
    transform(
        "transform.coalesce_value",
        obj(
            {
                "candidates": _ARRAY,
                "treatEmptyStringAsMissing": {"type": "boolean", "default": True},
            }
        ),
        obj(
            {"value": {}, "matchedIndex": {"type": ["integer", "null"]}},
            ("matchedIndex",),
        ),
        _coalesce,
        "Coalesce Value",
        "Return the first usable value from an ordered candidate list.",
    ),
    transform(
        "transform.build_object",
        obj(
            {
                "fields": {
                    "type": "array",
                    "items": obj({"key": _NAME, "value": {}}, ("key",)),
                    "default": [],
                }
            }
        ),
        OBJECT_OUTPUT,
        _build_object,
        "Build Object",
        "Construct an object from explicit named inputs.",
    ),
    transform(
        "transform.pick_fields",
        obj(
            {
                "source": {"type": ["object", "null"], "default": {}},
                "fields": {"type": "array", "items": _NAME, "default": []},
            }
        ),
        OBJECT_OUTPUT,
        _pick_fields,
        "Pick Fields",
        "Select a fixed subset of fields from an object.",
    ),
    transform(
        "transform.rename_fields",
        obj(
            {
                "source": {"type": "object", "default": {}},
                "renames": {
                    "type": "array",
                    "items": obj({"from": _NAME, "to": _NAME}, ("from", "to")),
                    "default": [],
                },
            }
        ),
        OBJECT_OUTPUT,
        _rename_fields,
        "Rename Fields",
        "Rename object fields with explicit mapping entries.",
    ),
    transform(
        "transform.append_array",
        obj({"items": _ARRAY, "values": _ARRAY}),
        ITEMS_OUTPUT,
        _append_array,
        "Append Array",
        "Append one or more values to an existing array.",
    ),
    transform(
        "transform.build_array",
        obj({"items": _ARRAY}),
        ITEMS_OUTPUT,
        _build_array,
        "Build Array",
        "Construct an array from explicit ordered values.",
    ),
]
