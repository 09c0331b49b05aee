"""Runs: start one manually, read one, list them, cancel one.

Starting records the run in one transaction, then hands it to its backend (which, by default,
executes it until it waits or ends: the embedded driver commits each step), then reads it back:
the reply shows what the database holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from algaflow.kernel.clock import utcnow
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.runtime.embedded.driver import Driver, DriverOptions, Launch
from algaflow.runtime.embedded.views import log_view, run_view, step_view, wait_view
from algaflow.services.backends import Handoff, RunBackend, backend_named, configured_backend
from algaflow.services.run_inputs import check_payload_size, check_storable
from algaflow.services.unit_of_work import UnitOfWork
from algaflow.store import runs, waits
from algaflow.store.run_rows import ACTIVE_STATUSES, RUN_STATUSES, TERMINAL_STATUSES, RunRow
from algaflow.store.types import canonical_uuid
from algaflow.store.workflow_rows import VersionRow, WorkflowRow
from algaflow.store.workflows import get_version, get_workflow, latest_version

DEFAULT_LIMIT = 100


def start_run(
    uow: UnitOfWork,
    tenant_id: str,
    workflow_id: str,
    *,
    registry: Registry,
    version: int | None = None,
    payload: Any = None,
    options: DriverOptions | None = None,
    wait: bool = True,
    backend: RunBackend | None = None,
) -> dict[str, Any]:
    """Start a run manually (§7.4) on ``backend`` (the configured one by default) and, with
    ``wait``, execute it until it waits or ends.

    Refusals write nothing, except an invalid payload: its FAILED run is committed, then
    ``PAYLOAD_VALIDATION_FAILED`` is raised (Alga records it too).
    """
    payload = {} if payload is None else payload
    check_payload_size(payload)
    check_storable(payload=payload)
    backend = backend or configured_backend()
    with uow.writing() as conn:
        run_id, refusal = _record_run(
            conn, tenant_id, workflow_id, registry, version, payload, backend.name
        )
    if refusal is not None:
        raise refusal
    backend.execute(uow, tenant_id, Handoff(runs=[run_id]), registry=registry, options=options,
                    wait=wait)  # fmt: skip
    return get_run(uow, tenant_id, run_id)


def _record_run(
    conn: Connection,
    tenant_id: str,
    workflow_id: str,
    registry: Registry,
    version: int | None,
    payload: Any,
    engine: str,
) -> tuple[str, AlgaflowError | None]:
    """The new RUNNING run, or a FAILED one and the refusal to raise once it is committed."""
    workflow = get_workflow(conn, tenant_id, workflow_id)
    check_launchable(conn, workflow)
    row = _pick_version(conn, tenant_id, workflow, version)
    ref = schema_ref(workflow, row)
    payload = _drop_undeclared_tenant_id(registry, ref, payload)
    driver = Driver(conn, registry)
    issues = _payload_issues(registry, ref, payload)
    if not issues:
        launch = Launch(trigger_type="manual", engine=engine)
        return driver.create_run(tenant_id, workflow, row, payload, launch), None
    error = {
        "message": "Workflow payload failed validation",
        "stage": "launch",
        "details": {"issues": issues},
    }
    run_id = driver.create_run(
        tenant_id, workflow, row, payload, Launch(engine=engine), failed=error
    )
    return run_id, AlgaflowError(
        "PAYLOAD_VALIDATION_FAILED",
        "Workflow payload failed validation",
        details={"runId": run_id, "schemaRef": ref, "issues": issues},
    )


def check_launchable(conn: Connection, workflow: WorkflowRow) -> None:
    """Paused workflows and workflows at their concurrency limit start nothing (§3.1)."""
    if workflow.is_paused:
        raise AlgaflowError(
            "WORKFLOW_PAUSED",
            "Workflow is paused",
            details={"workflowId": workflow.workflow_id},
        )
    limit = workflow.concurrency_limit
    if limit is not None:
        active = runs.count_active(conn, workflow.workflow_id)
        if active >= limit:
            raise AlgaflowError(
                "CONCURRENCY_LIMIT_REACHED",
                "Workflow concurrency limit reached",
                details={"workflowId": workflow.workflow_id, "limit": limit, "active": active},
            )


def _pick_version(
    conn: Connection, tenant_id: str, workflow: WorkflowRow, version: int | None
) -> VersionRow:
    if version is not None:
        return get_version(conn, tenant_id, workflow.workflow_id, version)
    row = latest_version(conn, tenant_id, workflow.workflow_id)
    if row is None:
        raise AlgaflowError(
            "WORKFLOW_NOT_PUBLISHED",
            "Workflow has no published version",
            details={"workflowId": workflow.workflow_id},
        )
    return row


def schema_ref(workflow: WorkflowRow, version: VersionRow) -> str | None:
    """The payload schema a run of ``version`` validates against (the version's, else the row's)."""
    ref = (version.definition_json or {}).get("payloadSchemaRef")
    if isinstance(ref, str) and ref:
        return ref
    fallback = workflow.payload_schema_ref
    return fallback if isinstance(fallback, str) else None


def _payload_issues(registry: Registry, ref: str | None, payload: Any) -> list[dict[str, str]]:
    if not ref or not registry.schemas.has(ref):
        return []
    return registry.schemas.validate(ref, payload)


def _drop_undeclared_tenant_id(registry: Registry, ref: str | None, payload: Any) -> Any:
    """A top-level ``tenantId`` is removed unless the payload schema declares one (§7.4)."""
    if not isinstance(payload, dict) or "tenantId" not in payload:
        return payload
    schema = registry.schemas.get(ref) if ref and registry.schemas.has(ref) else None
    if isinstance(schema, dict) and "tenantId" in (schema.get("properties") or {}):
        return payload
    return {k: v for k, v in payload.items() if k != "tenantId"}


# --- reading -------------------------------------------------------------------------------------


def get_run(
    uow: UnitOfWork, tenant_id: str, run_id: str, *, with_steps: bool = True
) -> dict[str, Any]:
    """The run with (by default) its steps, waits and log lines."""
    with uow.reading() as conn:
        return _run_view(conn, tenant_id, run_id, with_steps=with_steps)


def _run_view(
    conn: Connection, tenant_id: str, run_id: str, *, with_steps: bool = True
) -> dict[str, Any]:
    run = runs.load_run(conn, tenant_id, _run_id(run_id))
    view = run_view(run)
    if with_steps:
        view["steps"] = [step_view(step) for step in runs.run_steps(conn, run.run_id)]
        view["waits"] = [wait_view(wait) for wait in waits.run_waits(conn, run.run_id)]
        view["logs"] = [log_view(line) for line in runs.run_logs(conn, run.run_id)]
    return view


def _run_id(value: Any) -> str:
    """Ids that are not UUIDs cannot exist: answer them as not found, before any SQL runs."""
    run_id = canonical_uuid(value)
    if run_id is None:
        raise runs.run_not_found(value)
    return run_id


def list_runs(
    uow: UnitOfWork,
    tenant_id: str,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    """Newest first. A ``workflow_id`` that is not a UUID matches no run."""
    workflow_key = None
    if workflow_id is not None:
        workflow_key = canonical_uuid(workflow_id)
        if workflow_key is None:
            return []
    if status is not None and status not in RUN_STATUSES:
        raise AlgaflowError(
            "INVALID_FIELD",
            f"status must be one of {', '.join(RUN_STATUSES)}",
            details={"field": "status"},
        )
    with uow.reading() as conn:
        found = runs.list_runs(
            conn, tenant_id, workflow_id=workflow_key, status=status, limit=limit
        )
    return [run_view(run) for run in found]


# --- canceling -----------------------------------------------------------------------------------


def cancel_run(
    uow: UnitOfWork, tenant_id: str, run_id: str, *, backend: RunBackend | None = None
) -> dict[str, Any]:
    """CANCELED, with open waits, tasks, steps and child runs canceled too; a parent that waits on
    this run is canceled as well (cancellation cannot be caught). Then each run's backend stops
    executing it (``backend`` when it owns the run, else the configured one of its kind)."""
    with uow.writing() as conn:
        run = runs.load_run(conn, tenant_id, _run_id(run_id))
        if run.status in TERMINAL_STATUSES:
            raise AlgaflowError(
                "RUN_NOT_CANCELABLE",
                f"Run is already {run.status}",
                details={"runId": run.run_id, "status": run.status},
            )
        now = utcnow()
        canceled: list[RunRow] = []
        _cancel_tree(conn, run, now, canceled)
        if run.parent_run_id:
            parent = runs.load_run(conn, tenant_id, run.parent_run_id)
            if parent.active:
                _cancel_tree(conn, parent, now, canceled)
        view = _run_view(conn, tenant_id, run.run_id)
    by_engine: dict[str, list[str]] = {}
    for row in canceled:
        by_engine.setdefault(row.engine, []).append(row.run_id)
    for engine, run_ids in by_engine.items():
        backend_named(engine, backend).cancel(run_ids)  # after the commit: the database has the say
    return view


def _cancel_tree(conn: Connection, run: RunRow, now: datetime, canceled: list[RunRow]) -> None:
    updated = runs.update_run(
        conn, run.run_id, only_if=ACTIVE_STATUSES, status="CANCELED", node_path=None,
        completed_at=now, updated_at=now, lease_owner=None, lease_expires_at=None,
        error_json={"category": "Cancellation", "message": "Run canceled by operator",
                    "nodePath": run.node_path, "at": now.isoformat()},
    )  # fmt: skip
    if not updated:
        return
    canceled.append(run)
    runs.close_open_records(conn, run.run_id, at=now, step_status="CANCELED")
    runs.log(
        conn, tenant_id=run.tenant, run_id=run.run_id, level="WARN",
        message="Run canceled by operator", at=now,
    )  # fmt: skip
    for child in runs.active_children(conn, run.run_id):
        _cancel_tree(conn, child, now, canceled)
