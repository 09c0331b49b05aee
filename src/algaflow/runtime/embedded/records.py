"""Reads and writes of the run tables. Every lookup by id is tenant-scoped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from algaflow.kernel.clock import new_id
from algaflow.kernel.errors import AlgaflowError
from algaflow.store.run_tables import (
    workflow_run_logs,
    workflow_run_steps,
    workflow_run_waits,
    workflow_runs,
    workflow_tasks,
)

ACTIVE = ("RUNNING", "WAITING")


def run_not_found(run_id: Any) -> AlgaflowError:
    return AlgaflowError(
        "RUN_NOT_FOUND", f"Workflow run not found: {run_id}", details={"runId": run_id}
    )


def load_run(conn: Connection, tenant_id: str, run_id: str) -> dict[str, Any]:
    """The run row; another tenant's run is answered as not found."""
    row = (
        conn.execute(
            sa.select(workflow_runs).where(
                workflow_runs.c.tenant == tenant_id, workflow_runs.c.run_id == run_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise run_not_found(run_id)
    return dict(row)


def update_run(
    conn: Connection,
    run_id: str,
    *,
    only_if: tuple[str, ...] = (),
    owner: str | None = None,
    **values: Any,
) -> bool:
    """Update one run; True when a row changed.

    ``only_if``: only in those statuses. ``owner``: only while that driver holds the run's lease
    (a WAITING run is parked and leased by nobody, so it passes too).
    """
    runs = workflow_runs
    query = runs.update().where(runs.c.run_id == run_id)
    if only_if:
        query = query.where(runs.c.status.in_(only_if))
    if owner is not None:
        query = query.where(sa.or_(runs.c.lease_owner == owner, runs.c.status == "WAITING"))
    return conn.execute(query.values(**values)).rowcount == 1


def insert_ignore(
    conn: Connection, table: sa.Table, conflict: tuple[str, ...], **values: Any
) -> bool:
    """Insert unless a row with the same ``conflict`` columns exists; True when inserted.

    One statement, race-free: a concurrent insert of the same key makes this one a no-op instead
    of an IntegrityError (which on PostgreSQL would also abort the whole transaction).
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    query = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(table.c[conflict[0]])  # rowcount of an INSERT is not reliable (-1 on psycopg)
    )
    return conn.execute(query).first() is not None


def close_open_records(
    conn: Connection, run_id: str, *, at: datetime, step_status: str, error: Any = None
) -> None:
    """An ended run's WAITING waits and PENDING tasks become CANCELED, its STARTED steps
    ``step_status`` (so no event, task or timer resumes it any more)."""
    for table, open_status, closed_at, status in (
        (workflow_run_waits, "WAITING", "resolved_at", "CANCELED"),
        (workflow_tasks, "PENDING", "completed_at", "CANCELED"),
        (workflow_run_steps, "STARTED", "completed_at", step_status),
    ):
        values: dict[str, Any] = {"status": status, closed_at: at}
        if table is workflow_run_steps and status == "FAILED":
            values["error_json"] = error
        conn.execute(
            table.update()
            .where(table.c.run_id == run_id, table.c.status == open_status)
            .values(values)
        )


def insert_step(
    conn: Connection,
    *,
    tenant_id: str,
    run_id: str,
    path: str,
    step_id: str,
    status: str,
    attempt: int,
    started_at: datetime,
    completed_at: datetime | None = None,
    error: dict[str, Any] | None = None,
) -> str:
    row_id = new_id()
    duration = (
        None if completed_at is None else int((completed_at - started_at).total_seconds() * 1000)
    )
    conn.execute(
        workflow_run_steps.insert().values(
            step_id=row_id,
            tenant=tenant_id,
            run_id=run_id,
            step_path=path,
            definition_step_id=step_id,
            status=status,
            attempt=attempt,
            duration_ms=duration,
            error_json=error if status == "FAILED" else None,
            started_at=started_at,
            completed_at=completed_at,
        )
    )
    return row_id


def finish_step(
    conn: Connection,
    row_id: str,
    *,
    status: str,
    started_at: datetime,
    completed_at: datetime,
    error: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        workflow_run_steps.update()
        .where(workflow_run_steps.c.step_id == row_id)
        .values(
            status=status,
            completed_at=completed_at,
            duration_ms=int((completed_at - started_at).total_seconds() * 1000),
            error_json=error if status == "FAILED" else None,
        )
    )


def insert_wait(conn: Connection, **values: Any) -> str:
    wait_id = values.pop("wait_id", None) or new_id()
    conn.execute(workflow_run_waits.insert().values(wait_id=wait_id, status="WAITING", **values))
    return wait_id


def close_wait(
    conn: Connection, wait_id: str, *, status: str, at: datetime, payload: Any = None
) -> bool:
    """Resolve or cancel a WAITING wait; False when someone else already did."""
    values: dict[str, Any] = {"status": status, "resolved_at": at}
    if payload is not None:
        values["payload"] = payload
    result = conn.execute(
        workflow_run_waits.update()
        .where(workflow_run_waits.c.wait_id == wait_id, workflow_run_waits.c.status == "WAITING")
        .values(**values)
    )
    return result.rowcount == 1


#: Alga caps a log line's ``context_json`` at 64 KiB and leaves a truncation marker.
MAX_LOG_CONTEXT = 64 * 1024


def log(conn: Connection, **fields: Any) -> None:
    """Write one log line (the fields of :func:`log_row`)."""
    insert_logs(conn, [log_row(**fields)])


def log_row(
    *,
    tenant_id: str,
    run_id: str,
    level: str,
    message: str,
    at: datetime,
    step_id: str | None = None,
    step_path: str | None = None,
    context: Any = None,
    source: str = "runtime",
) -> dict[str, Any]:
    """The values of one ``workflow_run_logs`` row."""
    return {
        "log_id": new_id(),
        "tenant": tenant_id,
        "run_id": run_id,
        "step_id": step_id,
        "step_path": step_path,
        "level": level,
        "message": message,
        "context_json": capped_context(context),
        "correlation_key": None,
        "event_name": None,
        "source": source,
        "created_at": at,
    }


def insert_logs(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write log rows in one statement (a step's start and end cost one round trip)."""
    if rows:
        conn.execute(workflow_run_logs.insert().values(rows))


def capped_context(context: Any) -> Any:
    """``context`` itself, or ``{truncated, size, max}`` when its JSON exceeds 64 KiB."""
    if context is None:
        return None
    size = len(json.dumps(context, default=str))
    if size <= MAX_LOG_CONTEXT:
        return context
    return {"truncated": True, "size": size, "max": MAX_LOG_CONTEXT}


@dataclass(frozen=True)
class LogLine:
    level: str
    message: str
    context: dict[str, Any]


_STEP_LEVELS = {"STARTED": "INFO", "SUCCEEDED": "INFO", "RETRYING": "WARN", "CANCELED": "WARN"}


def step_log_line(
    *,
    definition_step_id: str,
    step_type: Any,
    status: str,
    attempt: int | None = None,
    error: dict[str, Any] | None = None,
    delay_ms: int | None = None,
) -> LogLine:
    """The log line of a step event: started, succeeded, failed (ERROR, with the error's
    message), continued past a failure (``onError: continue``, WARN), retrying or canceled."""
    name = f"Step {definition_step_id or '?'}"
    context: dict[str, Any] = {"definitionStepId": definition_step_id, "status": status}
    if isinstance(step_type, str):
        context["stepType"] = step_type
    if attempt is not None:
        context["attempt"] = attempt
    if error is not None:
        context["error"] = error
    reason = (error or {}).get("message")
    if status == "FAILED":
        return LogLine("ERROR", f"{name} failed: {reason}", context)
    if status == "SUCCEEDED" and error is not None:
        return LogLine("WARN", f"{name} failed, continuing (onError: continue): {reason}", context)
    if status == "RETRYING":
        context["delayMs"] = delay_ms
        return LogLine("WARN", f"{name} failed, retrying (attempt {attempt}): {reason}", context)
    return LogLine(_STEP_LEVELS.get(status, "INFO"), f"{name} {status.lower()}", context)


def run_logs(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """A run's log lines in the order they were written."""
    logs = workflow_run_logs
    rows = conn.execute(
        sa.select(logs).where(logs.c.run_id == run_id).order_by(logs.c.created_at, logs.c.log_id)
    ).mappings()
    return [dict(row) for row in rows]
