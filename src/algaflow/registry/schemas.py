"""The payload schema registry: ref -> JSON Schema, plus a strict flag (§4.3).

Alga validates payloads with Zod, where a plain object *accepts* unknown keys and only ``.strict()``
objects reject them, but its JSON Schema export says ``additionalProperties: false`` for both. So a
schema registered without ``strict=True`` is validated with every ``additionalProperties: false``
removed, and a strict one exactly as written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import zodlike

DRAFT7 = "http://json-schema.org/draft-07/schema#"

# Keywords whose value is one subschema, a list of them, or a name -> subschema map (Draft 7).
_ONE = (
    "additionalItems",
    "additionalProperties",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "not",
)
_MANY = ("allOf", "anyOf", "oneOf")
_MAPS = ("properties", "patternProperties", "definitions", "$defs")


@dataclass(frozen=True)
class _Entry:
    schema: dict[str, Any]
    strict: bool
    validation_schema: dict[str, Any]


class SchemaRegistry:
    """Payload schemas by ref; registering a ref twice is an error."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def register(self, ref: str, schema: dict[str, Any], *, strict: bool = False) -> None:
        """Add ``schema`` under ``ref``; Alga's wrapped form (``$ref`` + ``definitions``) is
        unwrapped."""
        if not isinstance(ref, str) or not ref.strip():
            raise AlgaflowError("REGISTRY_INVALID", "Schema ref must be a non-empty string")
        if not isinstance(schema, Mapping):
            raise AlgaflowError("REGISTRY_INVALID", f"Schema {ref} must be a JSON object")
        if ref in self._entries:
            raise AlgaflowError("REGISTRY_DUPLICATE", f"Schema {ref} is already registered")
        self._entries[ref] = _entry_for(ref, schema, strict)

    def get(self, ref: str) -> dict[str, Any] | None:
        entry = self._entries.get(ref)
        return None if entry is None else copy.deepcopy(entry.schema)

    def has(self, ref: str) -> bool:
        return ref in self._entries

    def is_strict(self, ref: str) -> bool:
        return self._require(ref).strict

    def refs(self) -> list[str]:
        return sorted(self._entries)

    def to_json_schema(self, ref: str) -> dict[str, Any]:
        """Alga's wrapped form: ``{"$ref": "#/definitions/<ref>", "definitions", "$schema"}``."""
        schema = copy.deepcopy(self._require(ref).schema)
        return {"$ref": f"#/definitions/{ref}", "definitions": {ref: schema}, "$schema": DRAFT7}

    def validate(self, ref: str, payload: Any) -> list[dict[str, str]]:
        """Problems with ``payload`` as ``{path, message}`` (JSON pointers); empty when valid."""
        return zodlike.issues_of(self._require(ref).validation_schema, payload)

    def _require(self, ref: str) -> _Entry:
        entry = self._entries.get(ref)
        if entry is None:
            raise AlgaflowError(
                "SCHEMA_NOT_FOUND",
                f'SchemaRegistry missing schema for ref "{ref}"',
                details={"ref": ref},
            )
        return entry

    def __len__(self) -> int:
        return len(self._entries)


_entry_cache: dict[tuple[int, bool], tuple[Mapping[str, Any], _Entry]] = {}


def _entry_for(ref: str, schema: Mapping[str, Any], strict: bool) -> _Entry:
    """Check and prepare ``schema`` once per schema object (built-ins are registered often)."""
    hit = _entry_cache.get((id(schema), strict))
    if hit is not None and hit[0] is schema:
        return hit[1]
    inner = unwrap(schema)
    try:
        Draft7Validator.check_schema(inner)
    except SchemaError as exc:
        raise AlgaflowError(
            "REGISTRY_INVALID", f"Schema {ref} is not a valid JSON Schema: {exc.message}"
        ) from exc
    entry = _Entry(inner, strict, inner if strict else permissive(inner))
    if len(_entry_cache) < 4096:
        _entry_cache[(id(schema), strict)] = (schema, entry)
    return entry


def unwrap(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The inner schema of ``{"$ref": "#/definitions/X", "definitions": {"X": ...}}``, else as is.

    A top-level ``$schema`` is dropped: validation is always Draft 7 and the wrapped form adds it.
    """
    name = wrapped_ref(schema)
    inner = dict(schema["definitions"][name]) if name is not None else dict(schema)
    inner.pop("$schema", None)
    return inner


def wrapped_ref(schema: Mapping[str, Any]) -> str | None:
    """The ref named by Alga's wrapped form, if ``schema`` is in it."""
    target = schema.get("$ref")
    definitions = schema.get("definitions")
    if (
        isinstance(target, str)
        and target.startswith("#/definitions/")
        and isinstance(definitions, dict)
    ):
        name = target[len("#/definitions/") :]
        if len(definitions) == 1 and isinstance(definitions.get(name), Mapping):
            return name
    return None


def permissive(schema: Any) -> Any:
    """A copy of ``schema`` with every ``additionalProperties: false`` removed (Zod strip mode)."""
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "additionalProperties" and value is False:
            continue
        if key in _ONE:
            out[key] = permissive(value)
        elif key in _MANY and isinstance(value, list):
            out[key] = [permissive(v) for v in value]
        elif key in _MAPS and isinstance(value, Mapping):
            out[key] = {name: permissive(v) for name, v in value.items()}
        elif key == "items":
            out[key] = (
                [permissive(v) for v in value] if isinstance(value, list) else permissive(value)
            )
        elif key == "dependencies" and isinstance(value, Mapping):
            out[key] = {n: permissive(v) if isinstance(v, Mapping) else v for n, v in value.items()}
        else:
            out[key] = value
    return out
