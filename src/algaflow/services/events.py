"""Events: resume the waits an event matches and start the runs its triggers name (§7.1).

Checks and the trigger lookup only read, so they run before the write transaction (on SQLite,
the database's one write lock); the delivery is one transaction; then the started and resumed
runs (and the parents that resumed runs woke by ending) go to their backends
(:mod:`algaflow.services.backends`): the answer comes once they are durably recorded, and
workers execute them, unless the caller asks to wait for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from algaflow.definitions.correlation import correlation_keys
from algaflow.expressions import MappingError, resolve_input_mapping
from algaflow.kernel.clock import new_id, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.runtime.core.waits import filters_pass
from algaflow.runtime.embedded.driver import Driver, DriverOptions, Launch
from algaflow.runtime.envelope import fill_envelope
from algaflow.services.backends import (
    Handoff,
    RunBackend,
    backend_of,
    configured_backend,
    execute_all,
)
from algaflow.services.run_inputs import check_payload_size, check_storable
from algaflow.services.runs import check_launchable, schema_ref
from algaflow.services.tasks import mark_task_completed
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import events as event_records
from algaflow.store import runs, waits
from algaflow.store.types import canonical_uuid
from algaflow.store.workflow_rows import VersionRow, WorkflowRow
from algaflow.store.workflows import latest_version, published_unpaused, triggered_candidates


def emit_event(
    uow: UnitOfWork,
    tenant_id: str,
    name: str,
    payload: Any,
    *,
    registry: Registry,
    correlation_key: str | None = None,
    payload_schema_ref: str | None = None,
    event_id: str | None = None,
    actor: Mapping[str, Any] | None = None,
    options: DriverOptions | None = None,
    wait: bool = False,
    backend: RunBackend | None = None,
) -> dict[str, Any]:
    """Deliver an event and hand the runs it started or resumed to their backends.

    The answer comes once the delivery is committed: the runs are recorded, workers execute
    them. ``wait`` executes them first (the embedded backend drives them in this call), until
    each waits or ends. ``backend`` is the one new runs get (the configured one by default, read
    only when some workflow's trigger names the event: an event that can start nothing loads no
    settings).

    The payload's envelope is filled first (:func:`~algaflow.runtime.envelope.fill_envelope`:
    ``tenantId`` is always ``tenant_id``; ``occurredAt`` and ``actor``, the system actor by
    default, when missing), as Alga does. ``event_id`` (a UUID) makes a delivery idempotent per
    tenant: a second delivery with the same id starts nothing (each run's trigger fire key is
    ``event:<eventId>:<workflowId>``). A workflow published between the lookup and the delivery
    is not started, as if the event had come a moment earlier.
    """
    with uow.reading() as conn:
        event = prepare_event(conn, tenant_id, name, payload, registry=registry,
                              correlation_key=correlation_key,
                              payload_schema_ref=payload_schema_ref, event_id=event_id,
                              actor=actor)  # fmt: skip
    if backend is None and event.candidates:
        backend = configured_backend()
    with uow.writing() as conn:
        result, handoffs = _deliver(conn, event, registry=registry, options=options,
                                    backend=backend)  # fmt: skip
    execute_all(uow, tenant_id, handoffs, registry=registry, options=options, wait=wait,
                backend=backend)  # fmt: skip
    return result


@dataclass(frozen=True)
class PreparedEvent:
    """An event checked and ready to deliver: everything that needs no write lock."""

    tenant_id: str
    event_id: str
    name: str
    payload: Any
    payload_schema_ref: str | None
    keys: list[str]
    candidates: list[str]  # workflows whose trigger may name the event (re-checked on delivery)


def prepare_event(
    conn: Connection,
    tenant_id: str,
    name: str,
    payload: Any,
    *,
    registry: Registry,
    correlation_key: str | None = None,
    payload_schema_ref: str | None = None,
    event_id: str | None = None,
    actor: Mapping[str, Any] | None = None,
) -> PreparedEvent:
    """Check the event (refusals write nothing), fill its envelope and find the workflows whose
    trigger names it. Only reads: the durable path runs it before taking the write lock."""
    if not isinstance(name, str) or not name.strip():
        raise AlgaflowError("INVALID_FIELD", "eventName must be a non-empty string.",
                            details={"field": "eventName"})  # fmt: skip
    payload = {} if payload is None else payload
    event_id = _event_id(event_id)
    check_payload_size(payload)
    check_storable(eventName=name, correlationKey=correlation_key,
                   payloadSchemaRef=payload_schema_ref, payload=payload)  # fmt: skip
    payload = fill_envelope(payload, tenant_id=tenant_id, now=utcnow(), actor=actor)
    _check_event_payload(registry, payload, payload_schema_ref)
    return PreparedEvent(
        tenant_id=tenant_id,
        event_id=event_id,
        name=name,
        payload=payload,
        payload_schema_ref=payload_schema_ref,
        keys=correlation_keys(name, payload, correlation_key),
        candidates=triggered_candidates(conn, tenant_id, name),
    )


def _deliver(
    conn: Connection,
    event: PreparedEvent,
    *,
    registry: Registry,
    options: DriverOptions | None,
    backend: RunBackend | None,
) -> tuple[dict[str, Any], dict[str, Handoff]]:
    """Record a prepared event, resume its waits and start its runs (the writes): the result,
    and what each backend is left to execute."""
    tenant_id, event_id, name, payload, keys = (
        event.tenant_id, event.event_id, event.name, event.payload, event.keys
    )  # fmt: skip
    now = utcnow()
    if not event_records.record_event(
        conn, tenant=tenant_id, event_id=event_id, event_name=name,
        correlation_key=keys[0] if keys else None, payload=payload,
        payload_schema_ref=event.payload_schema_ref, at=now,
    ):  # fmt: skip
        duplicate = {"status": "no_wait", "eventId": event_id, "startedRuns": [],
                     "resumedRuns": [], "duplicate": True}  # fmt: skip
        return duplicate, {}
    handoffs: dict[str, Handoff] = {}
    resumed, matched_wait = _resume_event_waits(conn, registry, options, backend, handoffs, event)
    driver = Driver(conn, registry, options=options)
    started, errors = _start_triggered(conn, driver, event, backend)
    if started and backend is not None:
        handoffs.setdefault(backend.name, Handoff()).runs.extend(started)
    matched = resumed[0] if resumed else (started[0] if started else None)
    event_records.mark_processed(
        conn, tenant_id, event_id, at=utcnow(), matched_run_id=matched,
        matched_wait_id=matched_wait,
        error_message="; ".join(errors) if errors and not matched else None,
    )  # fmt: skip
    result: dict[str, Any] = {
        "status": "resumed" if resumed else "no_wait",
        "eventId": event_id,
        "startedRuns": started,
        "resumedRuns": resumed,
    }
    if len(resumed) == 1:
        result["runId"] = resumed[0]
    if errors:
        result["errors"] = errors
    return result, handoffs


def _event_id(value: Any) -> str:
    """A new id, or the caller's in canonical form; anything but a UUID is refused (422)."""
    if value is None:
        return new_id()
    event_id = canonical_uuid(value)
    if event_id is None:
        raise AlgaflowError("INVALID_FIELD", "eventId must be a UUID.",
                            details={"field": "eventId"})  # fmt: skip
    return event_id


def _check_event_payload(registry: Registry, payload: Any, ref: str | None) -> None:
    """A submitted schema ref must be registered and the payload must pass it (nothing written)."""
    if ref is None:
        return
    if not registry.schemas.has(ref):
        raise AlgaflowError(
            "UNKNOWN_PAYLOAD_SCHEMA_REF",
            f"Unknown payload schema ref: {ref}",
            details={"schemaRef": ref},
        )
    issues = registry.schemas.validate(ref, payload)
    if issues:
        raise AlgaflowError(
            "PAYLOAD_VALIDATION_FAILED",
            "Event payload failed validation",
            details={"schemaRef": ref, "issues": issues},
        )


def _resume_event_waits(
    conn: Connection,
    registry: Registry,
    options: DriverOptions | None,
    backend: RunBackend | None,
    handoffs: dict[str, Handoff],
    event: PreparedEvent,
) -> tuple[list[str], str | None]:
    """Every WAITING event/human wait with this name and one of the keys, whose filters pass,
    resolved by the backend of its run (what is left to execute goes into ``handoffs``).

    Returns the runs resumed and the first wait resolved.
    """
    tenant_id, name, keys, payload, event_id = (
        event.tenant_id, event.name, event.keys, event.payload, event.event_id
    )  # fmt: skip
    if not keys:
        return [], None
    resumed: list[str] = []
    first_wait = None
    for wait in waits.event_waits(conn, tenant_id, name, keys):
        if wait.wait_type == "human":  # its key is the task's id (matched, so never null)
            outcome = {"ok": {"taskId": wait.key, "eventName": name, "response": payload}}
            mark_task_completed(conn, str(wait.key), payload)
        elif filters_pass((wait.payload or {}).get("filters"), payload):
            outcome = {"ok": {"eventId": event_id, "eventName": name, "payload": payload}}
        else:
            continue
        owner = backend_of(conn, tenant_id, wait.run_id, backend)
        handoff = owner.resolve_wait(
            conn, registry, tenant_id, wait.run_id, wait.wait_id, outcome, options
        )
        if handoff is not None:
            resumed.append(wait.run_id)
            mine = handoffs.setdefault(owner.name, Handoff())
            mine.runs.extend(handoff.runs)
            mine.resolved.extend(handoff.resolved)
            first_wait = first_wait or wait.wait_id
    return resumed, first_wait


def _start_triggered(
    conn: Connection, driver: Driver, event: PreparedEvent, backend: RunBackend | None
) -> tuple[list[str], list[str]]:
    """Start every published, unpaused candidate whose trigger names the event (on
    ``backend``, given whenever there are candidates)."""
    if not event.candidates or backend is None:
        return [], []
    engine = backend.name
    tenant_id, name = event.tenant_id, event.name
    started: list[str] = []
    errors: list[str] = []
    for workflow in published_unpaused(conn, tenant_id, event.candidates):
        version = latest_version(conn, tenant_id, workflow.workflow_id)
        if version is None:
            continue
        definition = version.definition_json or {}
        trigger = definition.get("trigger") or workflow.trigger or {}
        if trigger.get("type") != "event" or trigger.get("eventName") != name:
            continue
        try:
            run_id = _start_for_event(
                conn, driver, tenant_id, workflow, version, trigger, name, event.payload,
                event.keys, event.payload_schema_ref, event.event_id, engine,
            )  # fmt: skip
        except AlgaflowError as exc:
            errors.append(f"{workflow.key}: {exc.message}")
            continue
        started.append(run_id)
    return started, errors


def _start_for_event(
    conn: Connection,
    driver: Driver,
    tenant_id: str,
    workflow: WorkflowRow,
    version: VersionRow,
    trigger: dict[str, Any],
    name: str,
    payload: Any,
    keys: list[str],
    payload_schema_ref: str | None,
    event_id: str,
    engine: str,
) -> str:
    registry = driver.registry
    ref = schema_ref(workflow, version)
    if not ref or not registry.schemas.has(ref):
        raise AlgaflowError("WORKFLOW_PAYLOAD_SCHEMA_UNAVAILABLE",
                            f"payload schema {ref!r} is not registered")  # fmt: skip
    source_ref = trigger.get("sourcePayloadSchemaRef") or payload_schema_ref or ref
    mapping = trigger.get("payloadMapping")
    mapped = payload
    if mapping:
        context = {"event": {"name": name, "correlationKey": keys[0] if keys else None,
                             "payload": payload, "payloadSchemaRef": source_ref}}  # fmt: skip
        try:
            mapped = expand_dotted(resolve_input_mapping(mapping, context, now=utcnow()) or {})
        except MappingError as exc:
            raise AlgaflowError("TRIGGER_MAPPING_FAILED", str(exc)) from None
    elif source_ref != ref:
        raise AlgaflowError(
            "TRIGGER_MAPPING_REQUIRED",
            f"event schema {source_ref} differs from {ref} and there is no mapping",
        )
    issues = registry.schemas.validate(ref, mapped)
    if issues:
        raise AlgaflowError(
            "PAYLOAD_VALIDATION_FAILED",
            f"payload failed {ref}: {issues[0]['path']} {issues[0]['message']}",
        )
    check_launchable(conn, workflow)
    fire_key = f"event:{event_id}:{workflow.workflow_id}"
    existing = runs.run_id_by_fire_key(conn, tenant_id, fire_key)
    if existing:
        return existing
    launch = Launch(
        trigger_type="event",
        trigger_metadata={"eventType": name, "eventId": event_id,
                          "sourcePayloadSchemaRef": source_ref,
                          "triggerMappingApplied": bool(mapping)},
        trigger_fire_key=fire_key,
        event_type=name,
        source_payload_schema_ref=source_ref,
        trigger_mapping_applied=bool(mapping),
        engine=engine,
    )  # fmt: skip
    return driver.create_run(tenant_id, workflow, version, mapped, launch)


def expand_dotted(mapping: dict[str, Any]) -> dict[str, Any]:
    """``{"ticket.id": x}`` -> ``{"ticket": {"id": x}}``; later keys overwrite earlier ones."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    return out
