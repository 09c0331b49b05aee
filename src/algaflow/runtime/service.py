"""Run services: what the HTTP routes, the CLI and the tests call.

Each function takes a connection, then the tenant id. With ``drive=True`` (the default) the runs a
call starts or resumes are executed right away on that connection, inside the caller's transaction.
With ``drive=False`` they are only recorded (RUNNING); :func:`drive_runs` or :func:`run_due_work`
then execute them with a commit after every step, which is what the ``*_durable`` functions (the
API and the CLI) do.

Inputs are refused before anything is written when the databases cannot store them
(``UNSTORABLE_VALUE``: NUL, lone surrogates, non-finite numbers), so both behave the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from algaflow.expressions import MappingError
from algaflow.kernel.clock import new_id, utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.store import run_tables as rt
from algaflow.store.engine import write_connection
from algaflow.store.tables import (
    version_trigger_event,
    workflow_definition_versions,
    workflow_definitions,
    workflow_trigger_event,
)
from algaflow.store.types import canonical_uuid, unstorable_paths
from algaflow.store.workflows import get_version, get_workflow, latest_version

from .core.waits import filters_pass, timeout_error
from .correlation import correlation_keys
from .embedded import records
from .embedded.current_time import resolve_input_mapping
from .embedded.driver import Driver, DriverOptions, Launch
from .embedded.views import log_view, run_view, step_view, task_view, wait_view
from .envelope import fill_envelope

MAX_PAYLOAD_BYTES = 512 * 1024
DEFAULT_LIMIT = 100
log = logging.getLogger("algaflow.runtime")


def check_storable(**fields: Any) -> None:
    """``UNSTORABLE_VALUE`` (400) listing every value in ``fields`` the databases cannot store."""
    problems = [{"instancePath": p, "message": m} for p, m in unstorable_paths(fields)]
    if problems:
        first = problems[0]
        raise AlgaflowError(
            "UNSTORABLE_VALUE",
            f"{first['instancePath']}: {first['message']}",
            details={"errors": problems},
        )


def check_payload_size(payload: Any) -> None:
    """``PAYLOAD_TOO_LARGE`` (413) for a run or event payload over 512 KiB of UTF-8 JSON."""
    size = len(json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8", "replace"))
    if size > MAX_PAYLOAD_BYTES:
        raise AlgaflowError(
            "PAYLOAD_TOO_LARGE",
            "Workflow run payload exceeds 512 KiB",
            details={"maxBytes": MAX_PAYLOAD_BYTES, "bytes": size},
        )


# --- starting runs -------------------------------------------------------------------------------


def start_run(
    conn: Connection,
    tenant_id: str,
    workflow_id: str,
    *,
    registry: Any,
    version: int | None = None,
    payload: Any = None,
    drive: bool = True,
    options: DriverOptions | None = None,
) -> dict[str, Any]:
    """Start a run manually (§7.4). Refusals raise; an invalid payload also records a FAILED run.

    The FAILED run of ``PAYLOAD_VALIDATION_FAILED`` is written on ``conn`` before the error is
    raised: commit it to keep it (the route and the CLI do).
    """
    payload = {} if payload is None else payload
    check_payload_size(payload)
    check_storable(payload=payload)
    workflow = get_workflow(conn, tenant_id, workflow_id)
    _check_launchable(conn, workflow)
    row = _pick_version(conn, tenant_id, workflow, version)
    ref = _schema_ref(workflow, row)
    payload = _drop_undeclared_tenant_id(registry, ref, payload)
    driver = Driver(conn, registry, options=options)
    issues = _payload_issues(registry, ref, payload)
    if issues:
        error = {
            "message": "Workflow payload failed validation",
            "stage": "launch",
            "details": {"issues": issues},
        }
        run_id = driver.create_run(tenant_id, workflow, row, payload, failed=error)
        raise AlgaflowError(
            "PAYLOAD_VALIDATION_FAILED",
            "Workflow payload failed validation",
            details={"runId": run_id, "schemaRef": ref, "issues": issues},
        )
    run_id = driver.create_run(tenant_id, workflow, row, payload, Launch(trigger_type="manual"))
    if drive:
        driver.drive(tenant_id, run_id)
    return get_run(conn, tenant_id, run_id)


def _check_launchable(conn: Connection, workflow: dict[str, Any]) -> None:
    """Paused workflows and workflows at their concurrency limit start nothing (§3.1)."""
    if workflow["is_paused"]:
        raise AlgaflowError(
            "WORKFLOW_PAUSED",
            "Workflow is paused",
            details={"workflowId": workflow["workflow_id"]},
        )
    limit = workflow["concurrency_limit"]
    if limit is not None:
        active = conn.execute(
            sa.select(sa.func.count())
            .select_from(rt.workflow_runs)
            .where(
                rt.workflow_runs.c.workflow_id == workflow["workflow_id"],
                rt.workflow_runs.c.status.in_(records.ACTIVE),
            )
        ).scalar_one()
        if active >= limit:
            raise AlgaflowError(
                "CONCURRENCY_LIMIT_REACHED",
                "Workflow concurrency limit reached",
                details={"workflowId": workflow["workflow_id"], "limit": limit, "active": active},
            )


def _pick_version(
    conn: Connection, tenant_id: str, workflow: dict[str, Any], version: int | None
) -> dict[str, Any]:
    if version is not None:
        return get_version(conn, tenant_id, workflow["workflow_id"], version)
    row = latest_version(conn, tenant_id, workflow["workflow_id"])
    if row is None:
        raise AlgaflowError(
            "WORKFLOW_NOT_PUBLISHED",
            "Workflow has no published version",
            details={"workflowId": workflow["workflow_id"]},
        )
    return row


def _schema_ref(workflow: dict[str, Any], version: dict[str, Any]) -> str | None:
    ref = (version["definition_json"] or {}).get("payloadSchemaRef")
    return ref if isinstance(ref, str) and ref else workflow["payload_schema_ref"]


def _payload_issues(registry: Any, ref: str | None, payload: Any) -> list[dict[str, str]]:
    if not ref or not registry.schemas.has(ref):
        return []
    return registry.schemas.validate(ref, payload)


def _drop_undeclared_tenant_id(registry: Any, ref: str | None, payload: Any) -> Any:
    """A top-level ``tenantId`` is removed unless the payload schema declares one (§7.4)."""
    if not isinstance(payload, dict) or "tenantId" not in payload:
        return payload
    schema = registry.schemas.get(ref) if ref and registry.schemas.has(ref) else None
    if isinstance(schema, dict) and "tenantId" in (schema.get("properties") or {}):
        return payload
    return {k: v for k, v in payload.items() if k != "tenantId"}


# --- reading and canceling -----------------------------------------------------------------------


def get_run(
    conn: Connection, tenant_id: str, run_id: str, *, with_steps: bool = True
) -> dict[str, Any]:
    run = records.load_run(conn, tenant_id, _run_id(run_id))
    view = run_view(run)
    if with_steps:
        steps = conn.execute(
            sa.select(rt.workflow_run_steps)
            .where(rt.workflow_run_steps.c.run_id == run["run_id"])
            .order_by(rt.workflow_run_steps.c.started_at, rt.workflow_run_steps.c.step_path)
        ).mappings()
        view["steps"] = [step_view(s) for s in steps]
        waits = conn.execute(
            sa.select(rt.workflow_run_waits)
            .where(rt.workflow_run_waits.c.run_id == run["run_id"])
            .order_by(rt.workflow_run_waits.c.created_at)
        ).mappings()
        view["waits"] = [wait_view(w) for w in waits]
        view["logs"] = [log_view(line) for line in records.run_logs(conn, run["run_id"])]
    return view


def _run_id(value: Any) -> str:
    """Ids that are not UUIDs cannot exist: answer them as not found, before any SQL runs."""
    run_id = canonical_uuid(value)
    if run_id is None:
        raise records.run_not_found(value)
    return run_id


def list_runs(
    conn: Connection,
    tenant_id: str,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    """Newest first. A ``workflow_id`` that is not a UUID matches no run."""
    runs = rt.workflow_runs
    query = sa.select(runs).where(runs.c.tenant == tenant_id)
    if workflow_id is not None:
        workflow_key = canonical_uuid(workflow_id)
        if workflow_key is None:
            return []
        query = query.where(runs.c.workflow_id == workflow_key)
    if status is not None:
        if status not in rt.RUN_STATUSES:
            raise AlgaflowError(
                "INVALID_FIELD",
                f"status must be one of {', '.join(rt.RUN_STATUSES)}",
                details={"field": "status"},
            )
        query = query.where(runs.c.status == status)
    query = query.order_by(runs.c.started_at.desc(), runs.c.run_id).limit(max(1, min(limit, 1000)))
    return [run_view(dict(r)) for r in conn.execute(query).mappings()]


def cancel_run(conn: Connection, tenant_id: str, run_id: str) -> dict[str, Any]:
    """CANCELED, with open waits, tasks, steps and child runs canceled too; a parent that waits on
    this run is canceled as well (cancellation cannot be caught)."""
    run = records.load_run(conn, tenant_id, _run_id(run_id))
    if run["status"] in rt.TERMINAL_STATUSES:
        raise AlgaflowError(
            "RUN_NOT_CANCELABLE",
            f"Run is already {run['status']}",
            details={"runId": run["run_id"], "status": run["status"]},
        )
    now = utcnow()
    _cancel_tree(conn, run, now)
    if run["parent_run_id"]:
        parent = records.load_run(conn, tenant_id, run["parent_run_id"])
        if parent["status"] in records.ACTIVE:
            _cancel_tree(conn, parent, now)
    return get_run(conn, tenant_id, run["run_id"])


def _cancel_tree(conn: Connection, run: dict[str, Any], now: datetime) -> None:
    runs = rt.workflow_runs
    updated = records.update_run(
        conn, run["run_id"], only_if=records.ACTIVE, status="CANCELED", node_path=None,
        completed_at=now, updated_at=now, lease_owner=None, lease_expires_at=None,
        error_json={"category": "Cancellation", "message": "Run canceled by operator",
                    "nodePath": run["node_path"], "at": now.isoformat()},
    )  # fmt: skip
    if not updated:
        return
    records.close_open_records(conn, run["run_id"], at=now, step_status="CANCELED")
    records.log(
        conn, tenant_id=run["tenant"], run_id=run["run_id"], level="WARN",
        message="Run canceled by operator", at=now,
    )  # fmt: skip
    children = conn.execute(
        sa.select(runs).where(
            runs.c.parent_run_id == run["run_id"], runs.c.status.in_(records.ACTIVE)
        )
    ).mappings()
    for child in [dict(c) for c in children]:
        _cancel_tree(conn, child, now)


# --- events --------------------------------------------------------------------------------------


def emit_event(
    conn: Connection,
    tenant_id: str,
    name: str,
    payload: Any,
    *,
    registry: Any,
    correlation_key: str | None = None,
    payload_schema_ref: str | None = None,
    event_id: str | None = None,
    actor: Mapping[str, Any] | None = None,
    drive: bool = True,
    options: DriverOptions | None = None,
) -> dict[str, Any]:
    """Resume the event waits it matches, then start the runs its triggers name (§7.1).

    The payload's envelope is filled first (:func:`~.envelope.fill_envelope`: ``tenantId`` is
    always ``tenant_id``; ``occurredAt`` and ``actor``, :data:`~.envelope.SYSTEM_ACTOR` by
    default, when missing), as Alga does. ``event_id`` (a UUID) makes a delivery idempotent per
    tenant: a second delivery with the same id starts nothing (each run's trigger fire key is
    ``event:<eventId>:<workflowId>``).
    """
    event = prepare_event(conn, tenant_id, name, payload, registry=registry,
                          correlation_key=correlation_key,
                          payload_schema_ref=payload_schema_ref, event_id=event_id,
                          actor=actor)  # fmt: skip
    result, to_drive = _deliver(conn, event, registry=registry, options=options)
    if drive:
        _drive_in_transaction(conn, tenant_id, to_drive, registry=registry, options=options)
    return result


def _drive_in_transaction(
    conn: Connection,
    tenant_id: str,
    run_ids: list[str],
    *,
    registry: Any,
    options: DriverOptions | None,
) -> None:
    """Drive ``run_ids`` inside the caller's transaction (the non-durable entry points)."""
    driver = Driver(conn, registry, options=options)
    for run_id in run_ids:
        driver.drive(tenant_id, run_id)


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
    registry: Any,
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
    conn: Connection, event: PreparedEvent, *, registry: Any, options: DriverOptions | None
) -> tuple[dict[str, Any], list[str]]:
    """Record a prepared event, resume its waits and start its runs (the writes): the result,
    and the runs to drive."""
    tenant_id, event_id, name, payload, keys = (
        event.tenant_id, event.event_id, event.name, event.payload, event.keys
    )  # fmt: skip
    now = utcnow()
    events = rt.workflow_runtime_events
    if not records.insert_ignore(
        conn, events, ("tenant", "event_id"), event_id=event_id, tenant=tenant_id,
        event_name=name, correlation_key=keys[0] if keys else None, payload=payload,
        payload_schema_ref=event.payload_schema_ref, created_at=now,
    ):  # fmt: skip
        duplicate = {"status": "no_wait", "eventId": event_id, "startedRuns": [],
                     "resumedRuns": [], "duplicate": True}  # fmt: skip
        return duplicate, []
    driver = Driver(conn, registry, options=options)
    resumed, matched_wait, to_drive = _resume_event_waits(
        conn, driver, tenant_id, name, keys, payload, event_id
    )
    started, errors = _start_triggered(conn, driver, event)
    matched = resumed[0] if resumed else (started[0] if started else None)
    conn.execute(
        events.update()
        .where(events.c.tenant == tenant_id, events.c.event_id == event_id)
        .values(
            processed_at=utcnow(), matched_run_id=matched, matched_wait_id=matched_wait,
            error_message="; ".join(errors) if errors and not matched else None,
        )
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
    return result, [*to_drive, *started]


def _event_id(value: Any) -> str:
    """A new id, or the caller's in canonical form; anything but a UUID is refused (422)."""
    if value is None:
        return new_id()
    event_id = canonical_uuid(value)
    if event_id is None:
        raise AlgaflowError("INVALID_FIELD", "eventId must be a UUID.",
                            details={"field": "eventId"})  # fmt: skip
    return event_id


def _check_event_payload(registry: Any, payload: Any, ref: str | None) -> None:
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
    driver: Driver,
    tenant_id: str,
    name: str,
    keys: list[str],
    payload: Any,
    event_id: str,
) -> tuple[list[str], str | None, list[str]]:
    """Every WAITING event/human wait with this name and one of the keys, whose filters pass.

    Returns the runs resumed, the first wait resolved and the runs to drive now.
    """
    if not keys:
        return [], None, []
    waits = rt.workflow_run_waits
    rows = conn.execute(
        sa.select(waits)
        .where(
            waits.c.tenant == tenant_id,
            waits.c.status == "WAITING",
            waits.c.wait_type.in_(("event", "human")),
            waits.c.event_name == name,
            waits.c.key.in_(keys),
        )
        .order_by(waits.c.created_at)
    ).mappings()
    resumed: list[str] = []
    to_drive: list[str] = []
    first_wait = None
    for wait in [dict(r) for r in rows]:
        if wait["wait_type"] == "human":
            outcome = {"ok": {"taskId": wait["key"], "eventName": name, "response": payload}}
            _complete_task_row(conn, wait["key"], payload)
        elif filters_pass((wait["payload"] or {}).get("filters"), payload):
            outcome = {"ok": {"eventId": event_id, "eventName": name, "payload": payload}}
        else:
            continue
        runs = driver.resolve_wait(tenant_id, wait["run_id"], wait["wait_id"], outcome)
        if runs is not None:
            resumed.append(wait["run_id"])
            to_drive.extend(runs)
            first_wait = first_wait or wait["wait_id"]
    return resumed, first_wait, to_drive


def triggered_candidates(conn: Connection, tenant_id: str, name: str) -> list[str]:
    """Ids of the workflows whose trigger may name the event, by two indexed lookups.

    A workflow's trigger is its latest published version's (or, when that has none, the
    workflow row's), so any version naming the event, or the row, makes it a candidate; the
    caller checks each against its latest version. Workflows that name other events are never
    read, so the cost follows the matching workflows, not the published ones.
    """
    versions, defs = workflow_definition_versions, workflow_definitions
    query = sa.union(
        sa.select(versions.c.workflow_id).where(
            versions.c.tenant == tenant_id, version_trigger_event() == name
        ),
        sa.select(defs.c.workflow_id).where(
            defs.c.tenant == tenant_id, workflow_trigger_event() == name
        ),
    )
    return sorted(conn.execute(query).scalars())


def _start_triggered(
    conn: Connection, driver: Driver, event: PreparedEvent
) -> tuple[list[str], list[str]]:
    """Start every published, unpaused candidate whose trigger names the event."""
    if not event.candidates:
        return [], []
    tenant_id, name = event.tenant_id, event.name
    defs = workflow_definitions
    rows = conn.execute(
        sa.select(defs)
        .where(
            defs.c.tenant == tenant_id,
            defs.c.workflow_id.in_(event.candidates),
            defs.c.status == "published",
            defs.c.is_paused.is_(False),
        )
        .order_by(defs.c.key)
    ).mappings()
    started: list[str] = []
    errors: list[str] = []
    for workflow in [dict(r) for r in rows]:
        version = latest_version(conn, tenant_id, workflow["workflow_id"])
        if version is None:
            continue
        definition = version["definition_json"] or {}
        trigger = definition.get("trigger") or workflow["trigger"] or {}
        if trigger.get("type") != "event" or trigger.get("eventName") != name:
            continue
        try:
            run_id = _start_for_event(
                conn, driver, tenant_id, workflow, version, trigger, name, event.payload,
                event.keys, event.payload_schema_ref, event.event_id,
            )  # fmt: skip
        except AlgaflowError as exc:
            errors.append(f"{workflow['key']}: {exc.message}")
            continue
        started.append(run_id)
    return started, errors


def _start_for_event(
    conn: Connection,
    driver: Driver,
    tenant_id: str,
    workflow: dict[str, Any],
    version: dict[str, Any],
    trigger: dict[str, Any],
    name: str,
    payload: Any,
    keys: list[str],
    payload_schema_ref: str | None,
    event_id: str,
) -> str:
    registry = driver.registry
    ref = _schema_ref(workflow, version)
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
            mapped = expand_dotted(resolve_input_mapping(mapping, context) or {})
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
    _check_launchable(conn, workflow)
    fire_key = f"event:{event_id}:{workflow['workflow_id']}"
    existing = conn.execute(
        sa.select(rt.workflow_runs.c.run_id).where(
            rt.workflow_runs.c.tenant == tenant_id, rt.workflow_runs.c.trigger_fire_key == fire_key
        )
    ).scalar()
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


# --- human tasks ---------------------------------------------------------------------------------


def list_tasks(
    conn: Connection, tenant_id: str, *, status: str | None = "PENDING", run_id: str | None = None
) -> list[dict[str, Any]]:
    tasks = rt.workflow_tasks
    query = sa.select(tasks).where(tasks.c.tenant == tenant_id)
    if status is not None:
        query = query.where(tasks.c.status == status)
    if run_id is not None:
        run_key = canonical_uuid(run_id)
        if run_key is None:
            return []
        query = query.where(tasks.c.run_id == run_key)
    rows = conn.execute(query.order_by(tasks.c.created_at, tasks.c.task_id)).mappings()
    return [task_view(dict(r)) for r in rows]


def complete_task(
    conn: Connection,
    tenant_id: str,
    task_id: str,
    output: Any,
    *,
    registry: Any,
    drive: bool = True,
    options: DriverOptions | None = None,
) -> dict[str, Any]:
    """Complete a PENDING task; its run resumes with ``vars.event = output``."""
    task, to_drive = _complete_task(conn, tenant_id, task_id, output, registry=registry,
                                    options=options)  # fmt: skip
    if drive:
        _drive_in_transaction(conn, tenant_id, to_drive, registry=registry, options=options)
    return task


def _complete_task(
    conn: Connection,
    tenant_id: str,
    task_id: str,
    output: Any,
    *,
    registry: Any,
    options: DriverOptions | None,
) -> tuple[dict[str, Any], list[str]]:
    """:func:`complete_task` without driving: the completed task, and the runs to drive."""
    tasks = rt.workflow_tasks
    task_key = canonical_uuid(task_id)
    if task_key is None:
        raise _task_not_found(task_id)
    output = {} if output is None else output
    check_storable(output=output)
    task = conn.execute(
        sa.select(tasks).where(tasks.c.tenant == tenant_id, tasks.c.task_id == task_key)
    ).mappings().first()  # fmt: skip
    if task is None:
        raise _task_not_found(task_id)
    if task["status"] != "PENDING":
        raise AlgaflowError(
            "TASK_ALREADY_COMPLETED",
            f"Task is already {task['status']}",
            details={"taskId": task_key, "status": task["status"]},
        )
    if not _complete_task_row(conn, task_key, output):
        raise AlgaflowError("TASK_ALREADY_COMPLETED", "Task is already completed",
                            details={"taskId": task_key})  # fmt: skip
    driver = Driver(conn, registry, options=options)
    outcome = {"ok": {"taskId": task_key, "eventName": "HUMAN_TASK_COMPLETED", "response": output}}
    to_drive = []
    if task["wait_id"]:
        to_drive = driver.resolve_wait(tenant_id, task["run_id"], task["wait_id"], outcome) or []
    row = conn.execute(sa.select(tasks).where(tasks.c.task_id == task_key)).mappings().one()
    return task_view(dict(row)), to_drive


def _complete_task_row(conn: Connection, task_id: str, response: Any) -> bool:
    tasks = rt.workflow_tasks
    return (
        conn.execute(
            tasks.update()
            .where(tasks.c.task_id == task_id, tasks.c.status == "PENDING")
            .values(status="COMPLETED", response_json=response, completed_at=utcnow())
        ).rowcount
        == 1
    )


def _task_not_found(task_id: Any) -> AlgaflowError:
    return AlgaflowError(
        "TASK_NOT_FOUND", f"Task not found: {task_id}", details={"taskId": task_id}
    )


# --- due work ------------------------------------------------------------------------------------


def run_due_work(
    engine: Engine,
    *,
    registry: Any,
    now: datetime | None = None,
    options: DriverOptions | None = None,
) -> int:
    """Resume due time and retry waits, time out event waits, continue RUNNING runs nobody drives
    (left by a killed process, or recorded with ``drive=False``) and parents whose child ended
    while nobody was there to resume them. Returns how many runs it touched.

    Each run is driven with a commit after every step. A run whose work fails is logged and
    skipped: one run never stops the pass for the others.
    """
    now = now or utcnow()
    waits = rt.workflow_run_waits
    runs = rt.workflow_runs
    with write_connection(engine) as conn:
        driver = Driver(conn, registry, durable=True, options=options)
        due = conn.execute(
            sa.select(waits.c.wait_id, waits.c.tenant, waits.c.run_id, waits.c.wait_type,
                      waits.c.payload)
            .where(waits.c.status == "WAITING", waits.c.timeout_at <= now,
                   waits.c.wait_type.in_(("time", "retry", "event")))
            .order_by(waits.c.timeout_at)
        ).mappings().all()  # fmt: skip
        conn.commit()
        touched = sum(_isolated(conn, wait["run_id"], lambda w=wait: _resume_due(driver, w, now))
                      for wait in due)  # fmt: skip
        orphans = conn.execute(
            sa.select(runs.c.run_id, runs.c.tenant).where(
                runs.c.status == "RUNNING",
                sa.or_(runs.c.lease_expires_at.is_(None), runs.c.lease_expires_at < now),
            ).order_by(runs.c.started_at)
        ).mappings().all()  # fmt: skip
        conn.commit()
        for run in orphans:

            def drive(run: Any = run) -> int:
                driver.drive(run["tenant"], run["run_id"], now=now)
                return 1

            touched += _isolated(conn, run["run_id"], drive)
        for parent in _parents_of_ended_children(conn):

            def resume(parent: Any = parent) -> int:
                return int(driver.resume_parent(parent["tenant"], parent["child"]))

            touched += _isolated(conn, parent["run_id"], resume)
        conn.commit()
    return touched


def _isolated(conn: Connection, run_id: str, work: Callable[[], int]) -> int:
    """``work()``, or 0 when it raised: logged, rolled back, and the pass goes on."""
    try:
        return work()
    except Exception:
        log.exception("run_due_work: run %s failed; going on with the others", run_id)
        conn.rollback()
        return 0


def _resume_due(driver: Driver, wait: dict[str, Any], now: datetime) -> int:
    """A due timer or retry delay resumes its run; a due event wait times out."""
    outcome: dict[str, Any] = {"ok": {}}
    if wait["wait_type"] == "event":
        failure = timeout_error(wait["payload"] or {})
        outcome = {
            "error": {
                "category": failure.category,
                "message": failure.message,
                "details": failure.details,
                "at": now.isoformat(),
            }
        }
    to_drive = driver.resolve_wait(wait["tenant"], wait["run_id"], wait["wait_id"], outcome)
    for run_id in to_drive or []:
        driver.drive(wait["tenant"], run_id)
    return 0 if to_drive is None else 1


def _parents_of_ended_children(conn: Connection) -> list[dict[str, Any]]:
    """WAITING parents whose awaited child has ended (a process died in between).

    A parent awaits its newest child: one with ended children and no active child is a
    candidate; its state names the child it awaits, which must have ended.
    """
    runs = rt.workflow_runs
    parent = runs.alias("parent")
    ended = runs.alias("ended")

    def child_in(statuses: tuple[str, ...], table: Any) -> Any:
        return sa.exists().where(table.c.parent_run_id == parent.c.run_id,
                                 table.c.status.in_(statuses))  # fmt: skip

    rows = conn.execute(
        sa.select(parent.c.run_id, parent.c.tenant, parent.c.state_json).where(
            parent.c.status == "WAITING",
            child_in(rt.TERMINAL_STATUSES, ended),
            ~child_in(records.ACTIVE, runs),
        )
    ).mappings().all()  # fmt: skip
    conn.commit()
    found = []
    for row in rows:
        state = row["state_json"] or {}
        child = (state.get("child") or {}).get("runId")
        if child and not state.get("wait"):
            found.append({"run_id": row["run_id"], "tenant": row["tenant"], "child": child})
    return found


def drive_runs(
    engine: Engine,
    tenant_id: str,
    run_ids: list[str],
    *,
    registry: Any,
    options: DriverOptions | None = None,
) -> None:
    """Execute recorded RUNNING runs with a commit after every step (the API's way)."""
    with write_connection(engine) as conn:
        driver = Driver(conn, registry, durable=True, options=options)
        for run_id in run_ids:
            driver.drive(tenant_id, run_id)
        conn.commit()


# --- durable entry points (the API and the CLI) --------------------------------------------------


def start_run_durable(
    engine: Engine,
    tenant_id: str,
    workflow_id: str,
    *,
    registry: Any,
    version: int | None = None,
    payload: Any = None,
    options: DriverOptions | None = None,
) -> dict[str, Any]:
    """:func:`start_run`, then the run executed with a commit after every step.

    A refused payload keeps its FAILED run (committed before the error is raised).
    """
    with write_connection(engine) as conn:
        try:
            run = start_run(conn, tenant_id, workflow_id, registry=registry, version=version,
                            payload=payload, drive=False)  # fmt: skip
        except AlgaflowError as exc:
            if exc.code == "PAYLOAD_VALIDATION_FAILED":
                conn.commit()
            raise
        conn.commit()
    drive_runs(engine, tenant_id, [run["runId"]], registry=registry, options=options)
    with engine.connect() as conn:
        return get_run(conn, tenant_id, run["runId"])


def emit_event_durable(
    engine: Engine,
    tenant_id: str,
    name: str,
    payload: Any,
    *,
    registry: Any,
    correlation_key: str | None = None,
    payload_schema_ref: str | None = None,
    event_id: str | None = None,
    actor: Mapping[str, Any] | None = None,
    options: DriverOptions | None = None,
) -> dict[str, Any]:
    """:func:`emit_event`, then the started and resumed runs (and the parents that resumed runs
    woke by ending) executed step by step.

    The checks and the trigger lookup run on a read connection before the write transaction
    (on SQLite, the database's one write lock), so they never hold up other writers. A workflow
    published in between is not started, as if the event had come a moment earlier.
    """
    with engine.connect() as conn:
        event = prepare_event(conn, tenant_id, name, payload, registry=registry,
                              correlation_key=correlation_key,
                              payload_schema_ref=payload_schema_ref, event_id=event_id,
                              actor=actor)  # fmt: skip
    with write_connection(engine) as conn, conn.begin():
        result, to_drive = _deliver(conn, event, registry=registry, options=options)
    drive_runs(engine, tenant_id, to_drive, registry=registry, options=options)
    return result


def complete_task_durable(
    engine: Engine,
    tenant_id: str,
    task_id: str,
    output: Any,
    *,
    registry: Any,
    options: DriverOptions | None = None,
) -> dict[str, Any]:
    """:func:`complete_task`, then its run executed step by step."""
    with write_connection(engine) as conn, conn.begin():
        task, to_drive = _complete_task(conn, tenant_id, task_id, output, registry=registry,
                                        options=options)  # fmt: skip
    drive_runs(engine, tenant_id, to_drive, registry=registry, options=options)
    return task


def cancel_run_durable(engine: Engine, tenant_id: str, run_id: str) -> dict[str, Any]:
    with write_connection(engine) as conn, conn.begin():
        return cancel_run(conn, tenant_id, run_id)
