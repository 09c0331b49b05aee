"""Bundle export: workflows of one tenant as an ``alga-psa.workflow-bundle`` v1 document.

Matches Alga's exporters (reference §4): workflows ordered by key with ``localeCompare``, published
versions ascending, audit fields and ids left out (the id still travels as ``definition.id``),
``isSystem`` always false, ``failureRateThreshold`` as the NUMERIC string (``"0.50"``), dependencies
per §2.6. One light query checks the selection and fixes the order (keys, ids, ``updated_at``);
definitions and versions are then read :data:`BATCH_SIZE` workflows at a time, so the streamed
bytes (:func:`iter_export_bundle_bytes`) need memory for one batch, not for the bundle.

``exportedAt`` is the export time, like Alga, unless pinned: fixtures kept in git need the same
database state to give the same bytes, so ``exported_at="latest-change"`` uses the latest
``updated_at`` of the exported rows instead of the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.bundle.canonical import dumps_canonical_bytes
from algaflow.bundle.collation import locale_compare_key
from algaflow.bundle.dependencies import workflow_dependency_summary
from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION
from algaflow.definitions.views import format_threshold
from algaflow.kernel.clock import iso_millis, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.store.tables import workflow_definition_versions as versions_t
from algaflow.store.tables import workflow_definitions as defs_t
from algaflow.store.types import canonical_uuid

LATEST_CHANGE = "latest-change"
ExportedAt = datetime | str | None | Literal["latest-change"]
Progress = Callable[[int, int], None]
#: Workflows read per step (two queries): bounds the rows alive at once during an export.
BATCH_SIZE = 50

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
    missing. The whole bundle is in memory: for large exports prefer
    :func:`iter_export_bundle_bytes`.
    """
    stamp, order = _plan(conn, tenant_id, workflow_ids, keys, all, exported_at)
    return {
        "format": BUNDLE_FORMAT,
        "formatVersion": BUNDLE_FORMAT_VERSION,
        "exportedAt": stamp,
        "workflows": list(_entries(conn, tenant_id, order, BATCH_SIZE, progress)),
    }


def iter_export_bundle_bytes(
    conn: Connection,
    tenant_id: str,
    *,
    workflow_ids: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    all: bool = False,
    exported_at: ExportedAt = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[bytes]:
    """:func:`export_bundle`'s canonical JSON bytes, in pieces, for streaming.

    Every error (nothing selected, 404, ``INVALID_EXPORTED_AT``) is raised by this call, before
    any piece exists, so an HTTP response can still become an error. The pieces then read
    ``batch_size`` workflows per step (two queries each) on ``conn``, which must stay open until
    they are consumed; only one batch of rows is alive at a time. A workflow deleted meanwhile
    is left out.
    """
    stamp, order = _plan(conn, tenant_id, workflow_ids, keys, all, exported_at)
    return _encode(stamp, _entries(conn, tenant_id, order, batch_size, None))


def export_bundle_bytes(conn: Connection, tenant_id: str, **options: Any) -> bytes:
    """:func:`iter_export_bundle_bytes` joined (what the CLI writes).

    The same bytes as ``dumps_canonical_bytes(export_bundle(...))``, without the bundle's value:
    the rows and the encoder's intermediate pieces for a whole large export cost several times its
    size.
    """
    return b"".join(iter_export_bundle_bytes(conn, tenant_id, **options))


def _encode(stamp: str, entries: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The canonical bundle, one workflow entry per piece.

    ``"workflows"`` sorts last among the four top-level keys, and a canonical string never holds a
    raw newline, so each entry is its own canonical text indented by two levels.
    """
    head = dumps_canonical_bytes(
        {
            "format": BUNDLE_FORMAT,
            "formatVersion": BUNDLE_FORMAT_VERSION,
            "exportedAt": stamp,
            "workflows": [],
        }
    )
    yield head[: -len(b"]\n}\n")]
    separator = b"\n"
    for entry in entries:
        text = dumps_canonical_bytes(entry)[:-1]
        yield separator + b"\n".join(b"    " + line for line in text.split(b"\n"))
        separator = b",\n"
    yield b"]\n}\n" if separator == b"\n" else b"\n  ]\n}\n"


# --- selection ---------------------------------------------------------------------------------


def _selection(
    tenant_id: str, workflow_ids: Sequence[str] | None, keys: Sequence[str] | None, all: bool
) -> sa.ColumnElement[bool]:
    tenant = defs_t.c.tenant == tenant_id
    if all:
        return tenant
    if not workflow_ids and not keys:
        raise AlgaflowError(
            "EXPORT_SELECTION_EMPTY", "Name at least one workflow id or key, or export all."
        )
    # Ids that are not UUIDs cannot exist; leaving them out keeps PostgreSQL from refusing the cast.
    ids = {u for u in map(canonical_uuid, workflow_ids or ()) if u is not None}
    return sa.and_(tenant, sa.or_(defs_t.c.workflow_id.in_(ids), defs_t.c.key.in_(set(keys or ()))))


def _check_found(
    rows: list[dict[str, Any]], workflow_ids: Iterable[str], keys: Iterable[str], all: bool
) -> None:
    if all:
        if not rows:
            raise AlgaflowError("NOTHING_TO_EXPORT", "The tenant has no workflows to export.")
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


# --- order, then rows in batches -> entries ----------------------------------------------------


def _plan(
    conn: Connection,
    tenant_id: str,
    workflow_ids: Sequence[str] | None,
    keys: Sequence[str] | None,
    all: bool,
    exported_at: ExportedAt,
) -> tuple[str, list[str]]:
    """Check the selection with one light query: ``(exportedAt, workflow ids in export order)``.

    Each row carries the newest ``updated_at`` of its published versions, so ``latest-change``
    is known before any definition is read.
    """
    condition = _selection(tenant_id, workflow_ids, keys, all)
    newest_version = (
        sa.select(sa.func.max(versions_t.c.updated_at))
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id == defs_t.c.workflow_id)
        .scalar_subquery()
    )
    query = sa.select(
        defs_t.c.workflow_id, defs_t.c.key, defs_t.c.updated_at, newest_version.label("newest")
    ).where(condition)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    _check_found(rows, workflow_ids or (), keys or (), all)
    moments = [m for r in rows for m in (r["updated_at"], r["newest"]) if m is not None]
    stamp = _exported_at(exported_at, moments)
    # Keys are unique per tenant; code-point order only breaks ties between keys that collate equal.
    rows.sort(key=lambda r: (locale_compare_key(r["key"]), r["key"]))
    return stamp, [r["workflow_id"] for r in rows]


def _entries(
    conn: Connection,
    tenant_id: str,
    order: list[str],
    batch_size: int,
    progress: Progress | None,
) -> Iterator[dict[str, Any]]:
    """The workflow entries in ``order``, reading ``batch_size`` workflows per two queries."""
    done = 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        query = sa.select(*_DEF_COLUMNS).where(
            defs_t.c.tenant == tenant_id, defs_t.c.workflow_id.in_(batch)
        )
        rows = {r["workflow_id"]: r for r in conn.execute(query).mappings()}
        versions = _versions_by_workflow(conn, tenant_id, batch)
        for workflow_id in batch:
            row = rows.get(workflow_id)
            done += 1
            if row is not None:
                yield _workflow_entry(row, versions.get(workflow_id, []))
            if progress is not None:
                progress(done, len(order))
        del rows, versions  # before the next batch is read, not after


def _versions_by_workflow(
    conn: Connection, tenant_id: str, workflow_ids: list[str]
) -> dict[str, list[Any]]:
    query = (
        sa.select(
            versions_t.c.workflow_id,
            versions_t.c.version,
            versions_t.c.definition_json,
            versions_t.c.payload_schema_json,
        )
        .where(versions_t.c.tenant == tenant_id, versions_t.c.workflow_id.in_(workflow_ids))
        .order_by(versions_t.c.workflow_id, versions_t.c.version)
    )
    grouped: dict[str, list[Any]] = {}
    for row in conn.execute(query).mappings():
        grouped.setdefault(row["workflow_id"], []).append(row)
    return grouped


def _workflow_entry(row: Mapping[str, Any], versions: list[Mapping[str, Any]]) -> dict[str, Any]:
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


def _exported_at(value: ExportedAt, moments: list[datetime]) -> str:
    if value is None:
        return iso_millis(utcnow())
    if value == LATEST_CHANGE:
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
    )
