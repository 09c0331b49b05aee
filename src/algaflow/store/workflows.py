"""The repository of workflow definitions and their published versions: all SQL on both tables.

Every function takes an open connection (the caller owns the transaction) and the tenant id;
a row of another tenant is indistinguishable from a missing one. Reads return typed rows
(:class:`WorkflowRow`, :class:`VersionRow`) whose fields are named like the columns; the one
mapping to Alga's camelCase fields is :data:`WORKFLOW_FIELDS` (``to_view`` uses it). Constraint
hits never escape as raw database errors: they become :class:`~algaflow.kernel.errors.AlgaflowError`
with a stable code, or :class:`ConstraintViolation` / :class:`TransientConflict` for callers
(bundle import) that decide what a hit means.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.kernel.clock import new_id, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.jsonb import unstorable_paths
from algaflow.kernel.jsvalues import MAX_JSON_DEPTH, json_pointer, value_depth
from algaflow.kernel.storable import (
    INT4_MAX,
    KEY_PATTERN,
    KEY_PREFIX_PATTERN,
    canonical_uuid,
    key_conflict,
    parse_failure_rate_threshold,
)
from algaflow.store.failures import is_transient_conflict
from algaflow.store.tables import version_trigger_event, workflow_trigger_event
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t
from algaflow.store.workflow_rows import METADATA_FIELDS, WORKFLOW_FIELDS, VersionRow, WorkflowRow

__all__ = [  # row types and pure facts, re-exported for the store's callers
    "INT4_MAX",
    "KEY_PATTERN",
    "KEY_PREFIX_PATTERN",
    "METADATA_FIELDS",
    "WORKFLOW_FIELDS",
    "VersionRow",
    "WorkflowRow",
    "key_conflict",
    "parse_failure_rate_threshold",
]

PAYLOAD_SCHEMA_MODES = ("pinned", "inferred")
#: Levels a bundle puts above the deepest value it carries (root, ``workflows``, the entry,
#: ``publishedVersions``, the version: a published definition or payload schema).
BUNDLE_LEVELS_ABOVE_A_VALUE = 5
#: Deepest nesting of a stored JSON value, so that everything stored exports as a bundle that
#: imports again (bundles are limited to :data:`~algaflow.kernel.jsvalues.MAX_JSON_DEPTH`).
MAX_STORED_DEPTH = MAX_JSON_DEPTH - BUNDLE_LEVELS_ABOVE_A_VALUE

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


def _published_version(tenant_id: str) -> sa.Label[Any]:
    """The highest published version of the row's workflow (None when unpublished)."""
    return (
        sa.select(sa.func.max(versions_t.c.version))
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == defs_t.c.workflow_id)
        .scalar_subquery()
        .label("published_version")
    )


def _workflow(result: sa.engine.Result[Any]) -> WorkflowRow | None:
    row = result.mappings().first()
    return None if row is None else WorkflowRow.from_mapping(row)


def get_workflow(conn: Connection, tenant_id: str, workflow_id: str) -> WorkflowRow:
    workflow_id = validate_uuid(workflow_id)
    row = _workflow(
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


def find_workflow_by_key(conn: Connection, tenant_id: str, key: str) -> WorkflowRow | None:
    return _workflow(
        conn.execute(sa.select(defs_t).where(defs_t.c.tenant == tenant_id, defs_t.c.key == key))
    )


def get_workflow_by_key(conn: Connection, tenant_id: str, key: str) -> WorkflowRow:
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
) -> list[WorkflowRow]:
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
    rows = conn.execute(query.order_by(_binary(conn, defs_t.c.key))).mappings()
    return [WorkflowRow.from_mapping(r) for r in rows]


def _binary(conn: Connection, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """``column`` compared by code point, as SQLite always does (PostgreSQL's default collation
    follows the locale, where ``a-b`` may sort after ``a.c``)."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def list_versions(conn: Connection, tenant_id: str, workflow_id: str) -> list[VersionRow]:
    """Published versions, ascending."""
    get_workflow(conn, tenant_id, workflow_id)
    rows = conn.execute(
        sa.select(versions_t)
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == workflow_id)
        .order_by(versions_t.c.version)
    ).mappings()
    return [VersionRow.from_mapping(r) for r in rows]


def get_version(conn: Connection, tenant_id: str, workflow_id: str, version: int) -> VersionRow:
    workflow_id = validate_uuid(workflow_id)
    row = (
        conn.execute(
            sa.select(versions_t).where(
                versions_t.c.tenant == tenant_id,
                versions_t.c.workflow_id == workflow_id,
                versions_t.c.version == version,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise AlgaflowError(
            "WORKFLOW_VERSION_NOT_FOUND",
            f"Workflow {workflow_id} has no published version {version}",
            details={"workflowId": workflow_id, "version": version},
        )
    return VersionRow.from_mapping(row)


def latest_version(conn: Connection, tenant_id: str, workflow_id: str) -> VersionRow | None:
    row = (
        conn.execute(
            sa.select(versions_t)
            .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == workflow_id)
            .order_by(versions_t.c.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else VersionRow.from_mapping(row)


def workflow_ids_by_key(conn: Connection, tenant_id: str, keys: Sequence[str]) -> dict[str, str]:
    """key -> workflow id of the tenant's workflows among ``keys``, in the order of ``keys``."""
    rows = conn.execute(
        sa.select(defs_t.c.key, defs_t.c.workflow_id).where(
            defs_t.c.tenant == tenant_id, defs_t.c.key.in_(keys)
        )
    )
    found: dict[str, str] = {key: workflow_id for key, workflow_id in rows}
    return {key: found[key] for key in keys if key in found}


def taken_workflow_ids(
    conn: Connection, workflow_ids: Iterable[str], *, tenant_id: str | None = None
) -> set[str]:
    """Those of the canonical UUIDs ``workflow_ids`` that a row uses (of ``tenant_id`` only, if
    given; else of any tenant: ``workflow_id`` is the primary key across tenants)."""
    wanted = set(workflow_ids)
    if not wanted:
        return set()
    query = sa.select(defs_t.c.workflow_id).where(defs_t.c.workflow_id.in_(wanted))
    if tenant_id is not None:
        query = query.where(defs_t.c.tenant == tenant_id)
    return set(conn.execute(query).scalars())


def published_version_numbers(
    conn: Connection, tenant_id: str, workflow_ids: Iterable[str]
) -> dict[str, set[int]]:
    """Published version numbers of the tenant's workflows among ``workflow_ids`` (canonical
    UUIDs); a workflow without versions maps to an empty set, an unknown one is absent."""
    wanted = set(workflow_ids)
    if not wanted:
        return {}
    found: dict[str, set[int]] = {}
    rows = conn.execute(
        sa.select(defs_t.c.workflow_id, versions_t.c.version)
        .select_from(defs_t.outerjoin(versions_t, versions_t.c.workflow_id == defs_t.c.workflow_id))
        .where(defs_t.c.tenant == tenant_id, defs_t.c.workflow_id.in_(wanted))
    )
    for workflow_id, version in rows:
        numbers = found.setdefault(workflow_id, set())
        if version is not None:
            numbers.add(version)
    return found


# --- reads for bundle export --------------------------------------------------------------------


@dataclass(frozen=True)
class ExportHead:
    """What export needs to check a selection and fix its order, before reading definitions:
    ``newest`` is the latest ``updated_at`` of the workflow's published versions."""

    workflow_id: str
    key: str
    updated_at: datetime
    newest: datetime | None


def export_heads(
    conn: Connection,
    tenant_id: str,
    *,
    workflow_ids: Iterable[str] = (),
    keys: Iterable[str] = (),
    all: bool = False,
) -> list[ExportHead]:
    """One light query: the tenant's workflows among ``workflow_ids``/``keys`` (or ``all``)."""
    condition: sa.ColumnElement[bool] = defs_t.c.tenant == tenant_id
    if not all:
        # Ids that are not UUIDs cannot exist; leaving them out keeps PostgreSQL from refusing
        # the cast.
        ids = {u for u in map(canonical_uuid, workflow_ids) if u is not None}
        condition = sa.and_(
            condition, sa.or_(defs_t.c.workflow_id.in_(ids), defs_t.c.key.in_(set(keys)))
        )
    newest_version = (
        sa.select(sa.func.max(versions_t.c.updated_at))
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == defs_t.c.workflow_id)
        .scalar_subquery()
    )
    query = sa.select(
        defs_t.c.workflow_id, defs_t.c.key, defs_t.c.updated_at, newest_version.label("newest")
    ).where(condition)
    return [ExportHead(*row) for row in conn.execute(query)]


def rows_for_export(
    conn: Connection, tenant_id: str, workflow_ids: Sequence[str]
) -> tuple[dict[str, WorkflowRow], dict[str, list[VersionRow]]]:
    """The tenant's rows among ``workflow_ids`` (two queries), versions ascending per workflow.

    A workflow deleted since its id was chosen is simply absent.
    """
    rows = conn.execute(
        sa.select(defs_t).where(
            defs_t.c.tenant == tenant_id, defs_t.c.workflow_id.in_(workflow_ids)
        )
    ).mappings()
    workflows = {r["workflow_id"]: WorkflowRow.from_mapping(r) for r in rows}
    query = (
        sa.select(versions_t)
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id.in_(workflow_ids))
        .order_by(versions_t.c.workflow_id, versions_t.c.version)
    )
    versions: dict[str, list[VersionRow]] = {}
    for row in conn.execute(query).mappings():
        versions.setdefault(row["workflow_id"], []).append(VersionRow.from_mapping(row))
    return workflows, versions


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
) -> WorkflowRow:
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


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _key_conflict(conn: Connection, tenant_id: str, key: str) -> AlgaflowError:
    existing = find_workflow_by_key(conn, tenant_id, key)
    return key_conflict({key: existing.workflow_id if existing else None})


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


def _insert(
    conn: Connection,
    table: sa.Table,
    row: dict[str, Any],
    on_conflict: Callable[[], AlgaflowError],
) -> None:
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
) -> WorkflowRow:
    """Replace the draft definition; only ``updated_*`` change besides it."""
    current = get_workflow(conn, tenant_id, workflow_id)
    draft = dict(_require_object(definition, "definition") or {})
    draft["id"] = current.workflow_id
    check_storable({"definition": draft})
    conn.execute(
        defs_t.update()
        .where(defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == current.workflow_id)
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
) -> WorkflowRow:
    current = get_workflow(conn, tenant_id, workflow_id)
    values = normalize_metadata(changes)
    check_storable(changes)
    conn.execute(
        defs_t.update()
        .where(defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == current.workflow_id)
        .values(**values, updated_by=actor, updated_at=utcnow())
    )
    return get_workflow(conn, tenant_id, workflow_id)


def delete_workflow(conn: Connection, tenant_id: str, workflow_id: str) -> None:
    """Delete a workflow; its published versions go with it (ON DELETE CASCADE)."""
    current = get_workflow(conn, tenant_id, workflow_id)
    conn.execute(
        defs_t.delete().where(
            defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == current.workflow_id
        )
    )


@dataclass(frozen=True)
class Validation:
    """The outcome of publish validation that is stored with the version and the workflow."""

    status: str
    warnings: list[Any]
    context: dict[str, Any]
    validated_at: datetime


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
    validated_at: datetime | None = None,
    published_by: str | None = None,
) -> VersionRow:
    """Insert one immutable published version (``WORKFLOW_VERSION_CONFLICT`` if it exists)."""
    if not _is_int(version) or not 1 <= version <= INT4_MAX:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"version must be an integer >= 1, got {version!r}",
            details={"field": "version"},
        )
    check_storable({"definition": definition_json, "payloadSchemaJson": payload_schema_json})
    row = _version_values(
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
    return VersionRow.from_mapping(row)


def publish_draft(
    conn: Connection,
    tenant_id: str,
    workflow_id: str,
    *,
    version: int,
    definition: dict[str, Any],
    payload_schema_json: dict[str, Any] | None,
    mode: str,
    validation: Validation,
    actor: str | None,
) -> VersionRow:
    """Freeze ``definition`` as ``version`` and make the workflow's draft the version after it.

    The workflow's name, description, trigger and payload schema follow the published
    definition; its validation columns record this publish.
    """
    inserted = insert_version(
        conn,
        tenant_id,
        workflow_id,
        version=version,
        definition_json=definition,
        payload_schema_json=payload_schema_json,
        validation_status=validation.status,
        validation_errors=[],
        validation_warnings=validation.warnings,
        validated_at=validation.validated_at,
        published_by=actor,
    )
    conn.execute(
        defs_t.update()
        .where(defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == workflow_id)
        .values(
            status="published",
            draft_definition={**definition, "version": version + 1},
            draft_version=version + 1,
            name=definition["name"],
            description=definition.get("description"),
            trigger=definition.get("trigger"),
            payload_schema_ref=definition["payloadSchemaRef"],
            payload_schema_provenance=mode,
            validation_status=validation.status,
            validation_errors=[],
            validation_warnings=validation.warnings,
            validated_at=validation.validated_at,
            validation_context_json=validation.context,
            validation_payload_schema_hash=validation.context["payloadSchemaHash"],
            updated_by=actor,
            updated_at=validation.validated_at,
        )
    )
    return inserted


def _version_values(
    tenant_id: str,
    workflow_id: str,
    version: int,
    definition_json: Any,
    payload_schema_json: Any,
    *,
    published_by: str | None,
    now: datetime,
    validation_status: str | None = None,
    validation_errors: list[Any] | None = None,
    validation_warnings: list[Any] | None = None,
    validated_at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of one published version; publish and import (in bulk) both build it here."""
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


# --- bundle import --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedWorkflow:
    """One workflow as an import writes it (``metadata``: the bundle's camelCase fields, checked
    already). ``overwrite`` replaces the tenant's row of ``workflow_id`` and all its versions."""

    workflow_id: str
    key: str
    metadata: Mapping[str, Any]
    draft_definition: dict[str, Any]
    draft_version: int
    #: (version, definition, payloadSchemaJson), ascending by version
    versions: Sequence[tuple[int, dict[str, Any], Any]] = field(default_factory=tuple)
    overwrite: bool = False


class ConstraintViolation(Exception):
    """The database refused an import's rows (all of them undone): ``unique`` tells a unique
    hit (a concurrent writer) from any other refusal (a value the checks missed)."""

    def __init__(self, message: str, *, unique: bool) -> None:
        super().__init__(message)
        self.message = message
        self.unique = unique


class TransientConflict(Exception):
    """The transaction lost to a concurrent one (deadlock, serialization failure): retry it."""


@contextmanager
def transient_conflicts() -> Iterator[None]:
    """Raise :class:`TransientConflict` for a transient failure of the statements inside."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        if is_transient_conflict(exc):
            raise TransientConflict(str(exc.orig)) from None
        raise


def _import_columns(w: ImportedWorkflow, actor: str | None, now: datetime) -> dict[str, Any]:
    """The definition columns an import sets, on create and on overwrite alike."""
    m = w.metadata
    # Every metadata field of the bundle but isSystem, which a bundle may not set (DESIGN 6).
    columns = {WORKFLOW_FIELDS[name]: value for name, value in m.items() if name != "isSystem"}
    return {
        **columns,
        "key": w.key,
        "draft_definition": w.draft_definition,
        "draft_version": w.draft_version,
        "status": "published" if w.versions else "draft",
        "is_system": False,  # a bundle must not make itself a system workflow (DESIGN 6)
        "concurrency_limit": _int_or_none(m["concurrencyLimit"]),
        "failure_rate_threshold": parse_failure_rate_threshold(m["failureRateThreshold"]),
        "failure_rate_min_runs": _int_or_none(m["failureRateMinRuns"]),
        # Validation results and provenance described the replaced draft: start afresh.
        "payload_schema_provenance": None,
        "validation_status": None,
        "validation_errors": None,
        "validation_warnings": None,
        "validated_at": None,
        "validation_context_json": None,
        "validation_payload_schema_hash": None,
        "updated_by": actor,
        "updated_at": now,
    }


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def write_import(
    conn: Connection,
    tenant_id: str,
    workflows: Sequence[ImportedWorkflow],
    *,
    actor: str | None,
    dry_run: bool = False,
) -> None:
    """Write an import's rows in bulk inside one savepoint (rolled back on purpose for a dry run).

    Overwritten workflows keep their ``workflow_id`` and ``created_*`` and lose all their
    published versions. Any constraint hit undoes every row and raises
    :class:`ConstraintViolation`.
    """
    now = utcnow()
    updates = [
        {**_import_columns(w, actor, now), "b_tenant": tenant_id, "b_workflow_id": w.workflow_id}
        for w in workflows
        if w.overwrite
    ]
    inserts = [
        {
            **_import_columns(w, actor, now),
            "workflow_id": w.workflow_id,
            "tenant": tenant_id,
            "created_by": actor,
            "created_at": now,
        }
        for w in workflows
        if not w.overwrite
    ]
    versions = [
        _version_values(
            tenant_id, w.workflow_id, number, definition, schema, published_by=actor, now=now
        )
        for w in workflows
        for number, definition, schema in w.versions
    ]
    try:
        with conn.begin_nested() as savepoint:
            if updates:
                conn.execute(
                    versions_t.delete().where(
                        versions_t.c.tenant == tenant_id,
                        versions_t.c.workflow_id.in_([u["b_workflow_id"] for u in updates]),
                    )
                )
                conn.execute(
                    defs_t.update().where(
                        defs_t.c.tenant == sa.bindparam("b_tenant"),
                        defs_t.c.workflow_id == sa.bindparam("b_workflow_id"),
                    ),
                    updates,
                )
            if inserts:
                conn.execute(defs_t.insert(), inserts)
            if versions:
                conn.execute(versions_t.insert(), versions)
            if dry_run:
                savepoint.rollback()
    except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
        message = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise ConstraintViolation(message, unique=_is_unique_violation(exc)) from None


def _is_unique_violation(exc: sa.exc.DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) == "23505":
        return True
    return "UNIQUE constraint failed" in str(exc.orig)


# --- events: which workflows an event starts --------------------------------------------------


def triggered_candidates(conn: Connection, tenant_id: str, name: str) -> list[str]:
    """Ids of the workflows whose trigger may name the event, by two indexed lookups.

    A workflow's trigger is its latest published version's (or, when that has none, the
    workflow row's), so any version naming the event, or the row, makes it a candidate; the
    caller checks each against its latest version. Workflows that name other events are never
    read, so the cost follows the matching workflows, not the published ones.
    """
    versions, defs = versions_t, defs_t
    query = sa.union(
        sa.select(versions.c.workflow_id).where(
            versions.c.tenant == tenant_id, version_trigger_event() == name
        ),
        sa.select(defs.c.workflow_id).where(
            defs.c.tenant == tenant_id, workflow_trigger_event() == name
        ),
    )
    return sorted(conn.execute(query).scalars())


def published_unpaused(
    conn: Connection, tenant_id: str, workflow_ids: Sequence[str]
) -> list[WorkflowRow]:
    """The published, unpaused workflows among ``workflow_ids``, by key."""
    rows = conn.execute(
        sa.select(defs_t)
        .where(
            defs_t.c.tenant == tenant_id,
            defs_t.c.workflow_id.in_(workflow_ids),
            defs_t.c.status == "published",
            defs_t.c.is_paused.is_(False),
        )
        .order_by(defs_t.c.key)
    ).mappings()
    return [WorkflowRow.from_mapping(r) for r in rows]
