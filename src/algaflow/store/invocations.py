"""The repository of action invocations: all SQL on ``workflow_action_invocations``.

A row is the claim on one ``(tenant, action, version, idempotency key)``: inserted STARTED, taken
over by a later attempt, and ended SUCCEEDED (its output is then reused) or FAILED.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algaflow.store.inserts import insert_ignore
from algaflow.store.run_rows import InvocationRow
from algaflow.store.run_tables import workflow_action_invocations as inv_t

_KEY = ("tenant", "action_id", "action_version", "idempotency_key")


def insert_started(
    conn: Connection,
    *,
    invocation_id: str,
    tenant: str,
    run_id: str,
    step_path: str,
    action_id: str,
    action_version: int,
    idempotency_key: str,
    attempt: int,
    input_json: Any,
    now: datetime,
) -> bool:
    """Insert a STARTED invocation unless its key is taken; True when inserted (race-free)."""
    return insert_ignore(
        conn, inv_t, _KEY, invocation_id=invocation_id, tenant=tenant, run_id=run_id,
        step_path=step_path, action_id=action_id, action_version=action_version,
        idempotency_key=idempotency_key, status="STARTED", attempt=attempt,
        input_json=input_json, created_at=now, started_at=now,
    )  # fmt: skip


def find_by_key(
    conn: Connection, tenant: str, action_id: str, action_version: int, idempotency_key: str
) -> InvocationRow | None:
    """The invocation holding this key, if any."""
    row = (
        conn.execute(
            sa.select(inv_t).where(
                inv_t.c.tenant == tenant,
                inv_t.c.action_id == action_id,
                inv_t.c.action_version == action_version,
                inv_t.c.idempotency_key == idempotency_key,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else InvocationRow.from_mapping(row)


def take_over(
    conn: Connection,
    row: InvocationRow,
    *,
    run_id: str,
    step_path: str,
    input_json: Any,
    now: datetime,
) -> bool:
    """Restart ``row`` as the next attempt (STARTED again, its results cleared); False when it
    changed since it was read (another attempt took it first)."""
    taken = conn.execute(
        inv_t.update()
        .where(
            inv_t.c.invocation_id == row.invocation_id,
            inv_t.c.status == row.status,
            inv_t.c.attempt == row.attempt,
        )
        .values(
            status="STARTED", attempt=row.attempt + 1, run_id=run_id, step_path=step_path,
            input_json=input_json, output_json=None, error_json=None, error_message=None,
            started_at=now, completed_at=None,
        )
    )  # fmt: skip
    return taken.rowcount == 1


def finish(conn: Connection, invocation_id: str, **values: Any) -> None:
    """End this attempt (see :func:`finish_update`)."""
    conn.execute(finish_update(invocation_id, **values))


def finish_update(
    invocation_id: str,
    *,
    attempt: int,
    output: Any,
    error: dict[str, Any] | None,
    error_message: str | None,
    at: datetime,
) -> sa.Update:
    """The UPDATE that ends this attempt: SUCCEEDED with ``output``, or FAILED with ``error``
    (only while it is still this attempt's and STARTED)."""
    return (
        inv_t.update()
        .where(
            inv_t.c.invocation_id == invocation_id,
            inv_t.c.attempt == attempt,
            inv_t.c.status == "STARTED",
        )
        .values(
            status="FAILED" if error else "SUCCEEDED",
            output_json=None if error else output,
            error_json=error,
            error_message=error_message,
            completed_at=at,
        )
    )
