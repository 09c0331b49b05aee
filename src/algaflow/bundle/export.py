"""Bundle export: workflows of one tenant as an ``alga-psa.workflow-bundle`` v1 document.

Matches Alga's exporters (reference §4): workflows ordered by key with ``localeCompare``, published
versions ascending, audit fields and ids left out (the id still travels as ``definition.id``),
``isSystem`` always false, ``failureRateThreshold`` as the NUMERIC string (``"0.50"``), dependencies
per §2.6. Two queries whatever the number of workflows: one for definitions, one for versions.

``exportedAt`` is the export time, like Alga, unless pinned: fixtures kept in git need the same
database state to give the same bytes, so ``exported_at="latest-change"`` uses the latest
``updated_at`` of the exported rows instead of the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.bundle.canonical import dumps_canonical_bytes
from algaflow.bundle.collation import locale_compare_key
from algaflow.bundle.dependencies import workflow_dependency_summary
from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION
from algaflow.clock import iso_millis, utcnow
from algaflow.definitions.views import format_threshold
from algaflow.errors import AlgaflowError
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t
from algaflow.store.types import canonical_uuid

LATEST_CHANGE = "latest-change"
ExportedAt = datetime | str | None | Literal["latest-change"]
Progress = Callable[[int, int], None]

_DEF_COLUMNS = [
    c
    for c in defs_t.c
    if c.name
    not in (
        "tenant",
        "status",
        "is_system",
        "payload_schema_provenance",
        "validation_status",
        "validation_errors",
        "validation_warnings",
        "validated_at",
        "validation_context_json",
        "validation_payload_schema_hash",
        "created_by",
        "updated_by",
        "created_at",
    )
]


def export_bundle(
    conn: Connection,
    tenant_id: str,
    *,
    workflow_ids: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    all: bool = False,
    exported_at: ExportedAt = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The bundle of the selected workflows (ids and keys may be combined, or ``all``).

    Unknown ids or keys raise 404 ``WORKFLOW_NOT_FOUND`` listing every missing one in
    ``details["missingWorkflowIds"]`` / ``details["missingKeys"]``; another tenant's rows count as
    missing.
    """
    condition = _selection(tenant_id, workflow_ids, keys, all)
    rows = [dict(r) for r in conn.execute(sa.select(*_DEF_COLUMNS).where(condition)).mappings()]
    _check_found(rows, workflow_ids or (), keys or (), all)
    versions = _versions_by_workflow(conn, tenant_id, condition)
    rows.sort(key=lambda r: locale_compare_key(r["key"]))
    workflows = []
    for index, row in enumerate(rows, start=1):
        workflows.append(_workflow_entry(row, versions.get(row["workflow_id"], [])))
        if progress is not None:
            progress(index, len(rows))
    return {
        "format": BUNDLE_FORMAT,
        "formatVersion": BUNDLE_FORMAT_VERSION,
        "exportedAt": _exported_at(exported_at, rows, versions),
        "workflows": workflows,
    }


def export_bundle_bytes(conn: Connection, tenant_id: str, **options: Any) -> bytes:
    """:func:`export_bundle` as canonical JSON bytes (what the HTTP route and the CLI write).

    The same bytes as ``dumps_canonical_bytes(export_bundle(...))``, but encoded one workflow at a
    time: the encoder's intermediate pieces for a whole large export cost several times its size.
    ``"workflows"`` sorts last among the four top-level keys, and a canonical string never holds a
    raw newline, so each entry is its own canonical text indented by two levels.
    """
    bundle = export_bundle(conn, tenant_id, **options)
    entries = [
        b"\n".join(b"    " + line for line in dumps_canonical_bytes(entry)[:-1].split(b"\n"))
        for entry in bundle["workflows"]
    ]
    head = dumps_canonical_bytes({**bundle, "workflows": []})
    return head[: -len(b"[]\n}\n")] + b"[\n" + b",\n".join(entries) + b"\n  ]\n}\n"


# --- selection ---------------------------------------------------------------------------------


def _selection(
    tenant_id: str, workflow_ids: Sequence[str] | None, keys: Sequence[str] | None, all: bool
) -> sa.ColumnElement[bool]:
    tenant = defs_t.c.tenant == tenant_id
    if all:
        return tenant
    if not workflow_ids and not keys:
        raise AlgaflowError(
            "NOTHING_TO_EXPORT", "Name at least one workflow id or key, or export all.", status=400
        )
    # Ids that are not UUIDs cannot exist; leaving them out keeps PostgreSQL from refusing the cast.
    ids = {u for u in map(canonical_uuid, workflow_ids or ()) if u is not None}
    return sa.and_(tenant, sa.or_(defs_t.c.workflow_id.in_(ids), defs_t.c.key.in_(set(keys or ()))))


def _check_found(
    rows: list[dict[str, Any]], workflow_ids: Iterable[str], keys: Iterable[str], all: bool
) -> None:
    if all:
        if not rows:
            raise AlgaflowError(
                "NOTHING_TO_EXPORT", "The tenant has no workflows to export.", status=404
            )
        return
    found_ids = {r["workflow_id"] for r in rows}
    found_keys = {r["key"] for r in rows}
    missing_ids = _unique(i for i in workflow_ids if canonical_uuid(i) not in found_ids)
    missing_keys = _unique(k for k in keys if k not in found_keys)
    if not missing_ids and not missing_keys:
        return
    details: dict[str, Any] = {}
    if missing_ids:
        details["missingWorkflowIds"] = missing_ids
    if missing_keys:
        details["missingKeys"] = missing_keys
    raise BundleError(
        "WORKFLOW_NOT_FOUND", f"Not found: {', '.join(missing_ids + missing_keys)}", details=details
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# --- rows -> bundle ----------------------------------------------------------------------------


def _versions_by_workflow(
    conn: Connection, tenant_id: str, condition: sa.ColumnElement[bool]
) -> dict[str, list[dict[str, Any]]]:
    selected = sa.select(defs_t.c.workflow_id).where(condition)
    query = (
        sa.select(
            versions_t.c.workflow_id,
            versions_t.c.version,
            versions_t.c.definition_json,
            versions_t.c.payload_schema_json,
            versions_t.c.updated_at,
        )
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id.in_(selected))
        .order_by(versions_t.c.workflow_id, versions_t.c.version)
    )
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(query).mappings():
        grouped.setdefault(row["workflow_id"], []).append(dict(row))
    return grouped


def _workflow_entry(row: dict[str, Any], versions: list[dict[str, Any]]) -> dict[str, Any]:
    pinned = row["pinned_payload_schema_ref"]
    return {
        "key": row["key"],
        "metadata": {
            "name": row["name"],
            "description": row["description"],
            "payloadSchemaRef": row["payload_schema_ref"],
            "payloadSchemaMode": row["payload_schema_mode"],
            "pinnedPayloadSchemaRef": pinned,
            "trigger": row["trigger"],
            "isSystem": False,
            "isVisible": row["is_visible"],
            "isPaused": row["is_paused"],
            "concurrencyLimit": row["concurrency_limit"],
            "autoPauseOnFailure": row["auto_pause_on_failure"],
            "failureRateThreshold": format_threshold(row["failure_rate_threshold"]),
            "failureRateMinRuns": row["failure_rate_min_runs"],
            "retentionPolicyOverride": row["retention_policy_override"],
        },
        "dependencies": workflow_dependency_summary(
            row["draft_definition"], [v["definition_json"] for v in versions], pinned
        ),
        "draft": {"draftVersion": row["draft_version"], "definition": row["draft_definition"]},
        "publishedVersions": [
            {
                "version": v["version"],
                "definition": v["definition_json"],
                "payloadSchemaJson": v["payload_schema_json"],
            }
            for v in versions
        ],
    }


def _exported_at(
    value: ExportedAt, rows: list[dict[str, Any]], versions: dict[str, list[dict[str, Any]]]
) -> str:
    if value is None:
        return iso_millis(utcnow())
    if value == LATEST_CHANGE:
        moments = [r["updated_at"] for r in rows]
        moments += [v["updated_at"] for vs in versions.values() for v in vs]
        return iso_millis(max(moments))
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            return iso_millis(value)
        except ValueError:
            pass  # in UTC it falls before year 0001 or after 9999
    raise AlgaflowError(
        "INVALID_EXPORTED_AT",
        "exportedAt must be a timezone-aware date-time within years 0001-9999 (UTC), "
        "or 'latest-change'.",
        status=400,
    )
