"""The repository of waits and human tasks: all SQL on ``workflow_run_waits`` and
``workflow_tasks``. The caller owns the transaction; writes say whether they won a race."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.kernel.clock import new_id
from algaflow.store.run_rows import TaskRow, WaitRow
from algaflow.store.run_tables import workflow_run_waits as waits_t
from algaflow.store.run_tables import workflow_runs as runs_t
from algaflow.store.run_tables import workflow_tasks as tasks_t

#: Waits a due ``timeout_at`` resumes: timers and retry delays fire, event waits time out.
TIMED_WAIT_TYPES = ("time", "retry", "event")

# --- waits ---------------------------------------------------------------------------------------


def insert_wait(
    conn: Connection,
    *,
    tenant: str,
    run_id: str,
    step_path: str | None,
    wait_type: str,
    created_at: datetime,
    wait_id: str | None = None,
    key: str | None = None,
    event_name: str | None = None,
    timeout_at: datetime | None = None,
    payload: Any = None,
) -> str:
    """A new WAITING wait; its id (``wait_id`` when the caller chose it)."""
    wait_id = wait_id or new_id()
    conn.execute(
        waits_t.insert().values(
            wait_id=wait_id, tenant=tenant, run_id=run_id, step_path=step_path,
            wait_type=wait_type, key=key, event_name=event_name, timeout_at=timeout_at,
            status="WAITING", payload=payload, created_at=created_at,
        )
    )  # fmt: skip
    return wait_id


def close_wait(
    conn: Connection,
    wait_id: str,
    *,
    status: str,
    at: datetime,
    payload: Any = None,
    outcome: dict[str, Any] | None = None,
) -> bool:
    """Resolve or cancel a WAITING wait (keeping ``outcome`` when given); False when someone
    else already did."""
    values: dict[str, Any] = {"status": status, "resolved_at": at}
    if payload is not None:
        values["payload"] = payload
    if outcome is not None:
        values["outcome_json"] = outcome
    result = conn.execute(
        waits_t.update()
        .where(waits_t.c.wait_id == wait_id, waits_t.c.status == "WAITING")
        .values(**values)
    )
    return result.rowcount == 1


def cancel_open_waits(conn: Connection, run_id: str, *, at: datetime) -> None:
    """Every WAITING wait of the run becomes CANCELED (nothing resumes an ended run)."""
    conn.execute(
        waits_t.update()
        .where(waits_t.c.run_id == run_id, waits_t.c.status == "WAITING")
        .values(status="CANCELED", resolved_at=at)
    )


def wait_payload(conn: Connection, wait_id: str) -> dict[str, Any]:
    """The wait's stored payload (``{}`` when it has none)."""
    payload = conn.execute(
        sa.select(waits_t.c.payload).where(waits_t.c.wait_id == wait_id)
    ).scalar()
    return dict(payload or {})


def run_waits(conn: Connection, run_id: str) -> list[WaitRow]:
    """A run's waits, oldest first."""
    rows = conn.execute(
        sa.select(waits_t).where(waits_t.c.run_id == run_id).order_by(waits_t.c.created_at)
    ).mappings()
    return [WaitRow.from_mapping(row) for row in rows]


def event_waits(
    conn: Connection, tenant: str, event_name: str, keys: Sequence[str]
) -> list[WaitRow]:
    """WAITING event and human waits of the tenant for this event name and one of the keys."""
    rows = conn.execute(
        sa.select(waits_t)
        .where(
            waits_t.c.tenant == tenant,
            waits_t.c.status == "WAITING",
            waits_t.c.wait_type.in_(("event", "human")),
            waits_t.c.event_name == event_name,
            waits_t.c.key.in_(keys),
        )
        .order_by(waits_t.c.created_at)
    ).mappings()
    return [WaitRow.from_mapping(row) for row in rows]


def due_waits(conn: Connection, now: datetime, *, engine: str = "embedded") -> list[WaitRow]:
    """WAITING timed waits of ``engine``'s runs of every tenant whose ``timeout_at`` has come,
    earliest first (a Temporal run's timers are Temporal's)."""
    of_engine = sa.exists().where(runs_t.c.run_id == waits_t.c.run_id, runs_t.c.engine == engine)
    rows = conn.execute(
        sa.select(waits_t)
        .where(
            of_engine,
            waits_t.c.status == "WAITING",
            waits_t.c.timeout_at <= now,
            waits_t.c.wait_type.in_(TIMED_WAIT_TYPES),
        )
        .order_by(waits_t.c.timeout_at)
    ).mappings()
    return [WaitRow.from_mapping(row) for row in rows]


def undelivered_outcomes(conn: Connection, engine: str, resolved_before: datetime) -> list[WaitRow]:
    """Waits of ``engine``'s runs resolved with a kept outcome before ``resolved_before`` whose
    run has recorded nothing since (still WAITING, not updated after the resolution): the
    outcome may never have reached the run."""
    run_waiting = sa.exists().where(
        runs_t.c.run_id == waits_t.c.run_id,
        runs_t.c.engine == engine,
        runs_t.c.status == "WAITING",
        runs_t.c.updated_at < waits_t.c.resolved_at,
    )
    rows = conn.execute(
        sa.select(waits_t).where(
            waits_t.c.status == "RESOLVED",
            waits_t.c.outcome_json.is_not(None),
            waits_t.c.resolved_at < resolved_before,
            run_waiting,
        )
    ).mappings()
    return [WaitRow.from_mapping(row) for row in rows]


# --- human tasks ---------------------------------------------------------------------------------


def insert_task(
    conn: Connection,
    *,
    tenant: str,
    run_id: str,
    step_path: str | None,
    wait_id: str,
    task_type: str,
    title: str,
    description: str | None,
    context_data: Any,
    created_at: datetime,
    task_id: str | None = None,
) -> str:
    """A new PENDING task; its id (``task_id`` when the caller chose it)."""
    task_id = task_id or new_id()
    conn.execute(
        tasks_t.insert().values(
            task_id=task_id, tenant=tenant, run_id=run_id, step_path=step_path, wait_id=wait_id,
            task_type=task_type, title=title, description=description, status="PENDING",
            context_data=context_data, created_at=created_at,
        )
    )  # fmt: skip
    return task_id


def get_task(conn: Connection, tenant: str, task_id: str) -> TaskRow | None:
    """The tenant's task, or None (another tenant's task is missing too)."""
    row = (
        conn.execute(
            sa.select(tasks_t).where(tasks_t.c.tenant == tenant, tasks_t.c.task_id == task_id)
        )
        .mappings()
        .first()
    )
    return None if row is None else TaskRow.from_mapping(row)


def list_tasks(
    conn: Connection, tenant: str, *, status: str | None = None, run_id: str | None = None
) -> list[TaskRow]:
    """The tenant's tasks, oldest first, optionally of one status and one run."""
    query = sa.select(tasks_t).where(tasks_t.c.tenant == tenant)
    if status is not None:
        query = query.where(tasks_t.c.status == status)
    if run_id is not None:
        query = query.where(tasks_t.c.run_id == run_id)
    rows = conn.execute(query.order_by(tasks_t.c.created_at, tasks_t.c.task_id)).mappings()
    return [TaskRow.from_mapping(row) for row in rows]


def complete_pending_task(conn: Connection, task_id: str, response: Any, *, at: datetime) -> bool:
    """Complete a PENDING task; False when it was no longer PENDING (a concurrent completion)."""
    done = conn.execute(
        tasks_t.update()
        .where(tasks_t.c.task_id == task_id, tasks_t.c.status == "PENDING")
        .values(status="COMPLETED", response_json=response, completed_at=at)
    )
    return done.rowcount == 1


def cancel_pending_tasks(conn: Connection, run_id: str, *, at: datetime) -> None:
    """Every PENDING task of the run becomes CANCELED."""
    conn.execute(
        tasks_t.update()
        .where(tasks_t.c.run_id == run_id, tasks_t.c.status == "PENDING")
        .values(status="CANCELED", completed_at=at)
    )
