"""The repository of runs, their steps and their log lines: all SQL on ``workflow_runs``,
``workflow_run_steps`` and ``workflow_run_logs``.

Every function takes an open connection (the caller owns the transaction). Lookups by a user's id
are tenant-scoped: another tenant's run is answered as not found. The embedded driver decides
what to write when (leases, claims); this module says how.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.kernel.clock import new_id
from algaflow.kernel.errors import AlgaflowError
from algaflow.store import waits
from algaflow.store.run_rows import ACTIVE_STATUSES, TERMINAL_STATUSES, LogRow, RunRow, StepRow
from algaflow.store.run_tables import workflow_run_logs as logs_t
from algaflow.store.run_tables import workflow_run_steps as steps_t
from algaflow.store.run_tables import workflow_runs as runs_t

#: A statement written together with a run's update (see :func:`update_run`).
Write = sa.Insert | sa.Update

#: The most runs one listing returns.
MAX_LIST_LIMIT = 1000

# --- runs ----------------------------------------------------------------------------------------


def run_not_found(run_id: Any) -> AlgaflowError:
    return AlgaflowError(
        "RUN_NOT_FOUND", f"Workflow run not found: {run_id}", details={"runId": run_id}
    )


def load_run(conn: Connection, tenant: str, run_id: str) -> RunRow:
    """The run; another tenant's run is answered as not found."""
    row = (
        conn.execute(sa.select(runs_t).where(runs_t.c.tenant == tenant, runs_t.c.run_id == run_id))
        .mappings()
        .first()
    )
    if row is None:
        raise run_not_found(run_id)
    return RunRow.from_mapping(row)


def run_status(conn: Connection, run_id: str) -> str | None:
    """The run's status, None when it no longer exists."""
    status = conn.execute(sa.select(runs_t.c.status).where(runs_t.c.run_id == run_id)).scalar()
    return None if status is None else str(status)


def insert_run(conn: Connection, **values: Any) -> None:
    """Write a new run row (``values`` are its columns)."""
    conn.execute(runs_t.insert().values(**values))


def update_run(
    conn: Connection,
    run_id: str,
    *,
    only_if: Sequence[str] = (),
    owner: str | None = None,
    along: Sequence[Write] = (),
    **values: Any,
) -> bool:
    """Update one run; True when a row changed.

    ``only_if``: only in those statuses. ``owner``: only while that driver holds the run's lease
    (a WAITING run is parked and leased by nobody, so it passes too). ``along``: writes to other
    tables that happen whether or not the run matched (a step's row and log lines); on
    PostgreSQL they travel in the same statement as data-modifying CTEs, so recording a step
    costs one round trip.
    """
    query = runs_t.update().where(runs_t.c.run_id == run_id)
    if only_if:
        query = query.where(runs_t.c.status.in_(only_if))
    if owner is not None:
        query = query.where(sa.or_(runs_t.c.lease_owner == owner, runs_t.c.status == "WAITING"))
    query = query.values(**values)
    if along and conn.dialect.name == "postgresql":
        for index, write in enumerate(along):
            query = query.add_cte(write.cte(f"along_{index}"))
        return conn.execute(query.returning(runs_t.c.run_id)).first() is not None
    for write in along:
        conn.execute(write)
    return conn.execute(query).rowcount == 1


def claim_run(
    conn: Connection,
    run_id: str,
    *,
    owner: str,
    now: datetime,
    lease_owner: str | None,
    lease_expires_at: datetime | None,
    engine: str = "embedded",
) -> bool:
    """Set the lease of a RUNNING run of ``engine`` nobody else holds (none, expired, or
    ``owner``'s own); a driver that keeps no leases (not durable) passes None for both lease
    values. Another backend's run is never claimed."""
    claimed = conn.execute(
        runs_t.update()
        .where(
            runs_t.c.run_id == run_id,
            runs_t.c.engine == engine,
            runs_t.c.status == "RUNNING",
            sa.or_(
                runs_t.c.lease_expires_at.is_(None),
                runs_t.c.lease_expires_at < now,
                runs_t.c.lease_owner == owner,
            ),
        )
        .values(lease_owner=lease_owner, lease_expires_at=lease_expires_at)
    )
    return claimed.rowcount == 1


def renew_leases(conn: Connection, run_ids: Sequence[str], *, owner: str, until: datetime) -> None:
    """Extend the leases ``owner`` holds on these runs."""
    conn.execute(
        runs_t.update()
        .where(runs_t.c.run_id.in_(run_ids), runs_t.c.lease_owner == owner)
        .values(lease_expires_at=until)
    )


def count_active(conn: Connection, workflow_id: str) -> int:
    """How many runs of the workflow are RUNNING or WAITING (its concurrency in use)."""
    count = conn.execute(
        sa.select(sa.func.count())
        .select_from(runs_t)
        .where(runs_t.c.workflow_id == workflow_id, runs_t.c.status.in_(ACTIVE_STATUSES))
    ).scalar_one()
    return int(count)


def active_runs_of(conn: Connection, tenant: str, workflow_ids: Sequence[str]) -> list[RunRow]:
    """The tenant's RUNNING or WAITING runs of ``workflow_ids`` (what a bundle import would
    break by deleting their published version)."""
    if not workflow_ids:
        return []
    rows = conn.execute(
        sa.select(runs_t)
        .where(
            runs_t.c.tenant == tenant,
            runs_t.c.workflow_id.in_(set(workflow_ids)),
            runs_t.c.status.in_(ACTIVE_STATUSES),
        )
        .order_by(runs_t.c.started_at, runs_t.c.run_id)
    ).mappings()
    return [RunRow.from_mapping(row) for row in rows]


def list_runs(
    conn: Connection,
    tenant: str,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[RunRow]:
    """The tenant's runs, newest first, at most ``limit`` (clamped to 1..1000)."""
    query = sa.select(runs_t).where(runs_t.c.tenant == tenant)
    if workflow_id is not None:
        query = query.where(runs_t.c.workflow_id == workflow_id)
    if status is not None:
        query = query.where(runs_t.c.status == status)
    query = query.order_by(runs_t.c.started_at.desc(), runs_t.c.run_id)
    rows = conn.execute(query.limit(max(1, min(limit, MAX_LIST_LIMIT)))).mappings()
    return [RunRow.from_mapping(row) for row in rows]


def active_children(conn: Connection, run_id: str) -> list[RunRow]:
    """The run's child runs that are still RUNNING or WAITING."""
    rows = conn.execute(
        sa.select(runs_t).where(
            runs_t.c.parent_run_id == run_id, runs_t.c.status.in_(ACTIVE_STATUSES)
        )
    ).mappings()
    return [RunRow.from_mapping(row) for row in rows]


def run_id_by_fire_key(conn: Connection, tenant: str, fire_key: str) -> str | None:
    """The run a trigger firing already started, if any (the key is unique per tenant)."""
    found = conn.execute(
        sa.select(runs_t.c.run_id).where(
            runs_t.c.tenant == tenant, runs_t.c.trigger_fire_key == fire_key
        )
    ).scalar()
    return None if found is None else str(found)


def orphaned_runs(conn: Connection, now: datetime, *, engine: str = "embedded") -> list[RunRow]:
    """RUNNING runs of ``engine`` of every tenant without a live lease (their driver died or
    never came)."""
    rows = conn.execute(
        sa.select(runs_t)
        .where(
            runs_t.c.engine == engine,
            runs_t.c.status == "RUNNING",
            sa.or_(runs_t.c.lease_expires_at.is_(None), runs_t.c.lease_expires_at < now),
        )
        .order_by(runs_t.c.started_at)
    ).mappings()
    return [RunRow.from_mapping(row) for row in rows]


def undispatched_runs(conn: Connection, engine: str, started_before: datetime) -> list[RunRow]:
    """Active top-level runs of ``engine`` recorded before ``started_before`` that their backend
    never took (the process that recorded them died before handing them over)."""
    rows = conn.execute(
        sa.select(runs_t)
        .where(
            runs_t.c.engine == engine,
            runs_t.c.status.in_(ACTIVE_STATUSES),
            runs_t.c.dispatched_at.is_(None),
            runs_t.c.parent_run_id.is_(None),
            runs_t.c.started_at < started_before,
        )
        .order_by(runs_t.c.started_at)
    ).mappings()
    return [RunRow.from_mapping(row) for row in rows]


def mark_dispatched(conn: Connection, run_ids: Sequence[str], *, at: datetime) -> None:
    """Record that the backend took these runs."""
    if run_ids:
        conn.execute(
            runs_t.update()
            .where(runs_t.c.run_id.in_(run_ids), runs_t.c.dispatched_at.is_(None))
            .values(dispatched_at=at)
        )


def waiting_parents_of_ended_children(
    conn: Connection, *, engine: str = "embedded"
) -> list[RunRow]:
    """WAITING runs of ``engine`` with an ended child and no active one (candidates to resume)."""
    parent = runs_t.alias("parent")
    ended = runs_t.alias("ended")

    def child_in(statuses: Sequence[str], table: sa.FromClause) -> sa.Exists:
        return sa.exists().where(
            table.c.parent_run_id == parent.c.run_id, table.c.status.in_(statuses)
        )

    rows = conn.execute(
        sa.select(parent).where(
            parent.c.engine == engine,
            parent.c.status == "WAITING",
            child_in(TERMINAL_STATUSES, ended),
            ~child_in(ACTIVE_STATUSES, runs_t),
        )
    ).mappings()
    return [RunRow.from_mapping(row) for row in rows]


def close_open_records(
    conn: Connection, run_id: str, *, at: datetime, step_status: str, error: Any = None
) -> None:
    """An ended run's WAITING waits and PENDING tasks become CANCELED, its STARTED steps
    ``step_status`` (so no event, task or timer resumes it any more)."""
    waits.cancel_open_waits(conn, run_id, at=at)
    waits.cancel_pending_tasks(conn, run_id, at=at)
    values: dict[str, Any] = {"status": step_status, "completed_at": at}
    if step_status == "FAILED":
        values["error_json"] = error
    conn.execute(
        steps_t.update()
        .where(steps_t.c.run_id == run_id, steps_t.c.status == "STARTED")
        .values(values)
    )


# --- steps ---------------------------------------------------------------------------------------


def _duration_ms(started_at: datetime, completed_at: datetime) -> int:
    return int((completed_at - started_at).total_seconds() * 1000)


def insert_step(conn: Connection, **values: Any) -> str:
    """A new step row (see :func:`step_insert`); the row's id."""
    row_id, query = step_insert(**values)
    conn.execute(query)
    return row_id


def step_insert(
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
    row_id: str | None = None,
) -> tuple[str, sa.Insert]:
    """The row id and the INSERT of a new step row (``step_id`` is the definition's step id;
    ``row_id`` when the caller chose it)."""
    row_id = row_id or new_id()
    return row_id, (
        steps_t.insert().values(
            step_id=row_id,
            tenant=tenant_id,
            run_id=run_id,
            step_path=path,
            definition_step_id=step_id,
            status=status,
            attempt=attempt,
            duration_ms=None if completed_at is None else _duration_ms(started_at, completed_at),
            error_json=error if status == "FAILED" else None,
            started_at=started_at,
            completed_at=completed_at,
        )
    )


def finish_step(conn: Connection, row_id: str, **values: Any) -> None:
    """End a step row (see :func:`step_finish`)."""
    conn.execute(step_finish(row_id, **values))


def step_finish(
    row_id: str,
    *,
    status: str,
    started_at: datetime,
    completed_at: datetime,
    error: dict[str, Any] | None = None,
) -> sa.Update:
    """The UPDATE that ends a step row (its error is kept only when it FAILED)."""
    return (
        steps_t.update()
        .where(steps_t.c.step_id == row_id)
        .values(
            status=status,
            completed_at=completed_at,
            duration_ms=_duration_ms(started_at, completed_at),
            error_json=error if status == "FAILED" else None,
        )
    )


def run_steps(conn: Connection, run_id: str) -> list[StepRow]:
    """A run's step rows in the order they started."""
    rows = conn.execute(
        sa.select(steps_t)
        .where(steps_t.c.run_id == run_id)
        .order_by(steps_t.c.started_at, steps_t.c.step_path)
    ).mappings()
    return [StepRow.from_mapping(row) for row in rows]


# --- logs ----------------------------------------------------------------------------------------

#: Alga caps a log line's ``context_json`` at 64 KiB and leaves a truncation marker.
MAX_LOG_CONTEXT = 64 * 1024


def capped_context(context: Any) -> Any:
    """``context`` itself, or ``{truncated, size, max}`` when its JSON exceeds 64 KiB."""
    if context is None:
        return None
    size = len(json.dumps(context, default=str))
    if size <= MAX_LOG_CONTEXT:
        return context
    return {"truncated": True, "size": size, "max": MAX_LOG_CONTEXT}


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
    """The values of one ``workflow_run_logs`` row (written by :func:`insert_logs`)."""
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
        conn.execute(logs_insert(rows))


def logs_insert(rows: list[dict[str, Any]]) -> sa.Insert:
    """The INSERT of log rows (at least one), as INSERT ... SELECT of bound rows: unlike a
    multi-row VALUES it has a cache key, so it (and a statement it rides in) compiles once."""
    columns = list(rows[0])
    selects = [
        sa.select(*(sa.bindparam(None, row[c], type_=logs_t.c[c].type).label(c) for c in columns))
        for row in rows
    ]
    source = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    return logs_t.insert().from_select(columns, source)


def log(
    conn: Connection,
    *,
    tenant_id: str,
    run_id: str,
    level: str,
    message: str,
    at: datetime,
    context: Any = None,
    step_path: str | None = None,
) -> None:
    """Write one run-level log line."""
    insert_logs(
        conn,
        [
            log_row(
                tenant_id=tenant_id, run_id=run_id, level=level, message=message, at=at,
                context=context, step_path=step_path,
            )
        ],
    )  # fmt: skip


def run_logs(conn: Connection, run_id: str) -> list[LogRow]:
    """A run's log lines in the order they were written."""
    rows = conn.execute(
        sa.select(logs_t)
        .where(logs_t.c.run_id == run_id)
        .order_by(logs_t.c.created_at, logs_t.c.log_id)
    ).mappings()
    return [LogRow.from_mapping(row) for row in rows]
