"""Workflow definitions and their published versions: tenant-scoped reads and writes.

Every function takes an open connection (the caller owns the transaction) and the tenant id;
a row of another tenant is indistinguishable from a missing one. Constraint hits never escape as
raw database errors: they become :class:`~algaflow.errors.AlgaflowError` with a stable code.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.clock import new_id, utcnow
from algaflow.errors import AlgaflowError
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t

KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
PAYLOAD_SCHEMA_MODES = ("pinned", "inferred")
INT4_MAX = 2**31 - 1

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
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise AlgaflowError(
            "INVALID_WORKFLOW_KEY",
            f"Invalid workflow key {key!r}. Expected pattern: ^[a-z0-9][a-z0-9._-]*$",
            details={"key": key if isinstance(key, str) else None},
        )
    return key


def validate_uuid(value: Any, *, code: str = "WORKFLOW_NOT_FOUND", what: str = "Workflow") -> str:
    """Ids that are not UUIDs cannot exist: answer them as not found, before any SQL runs."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise AlgaflowError(code, f"{what} not found: {value!r}", status=404) from None


def _require_text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AlgaflowError(
            "INVALID_FIELD",
            f"{field} must be a non-empty string.",
            status=422,
            details={"field": field},
        )
    return value


def _require_object(value: Any, field: str, *, nullable: bool = False) -> dict[str, Any] | None:
    if value is None and nullable:
        return None
    if not isinstance(value, dict):
        raise AlgaflowError(
            "INVALID_FIELD", f"{field} must be a JSON object.", status=422, details={"field": field}
        )
    return value


def _optional_int(value: Any, field: str, *, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= INT4_MAX:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"{field} must be an integer >= {minimum}, or null.",
            status=422,
            details={"field": field},
        )
    return value


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise AlgaflowError(
            "INVALID_FIELD", f"{field} must be a boolean.", status=422, details={"field": field}
        )
    return value


def parse_failure_rate_threshold(value: Any) -> Decimal | None:
    """NUMERIC(5,2): a number or numeric string below 1000 in magnitude, kept to two places."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _threshold_error(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _threshold_error(value) from None
    if not number.is_finite() or abs(number) >= 1000:
        raise _threshold_error(value)
    return number.quantize(Decimal("0.01"))


def _threshold_error(value: Any) -> AlgaflowError:
    return AlgaflowError(
        "INVALID_FIELD",
        f"failureRateThreshold {value!r} is not a NUMERIC(5,2).",
        status=422,
        details={"field": "failureRateThreshold"},
    )


def normalize_metadata(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Map camelCase metadata to checked column values; unknown fields are refused."""
    unknown = sorted(set(changes) - set(METADATA_FIELDS))
    if unknown:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"Unknown metadata field(s): {', '.join(unknown)}",
            status=422,
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
                    status=422,
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


def get_workflow(conn: Connection, tenant_id: str, workflow_id: str) -> dict[str, Any]:
    workflow_id = validate_uuid(workflow_id)
    row = _row(
        conn.execute(
            sa.select(defs_t).where(
                defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == workflow_id
            )
        )
    )
    if row is None:
        raise AlgaflowError(
            "WORKFLOW_NOT_FOUND",
            f"Workflow not found: {workflow_id}",
            status=404,
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
            status=404,
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
    latest = (
        sa.select(sa.func.max(versions_t.c.version))
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == defs_t.c.workflow_id)
        .scalar_subquery()
    )
    query = sa.select(defs_t, latest.label("published_version")).where(defs_t.c.tenant == tenant_id)
    if key_prefix:
        escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(defs_t.c.key.like(escaped + "%", escape="\\"))
    if status is not None:
        query = query.where(defs_t.c.status == status)
    if paused is not None:
        query = query.where(defs_t.c.is_paused == paused)
    return [dict(r) for r in conn.execute(query.order_by(defs_t.c.key)).mappings()]


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
            status=404,
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
            status=422,
            details={"field": "description"},
        )
    _require_object(trigger, "trigger", nullable=True)
    meta = normalize_metadata(
        {
            "payloadSchemaMode": payload_schema_mode,
            "pinnedPayloadSchemaRef": pinned_payload_schema_ref,
        }
    )
    if find_workflow_by_key(conn, tenant_id, key) is not None:
        raise _key_conflict(conn, tenant_id, key)
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
    return AlgaflowError(
        "WORKFLOW_KEY_CONFLICT",
        f'Workflow with key "{key}" already exists.',
        status=409,
        details={"workflowKey": key, "existingWorkflowId": existing and existing["workflow_id"]},
    )


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
    """Insert one immutable published version (publish and import use this)."""
    if not _is_int(version) or not 1 <= version <= INT4_MAX:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"version must be an integer >= 1, got {version!r}",
            status=422,
            details={"field": "version"},
        )
    now = utcnow()
    row = {
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
    _insert(
        conn,
        versions_t,
        row,
        lambda: AlgaflowError(
            "WORKFLOW_VERSION_CONFLICT",
            f"Workflow version {version} already exists. Refresh and retry.",
            status=409,
            details={"workflowId": workflow_id, "version": version},
        ),
    )
    return row
