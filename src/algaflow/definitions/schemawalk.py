"""Read-only questions about JSON Schemas that publish validation asks (best effort, Draft 7).

Payload schemas arrive in Alga's wrapped form (``$ref`` + ``definitions``) and action schemas may
use local ``$ref`` and ``allOf``. These helpers follow both (the wrapped form is just a root
``$ref``; pass the whole document as ``root``), so "is ``payload.a.b`` in the
schema?", "what is required?" and "what type is this?" have useful answers. ``None`` always means
"cannot tell" (no ``properties``, an unresolvable ``$ref``): callers never report on a guess.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

Schema = Mapping[str, Any]
_MAX_DEPTH = 32


def sort_keys(value: Any) -> Any:
    """``value`` with every object's keys sorted, recursively (Alga's schema snapshot form)."""
    if isinstance(value, dict):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(v) for v in value]
    return value


def schema_hash(schema: Any) -> str | None:
    """sha256 of the key-sorted compact JSON of ``schema``; ``None`` when there is no schema."""
    if schema is None:
        return None
    text = json.dumps(sort_keys(schema), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pointer(root: Schema, ref: str) -> Any:
    if not ref.startswith("#"):
        return None
    node: Any = root
    for raw in ref[1:].split("/")[1:] if ref != "#" else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def resolve(schema: Any, root: Schema, depth: int = 0) -> dict[str, Any] | None:
    """``schema`` with local ``$ref`` followed and ``allOf`` merged (properties and required)."""
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return None
    if isinstance(schema.get("$ref"), str):
        target = resolve(_pointer(root, schema["$ref"]), root, depth + 1)
        if target is None:
            return None
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if not isinstance(schema.get("allOf"), list):
        return dict(schema)
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties = dict(merged.get("properties") or {})
    required = list(merged.get("required") or [])
    for part in schema["allOf"]:
        sub = resolve(part, root, depth + 1) or {}
        properties.update(sub.get("properties") or {})
        required += [r for r in sub.get("required") or [] if r not in required]
        for key, value in sub.items():
            if key not in ("properties", "required"):
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _options(schema: Schema) -> list[Any]:
    return [o for k in ("anyOf", "oneOf") for o in schema.get(k) or [] if isinstance(o, Mapping)]


def property_schema(schema: Any, root: Schema, name: str, depth: int = 0) -> Any:
    """The subschema of property ``name``; ``None`` if unknown, ``False`` if surely absent."""
    node = resolve(schema, root)
    if node is None or depth > _MAX_DEPTH:
        return None
    options = _options(node)
    if options:
        found = [property_schema(o, root, name, depth + 1) for o in options]
        known = [f for f in found if f]
        if known:
            return known[0]
        return False if all(f is False for f in found) else None
    properties = node.get("properties")
    if not isinstance(properties, Mapping):
        return None
    if name in properties:
        return properties[name]
    extra = node.get("additionalProperties")
    return extra if isinstance(extra, Mapping) else (None if extra is True else False)


def lookup(schema: Any, root: Schema, segments: list[str]) -> Any:
    """Subschema at a property path: a schema, ``None`` (cannot tell) or ``False`` (absent)."""
    node: Any = schema
    for segment in segments:
        node = property_schema(node, root, segment)
        if not node:
            return node
    return node


def json_types(schema: Any, root: Schema, depth: int = 0) -> set[str] | None:
    """The JSON types a schema allows, or ``None`` when any type may do."""
    node = resolve(schema, root)
    if node is None or depth > _MAX_DEPTH:
        return None
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    if "const" in node:
        return {value_type(node["const"])}
    if isinstance(node.get("enum"), list) and node["enum"]:
        return {value_type(v) for v in node["enum"]}
    options = _options(node)
    if options:
        found = [json_types(o, root, depth + 1) for o in options]
        if any(f is None for f in found):
            return None
        return set().union(*found)  # type: ignore[arg-type]
    return None


def value_type(value: Any) -> str:
    """JSON Schema type name of a JSON value (integral numbers are ``integer``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def types_compatible(source: set[str], target: set[str]) -> bool:
    """Whether a value of one of ``source`` types can satisfy one of ``target`` types."""
    widened = set(source)
    if "integer" in source:
        widened.add("number")
    if "number" in source:
        widened.add("integer")  # a computed number may well be whole
    return bool(widened & target)


def required_paths(schema: Any, root: Schema, prefix: str = "", depth: int = 0) -> Iterator[str]:
    """Dotted paths of every required property, recursing into required objects."""
    node = resolve(schema, root)
    if node is None or depth > _MAX_DEPTH:
        return
    for name in node.get("required") or []:
        if not isinstance(name, str):
            continue
        path = f"{prefix}{name}"
        yield path
        child = property_schema(node, root, name)
        if child:
            yield from required_paths(child, root, f"{path}.", depth + 1)
