"""Bundle v1 format: header constants, the JSON Schema, and the checks run before any import write.

Order and messages follow Alga (reference §5.3-5.4): the header first with its own codes, then the
draft-07 schema with *every* error listed in an Ajv-like shape, then (algaflow only) duplicate keys.
All three are pure and cheap: the validator is compiled once per process.

Deliberate differences from Alga's Ajv setup (docs/compatibility.md):

* ``exportedAt`` uses Ajv-formats' date-time grammar (``T``/``t``/space separator, optional
  fraction, ``Z`` or ``+hh:mm``/``+hhmm``/``+hh``, leap second ``23:59:60``) but, unlike ajv-formats
  2.1.1 whose timezone check never fails, a timezone is required. Alga's exporter always writes
  ``toISOString()`` (``...000Z``), which passes.
* The schema's key pattern is Alga's plus ``(?!\\n)`` so Python's ``re.search`` cannot accept a
  final newline; in JavaScript the lookahead never changes the outcome. In code the key pattern
  is ``kernel.storable.KEY_PATTERN`` (anchored with ``\\Z`` to the same effect).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator, FormatChecker, ValidationError, validators

from algaflow.bundle.errors import BundleError
from algaflow.bundle.limits import MAX_REPORTED_PROBLEMS, Problems, clip, listed
from algaflow.kernel.jsvalues import json_pointer
from algaflow.kernel.storable import KEY_PATTERN

BUNDLE_FORMAT = "alga-psa.workflow-bundle"
BUNDLE_FORMAT_VERSION = 1
WORKFLOW_KEY_PATTERN = KEY_PATTERN
SCHEMA_RESOURCE = "schemas/workflow-bundle.v1.schema.json"

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(
    r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:[zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)"
)
_DATE_TIME_SEPARATOR = re.compile(r"[tT\s]")
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_valid_workflow_key(key: Any) -> bool:
    """Whether ``key`` is a string matching ``^[a-z0-9][a-z0-9._-]*$`` with JS ``$`` semantics."""
    return isinstance(key, str) and WORKFLOW_KEY_PATTERN.search(key) is not None


def is_date_time(value: Any) -> bool:
    """RFC 3339 date-time as Ajv-formats parses it, with the timezone required (module doc)."""
    if not isinstance(value, str):
        return True  # formats only constrain strings; "type" catches the rest
    parts = _DATE_TIME_SEPARATOR.split(value)
    if len(parts) != 2:
        return False
    date, time = _DATE.fullmatch(parts[0]), _TIME.fullmatch(parts[1])
    if date is None or time is None:
        return False
    year, month, day = (int(g) for g in date.groups())
    if not 1 <= month <= 12:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= (29 if month == 2 and leap else _DAYS[month]):
        return False
    hour, minute, second = (int(g) for g in time.groups())
    return (hour <= 23 and minute <= 59 and second <= 59) or (hour, minute, second) == (23, 59, 60)


def load_schema_text() -> str:
    """The packaged schema file, as text (the same bytes as ``docs/schemas/``)."""
    return resources.files("algaflow.bundle").joinpath(SCHEMA_RESOURCE).read_text("utf-8")


@cache
def bundle_schema() -> dict[str, Any]:
    """The parsed v1 schema (cached; do not mutate)."""
    schema: dict[str, Any] = json.loads(load_schema_text())
    return schema


def _unique_items(
    validator: Any, unique: Any, instance: Any, _schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """``uniqueItems`` in linear time: jsonschema compares unsortable items pairwise, which
    took hours for a list of 100,000 objects. The message is short: it never echoes the list."""
    if unique and validator.is_type(instance, "array") and _duplicate_pair(instance) is not None:
        yield ValidationError("has non-unique elements")


_Draft7Linear = validators.extend(  # type: ignore[no-untyped-call]
    Draft7Validator, {"uniqueItems": _unique_items}
)


@cache
def _fast_validator() -> jsonschema_rs.Draft7Validator:
    """The same schema compiled by jsonschema-rs, about forty times faster: it only says whether a
    bundle is valid; the errors of an invalid one are listed by :func:`_validator`'s."""
    return jsonschema_rs.Draft7Validator(
        bundle_schema(), validate_formats=True, formats={"date-time": is_date_time}
    )


def _surely_valid(value: Any) -> bool:
    """True when jsonschema-rs finds ``value`` valid (a value it cannot take counts as not)."""
    try:
        return bool(_fast_validator().is_valid(value))
    except (ValueError, TypeError, OverflowError, jsonschema_rs.ValidationError):
        return False


@cache
def _validator() -> Draft7Validator:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_date_time)
    schema = bundle_schema()
    Draft7Validator.check_schema(schema)
    return _Draft7Linear(schema, format_checker=checker)  # type: ignore[no-any-return]


# --- header ------------------------------------------------------------------------------------


def validate_bundle_header(value: Any) -> None:
    """Alga's ``validateWorkflowBundleHeaderV1``: an object, then ``format``, ``formatVersion``."""
    if not isinstance(value, dict):
        raise BundleError("INVALID_BUNDLE", "Workflow bundle must be a JSON object.")
    fmt = value.get("format")
    if not (isinstance(fmt, str) and fmt == BUNDLE_FORMAT):
        details: dict[str, Any] = {"expectedFormat": BUNDLE_FORMAT}
        if "format" in value:
            details["receivedFormat"] = fmt
        raise BundleError(
            "UNSUPPORTED_FORMAT",
            _unsupported("format", value, f'"{BUNDLE_FORMAT}"'),
            details=details,
        )
    version = value.get("formatVersion")
    if not (
        type(version) in (int, float) and version == BUNDLE_FORMAT_VERSION
    ):  # True == 1 in Python, not in JS
        details = {"expectedFormatVersion": BUNDLE_FORMAT_VERSION}
        if "formatVersion" in value:
            details["receivedFormatVersion"] = version
        raise BundleError(
            "UNSUPPORTED_FORMAT_VERSION",
            _unsupported("formatVersion", value, str(BUNDLE_FORMAT_VERSION)),
            details=details,
        )


#: A received header value is quoted up to this many characters.
_SHOWN_CHARS = 80


def _unsupported(field: str, header: dict[str, Any], expected: str) -> str:
    """The header field's value quoted as received (JSON: ``"1"`` is a string), or that it is
    missing."""
    if field not in header:
        return f"Workflow bundle has no {field} (expected {expected})."
    shown = json.dumps(header[field], ensure_ascii=False)
    if len(shown) > _SHOWN_CHARS:
        shown = shown[: _SHOWN_CHARS - 3] + "..."
    return f"Unsupported workflow bundle {field} {shown} (expected {expected})."


# --- schema ------------------------------------------------------------------------------------


def _schema_pointer(schema_path: Any) -> str:
    """Where the failing keyword lives in the schema document, following ``$ref`` like Ajv does.

    jsonschema leaves ``$ref`` hops out of its paths; re-walk the schema to restore them.
    """
    node: Any = bundle_schema()
    parts: list[str] = []
    for comp in schema_path:
        while isinstance(node, dict) and "$ref" in node and comp not in node:
            ref = node["$ref"]
            parts = ref[2:].split("/")
            node = bundle_schema()
            for part in parts:
                node = node[part]
        node = node[comp] if isinstance(node, dict | list) else node
        parts.append(str(comp))
    return "#/" + "/".join(parts)


def _json_key(value: Any) -> Any:
    """A hashable stand-in equal for values Ajv's ``uniqueItems`` finds equal (1 == 1.0,
    True != 1, member order ignored)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, dict):
        return ("o", frozenset((k, _json_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_json_key(v) for v in value))
    return ("s", value)


def _duplicate_pair(items: list[Any]) -> tuple[int, int] | None:
    """Ajv's (i, j): the last item with an earlier equal one, and the nearest such earlier one;
    None when all items differ. One pass with a hash map."""
    last_seen: dict[Any, int] = {}
    pair = None
    for i, item in enumerate(items):
        key = _json_key(item)
        if key in last_seen:
            pair = (i, last_seen[key])
        last_seen[key] = i
    return pair


def _ajv_errors(error: ValidationError) -> Iterable[dict[str, Any]]:
    """The Ajv-like errors ``error`` stands for (lazily: an object may have many unknown
    members)."""
    keyword = str(error.validator)
    # jsonschema types these as possibly unset; a reported error always has them.
    value: Any = error.validator_value
    schema: Any = error.schema
    found: Any = error.instance
    base = {
        "instancePath": json_pointer(*error.absolute_path),
        "schemaPath": _schema_pointer(error.absolute_schema_path),
        "keyword": keyword,
    }
    if keyword == "required":
        instance = found if isinstance(found, dict) else {}
        return (
            {
                **base,
                "params": {"missingProperty": p},
                "message": f"must have required property '{p}'",
            }
            for p in value
            if p not in instance
        )
    if keyword == "additionalProperties":
        allowed = schema.get("properties", {})
        return (
            {
                **base,
                "params": {"additionalProperty": p},
                "message": "must NOT have additional properties",
            }
            for p in found
            if p not in allowed
        )
    if keyword == "type":
        shown = ",".join(value) if isinstance(value, list) else value
        return [{**base, "params": {"type": value}, "message": f"must be {shown}"}]
    if keyword == "uniqueItems":
        i, j = _duplicate_pair(found) or (0, 0)
        message = f"must NOT have duplicate items (items ## {j} and {i} are identical)"
        return [{**base, "params": {"i": i, "j": j}, "message": message}]
    simple = {
        "const": ({"allowedValue": value}, "must be equal to constant"),
        "minLength": ({"limit": value}, f"must NOT have fewer than {value} characters"),
        "minItems": ({"limit": value}, f"must NOT have fewer than {value} items"),
        "minimum": ({"comparison": ">=", "limit": value}, f"must be >= {value}"),
        "pattern": ({"pattern": value}, f'must match pattern "{value}"'),
        "format": ({"format": value}, f'must match format "{value}"'),
    }
    params, message = simple.get(keyword, ({}, error.message))
    return [{**base, "params": params, "message": message}]


def _ajv_count(error: ValidationError) -> int:
    """How many Ajv-like errors ``error`` stands for, without building them."""
    found: Any = error.instance
    schema: Any = error.schema
    required: Any = error.validator_value
    instance = found if isinstance(found, dict) else {}
    if error.validator == "required":
        return sum(1 for p in required if p not in instance)
    if error.validator == "additionalProperties":
        allowed = schema.get("properties", {})
        return sum(1 for p in instance if p not in allowed)
    return 1


def collect_schema_errors(value: Any) -> Problems:
    """The schema violations of ``value`` as Ajv-like ``{instancePath, schemaPath, keyword,
    params, message}`` objects in a stable order: the first ones built, the next ones only
    counted, and none looked for once :data:`~algaflow.bundle.limits.MAX_COUNTED_PROBLEMS` are
    found (so a bundle of empty workflows costs the same whatever its length)."""
    problems = Problems()
    if _surely_valid(value):
        return problems
    seen_required: set[tuple[int, int]] = set()
    for error in _validator().iter_errors(value):
        if problems.full:
            break
        if error.validator == "required":
            # jsonschema reports each missing property separately; Ajv-like output lists them
            # all with the first. The instance and schema objects live as long as this loop.
            marker = (id(error.instance), id(error.schema))
            if marker in seen_required:
                continue
            seen_required.add(marker)
        total = _ajv_count(error)
        built = 0
        if len(problems.items) < MAX_REPORTED_PROBLEMS:
            for ajv in _ajv_errors(error):
                if len(problems.items) >= MAX_REPORTED_PROBLEMS:
                    break
                problems.add(ajv)
                built += 1
        problems.count(max(total - built, 0))
    return problems


def schema_errors(value: Any) -> list[dict[str, Any]]:
    """The first schema violations of ``value`` (see :func:`collect_schema_errors`); empty when
    it is valid."""
    return collect_schema_errors(value).items


def validate_bundle_schema(value: Any) -> None:
    """Raise ``SCHEMA_VALIDATION_FAILED`` with ``details={"errors": [...], "errorsOmitted": n}``:
    the first errors and how many more were found (module :mod:`~algaflow.bundle.limits`)."""
    problems = collect_schema_errors(value)
    if not problems:
        return
    first = problems.items[0]
    where = first["instancePath"] or first["schemaPath"]
    message = first["message"] or "invalid"
    raise BundleError(
        "SCHEMA_VALIDATION_FAILED",
        f"Workflow bundle failed schema validation ({clip(where)}: {message}).",
        details=listed("errors", problems),
    )


# --- beyond the schema ---------------------------------------------------------------------------


def find_duplicate_keys(bundle: Any) -> list[str]:
    """Workflow keys used more than once in ``bundle["workflows"]``, in first-seen order."""
    workflows = bundle.get("workflows") if isinstance(bundle, dict) else None
    counts: dict[str, int] = {}
    for workflow in workflows if isinstance(workflows, list) else ():
        key = workflow.get("key") if isinstance(workflow, dict) else None
        if isinstance(key, str):
            counts[key] = counts.get(key, 0) + 1
    return [key for key, n in counts.items() if n > 1]


def validate_bundle(value: Any) -> None:
    """Every pure check an import runs before touching the database: header, schema, then
    duplicate keys (``DUPLICATE_WORKFLOW_KEY``; Alga lets them through to a confusing 409)."""
    validate_bundle_header(value)
    validate_bundle_schema(value)
    duplicates = find_duplicate_keys(value)
    if duplicates:
        shown = ", ".join(f'"{clip(k)}"' for k in duplicates[:10])
        more = f" and {len(duplicates) - 10} more" if len(duplicates) > 10 else ""
        raise BundleError(
            "DUPLICATE_WORKFLOW_KEY",
            f"Workflow bundle contains the same workflow key more than once: {shown}{more}.",
            details={"duplicateKeys": duplicates},
        )
