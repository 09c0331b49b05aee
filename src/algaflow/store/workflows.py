"""Workflow definitions and their published versions: tenant-scoped reads and writes.

Every function takes an open connection (the caller owns the transaction) and the tenant id;
a row of another tenant is indistinguishable from a missing one. Constraint hits never escape as
raw database errors: they become :class:`~algaflow.kernel.errors.AlgaflowError` with a stable code.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.kernel.clock import new_id, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.jsvalues import MAX_JSON_DEPTH, json_pointer, value_depth
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t
from algaflow.store.types import canonical_uuid, unstorable_paths

#: Workflow keys (Alga's ``/^[a-z0-9][a-z0-9._-]*$/``), anchored with ``\Z`` so that ``match``,
#: ``search`` and ``fullmatch`` all refuse a trailing newline as JavaScript's ``$`` does. The
#: one copy: the bundle format uses it too.
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*\Z")
#: What may start a key: its alphabet, possibly empty.
KEY_PREFIX_PATTERN = re.compile(r"[a-z0-9._-]*\Z")
PAYLOAD_SCHEMA_MODES = ("pinned", "inferred")
INT4_MAX = 2**31 - 1
#: Levels a bundle puts above the deepest value it carries (root, ``workflows``, the entry,
#: ``publishedVersions``, the version: a published definition or payload schema).
BUNDLE_LEVELS_ABOVE_A_VALUE = 5
#: Deepest nesting of a stored JSON value, so that everything stored exports as a bundle that
#: imports again (bundles are limited to :data:`~algaflow.kernel.jsvalues.MAX_JSON_DEPTH`).
MAX_STORED_DEPTH = MAX_JSON_DEPTH - BUNDLE_LEVELS_ABOVE_A_VALUE

#: Metadata fields a user may change, and the column each maps to.
METADATA_FIELDS: dict[str, str] = {
    "isPaused": "is_paused",
    "isVisible": "is_visible",
    "concurrencyLimit": "concurrency_limit",
    "autoPauseOnFailure": "auto_pause_on_failure",
    "failureRateThreshold": "failure_rate_threshold",
    "failureRateMinRuns": "failure_rate_min_runs",
    "retentionPolicyOverride": "retention_policy_override",
    "payloadSchemaMode": "payload_schema_mode",
    "pinnedPayloadSchemaRef": "pinned_payload_schema_ref",
}


# --- validation of user input -----------------------------------------------------------------


def validate_key(key: Any) -> str:
    """A workflow key must match ``^[a-z0-9][a-z0-9._-]*$`` in full (no trailing newline)."""
    if not isinstance(key, str) or not KEY_PATTERN.search(key):
        raise AlgaflowError(
            "INVALID_WORKFLOW_KEY",
            f"Invalid workflow key {key!r}. Expected pattern: ^[a-z0-9][a-z0-9._-]*$",
            details={"key": key if isinstance(key, str) else None},
        )
    return key


def validate_uuid(value: Any, *, code: str = "WORKFLOW_NOT_FOUND", what: str = "Workflow") -> str:
    """Ids that are not UUIDs cannot exist: answer them as not found, before any SQL runs."""
    canonical = canonical_uuid(value)
    if canonical is None:
        raise AlgaflowError(code, f"{what} not found: {value!r}")
    return canonical


def _require_text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AlgaflowError(
            "INVALID_FIELD",
            f"{field} must be a non-empty string.",
            details={"field": field},
        )
    return value


def _require_object(value: Any, field: str, *, nullable: bool = False) -> dict[str, Any] | None:
    if value is None and nullable:
        return None
    if not isinstance(value, dict):
        raise AlgaflowError(
            "INVALID_FIELD", f"{field} must be a JSON object.", details={"field": field}
        )
    return value


def _optional_int(value: Any, field: str, *, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= INT4_MAX:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"{field} must be an integer >= {minimum}, or null.",
            details={"field": field},
        )
    return value


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise AlgaflowError(
            "INVALID_FIELD", f"{field} must be a boolean.", details={"field": field}
        )
    return value


def parse_failure_rate_threshold(value: Any) -> Decimal | None:
    """NUMERIC(5,2) exactly as PostgreSQL (and so Alga) stores it, the same on SQLite.

    PostgreSQL rounds half away from zero (``0.025`` -> ``0.03``) and checks the range *after*
    rounding (``999.995`` -> ``1000.00`` does not fit); it has no negative zero.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _threshold_error(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _threshold_error(value) from None
    if not number.is_finite() or number.copy_abs() >= 1000:  # keeps quantize in range
        raise _threshold_error(value)
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if abs(rounded) >= 1000:
        raise _threshold_error(value)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def _threshold_error(value: Any) -> AlgaflowError:
    return AlgaflowError(
        "INVALID_FIELD",
        f"failureRateThreshold {value!r} is not a NUMERIC(5,2).",
        details={"field": "failureRateThreshold"},
    )


def check_storable(values: Mapping[str, Any]) -> None:
    """Refuse what one of the two databases would refuse or store differently, before any SQL.

    ``values`` maps field names (as the API calls them) to what will be stored. JSON nested
    deeper than :data:`MAX_STORED_DEPTH` is ``JSON_TOO_DEEP`` (it would export as a bundle too
    deep to import; checked first, without recursion). NUL, lone surrogates and non-finite
    numbers are ``UNSTORABLE_VALUE`` listing every one by JSON pointer (PostgreSQL refuses them,
    SQLite keeps them and exports a bundle that no import accepts).
    """
    depth, field = max(((value_depth(v), f) for f, v in values.items()), default=(0, ""))
    if depth > MAX_STORED_DEPTH:
        raise AlgaflowError(
            "JSON_TOO_DEEP",
            f"{field} is nested {depth} levels deep; the limit for a stored value is "
            f"{MAX_STORED_DEPTH}.",
            details={
                "instancePath": json_pointer(field),
                "depth": depth,
                "maxDepth": MAX_STORED_DEPTH,
            },
        )
    problems = [
        {"instancePath": json_pointer(field) + path, "message": message}
        for field, value in values.items()
        for path, message in unstorable_paths(value)
    ]
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise AlgaflowError(
            "UNSTORABLE_VALUE",
            f"{first['instancePath']}: {first['message']}{more}",
            details={"errors": problems},
        )


def normalize_metadata(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Map camelCase metadata to checked column values; unknown fields are refused."""
    unknown = sorted(set(changes) - set(METADATA_FIELDS))
    if unknown:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"Unknown metadata field(s): {', '.join(unknown)}",
            details={"fields": unknown},
        )
    out: dict[str, Any] = {}
    for name, value in changes.items():
        column = METADATA_FIELDS[name]
        if name in ("isPaused", "isVisible", "autoPauseOnFailure"):
            out[column] = _bool(value, name)
        elif name == "concurrencyLimit":
            out[column] = _optional_int(value, name, minimum=1)
        elif name == "failureRateMinRuns":
            out[column] = _optional_int(value, name, minimum=0)
        elif name == "failureRateThreshold":
            out[column] = parse_failure_rate_threshold(value)
        elif name == "retentionPolicyOverride":
            out[column] = _require_object(value, name, nullable=True)
        elif name == "payloadSchemaMode":
            if value not in PAYLOAD_SCHEMA_MODES:
                raise AlgaflowError(
                    "INVALID_FIELD",
                    "payloadSchemaMode must be 'pinned' or 'inferred'.",
                    details={"field": name},
                )
            out[column] = value
        elif name == "pinnedPayloadSchemaRef":
            out[column] = None if value is None else _require_text(value, name)
    return out


# --- reads ----------------------------------------------------------------------------------


def _row(result: sa.engine.Result[Any]) -> dict[str, Any] | None:
    row = result.mappings().first()
    return dict(row) if row else None


def _published_version(tenant_id: str) -> sa.Label[Any]:
    """The highest published version of the row's workflow (None when unpublished)."""
    return (
        sa.select(sa.func.max(versions_t.c.version))
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == defs_t.c.workflow_id)
        .scalar_subquery()
        .label("published_version")
    )


def get_workflow(conn: Connection, tenant_id: str, workflow_id: str) -> dict[str, Any]:
    workflow_id = validate_uuid(workflow_id)
    row = _row(
        conn.execute(
            sa.select(defs_t, _published_version(tenant_id)).where(
                defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == workflow_id
            )
        )
    )
    if row is None:
        raise AlgaflowError(
            "WORKFLOW_NOT_FOUND",
            f"Workflow not found: {workflow_id}",
            details={"workflowId": workflow_id},
        )
    return row


def find_workflow_by_key(conn: Connection, tenant_id: str, key: str) -> dict[str, Any] | None:
    return _row(
        conn.execute(sa.select(defs_t).where(defs_t.c.tenant == tenant_id, defs_t.c.key == key))
    )


def get_workflow_by_key(conn: Connection, tenant_id: str, key: str) -> dict[str, Any]:
    row = find_workflow_by_key(conn, tenant_id, key)
    if row is None:
        raise AlgaflowError(
            "WORKFLOW_NOT_FOUND",
            f'Workflow with key "{key}" not found',
            details={"key": key},
        )
    return row


def list_workflows(
    conn: Connection,
    tenant_id: str,
    *,
    key_prefix: str | None = None,
    status: str | None = None,
    paused: bool | None = None,
) -> list[dict[str, Any]]:
    """Workflows ordered by key, each with ``published_version`` (the highest, or None)."""
    query = sa.select(defs_t, _published_version(tenant_id)).where(defs_t.c.tenant == tenant_id)
    if key_prefix:
        if not KEY_PREFIX_PATTERN.match(key_prefix):
            return []  # no key holds such a character (and NUL would upset PostgreSQL)
        # Exact and case-sensitive on both databases, unlike LIKE (case-blind on SQLite).
        prefix_of_key = sa.func.substr(defs_t.c.key, 1, len(key_prefix))
        query = query.where(prefix_of_key == key_prefix)
    if status is not None:
        query = query.where(defs_t.c.status == status)
    if paused is not None:
        query = query.where(defs_t.c.is_paused == paused)
    return [dict(r) for r in conn.execute(query.order_by(_binary(conn, defs_t.c.key))).mappings()]


def _binary(conn: Connection, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """``column`` compared by code point, as SQLite always does (PostgreSQL's default collation
    follows the locale, where ``a-b`` may sort after ``a.c``)."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def list_versions(conn: Connection, tenant_id: str, workflow_id: str) -> list[dict[str, Any]]:
    """Published versions, ascending."""
    get_workflow(conn, tenant_id, workflow_id)
    rows = conn.execute(
        sa.select(versions_t)
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == workflow_id)
        .order_by(versions_t.c.version)
    ).mappings()
    return [dict(r) for r in rows]


def get_version(conn: Connection, tenant_id: str, workflow_id: str, version: int) -> dict[str, Any]:
    workflow_id = validate_uuid(workflow_id)
    row = _row(
        conn.execute(
            sa.select(versions_t).where(
                versions_t.c.tenant == tenant_id,
                versions_t.c.workflow_id == workflow_id,
                versions_t.c.version == version,
            )
        )
    )
    if row is None:
        raise AlgaflowError(
            "WORKFLOW_VERSION_NOT_FOUND",
            f"Workflow {workflow_id} has no published version {version}",
            details={"workflowId": workflow_id, "version": version},
        )
    return row


def latest_version(conn: Connection, tenant_id: str, workflow_id: str) -> dict[str, Any] | None:
    return _row(
        conn.execute(
            sa.select(versions_t)
            .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == workflow_id)
            .order_by(versions_t.c.version.desc())
            .limit(1)
        )
    )


# --- writes ---------------------------------------------------------------------------------


def create_workflow(
    conn: Connection,
    tenant_id: str,
    *,
    key: str,
    name: str | None = None,
    payload_schema_ref: str | None = None,
    description: str | None = None,
    trigger: dict[str, Any] | None = None,
    definition: dict[str, Any] | None = None,
    payload_schema_mode: str = "pinned",
    pinned_payload_schema_ref: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Create a workflow; its draft's ``id`` is always the new ``workflow_id``.

    ``name``, ``payload_schema_ref``, ``description`` and ``trigger`` default to the draft
    definition's own fields, so a definition file alone is enough to create a workflow.
    """
    validate_key(key)
    source = _require_object(definition, "definition", nullable=True) or {}
    name = source.get("name") if name is None else name
    payload_schema_ref = (
        source.get("payloadSchemaRef") if payload_schema_ref is None else (payload_schema_ref)
    )
    description = source.get("description") if description is None else description
    trigger = source.get("trigger") if trigger is None else trigger
    _require_text(name, "name")
    _require_text(payload_schema_ref, "payloadSchemaRef")
    if description is not None and not isinstance(description, str):
        raise AlgaflowError(
            "INVALID_FIELD",
            "description must be a string or null.",
            details={"field": "description"},
        )
    _require_object(trigger, "trigger", nullable=True)
    meta = normalize_metadata(
        {
            "payloadSchemaMode": payload_schema_mode,
            "pinnedPayloadSchemaRef": pinned_payload_schema_ref,
        }
    )
    workflow_id = new_id()
    draft = (
        dict(source)
        if source
        else {
            "version": 1,
            "name": name,
            "payloadSchemaRef": payload_schema_ref,
            "steps": [],
        }
    )
    if trigger is not None and "trigger" not in draft:
        draft["trigger"] = trigger
    draft["id"] = workflow_id
    check_storable(
        {
            "name": name,
            "description": description,
            "payloadSchemaRef": payload_schema_ref,
            "pinnedPayloadSchemaRef": pinned_payload_schema_ref,
            "trigger": trigger,
            "definition": draft,
        }
    )
    if find_workflow_by_key(conn, tenant_id, key) is not None:
        raise _key_conflict(conn, tenant_id, key)
    draft_version = draft.get("version")
    now = utcnow()
    row = {
        "workflow_id": workflow_id,
        "tenant": tenant_id,
        "key": key,
        "name": name,
        "description": description,
        "payload_schema_ref": payload_schema_ref,
        "trigger": trigger,
        "draft_definition": draft,
        "draft_version": draft_version if _is_int(draft_version) and draft_version > 0 else 1,
        "status": "draft",
        "created_by": actor,
        "updated_by": actor,
        "created_at": now,
        "updated_at": now,
        **meta,
    }
    _insert(conn, defs_t, row, lambda: _key_conflict(conn, tenant_id, key))
    return get_workflow(conn, tenant_id, workflow_id)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _key_conflict(conn: Connection, tenant_id: str, key: str) -> AlgaflowError:
    existing = find_workflow_by_key(conn, tenant_id, key)
    return key_conflict({key: existing and existing["workflow_id"]})


def key_conflict(
    existing: Mapping[str, str | None],
    *,
    hint: str = "",
    error: type[AlgaflowError] = AlgaflowError,
) -> AlgaflowError:
    """``WORKFLOW_KEY_CONFLICT`` (409) for taken keys (``existing``: key -> workflow id, in order).

    One shape everywhere (create, import, a concurrent import): the first conflict's
    ``workflowKey``/``existingWorkflowId`` (Alga's fields) and all of them in ``conflicts``.
    ``error`` lets the bundle importer raise its own error type.
    """
    conflicts = [{"workflowKey": k, "existingWorkflowId": v} for k, v in existing.items()]
    first = conflicts[0]
    more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
    return error(
        "WORKFLOW_KEY_CONFLICT",
        f'Workflow with key "{first["workflowKey"]}" already exists{more}.{hint}',
        details={**first, "conflicts": conflicts},
    )


def key_lock_id(tenant_id: str, key: str) -> int:
    """The PostgreSQL advisory lock (a signed 64-bit number) of one tenant's workflow key."""
    digest = hashlib.sha256(f"algaflow.workflow-key\0{tenant_id}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_workflow_keys(conn: Connection, tenant_id: str, keys: Iterable[str]) -> None:
    """Hold the tenant's ``keys`` until the transaction ends, so writers of the same keys (bundle
    imports) take turns instead of racing on unique constraints or deadlocking.

    PostgreSQL: transaction-scoped advisory locks, which also cover keys no row has yet, taken
    in ascending lock-id order so that two overlapping sets never wait on each other in a
    cycle. SQLite needs none: a write transaction (``BEGIN IMMEDIATE``) holds the database's
    only write lock.
    """
    if conn.dialect.name != "postgresql":
        return
    ids = sorted({key_lock_id(tenant_id, key) for key in keys})
    for lock_id in ids:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _insert(conn: Connection, table: sa.Table, row: dict[str, Any], on_conflict: Any) -> None:
    """Insert inside a savepoint so a unique hit leaves the caller's transaction usable."""
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**row))
    except sa.exc.IntegrityError:
        raise on_conflict() from None


def replace_draft(
    conn: Connection,
    tenant_id: str,
    workflow_id: str,
    definition: Any,
    *,
    actor: str | None = None,
) -> dict[str, Any]:
    """Replace the draft definition; only ``updated_*`` change besides it."""
    current = get_workflow(conn, tenant_id, workflow_id)
    draft = dict(_require_object(definition, "definition") or {})
    draft["id"] = current["workflow_id"]
    check_storable({"definition": draft})
    conn.execute(
        defs_t.update()
        .where(defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == current["workflow_id"])
        .values(draft_definition=draft, updated_by=actor, updated_at=utcnow())
    )
    return get_workflow(conn, tenant_id, workflow_id)


def update_metadata(
    conn: Connection,
    tenant_id: str,
    workflow_id: str,
    changes: Mapping[str, Any],
    *,
    actor: str | None = None,
) -> dict[str, Any]:
    current = get_workflow(conn, tenant_id, workflow_id)
    values = normalize_metadata(changes)
    check_storable(changes)
    conn.execute(
        defs_t.update()
        .where(defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == current["workflow_id"])
        .values(**values, updated_by=actor, updated_at=utcnow())
    )
    return get_workflow(conn, tenant_id, workflow_id)


def delete_workflow(conn: Connection, tenant_id: str, workflow_id: str) -> None:
    """Delete a workflow; its published versions go with it (ON DELETE CASCADE)."""
    current = get_workflow(conn, tenant_id, workflow_id)
    conn.execute(
        defs_t.delete().where(
            defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == current["workflow_id"]
        )
    )


def insert_version(
    conn: Connection,
    tenant_id: str,
    workflow_id: str,
    *,
    version: int,
    definition_json: dict[str, Any],
    payload_schema_json: dict[str, Any] | None = None,
    validation_status: str | None = None,
    validation_errors: list[Any] | None = None,
    validation_warnings: list[Any] | None = None,
    validated_at: Any = None,
    published_by: str | None = None,
) -> dict[str, Any]:
    """Insert one immutable published version (publish uses this)."""
    if not _is_int(version) or not 1 <= version <= INT4_MAX:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"version must be an integer >= 1, got {version!r}",
            details={"field": "version"},
        )
    check_storable({"definition": definition_json, "payloadSchemaJson": payload_schema_json})
    row = version_row(
        tenant_id,
        workflow_id,
        version,
        definition_json,
        payload_schema_json,
        published_by=published_by,
        now=utcnow(),
        validation_status=validation_status,
        validation_errors=validation_errors,
        validation_warnings=validation_warnings,
        validated_at=validated_at,
    )
    _insert(
        conn,
        versions_t,
        row,
        lambda: AlgaflowError(
            "WORKFLOW_VERSION_CONFLICT",
            f"Workflow version {version} already exists. Refresh and retry.",
            details={"workflowId": workflow_id, "version": version},
        ),
    )
    return row


def version_row(
    tenant_id: str,
    workflow_id: str,
    version: int,
    definition_json: Any,
    payload_schema_json: Any,
    *,
    published_by: str | None,
    now: Any,
    validation_status: str | None = None,
    validation_errors: list[Any] | None = None,
    validation_warnings: list[Any] | None = None,
    validated_at: Any = None,
) -> dict[str, Any]:
    """The row of one published version; publish and import (in bulk) both build it here."""
    return {
        "version_id": new_id(),
        "tenant": tenant_id,
        "workflow_id": workflow_id,
        "version": version,
        "definition_json": definition_json,
        "payload_schema_json": payload_schema_json,
        "published_by": published_by,
        "published_at": now,
        "validation_status": validation_status,
        "validation_errors": validation_errors,
        "validation_warnings": validation_warnings,
        "validated_at": validated_at,
        "created_at": now,
        "updated_at": now,
    }
