"""Workflow definitions: create, read, list, replace the draft, metadata, delete, publish.

Each function is one use case in one transaction, committed before it returns its view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from algaflow.definitions.publish import (
    next_version,
    prepare_publish,
    requested_version,
    validate_for_publish,
)
from algaflow.kernel.clock import utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import workflows as store


def create_workflow(
    uow: UnitOfWork, tenant_id: str, *, actor: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A new workflow with its draft (``fields`` as :func:`store.create_workflow` takes them)."""
    with uow.writing() as conn:
        row = store.create_workflow(conn, tenant_id, actor=actor, **fields)
    return row.to_view(with_draft=True)


def list_workflows(
    uow: UnitOfWork,
    tenant_id: str,
    *,
    key_prefix: str | None = None,
    status: str | None = None,
    paused: bool | None = None,
) -> list[dict[str, Any]]:
    with uow.reading() as conn:
        rows = store.list_workflows(
            conn, tenant_id, key_prefix=key_prefix, status=status, paused=paused
        )
    return [r.to_view() for r in rows]


def get_workflow(uow: UnitOfWork, tenant_id: str, workflow_id: str) -> dict[str, Any]:
    with uow.reading() as conn:
        row = store.get_workflow(conn, tenant_id, workflow_id)
    return row.to_view(with_draft=True)


def delete_workflow(uow: UnitOfWork, tenant_id: str, workflow_id: str) -> None:
    with uow.writing() as conn:
        store.delete_workflow(conn, tenant_id, workflow_id)


def list_versions(uow: UnitOfWork, tenant_id: str, workflow_id: str) -> list[dict[str, Any]]:
    with uow.reading() as conn:
        rows = store.list_versions(conn, tenant_id, workflow_id)
    return [v.to_view() for v in rows]


def update_metadata(
    uow: UnitOfWork,
    tenant_id: str,
    workflow_id: str,
    changes: dict[str, Any],
    *,
    actor: str | None = None,
) -> dict[str, Any]:
    with uow.writing() as conn:
        row = store.update_metadata(conn, tenant_id, workflow_id, changes, actor=actor)
    return row.to_view(with_draft=True)


def get_definition(
    uow: UnitOfWork, tenant_id: str, workflow_id: str, version: int
) -> dict[str, Any]:
    """The draft when ``version`` is the draft version, else that published version."""
    with uow.reading() as conn:
        row = store.get_workflow(conn, tenant_id, workflow_id)
        if version == row.draft_version:
            return {
                "workflowId": row.workflow_id,
                "version": version,
                "kind": "draft",
                "definition": row.draft_definition,
            }
        published = store.get_version(conn, tenant_id, workflow_id, version)
    return {**published.to_view(with_definition=True), "kind": "published"}


def replace_draft(
    uow: UnitOfWork,
    tenant_id: str,
    workflow_id: str,
    version: int,
    definition: dict[str, Any],
    *,
    actor: str | None = None,
) -> dict[str, Any]:
    """Replace the draft; ``version`` must be the current draft version (optimistic lock)."""
    with uow.writing() as conn:
        current = store.get_workflow(conn, tenant_id, workflow_id)
        if version != current.draft_version:
            raise AlgaflowError(
                "DRAFT_VERSION_CONFLICT",
                f"Draft version is {current.draft_version}, not {version}. Refresh and retry.",
                details={"draftVersion": current.draft_version},
            )
        row = store.replace_draft(conn, tenant_id, workflow_id, definition, actor=actor)
    return row.to_view(with_draft=True)


def validate(
    registry: Registry, definition: dict[str, Any], *, payload_schema_mode: str = "pinned"
) -> dict[str, Any]:
    """Publish validation without storing anything: ``{ok, errors, warnings}``."""
    return validate_for_publish(definition, registry, payload_schema_mode=payload_schema_mode)


def publish(
    uow: UnitOfWork,
    tenant_id: str,
    workflow_id: str,
    *,
    registry: Registry,
    version: int | None = None,
    definition: dict[str, Any] | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Publish the draft (or ``definition``); errors come back as data with ``ok: false``."""
    with uow.writing() as conn:
        outcome = publish_on(
            conn,
            tenant_id,
            workflow_id,
            registry=registry,
            version=version,
            definition=definition,
            actor=actor,
        )
    return outcome


def publish_on(
    conn: Connection,
    tenant_id: str,
    workflow_id: str,
    *,
    registry: Registry,
    version: Any = None,
    definition: Any = None,
    actor: str | None = None,
    event_catalog: Mapping[str, str] | None = None,
    known_secrets: set[str] | None = None,
) -> dict[str, Any]:
    """:func:`publish` in the caller's transaction: version ``max(version, latest + 1)``.

    Returns ``{"ok": True, "publishedVersion", "errors": [], "warnings"}``, or
    ``{"ok": False, "errors", "warnings"}`` with nothing written. A concurrent publish of the
    same number is ``WORKFLOW_VERSION_CONFLICT``.
    """
    row = store.get_workflow(conn, tenant_id, workflow_id)
    wanted = requested_version(version)
    if definition is not None:  # validation results echo values: refuse what cannot be stored
        store.check_storable({"definition": definition})
    latest = store.latest_version(conn, tenant_id, row.workflow_id)
    mode = row.payload_schema_mode or "pinned"
    prepared = prepare_publish(
        row.workflow_id,
        row.draft_definition if definition is None else definition,
        next_version(wanted, latest.version if latest else None),
        registry,
        payload_schema_mode=mode,
        event_catalog=event_catalog,
        known_secrets=known_secrets,
    )
    if prepared.ok:
        store.publish_draft(
            conn,
            tenant_id,
            row.workflow_id,
            version=prepared.version,
            definition=prepared.definition,
            payload_schema_json=prepared.payload_schema_json,
            mode=mode,
            validation=store.Validation(
                status=prepared.status,
                warnings=prepared.warnings,
                context=prepared.context,
                validated_at=utcnow(),
            ),
            actor=actor,
        )
    return prepared.outcome()
