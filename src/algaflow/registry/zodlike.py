"""Zod-like parsing with JSON Schema: defaults, stripping, no coercion.

Alga describes action inputs, node configs and payloads with Zod and *parses* values with it:
missing keys that have a default get it, keys that an object schema does not list are dropped
(unless the object is strict, which rejects them, or declares ``additionalProperties`` itself),
and nothing is coerced. We keep the schemas as JSON Schema (Draft 7) and reproduce those rules here:

* ``default`` on a property is applied when the key is absent (not when it is ``null``);
* an object schema that has ``properties`` drops unlisted keys, unless ``additionalProperties`` is
  ``false`` (strict: validation rejects them), ``true`` (passthrough) or a schema (a record);
* output keys come in ``properties`` order, then any extra keys (Zod's order, which the idempotency
  hash depends on);
* ``anyOf``/``oneOf`` take the first option the value satisfies, as a Zod union does.

Compiled validators are cached by schema object identity, so calling this on the same (built-in)
schema dicts again costs one dict lookup.
"""

from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator, FormatChecker

from algaflow.kernel.jsvalues import json_pointer

_MAX_CACHED = 4096
_cache: OrderedDict[int, tuple[dict[str, Any], Draft7Validator]] = OrderedDict()

FORMAT_CHECKER = FormatChecker(formats=("date", "email", "ipv4", "ipv6", "regex"))

_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")


@FORMAT_CHECKER.checks("date-time")
def _is_datetime(value: object) -> bool:
    """Zod's ``.datetime()``: UTC ``Z`` only, a real calendar date, any fraction precision."""
    if not isinstance(value, str):
        return True
    found = _DATETIME.fullmatch(value)
    if not found:
        return False
    try:
        date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or _UUID.fullmatch(value) is not None


@FORMAT_CHECKER.checks("uri")
def _is_url(value: object) -> bool:
    """What ``new URL(v)`` accepts, roughly: a scheme, a colon, no whitespace."""
    return not isinstance(value, str) or _URL.fullmatch(value) is not None


def validator_for(schema: Mapping[str, Any]) -> Draft7Validator:
    """A compiled Draft 7 validator for ``schema``, cached by identity."""
    key = id(schema)
    hit = _cache.get(key)
    if hit is not None and hit[0] is schema:
        _cache.move_to_end(key)
        return hit[1]
    validator = Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    _cache[key] = (schema, validator)  # type: ignore[assignment]
    if len(_cache) > _MAX_CACHED:
        _cache.popitem(last=False)
    return validator


def _rust_format(name: str) -> Any:
    return lambda value: FORMAT_CHECKER.conforms(value, name)


# The formats FORMAT_CHECKER checks, checked by the same functions in the one-pass validator.
_RUST_FORMATS = {name: _rust_format(name) for name in FORMAT_CHECKER.checkers}
_rust_cache: OrderedDict[int, tuple[Mapping[str, Any], Any]] = OrderedDict()


def _rust_validator(schema: Mapping[str, Any]) -> Any:
    """``schema`` compiled by jsonschema-rs (cached by identity), or None when it cannot take it."""
    key = id(schema)
    hit = _rust_cache.get(key)
    if hit is not None and hit[0] is schema:
        _rust_cache.move_to_end(key)
        return hit[1]
    try:
        # References are left to jsonschema, which resolves them within the schema only.
        validator = (
            None
            if "$ref" in json.dumps(schema)
            else jsonschema_rs.Draft7Validator(
                dict(schema), validate_formats=True, formats=_RUST_FORMATS
            )
        )
    except Exception:  # a schema it cannot take (a pattern it cannot compile): jsonschema only
        validator = None
    _rust_cache[key] = (schema, validator)
    if len(_rust_cache) > _MAX_CACHED:
        _rust_cache.popitem(last=False)
    return validator


def surely_valid(schema: Mapping[str, Any], value: Any) -> bool:
    """True when jsonschema-rs finds ``value`` valid: a one-pass check, many times faster.

    Only a "valid" answer is trusted, and only where both validators read the schema alike: the
    formats are checked by the same functions, and a schema or value it cannot take counts as
    "not sure". Where it is stricter (``$`` before a final newline), jsonschema decides.
    """
    validator = _rust_validator(schema)
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(value))
    except Exception:  # a value it cannot convert (a huge integer, a lone surrogate)
        return False


def issues_of(schema: Mapping[str, Any], value: Any) -> list[dict[str, str]]:
    """Every validation problem as ``{path, message}``, ordered by path."""
    if surely_valid(schema, value):
        return []
    errors = validator_for(schema).iter_errors(value)
    found = [{"path": json_pointer(*e.absolute_path), "message": e.message} for e in errors]
    return sorted(found, key=lambda issue: issue["path"])


def prepare(schema: Any, value: Any) -> Any:
    """Apply defaults and strip unlisted keys (a new value; the input is not modified)."""
    if type(schema) is not dict and not isinstance(schema, Mapping):  # the ABC check is slow
        return value
    for union in ("anyOf", "oneOf"):
        if isinstance(schema.get(union), list):
            for option in schema[union]:
                candidate = prepare(option, value)
                if _satisfies(option, candidate):
                    return candidate
            return value
    if isinstance(value, dict):
        return _prepare_object(schema, value)
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            return [prepare(items, item) for item in value]
        if isinstance(items, list):
            return [prepare(items[i], v) if i < len(items) else v for i, v in enumerate(value)]
    return value


def _satisfies(option: Any, value: Any) -> bool:
    """Whether one union option accepts ``value`` (an option with unresolvable refs does not)."""
    if not isinstance(option, Mapping):
        return option is not False
    if surely_valid(option, value):
        return True
    try:
        return validator_for(option).is_valid(value)
    except Exception:  # a "$ref" that only resolves against the root schema
        return False


def _prepare_object(schema: Mapping[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    props: Mapping[str, Any] = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    keep_unlisted = "properties" not in schema or extra is not None
    out: dict[str, Any] = {}
    for name, sub in props.items():
        if name in value:
            out[name] = prepare(sub, value[name])
        elif isinstance(sub, Mapping) and "default" in sub:
            out[name] = prepare(sub, copy.deepcopy(sub["default"]))
    for name, item in value.items():
        if name in props or not keep_unlisted:
            continue
        out[name] = prepare(extra, item) if isinstance(extra, Mapping) else item
    return out


def parse(schema: Mapping[str, Any], value: Any) -> tuple[Any, list[dict[str, str]]]:
    """Zod's ``safeParse``: the prepared value and the list of issues (empty when valid)."""
    prepared = prepare(schema, value)
    return prepared, issues_of(schema, prepared)
