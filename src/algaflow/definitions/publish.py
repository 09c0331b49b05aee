"""Publish (reference §5.1): validate a definition and freeze it as the next immutable version.

Validation problems are an ordinary result (``{"ok": False, "errors", "warnings"}``) and nothing
is written; only bad *input* (an unknown workflow, a malformed version number) and a lost race
for the version number are :class:`~algaflow.kernel.errors.AlgaflowError`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from algaflow.kernel.clock import utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.store import workflows as store
from algaflow.store.tables import workflow_definitions as defs_t

from . import codes
from .validation import PublishIssue, issue, payload_schema_snapshot, validate_definition

if TYPE_CHECKING:
    from algaflow.registry import Registry

TIME_TRIGGER_TYPES = ("schedule", "recurring")


def requested_version(version: Any) -> int | None:
    """A version given as a number or a numeric string (Alga accepts both); ``None`` if absent."""
    if version is None:
        return None
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version.strip())
    elif isinstance(version, float) and version.is_integer():
        version = int(version)
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not 1 <= version <= store.INT4_MAX
    ):
        raise AlgaflowError(
            "INVALID_FIELD",
            f"version must be a positive integer, got {version!r}",
            details={"field": "version"},
        )
    return version


def strip_time_trigger(definition: dict[str, Any]) -> None:
    """Inline schedule/recurring triggers are obsolete: remove them (time starts are schedules)."""
    trigger = definition.get("trigger")
    if isinstance(trigger, dict) and trigger.get("type") in TIME_TRIGGER_TYPES:
        del definition["trigger"]


def apply_payload_schema_mode(
    definition: dict[str, Any], mode: str, event_catalog: Mapping[str, str] | None = None
) -> PublishIssue | None:
    """In ``inferred`` mode take ``payloadSchemaRef`` from the event trigger (edits in place).

    Returns the ``PAYLOAD_SCHEMA_INFERENCE_UNSUPPORTED_TRIGGER`` error when there is no event
    trigger to infer from. ``pinned`` mode leaves the definition alone.
    """
    if mode != "inferred":
        return None
    trigger = definition.get("trigger")
    event_name = trigger.get("eventName") if isinstance(trigger, dict) else None
    if not isinstance(trigger, dict) or trigger.get("type") != "event" or not event_name:
        return issue(
            codes.PAYLOAD_SCHEMA_INFERENCE_UNSUPPORTED_TRIGGER,
            "root",
            "Payload schema mode 'inferred' needs an event trigger with an event name; "
            "pin a payload schema instead",
        )
    inferred = trigger.get("sourcePayloadSchemaRef") or (
        (event_catalog or {}).get(event_name) if isinstance(event_name, str) else None
    )
    if inferred:
        definition["payloadSchemaRef"] = inferred
    return None


def validate_for_publish(
    definition: Any,
    registry: Registry,
    *,
    payload_schema_mode: str = "pinned",
    event_catalog: Mapping[str, str] | None = None,
    known_secrets: set[str] | None = None,
) -> dict[str, Any]:
    """``{ok, errors, warnings}`` for a draft, without a database (the validate endpoint).

    Time triggers are *not* stripped here, so their checks can still tell the author about them.
    """
    candidate = copy.deepcopy(definition)
    if isinstance(candidate, dict):
        refused = apply_payload_schema_mode(candidate, payload_schema_mode, event_catalog)
        if refused:
            return {"ok": False, "errors": [refused], "warnings": []}
    result = validate_definition(
        candidate, registry, event_catalog=event_catalog, known_secrets=known_secrets
    )
    return {"ok": result.ok, "errors": result.errors, "warnings": result.warnings}


def publish_workflow(
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
    """Publish ``definition`` (default: the stored draft) as version ``max(version, latest+1)``.

    Returns ``{"ok": True, "publishedVersion", "errors": [], "warnings"}``, or
    ``{"ok": False, "errors", "warnings"}`` with nothing written.
    """
    row = store.get_workflow(conn, tenant_id, workflow_id)
    workflow_id = row["workflow_id"]
    wanted = requested_version(version)
    if definition is not None:  # validation results echo values: refuse what cannot be stored
        store.check_storable({"definition": definition})
    latest = store.latest_version(conn, tenant_id, workflow_id)
    next_version = (latest["version"] if latest else 0) + 1
    to_publish = max(wanted, next_version) if wanted is not None else next_version

    candidate = copy.deepcopy(row["draft_definition"] if definition is None else definition)
    mode = row["payload_schema_mode"] or "pinned"
    if isinstance(candidate, dict):
        candidate["id"] = workflow_id
        candidate["version"] = to_publish
        strip_time_trigger(candidate)
        refused = apply_payload_schema_mode(candidate, mode, event_catalog)
        if refused:
            return {"ok": False, "errors": [refused], "warnings": []}
    snapshot = payload_schema_snapshot(
        registry, candidate.get("payloadSchemaRef") if isinstance(candidate, dict) else None
    )
    result = validate_definition(
        candidate,
        registry,
        payload_schema_json=snapshot,
        event_catalog=event_catalog,
        known_secrets=known_secrets,
    )
    if not result.ok:
        return {"ok": False, "errors": result.errors, "warnings": result.warnings}

    now = utcnow()
    store.insert_version(
        conn,
        tenant_id,
        workflow_id,
        version=to_publish,
        definition_json=candidate,
        payload_schema_json=snapshot,
        validation_status=result.status,
        validation_errors=[],
        validation_warnings=result.warnings,
        validated_at=now,
        published_by=actor,
    )
    conn.execute(
        defs_t.update()
        .where(defs_t.c.tenant == tenant_id, defs_t.c.workflow_id == workflow_id)
        .values(
            status="published",
            draft_definition={**candidate, "version": to_publish + 1},
            draft_version=to_publish + 1,
            name=candidate["name"],
            description=candidate.get("description"),
            trigger=candidate.get("trigger"),
            payload_schema_ref=candidate["payloadSchemaRef"],
            payload_schema_provenance=mode,
            validation_status=result.status,
            validation_errors=[],
            validation_warnings=result.warnings,
            validated_at=now,
            validation_context_json=result.context,
            validation_payload_schema_hash=result.context["payloadSchemaHash"],
            updated_by=actor,
            updated_at=now,
        )
    )
    return {"ok": True, "publishedVersion": to_publish, "errors": [], "warnings": result.warnings}
